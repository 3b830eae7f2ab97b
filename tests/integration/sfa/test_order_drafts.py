"""Draft orders over REST (issue 15): managers in their subtree and admins create, change
and submit orders; the server prices them exactly like a sync write, edits take ``If-Match``,
submitting goes through ``order.submit`` itself; reps get 403; bad input is a 4xx with the
field and writes nothing."""

from __future__ import annotations

import decimal
from typing import Any

import pytest

from protocol.ids import uuid7
from tests.builders import auth_headers, make_user
from tests.integration.sfa.audit_tools import assert_audit_complete
from tests.integration.sfa.core_builders import count
from tests.integration.sfa.order_desk_tools import make_desk
from tests.pricing_tools import priced_product
from tests.synctools import insert_account

D = decimal.Decimal


def line(product: Any, quantity: str = "2", **extra: str) -> dict[str, Any]:
    return {"id": str(uuid7()), "product_id": str(product), "quantity": quantity, **extra}


async def test_a_manager_creates_edits_and_submits_a_draft_priced_like_a_sync_write(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings, stock="10")
    account = await desk.account()
    taxed = await priced_product(db, "12.50", "0.13")
    lines = [line(desk.product, "3", discount_pct="5"), line(taxed, "1.5")]
    body = {"account_id": str(account), "warehouse_id": str(desk.warehouse), "lines": lines,
            "order_discount_pct": "2"}
    made = await client.post("/orders", json=body, headers=desk.headers)
    assert made.status_code == 201, made.text
    order = made.json()
    assert (order["status"], order["owner_id"]) == ("draft", str(desk.rep.id))

    # the same content pushed by the rep's device is priced to the same figures
    twin = uuid7()
    [pushed] = await desk.phone.push(desk.phone.mutation("order", twin, "upsert", {
        "account_id": str(account), "warehouse_id": str(desk.warehouse),
        "lines": lines, "order_discount_pct": "2",
    }))
    snapshot, _ = await desk.phone.snapshot()
    synced = snapshot[("order", str(twin))]
    for name in ("lines", "subtotal", "tax_total", "total"):
        assert order[name] == synced[name], name
    assert snapshot[("order", order["id"])]["total"] == order["total"]  # the rep's device has it

    stale = await client.patch(f"/orders/{order['id']}", json={"notes": "x"},
                               headers={**desk.headers, "If-Match": '"7"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    edited = await client.patch(
        f"/orders/{order['id']}", json={"lines": [line(desk.product, "4")]},
        headers={**desk.headers, "If-Match": f'"{order["version"]}"'},
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["total"], edited.json()["version"]) == ("39.20", 2)  # 4 x 10 - 2 %

    submitted = await client.post(f"/orders/{order['id']}/submit",
                                  headers={**desk.headers, "If-Match": '"2"'})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "confirmed" and submitted.json()["submitted_at"]
    assert await desk.figures() == (D(10), D(4))  # reserved by the same decision path
    trail = await client.get(f"/orders/{order['id']}/transitions", headers=desk.headers)
    [step] = trail.json()["items"]
    assert (step["action"], step["actor_id"], step["device_id"]) == (
        "submit", str(desk.manager.id), None
    )
    late = await client.patch(f"/orders/{order['id']}", json={"notes": "more"},
                              headers=desk.headers)
    assert (late.status_code, late.json()["code"]) == (409, "invalid_state")
    assert late.json()["data"]["status"] == "confirmed"
    again = await client.post(f"/orders/{order['id']}/submit", headers=desk.headers)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")
    await assert_audit_complete(db)


async def test_a_discount_above_the_managers_authority_waits_for_approval(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings)
    body = {"account_id": str(await desk.account()),
            "lines": [line(desk.product, "1", discount_pct="30")]}
    order = (await client.post("/orders", json=body, headers=desk.headers)).json()
    done = await client.post(f"/orders/{order['id']}/submit", headers=desk.headers)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["approval_reason"]) == (
        "pending_approval", "discount_above_authority"
    )


