"""Purchase orders over REST: drafts, transitions, receiving into the stock ledger, bad input."""

from __future__ import annotations

from protocol.ids import uuid7
from tests.builders import auth_headers, make_user
from tests.integration.purchasing.builders import make_po, make_shop, receive
from tests.integration.sfa.core_builders import count, make_product, walk_pages


async def on_hand(client, shop, product) -> str | None:
    response = await client.get(
        f"/warehouses/{shop.warehouse}/stock?product_id={product}", headers=shop.admin
    )
    items = response.json()["items"]
    return items[0]["on_hand"] if items else None


async def test_a_draft_is_edited_ordered_and_received_in_two_receipts(client, db) -> None:
    shop = await make_shop(client, db)
    draft = await make_po(client, shop, [(0, "10", "2.50")], ordered=False)
    assert (draft["status"], draft["currency"], draft["ordered_value"]) == (
        "draft",
        "EUR",
        "25.0000",
    )
    edited = await client.patch(
        f"/purchase-orders/{draft['id']}",
        json={
            "lines": [
                {"product_id": shop.products[0], "quantity": "10", "unit_cost": "2.5"},
                {"product_id": shop.products[1], "quantity": "4", "unit_cost": "1.25"},
            ]
        },
        headers={**shop.admin, "If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["ordered_value"] == "30.0000" and edited.json()["version"] == 2
    early = await receive(client, shop, draft["id"], [(0, "1")])
    assert early.status_code == 409 and early.json()["code"] == "invalid_state"
    ordered = await client.post(
        f"/purchase-orders/{draft['id']}/order", headers={**shop.admin, "If-Match": '"2"'}
    )
    assert ordered.json()["status"] == "ordered" and ordered.json()["ordered_at"]

    first = await receive(client, shop, draft["id"], [(0, "6")], note="truck 1")
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["purchase_order_status"] == "partially_received"
    assert len(receipt["movement_ids"]) == 1 and receipt["payable_id"]
    assert await on_hand(client, shop, shop.products[0]) == "6.0000"
    ledger = await client.get(
        f"/stock/movements?reference_kind=purchase_receipt&reference_id={receipt['id']}",
        headers=shop.admin,
    )
    [movement] = ledger.json()["items"]
    assert (movement["kind"], movement["quantity"], movement["note"]) == (
        "inbound",
        "6.0000",
        "truck 1",
    )
    second = await receive(client, shop, draft["id"], [(0, "4"), (1, "4")])
    assert second.json()["purchase_order_status"] == "received"
    po = (await client.get(f"/purchase-orders/{draft['id']}", headers=shop.admin)).json()
    assert [line["received_quantity"] for line in po["lines"]] == ["10.0000", "4.0000"]
    assert po["received_value"] == "30.0000"
    assert await on_hand(client, shop, shop.products[1]) == "4.0000"
    receipts = await client.get(f"/purchase-orders/{draft['id']}/receipts", headers=shop.admin)
    assert [r["id"] for r in receipts.json()["items"]] == [receipt["id"], second.json()["id"]]
    more = await receive(client, shop, draft["id"], [(0, "1")])
    assert more.status_code == 409 and more.json()["code"] == "invalid_state"


async def test_a_repeated_receipt_id_receives_once(client, db) -> None:
    shop = await make_shop(client, db)
    po = await make_po(client, shop, [(0, "5", "1")])
    rid = str(uuid7())
    first = await receive(client, shop, po["id"], [(0, "2")], id=rid)
    again = await receive(client, shop, po["id"], [(0, "2")], id=rid)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await on_hand(client, shop, shop.products[0]) == "2.0000"
    assert await count(db, "stock_movements") == 1 and await count(db, "payables") == 1
    changed = await receive(client, shop, po["id"], [(0, "3")], id=rid)
    assert changed.status_code == 409 and changed.json()["code"] == "id_reused"
    other = await make_po(client, shop, [(0, "5", "1")])
    reused = await receive(client, shop, other["id"], [(0, "2")], id=rid)
    assert reused.status_code == 409 and reused.json()["code"] == "id_reused"


async def test_over_receipt_is_refused_and_posts_nothing(client, db) -> None:
    shop = await make_shop(client, db)
    po = await make_po(client, shop, [(0, "5", "1"), (1, "3", "1")])
    assert (await receive(client, shop, po["id"], [(0, "4")])).status_code == 201
    over = await receive(client, shop, po["id"], [(1, "3"), (0, "1.5")])
    assert over.status_code == 422
    body = over.json()
    assert (body["code"], body["field"]) == ("over_receipt", "lines.1.quantity")
    assert body["data"] == {"ordered": "5.0000", "received": "4.0000", "remaining": "1.0000"}
    # the valid first line of the refused receipt posted nothing either
    assert await on_hand(client, shop, shop.products[1]) is None
    assert await count(db, "stock_movements") == 1 and await count(db, "purchase_receipts") == 1
    po_now = (await client.get(f"/purchase-orders/{po['id']}", headers=shop.admin)).json()
    assert [line["received_quantity"] for line in po_now["lines"]] == ["4.0000", "0.0000"]
    assert po_now["status"] == "partially_received"


async def test_a_failure_inside_the_ledger_leaves_no_receipt(client, db, monkeypatch) -> None:
    shop = await make_shop(client, db)
    po = await make_po(client, shop, [(0, "5", "1")])
    from server.sfa.stock.ledger import StockLedger

    original = StockLedger.post

    async def failing(self, session, entries, **kwargs):
        await original(self, session, entries, **kwargs)  # the movement is written ...
        raise RuntimeError("disk full")  # ... then the transaction fails

    monkeypatch.setattr(StockLedger, "post", failing)
    failed = await receive(client, shop, po["id"], [(0, "5")])
    assert failed.status_code == 500 and "disk full" not in failed.text
    monkeypatch.setattr(StockLedger, "post", original)
    for table in ("stock_movements", "purchase_receipts", "purchase_receipt_lines", "payables"):
        assert await count(db, table) == 0, table
    po_now = (await client.get(f"/purchase-orders/{po['id']}", headers=shop.admin)).json()
    assert po_now["status"] == "ordered" and po_now["lines"][0]["received_quantity"] == "0.0000"
    assert await on_hand(client, shop, shop.products[0]) is None


async def test_transitions_that_are_not_allowed(client, db) -> None:
    shop = await make_shop(client, db)
    po = await make_po(client, shop, [(0, "5", "1")])
    again = await client.post(f"/purchase-orders/{po['id']}/order", headers=shop.admin)
    assert again.status_code == 409 and again.json()["field"] == "status"
    edit = await client.patch(
        f"/purchase-orders/{po['id']}", json={"notes": "x"}, headers=shop.admin
    )
    assert edit.status_code == 409 and edit.json()["code"] == "invalid_state"
    assert (await receive(client, shop, po["id"], [(0, "1")])).status_code == 201
    cancel = await client.post(f"/purchase-orders/{po['id']}/cancel", headers=shop.admin)
    assert cancel.status_code == 409 and cancel.json()["code"] == "invalid_state"
    other = await make_po(client, shop, [(0, "5", "1")])
    cancelled = await client.post(f"/purchase-orders/{other['id']}/cancel", headers=shop.admin)
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancelled_at"]
    late = await receive(client, shop, other["id"], [(0, "1")])
    assert late.status_code == 409
    stale = await client.post(
        f"/purchase-orders/{po['id']}/cancel", headers={**shop.admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412


async def test_bad_purchase_orders_are_refused_and_write_nothing(client, db) -> None:
    shop = await make_shop(client, db)
    inactive = await client.post(
        "/suppliers", json={"code": "OLD", "name": "Old", "active": False}, headers=shop.admin
    )
    missing = str(uuid7())
    line = {"product_id": shop.products[0], "quantity": "1", "unit_cost": "1"}
    good = {"supplier_id": shop.supplier, "warehouse_id": shop.warehouse, "lines": [line]}
    cases = [
        ({**good, "supplier_id": missing}, "unknown_supplier", "supplier_id"),
        ({**good, "supplier_id": inactive.json()["id"]}, "inactive_supplier", "supplier_id"),
        ({**good, "warehouse_id": missing}, "unknown_warehouse", "warehouse_id"),
        (
            {**good, "lines": [{**line, "product_id": missing}]},
            "unknown_product",
            "lines.0.product_id",
        ),
        ({**good, "lines": [{**line, "quantity": "0"}]}, "validation_error", "lines.0.quantity"),
        ({**good, "lines": [{**line, "quantity": "-2"}]}, "validation_error", "lines.0.quantity"),
        ({**good, "lines": [{**line, "unit_cost": "-1"}]}, "validation_error", "lines.0.unit_cost"),
        ({**good, "lines": [line, line]}, "duplicate_product", "lines.1.product_id"),
        ({**good, "lines": []}, "validation_error", "lines"),
    ]
    for body, code, field in cases:
        response = await client.post("/purchase-orders", json=body, headers=shop.admin)
        assert response.status_code == 422, (body, response.text)
        assert (response.json()["code"], response.json().get("field")) == (code, field), body
    assert await count(db, "purchase_orders") == 0 and await count(db, "purchase_order_lines") == 0

    po = await make_po(client, shop, [(0, "5", "1")])
    stranger = str(await make_product(db))
    bad_receipts = [
        ([{"product_id": stranger, "quantity": "1"}], "not_on_order", "lines.0.product_id"),
        (
            [{"product_id": shop.products[0], "quantity": "0"}],
            "validation_error",
            "lines.0.quantity",
        ),
        (
            [{"product_id": shop.products[0], "quantity": "-1"}],
            "validation_error",
            "lines.0.quantity",
        ),
    ]
    for lines, code, field in bad_receipts:
        response = await client.post(
            f"/purchase-orders/{po['id']}/receipts", json={"lines": lines}, headers=shop.admin
        )
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["field"]) == (code, field)
    nowhere = await client.post(
        f"/purchase-orders/{missing}/receipts",
        json={"lines": [{"product_id": shop.products[0], "quantity": "1"}]},
        headers=shop.admin,
    )
    assert nowhere.status_code == 404
    assert await count(db, "stock_movements") == 0 and await count(db, "purchase_receipts") == 0


async def test_roles_and_pages(client, db) -> None:
    shop = await make_shop(client, db)
    ids = [(await make_po(client, shop, [(0, "1", "1")], ordered=False))["id"] for _ in range(3)]
    manager = await auth_headers(db, await make_user(db, "manager"))
    rep = await auth_headers(db, await make_user(db, "rep"))
    assert await walk_pages(client, "/purchase-orders", manager, 2) == ids
    drafts = await client.get(
        f"/purchase-orders?status=draft&supplier_id={shop.supplier}", headers=manager
    )
    assert len(drafts.json()["items"]) == 3
    assert (
        await client.post(f"/purchase-orders/{ids[0]}/order", headers=manager)
    ).status_code == 403
    assert (await client.get("/purchase-orders", headers=rep)).status_code == 403
    assert (await client.get(f"/purchase-orders/{ids[0]}", headers=rep)).status_code == 403
