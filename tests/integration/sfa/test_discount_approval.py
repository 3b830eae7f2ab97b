"""Discount authority (issue 15): above the seller's limit a quote or order waits in
``pending_approval``; a manager approves or refuses it over REST with a note; the decision
syncs back; an approval covers the priced content it saw."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from protocol.ids import uuid7
from server.sfa.catalog.models import PriceListEntry
from tests.builders import auth_headers, make_user
from tests.pricing_tools import priced_product
from tests.synctools import device_for, insert_account

D = Decimal


def line(product_id: Any, quantity: str = "1", discount: str = "0") -> dict[str, Any]:
    return {
        "id": str(uuid7()),
        "product_id": str(product_id),
        "quantity": quantity,
        "discount_pct": discount,
    }


async def team(db: Any) -> tuple[Any, Any, Any]:
    """A manager and their rep, and an account of the rep's."""
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    account_id = await insert_account(db, owner_id=rep.id, credit_limit=D("100000"))
    return manager, rep, account_id


async def submitted(phone: Any, rep: Any, account_id: Any, lines: list, **extra: Any) -> Any:
    order_id = uuid7()
    record = {"account_id": str(account_id), "owner_id": str(rep.id), "lines": lines, **extra}
    created, done = await phone.push(
        phone.mutation("order", order_id, "upsert", record),
        phone.mutation("order", order_id, "order.submit", {}),
    )
    assert created["status"] == "applied", created
    assert done["status"] == "applied", done
    return order_id, done["record"]


