"""Builders for the contracts and collections tests: a contract with a schedule, over REST."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import make_account

D = Decimal
TODAY = dt.datetime.now(dt.UTC).date()


def days(n: int) -> str:
    """The ISO date ``n`` days from today (negative: in the past)."""
    return (TODAY + dt.timedelta(days=n)).isoformat()


async def admin_headers(db: Any) -> dict[str, str]:
    """Headers of a fresh admin (the back office)."""
    return await auth_headers(db, await make_user(db, "admin"))


async def new_contract(
    client: Any, headers: dict[str, str], account_id: uuid.UUID, **body: Any
) -> dict[str, Any]:
    """A blank draft contract (value 1000 CNY unless told) on ``account_id``."""
    payload = {
        "account_id": str(account_id),
        "value": "1000",
        "currency": "CNY",
        "start_date": days(-120),
        "end_date": days(240),
        **body,
    }
    response = await client.post("/contracts", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def scheduled_contract(
    client: Any,
    headers: dict[str, str],
    account_id: uuid.UUID | None = None,
    *,
    db: Any = None,
    schedule: list[tuple[int, str]] = ((-10, "400"), (20, "600")),  # type: ignore[assignment]
    activate: bool = True,
    **body: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An (active) contract with instalments ``(due in n days, amount)``."""
    if account_id is None:
        account_id = await make_account(db)
    contract = await new_contract(client, headers, account_id, **body)
    response = await client.put(
        f"/contracts/{contract['id']}/schedule",
        json={"instalments": [{"due_date": days(n), "amount": a} for n, a in schedule]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    instalments = response.json()
    if activate:
        response = await client.patch(
            f"/contracts/{contract['id']}", json={"status": "active"}, headers=headers
        )
        assert response.status_code == 200, response.text
        contract = response.json()
    return contract, instalments


async def pay(
    client: Any, headers: dict[str, str], instalment: dict[str, Any], amount: str, **body: Any
) -> Any:
    """POST a payment on an instalment; returns the response."""
    payload = {
        "instalment_id": instalment["id"],
        "amount": amount,
        "currency": instalment["currency"],
        "received_on": days(0),
        **body,
    }
    return await client.post("/payments", json=payload, headers=headers)
