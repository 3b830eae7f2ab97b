"""Schedules, payments and refunds over REST: sums, currencies, overpayment, idempotency."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from protocol.ids import uuid7
from server.errors import ValidationFailed
from server.sfa.collections import standing
from server.sfa.collections.payment_service import PaymentService
from server.sfa.collections.schemas import PaymentCreate
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import count, make_account
from tests.integration.sfa.finance_builders import (
    admin_headers,
    days,
    new_contract,
    pay,
    scheduled_contract,
)
from tests.synctools import principal, writer


async def test_a_schedule_must_sum_to_the_value_in_the_contracts_currency(client, db) -> None:
    headers = await admin_headers(db)
    contract = await new_contract(client, headers, await make_account(db))
    url = f"/contracts/{contract['id']}/schedule"

    async def put(items):
        return await client.put(url, json={"instalments": items}, headers=headers)

    short = await put([{"due_date": days(10), "amount": "999.99"}])
    assert short.status_code == 422
    assert (short.json()["code"], short.json()["field"]) == ("schedule_mismatch", "instalments")
    assert short.json()["data"] == {"sum": "999.99", "value": "1000.0000"}
    euro = await put(
        [
            {"due_date": days(10), "amount": "500"},
            {"due_date": days(40), "amount": "500", "currency": "EUR"},
        ]
    )
    assert (euro.json()["code"], euro.json()["field"]) == (
        "currency_mismatch",
        "instalments.1.currency",
    )
    negative = await put(
        [{"due_date": days(1), "amount": "-1"}, {"due_date": days(2), "amount": "1001"}]
    )
    assert (negative.status_code, negative.json()["field"]) == (422, "instalments.0.amount")
    assert await count(db, "instalments") == 0
    made = await put(
        [{"due_date": days(40), "amount": "600"}, {"due_date": days(10), "amount": "400"}]
    )
    assert made.status_code == 200, made.text
    assert [(i["seq"], i["due_date"], i["amount"]) for i in made.json()] == [
        (1, days(10), "400.0000"),
        (2, days(40), "600.0000"),
    ]
    # the value cannot leave the schedule behind
    patched = await client.patch(
        f"/contracts/{contract['id']}", json={"value": "900"}, headers=headers
    )
    assert (patched.status_code, patched.json()["code"]) == (422, "schedule_mismatch")
    listed = await client.get(f"/contracts/{contract['id']}/instalments", headers=headers)
    assert [i["amount"] for i in listed.json()["items"]] == ["400.0000", "600.0000"]


async def test_partial_payments_and_refunds_move_instalment_and_contract(client, db) -> None:
    headers = await admin_headers(db)
    contract, (first, second) = await scheduled_contract(client, headers, db=db)
    paid = await pay(client, headers, first, "150.50")
    assert paid.status_code == 201, paid.text
    assert (paid.json()["kind"], paid.json()["amount"]) == ("payment", "150.5000")
    rest = await pay(client, headers, first, "249.50")
    assert rest.status_code == 201
    [row] = [
        i
        for i in (
            await client.get(f"/contracts/{contract['id']}/instalments", headers=headers)
        ).json()["items"]
        if i["id"] == first["id"]
    ]
    assert (row["paid"], row["outstanding"], row["status"]) == ("400.0000", "0.0000", "paid")
    refund = await client.post(
        f"/payments/{paid.json()['id']}/refunds",
        json={"amount": "50", "received_on": days(0)},
        headers=headers,
    )
    assert refund.status_code == 201, refund.text
    body = refund.json()
    assert (body["kind"], body["amount"], body["refund_of"]) == (
        "refund",
        "-50.0000",
        paid.json()["id"],
    )
    too_much = await client.post(
        f"/payments/{paid.json()['id']}/refunds",
        json={"amount": "100.51", "received_on": days(0)},
        headers=headers,
    )
    assert (too_much.status_code, too_much.json()["code"]) == (422, "refund_exceeds_payment")
    assert too_much.json()["data"] == {"refundable": "100.5000"}
    summary = (await client.get(f"/contracts/{contract['id']}", headers=headers)).json()
    assert (summary["collected"], summary["outstanding"]) == ("350.0000", "650.0000")
    original = (await client.get(f"/payments/{paid.json()['id']}", headers=headers)).json()
    assert original["refunded"] == "50.0000"
    listed = await client.get(f"/payments?contract_id={contract['id']}", headers=headers)
    assert [p["amount"] for p in listed.json()["items"]] == ["150.5000", "249.5000", "-50.0000"]
    assert second["status"] == "open"


async def test_bad_payments_are_refused_and_write_nothing(client, db) -> None:
    headers = await admin_headers(db)
    contract, (first, _) = await scheduled_contract(client, headers, db=db)
    over = await pay(client, headers, first, "400.01")
    assert over.status_code == 422
    assert (over.json()["code"], over.json()["field"]) == ("overpayment", "amount")
    assert over.json()["data"] == {"outstanding": "400.0000"}
    euro = await pay(client, headers, first, "1", currency="EUR")
    assert (euro.status_code, euro.json()["code"], euro.json()["field"]) == (
        422,
        "currency_mismatch",
        "currency",
    )
    for amount in ("0", "-5", "1.00001", "NaN"):
        refused = await pay(client, headers, first, amount)
        assert (refused.status_code, refused.json()["field"]) == (422, "amount"), amount
    missing = await pay(client, headers, {**first, "id": str(uuid7())}, "1")
    assert (missing.status_code, missing.json()["field"]) == (422, "instalment_id")
    assert await count(db, "payments") == 0
    summary = (await client.get(f"/contracts/{contract['id']}", headers=headers)).json()
    assert (summary["collected"], summary["version"]) == ("0.0000", contract["version"])


async def test_payments_need_an_active_contract(client, db) -> None:
    headers = await admin_headers(db)
    _, (first, _) = await scheduled_contract(client, headers, db=db, activate=False)
    refused = await pay(client, headers, first, "1")
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_state")


async def test_a_retried_payment_is_recorded_once(client, db) -> None:
    headers = await admin_headers(db)
    contract, (first, _) = await scheduled_contract(client, headers, db=db)
    payment_id = str(uuid7())
    once = await pay(client, headers, first, "100", id=payment_id)
    again = await pay(client, headers, first, "100", id=payment_id)
    assert once.status_code == again.status_code == 201
    assert once.json() == again.json()
    reused = await pay(client, headers, first, "90", id=payment_id)
    assert (reused.status_code, reused.json()["code"]) == (409, "id_reused")
    not_v7 = await pay(client, headers, first, "1", id="00000000-0000-4000-8000-000000000000")
    assert (not_v7.status_code, not_v7.json()["code"]) == (422, "invalid_id")
    assert await count(db, "payments") == 1
    summary = (await client.get(f"/contracts/{contract['id']}", headers=headers)).json()
    assert summary["collected"] == "100.0000"


async def test_racing_payments_never_overpay_an_instalment(client, db, settings) -> None:
    """Two transactions at once for 300 of the 400 due: one is recorded, the other refused
    ``overpayment`` after seeing the first (PostgreSQL: the account and instalment row locks;
    SQLite: one writer at a time)."""
    headers = await admin_headers(db)
    admin = await make_user(db, "admin")
    _, (first, _) = await scheduled_contract(client, headers, db=db)
    service = PaymentService(db, writer(), principal(admin), settings)

    async def attempt():
        body = PaymentCreate(
            instalment_id=uuid.UUID(first["id"]),
            amount=Decimal("300"),
            currency="CNY",
            received_on=dt.date.today(),
        )
        try:
            return await service.record_payment(body)
        except Exception as exc:  # noqa: BLE001 - the loser's refusal is the point
            return exc

    outcomes = await asyncio.gather(attempt(), attempt(), attempt())
    recorded = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(recorded) == 1, outcomes
    assert [getattr(e, "code", None) for e in refused] == ["overpayment", "overpayment"]
    assert await count(db, "payments") == 1


async def test_reps_cannot_touch_payments(client, db) -> None:
    headers = await admin_headers(db)
    _, (first, _) = await scheduled_contract(client, headers, db=db)
    rep = await auth_headers(db, await make_user(db, "rep"))
    assert (await pay(client, rep, first, "1")).status_code == 403
    assert (await client.get("/payments", headers=rep)).status_code == 403
    assert (await client.get("/receivables", headers=rep)).status_code == 403
    assert (await client.get("/finance/collections", headers=rep)).status_code == 403


async def test_a_payment_waits_for_a_concurrent_one_and_sees_it(client, db, settings) -> None:
    """While another transaction holds the account (and has paid 300 of the 400, not yet
    committed), a payment of 300 waits; once the other commits it reads the locked instalment
    again and is refused ``overpayment``. A read-then-write check would have read 400 due."""
    headers = await admin_headers(db)
    admin = await make_user(db, "admin")
    _, (first, _) = await scheduled_contract(client, headers, db=db)
    service = PaymentService(db, writer(), principal(admin), settings)
    body = PaymentCreate(
        instalment_id=uuid.UUID(first["id"]),
        amount=Decimal("300"),
        currency="CNY",
        received_on=dt.date.today(),
    )
    async with db.transaction() as session:
        await standing.lock_account(session, uuid.UUID(first["account_id"]))
        await writer().update(
            session,
            "instalment",
            uuid.UUID(first["id"]),
            {"paid": Decimal("300"), "outstanding": Decimal("100")},
            principal=None,
        )
        racing = asyncio.create_task(service.record_payment(body))
        await asyncio.sleep(0.5)
        assert not racing.done()  # it waits for the account's lock
    with pytest.raises(ValidationFailed) as refused:
        await racing
    assert (refused.value.code, refused.value.data) == ("overpayment", {"outstanding": "100.0000"})
    assert await count(db, "payments") == 0