async def test_an_order_above_the_reps_authority_waits_then_is_approved(client, db) -> None:
    manager, rep, account_id = await team(db)
    product_id = await priced_product(db, "100.00")
    phone = await device_for(client, db, rep)
    order_id, record = await submitted(phone, rep, account_id, [line(product_id, "2", "15")])
    assert (record["status"], record["approval_reason"]) == (
        "pending_approval",
        "discount_above_authority",
    )
    assert record["submitted_at"] is None and record["hold_reason"] is None
    assert record["approval_note"] == "a discount of 15 % is above the limit of 10 %"
    assert record["total"] == "170.00"
    headers = await auth_headers(db, manager)
    answer = await client.post(
        f"/orders/{order_id}/approve", json={"note": "strategic customer"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    approved = answer.json()
    assert (approved["status"], approved["approved_by"]) == ("confirmed", str(manager.id))
    assert approved["approval_note"] == "strategic customer" and approved["submitted_at"]
    snapshot, _ = await phone.snapshot()  # the decision syncs back to the rep's device
    held = snapshot[("order", str(order_id))]
    assert (held["status"], held["approval_note"]) == ("confirmed", "strategic customer")


async def test_a_discount_within_authority_is_submitted_at_once(client, db) -> None:
    _manager, rep, account_id = await team(db)
    product_id = await priced_product(db, "100.00")
    phone = await device_for(client, db, rep)
    _, record = await submitted(
        phone, rep, account_id, [line(product_id, "1", "5")], order_discount_pct="5"
    )
    assert record["status"] == "confirmed"  # 5 % then 5 % = 9.75 %, within the rep's 10 %
    _, record = await submitted(
        phone, rep, account_id, [line(product_id, "1", "5")], order_discount_pct="6"
    )
    assert record["status"] == "pending_approval"  # 10.7 %


async def test_a_refused_order_returns_to_draft_with_the_note_and_asks_again(client, db) -> None:
    manager, rep, account_id = await team(db)
    product_id = await priced_product(db, "100.00")
    phone = await device_for(client, db, rep)
    order_id, _ = await submitted(phone, rep, account_id, [line(product_id, "1", "30")])
    headers = await auth_headers(db, manager)
    answer = await client.post(
        f"/orders/{order_id}/refuse", json={"note": "max 20 %"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    refused = answer.json()
    assert (refused["status"], refused["approval_note"]) == ("draft", "max 20 %")
    assert refused["approval_reason"] == "discount_refused"
    again = await phone.push_one("order", order_id, "order.submit", {}, base_version=3)
    assert again["record"]["status"] == "pending_approval"  # a new request, asked again


async def test_changing_lines_after_the_request_withdraws_it_and_asks_again(client, db) -> None:
    manager, rep, account_id = await team(db)
    product_id = await priced_product(db, "100.00")
    phone = await device_for(client, db, rep)
    order_id, record = await submitted(phone, rep, account_id, [line(product_id, "1", "15")])
    asked = record["approval_fingerprint"]
    edited = await phone.push_one(
        "order", order_id, "upsert", {"lines": [line(product_id, "3", "15")]}, base_version=2
    )
    assert edited["status"] == "applied", edited["error"]
    assert edited["server_changes"]["status"] == "draft"  # the request covered other content
    headers = await auth_headers(db, manager)
    late = await client.post(f"/orders/{order_id}/approve", json={}, headers=headers)
    assert (late.status_code, late.json()["code"]) == (409, "invalid_state")
    resent = await phone.push_one("order", order_id, "order.submit", {}, base_version=3)
    assert resent["record"]["status"] == "pending_approval"
    assert resent["record"]["approval_fingerprint"] not in (None, asked)


async def test_an_approval_of_content_repriced_since_the_request_is_refused(client, db) -> None:
    manager, rep, account_id = await team(db)
    product_id = await priced_product(db, "100.00")
    phone = await device_for(client, db, rep)
    order_id, before = await submitted(phone, rep, account_id, [line(product_id, "1", "15")])
    async with db.transaction() as session:
        await session.execute(
            sa.update(PriceListEntry)
            .where(PriceListEntry.product_id == product_id)
            .values(unit_price=D("120.00"))
        )
    headers = await auth_headers(db, manager)
    answer = await client.post(f"/orders/{order_id}/approve", json={}, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (409, "approval_stale")
    snapshot, _ = await phone.snapshot()
    assert snapshot[("order", str(order_id))]["version"] == before["version"]  # nothing written


async def test_a_quote_above_authority_is_sent_once_approved(client, db) -> None:
    manager, rep, account_id = await team(db)
    product_id = await priced_product(db, "50.00")
    phone = await device_for(client, db, rep)
    quote_id = uuid7()
    record = {
        "account_id": str(account_id),
        "owner_id": str(rep.id),
        "lines": [line(product_id, "4", "12")],
    }
    _, sent = await phone.push(
        phone.mutation("quote", quote_id, "upsert", record),
        phone.mutation("quote", quote_id, "quote.send", {}),
    )
    assert sent["record"]["status"] == "pending_approval"
    headers = await auth_headers(db, manager)
    answer = await client.post(f"/quotes/{quote_id}/approve", json={"note": "ok"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "sent"


async def test_only_a_manager_with_the_authority_and_the_scope_decides(client, db) -> None:
    manager, rep, account_id = await team(db)
    stranger = await make_user(db, "manager")
    admin = await make_user(db, "admin")
    product_id = await priced_product(db, "100.00")
    phone = await device_for(client, db, rep)
    order_id, _ = await submitted(phone, rep, account_id, [line(product_id, "1", "30")])
    path = f"/orders/{order_id}/approve"
    as_rep = await client.post(path, json={}, headers=await auth_headers(db, rep))
    assert as_rep.status_code == 403
    as_stranger = await client.post(path, json={}, headers=await auth_headers(db, stranger))
    assert (as_stranger.status_code, as_stranger.json()["code"]) == (404, "not_found")
    # 30 % is above the manager's own 25 %: someone higher decides
    as_manager = await client.post(path, json={}, headers=await auth_headers(db, manager))
    assert (as_manager.status_code, as_manager.json()["code"]) == (403, "discount_above_authority")
    bad = await client.post(path, json={"note": 5}, headers=await auth_headers(db, admin))
    assert bad.status_code == 400 or bad.status_code == 422
    as_admin = await client.post(path, json={}, headers=await auth_headers(db, admin))
    assert as_admin.status_code == 200 and as_admin.json()["status"] == "confirmed"


async def test_limits_per_role_and_per_user_override(client, db) -> None:
    _manager, rep, account_id = await team(db)
    other_rep = await make_user(db, "rep")
    other_account = await insert_account(db, owner_id=other_rep.id, credit_limit=D("100000"))
    admin = await make_user(db, "admin")
    product_id = await priced_product(db, "100.00")
    headers = await auth_headers(db, admin)
    raised = await client.put(
        f"/discount-limits/users/{rep.id}", json={"max_discount_pct": "20"}, headers=headers
    )
    assert raised.status_code == 200, raised.text
    lowered = await client.put(
        "/discount-limits/roles/rep", json={"max_discount_pct": "2"}, headers=headers
    )
    assert lowered.status_code == 200, lowered.text
    out_of_range = await client.put(
        "/discount-limits/roles/rep", json={"max_discount_pct": "101"}, headers=headers
    )
    assert out_of_range.status_code in (400, 422)
    listed = await client.get("/discount-limits", headers=headers)
    assert {(x["role"], x["user_id"]) for x in listed.json()} == {
        ("rep", None),
        (None, str(rep.id)),
    }
    phone = await device_for(client, db, rep)
    _, mine = await submitted(phone, rep, account_id, [line(product_id, "1", "15")])
    assert mine["status"] == "confirmed"  # the rep's own 20 %
    other_phone = await device_for(client, db, other_rep)
    _, theirs = await submitted(other_phone, other_rep, other_account, [line(product_id, "1", "3")])
    assert theirs["status"] == "pending_approval"  # the role's 2 %
