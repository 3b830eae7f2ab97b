"""Payables from receipts (received value, due after the supplier's terms), payments made
against them, ageing buckets and totals, and the refusals."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import uuid

from protocol.ids import uuid7
from server.app import build_registry
from server.auth.models import Role
from server.errors import ValidationFailed
from server.sfa.purchasing.payable_repository import PayableRepository
from server.sfa.purchasing.payable_schemas import PaymentCreate
from server.sfa.purchasing.payable_service import PayableService
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter
from tests.builders import auth_headers, make_user
from tests.integration.purchasing.builders import make_po, make_shop, receive
from tests.integration.sfa.core_builders import count, walk_pages

D = decimal.Decimal
DAY = dt.date(2026, 1, 10)


def at(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(12), dt.UTC).isoformat()


async def payable_of(client, shop, receipt) -> dict:
    response = await client.get(f"/payables/{receipt['payable_id']}", headers=shop.admin)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_receipt_raises_a_payable_of_its_received_value_due_after_the_terms(
    client, db
) -> None:
    shop = await make_shop(client, db, payment_terms_days=45)
    po = await make_po(client, shop, [(0, "10", "2.5"), (1, "3", "0.3333")])
    receipt = (
        await receive(client, shop, po["id"], [(0, "4"), (1, "3")], received_at=at(DAY))
    ).json()
    payable = await payable_of(client, shop, receipt)
    assert (
        payable["amount"] == "10.9999"
    )  # 4 x 2.5 + 3 x 0.3333: what arrived, not what was ordered
    assert (payable["currency"], payable["issued_on"], payable["due_on"]) == (
        "EUR",
        "2026-01-10",
        "2026-02-24",
    )
    assert (payable["paid"], payable["outstanding"], payable["settled"]) == (
        "0.0000",
        "10.9999",
        False,
    )


async def test_payments_partial_then_in_full_idempotent_and_never_more_than_due(client, db) -> None:
    shop = await make_shop(client, db)
    po = await make_po(client, shop, [(0, "10", "10")])
    receipt = (await receive(client, shop, po["id"], [(0, "10")])).json()
    url = f"/payables/{receipt['payable_id']}/payments"
    pid = str(uuid7())
    first = await client.post(
        url, json={"id": pid, "amount": "30", "currency": "EUR"}, headers=shop.admin
    )
    assert first.status_code == 201, first.text
    assert first.json()["payable"]["outstanding"] == "70.0000"
    again = await client.post(
        url, json={"id": pid, "amount": "30", "currency": "EUR"}, headers=shop.admin
    )
    assert again.status_code == 201 and again.json()["payment"] == first.json()["payment"]
    reused = await client.post(
        url, json={"id": pid, "amount": "31", "currency": "EUR"}, headers=shop.admin
    )
    assert reused.status_code == 409 and reused.json()["code"] == "id_reused"
    over = await client.post(url, json={"amount": "70.0001", "currency": "EUR"}, headers=shop.admin)
    assert over.status_code == 422
    assert (over.json()["code"], over.json()["field"]) == ("overpayment", "amount")
    assert over.json()["data"] == {"outstanding": "70.0000"}
    cases = [
        ({"amount": "0", "currency": "EUR"}, "validation_error", "amount"),
        ({"amount": "-5", "currency": "EUR"}, "validation_error", "amount"),
        ({"amount": "5", "currency": "USD"}, "currency_mismatch", "currency"),
        ({"amount": "5", "currency": "eur"}, "validation_error", "currency"),
    ]
    for body, code, field in cases:
        response = await client.post(url, json=body, headers=shop.admin)
        assert response.status_code == 422, (body, response.text)
        assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await count(db, "supplier_payments") == 1
    rest = await client.post(url, json={"amount": "70", "currency": "EUR"}, headers=shop.admin)
    assert rest.json()["payable"]["settled"] is True
    assert rest.json()["payable"]["outstanding"] == "0.0000"
    payments = await client.get(url, headers=shop.admin)
    assert [p["amount"] for p in payments.json()["items"]] == ["30.0000", "70.0000"]
    missing = await client.post(
        f"/payables/{uuid7()}/payments", json={"amount": "1", "currency": "EUR"}, headers=shop.admin
    )
    assert missing.status_code == 404


async def test_concurrent_payments_never_overpay(
    backend, client, db, settings, monkeypatch
) -> None:
    shop = await make_shop(client, db)
    po = await make_po(client, shop, [(0, "10", "10")])
    receipt = (await receive(client, shop, po["id"], [(0, "10")])).json()
    admin = await make_user(db, Role.ADMIN)
    service = PayableService(
        db, ChangeWriter(build_registry()), Principal(admin.id, "admin"), settings
    )
    racers = 3
    if backend == "postgresql":  # all transactions open before any takes the payable's lock
        barrier = asyncio.Barrier(racers)
        locking = PayableRepository.get_payable
        calls: list[uuid.UUID] = []

        async def get_payable(self, payable_id, *, lock=False):
            if lock and len(calls) < racers:
                calls.append(payable_id)
                await barrier.wait()
            return await locking(self, payable_id, lock=lock)

        monkeypatch.setattr(PayableRepository, "get_payable", get_payable)

    async def one() -> bool:
        try:
            await service.pay(
                uuid.UUID(receipt["payable_id"]), PaymentCreate(amount=D(40), currency="EUR")
            )
        except ValidationFailed as exc:
            assert exc.code == "overpayment"
            return False
        return True

    outcomes = await asyncio.gather(*(one() for _ in range(racers)))
    assert outcomes.count(True) == 2
    payable = await payable_of(client, shop, receipt)
    assert payable["paid"] == "80.0000" and await count(db, "supplier_payments") == 2


async def test_ageing_buckets_totals_filters_and_pages(client, db) -> None:
    shop = await make_shop(client, db, payment_terms_days=0)
    other = await client.post(
        "/suppliers", json={"code": "USD1", "name": "Yankee", "currency": "USD"}, headers=shop.admin
    )
    as_of = dt.date(2026, 6, 1)
    overdue_days = {"current": -3, "zero": 0, "1_30": 30, "31_60": 31, "61_90": 90, "over_90": 91}
    receipts = {}
    for name, days in overdue_days.items():
        po = await make_po(client, shop, [(0, "1", "10")])
        day = as_of - dt.timedelta(days=days)
        receipts[name] = (
            await receive(client, shop, po["id"], [(0, "1")], received_at=at(day))
        ).json()
    usd = await client.post(
        "/purchase-orders",
        json={
            "supplier_id": other.json()["id"],
            "warehouse_id": shop.warehouse,
            "lines": [{"product_id": shop.products[1], "quantity": "2", "unit_cost": "3"}],
        },
        headers=shop.admin,
    )
    await client.post(f"/purchase-orders/{usd.json()['id']}/order", headers=shop.admin)
    await receive(client, shop, usd.json()["id"], [(1, "2")], received_at=at(as_of))
    paid_url = f"/payables/{receipts['over_90']['payable_id']}/payments"
    await client.post(paid_url, json={"amount": "4", "currency": "EUR"}, headers=shop.admin)
    settled_url = f"/payables/{receipts['zero']['payable_id']}/payments"
    await client.post(settled_url, json={"amount": "10", "currency": "EUR"}, headers=shop.admin)

    manager = await auth_headers(db, await make_user(db, "manager"))
    page = (await client.get(f"/payables?as_of={as_of}", headers=manager)).json()
    buckets = {item["receipt_id"]: item["bucket"] for item in page["items"]}
    assert {name: buckets.get(r["id"]) for name, r in receipts.items()} == {
        "current": "current",
        "zero": None,  # settled: not listed unless include_settled
        "1_30": "days_1_30",
        "31_60": "days_31_60",
        "61_90": "days_61_90",
        "over_90": "over_90",
    }
    eur, usd_totals = page["totals"]
    assert eur == {
        "currency": "EUR",
        "current": "10.0000",
        "days_1_30": "10.0000",
        "days_31_60": "10.0000",
        "days_61_90": "10.0000",
        "over_90": "6.0000",
        "total": "46.0000",
        "count": 5,
    }
    assert (usd_totals["currency"], usd_totals["current"], usd_totals["total"]) == (
        "USD",
        "6.0000",
        "6.0000",
    )
    by_supplier = await client.get(f"/payables?supplier_id={other.json()['id']}", headers=manager)
    assert [i["currency"] for i in by_supplier.json()["items"]] == ["USD"]
    since, until = as_of - dt.timedelta(days=60), as_of - dt.timedelta(days=1)
    period = await client.get(
        f"/payables?as_of={as_of}&due_from={since}&due_until={until}", headers=manager
    )
    assert sorted(i["bucket"] for i in period.json()["items"]) == ["days_1_30", "days_31_60"]
    assert period.json()["totals"][0]["total"] == "20.0000"
    everything = await walk_pages(client, "/payables?include_settled=true", manager, 2)
    assert len(everything) == 7
    bad = await client.get("/payables?due_from=2026-02-01&due_until=2026-01-01", headers=manager)
    assert bad.status_code == 422 and bad.json()["field"] == "due_from"
    unknown = await client.get(f"/payables?supplier_id={uuid7()}", headers=manager)
    assert unknown.status_code == 404 and unknown.json()["field"] == "supplier_id"
    rep = await auth_headers(db, await make_user(db, "rep"))
    assert (await client.get("/payables", headers=rep)).status_code == 403
    refused = await client.post(paid_url, json={"amount": "1", "currency": "EUR"}, headers=manager)
    assert refused.status_code == 403