async def bad_bodies(db: Any, product: Any) -> list[tuple[dict, int, str, str]]:
    inactive = await priced_product(db, "4.00", active=False)
    usd = await priced_product(db, "4.00", currency="USD")
    return [
        ({"lines": [line(product, "0")]}, 422, "validation_error", "lines[0].quantity"),
        ({"lines": [line(product, "-1")]}, 422, "validation_error", "lines[0].quantity"),
        ({"lines": [line(uuid7())]}, 422, "unknown_product", "lines[0].product_id"),
        ({"lines": [line(inactive)]}, 422, "inactive_product", "lines[0].product_id"),
        ({"lines": [line(product, unit_price="1")]}, 422, "server_owned_field",
         "lines[0].unit_price"),
        ({"lines": [line(product, tax_rate="0")]}, 422, "server_owned_field",
         "lines[0].tax_rate"),
        ({"lines": [line(product)], "total": "20.00"}, 422, "server_owned_field", "total"),
        ({"lines": [line(usd)]}, 422, "currency_mismatch", "currency"),
        ({"lines": [line(product, discount_pct="100.5")]}, 422, "validation_error",
         "lines[0].discount_pct"),
        ({"lines": [line(product, discount_pct="-1")]}, 422, "validation_error",
         "lines[0].discount_pct"),
        ({"lines": [line(product)], "order_discount_pct": "101"}, 422, "validation_error",
         "order_discount_pct"),
        ({"lines": [line(product)], "warehouse_id": str(uuid7())}, 422, "unknown_warehouse",
         "warehouse_id"),
    ]


async def test_bad_drafts_are_refused_with_the_field_and_write_nothing(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings)
    account = await desk.account()
    good = (await client.post("/orders", json={"account_id": str(account),
                                                "lines": [line(desk.product)]},
                              headers=desk.headers)).json()
    answers = []
    for extra, *_expected in await bad_bodies(db, desk.product):
        created = await client.post("/orders", json={"account_id": str(account), **extra},
                                    headers=desk.headers)
        edited = await client.patch(f"/orders/{good['id']}", json=extra, headers=desk.headers)
        for answer in (created, edited):
            answers.append((answer.status_code, answer.json().get("code"),
                            answer.json().get("field")))
    expected = [tuple(case[1:]) for case in await bad_bodies(db, desk.product) for _ in (0, 1)]
    assert answers == expected
    assert await count(db, "orders") == 1
    current = (await client.get(f"/orders/{good['id']}", headers=desk.headers)).json()
    assert current["version"] == good["version"]


async def test_reps_get_403_and_managers_write_only_in_their_subtree(client, db, settings) -> None:
    desk = await make_desk(client, db, settings)
    account = await desk.account()
    body = {"account_id": str(account), "lines": [line(desk.product)]}
    rep_headers = await auth_headers(db, desk.rep)
    assert (await client.post("/orders", json=body, headers=rep_headers)).status_code == 403
    order = (await client.post("/orders", json=body, headers=desk.headers)).json()
    for method, path in (("patch", f"/orders/{order['id']}"),
                         ("post", f"/orders/{order['id']}/submit")):
        kwargs: dict[str, Any] = {"json": {"notes": "x"}} if method == "patch" else {}
        answer = await getattr(client, method)(path, headers=rep_headers, **kwargs)
        assert answer.status_code == 403, path
    stranger = await auth_headers(db, await make_user(db, "manager"))
    foreign = await client.post("/orders", json=body, headers=stranger)
    assert (foreign.status_code, foreign.json()["code"], foreign.json()["field"]) == (
        422, "unknown_account", "account_id"
    )
    hidden = await client.patch(f"/orders/{order['id']}", json={"notes": "x"}, headers=stranger)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    hidden = await client.post(f"/orders/{order['id']}/submit", headers=stranger)
    assert hidden.status_code == 404
    other_rep = await make_user(db, "rep")
    elsewhere = await insert_account(db, owner_id=other_rep.id)
    moved = await client.patch(f"/orders/{order['id']}", json={"account_id": str(elsewhere)},
                               headers=desk.headers)
    assert (moved.status_code, moved.json()["code"]) == (422, "unknown_account")
    admin = await auth_headers(db, await make_user(db, "admin"))
    anywhere = await client.post("/orders", json={**body, "account_id": str(elsewhere)},
                                 headers=admin)
    assert anywhere.status_code == 201 and anywhere.json()["owner_id"] == str(other_rep.id)
    assert await count(db, "orders") == 2


@pytest.mark.parametrize("field", ["id", "owner_id"], ids=["taken_id", "unknown_owner"])
async def test_a_taken_id_or_an_unknown_owner_is_refused(client, db, settings, field) -> None:
    desk = await make_desk(client, db, settings)
    body = {"account_id": str(await desk.account()), "lines": [line(desk.product)]}
    first = (await client.post("/orders", json=body, headers=desk.headers)).json()
    extra = {"id": first["id"]} if field == "id" else {"owner_id": str(uuid7())}
    answer = await client.post("/orders", json={**body, **extra}, headers=desk.headers)
    expected = (409, "record_exists") if field == "id" else (422, "validation_error")
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
        *expected, field
    )
    assert await count(db, "orders") == 1
