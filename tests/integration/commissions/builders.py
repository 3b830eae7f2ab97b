"""Builders of the commission tests: plans over REST, and the central records a statement
reads (confirmed and cancelled orders, payments) written with chosen instants."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from protocol.ids import uuid7
from server.db import Database
from server.sfa.collections.models import Payment
from server.sfa.orders.models import OrderTransition
from tests.integration.sfa.core_builders import create, make_account, make_product

D = Decimal
NOV = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
DEC = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)


def plan_body(**overrides: Any) -> dict[str, Any]:
    """A rep role plan from 2026-01-01: quota 10,000, 5 % (hardware 8 %), base tier only."""
    return {
        "name": "Field reps 2026",
        "valid_from": "2026-01-01",
        "role": "rep",
        "quota": "10000",
        "default_rate_pct": "5",
        "category_rates_pct": {"hardware": "8"},
        **overrides,
    }


async def post_plan(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """POST a plan; asserts it was stored."""
    response = await client.post("/commissions/plans", json=plan_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def category_product(db: Database, category: str | None) -> uuid.UUID:
    """A product in a (new) category of that name, or in none."""
    category_id = None
    if category is not None:
        category_id = uuid.UUID((await create(db, "product_category", {"name": category}))["id"])
    return await make_product(db, category_id=category_id)


async def transition(db: Database, order_id: uuid.UUID, to_status: str, at: dt.datetime) -> None:
    """An order's status change at instant ``at`` (as the order desk records it)."""
    async with db.transaction() as session:
        await session.execute(
            sa.insert(OrderTransition.__table__).values(
                id=uuid7(),
                order_id=order_id,
                action=to_status,
                from_status="submitted",
                to_status=to_status,
                created_at=at,
            )
        )


async def confirmed_order(
    db: Database,
    owner_id: uuid.UUID,
    lines: list[tuple[uuid.UUID, str, str]],
    at: dt.datetime | None = NOV,
    account_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """An order of ``(product, quantity, unit price)`` lines confirmed at ``at`` (None: only
    submitted)."""
    account_id = account_id or await make_account(db, owner_id=owner_id)
    record = await create(
        db,
        "order",
        {
            "account_id": account_id,
            "owner_id": owner_id,
            "status": "confirmed" if at else "submitted",
            "lines": [
                {"id": str(uuid7()), "product_id": str(p), "quantity": q, "unit_price": price}
                for p, q, price in lines
            ],
        },
    )
    order_id = uuid.UUID(record["id"])
    if at is not None:
        await transition(db, order_id, "confirmed", at)
    return order_id


async def payment(
    db: Database,
    account_id: uuid.UUID,
    amount: str,
    received_on: dt.date,
    *,
    refund_of: uuid.UUID | None = None,
    rep_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A payment (or a refund: a negative amount of ``refund_of``) on a throwaway instalment
    chain (the commission code reads the payment rows only)."""
    contract = await create(
        db,
        "contract",
        {
            "account_id": account_id,
            "value": D("100000"),
            "currency": "CNY",
            "start_date": received_on,
            "end_date": received_on + dt.timedelta(days=365),
        },
    )
    contract_id = uuid.UUID(contract["id"])
    instalment = await create(
        db,
        "instalment",
        {
            "contract_id": contract_id,
            "account_id": account_id,
            "seq": 1,
            "due_date": received_on,
            "amount": D("100000"),
            "outstanding": D("100000"),
            "currency": "CNY",
        },
    )
    instalment_id = uuid.UUID(instalment["id"])
    payment_id = uuid7()
    async with db.transaction() as session:
        await session.execute(
            sa.insert(Payment.__table__).values(
                id=payment_id,
                kind="refund" if refund_of else "payment",
                instalment_id=instalment_id,
                contract_id=contract_id,
                account_id=account_id,
                rep_id=rep_id,
                amount=D(amount),
                currency="CNY",
                refund_of=refund_of,
                received_on=received_on,
                created_at=dt.datetime.combine(received_on, dt.time(12), dt.UTC),
            )
        )
    return payment_id


async def owned(
    db: Database, account_id: uuid.UUID, history: list[tuple[uuid.UUID, dt.datetime]]
) -> None:
    """The account's ownership history: each ``(owner, from)`` held until the next one."""
    from server.sfa.accounts.models import AccountAssignment

    async with db.transaction() as session:
        for index, (owner, since) in enumerate(history):
            until = history[index + 1][1] if index + 1 < len(history) else None
            await session.execute(
                sa.insert(AccountAssignment.__table__).values(
                    id=uuid7(),
                    account_id=account_id,
                    owner_id=owner,
                    valid_from=since,
                    valid_to=until,
                    cause="manual",
                )
            )


async def compute(client: Any, headers: dict[str, str], period: str, **body: Any) -> list[Any]:
    """POST /commissions/statements/compute; the statements returned."""
    response = await client.post(
        "/commissions/statements/compute", json={"period": period, **body}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def mine(items: list[Any], rep: Any) -> Any:
    """The statement of ``rep`` among ``items``."""
    [found] = [item for item in items if item["rep_id"] == str(rep.id)]
    return found


def amounts(statement: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """(kind, amount) of each line of a statement."""
    return [(line["kind"], Decimal(line["amount"])) for line in statement["lines"]]
