"""The order desk (issue 15): managers release, confirm, reject, fulfil and cancel orders over
REST; confirming reserves stock, cancelling releases it, fulfilling ships it; every transition
is audited and syncs to the rep's device."""

from __future__ import annotations

import decimal

from protocol.ids import uuid7
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, count, make_territory, walk_pages
from tests.integration.sfa.order_desk_tools import make_desk, movements_of

D = decimal.Decimal


async def test_a_released_arrears_hold_is_confirmed_reserved_then_fulfilled(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings, stock="10")
    owing = await desk.account(arrears=D("50"))
    held = await desk.submit(owing, "4")
    assert (held["status"], held["hold_reasons"], held["hold_reason"]) == (
        "on_hold",
        ["arrears"],
        "arrears",
    )
    assert await desk.figures() == (D(10), D(0))  # a held order holds no stock

    listed = await client.get("/orders?status=on_hold&hold_reason=arrears", headers=desk.headers)
    assert [o["id"] for o in listed.json()["items"]] == [held["id"]]

    released = await desk.act(held, "release", {"note": "paid by transfer today"})
    assert released.status_code == 200, released.text
    body = released.json()
    assert (body["status"], body["hold_reasons"], body["hold_overrides"]) == (
        "confirmed",
        [],
        ["arrears"],
    )
    assert body["desk_note"] == "paid by transfer today"
    assert await desk.figures() == (D(10), D(4))

    again = await desk.act(body, "confirm")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")
    assert again.json()["data"]["status"] == "confirmed"

    fulfilled = await desk.act(body, "fulfil", {"note": "truck 7"})
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["status"] == "fulfilled" and fulfilled.json()["fulfilled_at"]
    assert await desk.figures() == (D(6), D(0))
    assert [(m.kind, D(str(m.quantity))) for m in await movements_of(db, held["id"])] == [
        ("outbound", D(-4))
    ]

    trail = await client.get(f"/orders/{held['id']}/transitions", headers=desk.headers)
    steps = [
        (t["action"], t["from_status"], t["to_status"], t["reasons"], t["note"])
        for t in trail.json()["items"]
    ]
    assert steps == [
        ("submit", "draft", "on_hold", ["arrears"], ""),
        ("release", "on_hold", "confirmed", [], "paid by transfer today"),
        ("fulfil", "confirmed", "fulfilled", [], "truck 7"),
    ]
    actors = [t["actor_id"] for t in trail.json()["items"]]
    assert actors == [str(desk.rep.id), str(desk.manager.id), str(desk.manager.id)]
    assert trail.json()["items"][0]["device_id"] == str(desk.phone.device_id)

    snapshot, _ = await desk.phone.snapshot()  # the desk's decisions reach the rep's device
    mine = snapshot[("order", held["id"])]
    assert (mine["status"], mine["desk_note"]) == ("fulfilled", "truck 7")


async def test_releasing_arrears_still_checks_stock_and_remembers_the_release(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings, stock="1")
    owing = await desk.account(arrears=D("5"))
    held = await desk.submit(owing, "3")
    assert held["hold_reasons"] == ["arrears", "insufficient_stock"]
    first = await desk.act(held, "release", {"note": "customer paid"})
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["hold_reasons"]) == (
        "on_hold",
        ["insufficient_stock"],
    )
    assert first.json()["hold_overrides"] == ["arrears"]
    assert await desk.figures() == (D(1), D(0))
    await desk.stock("5")  # stock arrives; the arrears are not checked again
    second = await desk.act(first.json(), "release", {"note": "restocked"})
    assert second.json()["status"] == "confirmed", second.text
    assert await desk.figures() == (D(5), D(3))


async def test_confirm_overrides_the_standing_but_never_the_stock_or_a_blacklist(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings, stock="2")
    tight = await desk.account(credit_limit=D("10"))
    short = await desk.submit(tight, "3")  # 30.00 over a limit of 10, and 3 of 2 units
    assert short["hold_reasons"] == ["credit_limit", "insufficient_stock"]
    refused = await desk.act(short, "confirm", {"note": "ok"})
    assert (refused.status_code, refused.json()["code"]) == (409, "insufficient_stock")
    assert refused.json()["data"]["short"][0]["available"] == "2.0000"
    current = (await client.get(f"/orders/{short['id']}", headers=desk.headers)).json()
    assert current["version"] == short["version"]  # nothing written
    assert await count(db, "stock_reservations") == 0

    fits = await desk.submit(tight, "2")
    confirmed = await desk.act(fits, "confirm", {"note": "good customer"})
    assert confirmed.json()["status"] == "confirmed", confirmed.text
    assert confirmed.json()["hold_overrides"] == ["arrears", "credit_limit"]
    assert await desk.figures() == (D(2), D(2))

    banned = await desk.account(credit_limit=D("0"))
    order = await desk.submit(banned, "1")
    assert order["status"] == "on_hold"
    async with db.transaction() as session:
        import sqlalchemy as sa

        await session.execute(sa.text("UPDATE accounts SET blacklisted = true"))
    answer = await desk.act(order, "confirm")
    assert (answer.status_code, answer.json()["code"]) == (409, "blacklisted")
    released = await desk.act(order, "release", {"note": "try"})
    assert (released.json()["status"], released.json()["reject_reason"]) == (
        "rejected",
        "blacklisted",
    )


async def test_cancelling_gives_the_stock_back_from_the_desk_and_from_the_device(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings, stock="10")
    account = await desk.account()
    by_desk, by_rep = await desk.submit(account, "3"), await desk.submit(account, "4")
    assert await desk.figures() == (D(10), D(7))
    cancelled = await desk.act(by_desk, "cancel", {"note": "duplicate"})
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    assert await desk.figures() == (D(10), D(4))
    withdrawn = await desk.phone.push_one(
        "order", by_rep["id"], "order.cancel", {"reason": "customer changed mind"}
    )
    assert withdrawn["record"]["status"] == "cancelled", withdrawn
    assert await desk.figures() == (D(10), D(0))
    late = await desk.act(by_desk, "fulfil")
    assert (late.status_code, late.json()["data"]["status"]) == (409, "cancelled")
    trail = await client.get(f"/orders/{by_rep['id']}/transitions", headers=desk.headers)
    assert [(t["action"], t["note"]) for t in trail.json()["items"]] == [
        ("submit", ""),
        ("cancel", "customer changed mind"),
    ]


async def test_reject_takes_a_reason_code_and_bad_bodies_change_nothing(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings)
    held = await desk.submit(await desk.account(arrears=D("1")), "1")
    for action, body, field in (
        ("reject", {}, "reason"),
        ("reject", {"reason": "Not A Code"}, "reason"),
        ("release", {}, "note"),
        ("release", {"note": "   "}, "note"),
        ("cancel", {"why": "x"}, None),
    ):
        answer = await desk.act(held, action, body)
        assert answer.status_code in (400, 422), (action, body, answer.text)
        if field is not None:
            assert field in (answer.json().get("field") or answer.json()["message"])
    rejected = await desk.act(held, "reject", {"reason": "customer_request", "note": "phoned"})
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["reject_reason"]) == (
        "rejected",
        "customer_request",
    )
    assert rejected.json()["hold_reasons"] == []
    for action in ("release", "confirm", "fulfil", "cancel", "reject"):
        body = {"reason": "x", "note": "x"} if action == "reject" else {"note": "x"}
        answer = await desk.act(rejected.json(), action, body)
        assert (answer.status_code, answer.json()["data"]["status"]) == (409, "rejected")
    missing = await client.post(f"/orders/{uuid7()}/confirm", json={}, headers=desk.headers)
    assert (missing.status_code, missing.json()["field"]) == (404, "id")


async def test_if_match_guards_every_action(client, db, settings) -> None:
    desk = await make_desk(client, db, settings)
    held = await desk.submit(await desk.account(arrears=D("1")), "1")
    stale = await desk.act(
        held, "release", {"note": "x"}, headers={**desk.headers, "If-Match": '"1"'}
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    assert stale.json()["data"]["version"] == held["version"]
    fresh = await desk.act(
        held, "release", {"note": "x"}, headers={**desk.headers, "If-Match": f'"{held["version"]}"'}
    )
    assert fresh.status_code == 200, fresh.text


async def test_reps_are_refused_and_managers_see_only_their_subtree(client, db, settings) -> None:
    desk = await make_desk(client, db, settings)
    north, south = await make_territory(db, name="north"), await make_territory(db, name="south")
    area = await make_territory(db, "area", north, name="n1")
    await add_member(db, north, desk.manager.id)
    await add_member(db, area, desk.rep.id)
    ours = await desk.submit(await desk.account(territory_id=area, arrears=D("1")), "1")
    stranger = await make_user(db, "rep")
    other_manager = await make_user(db, "manager")
    await add_member(db, south, other_manager.id)
    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    rep_headers = await auth_headers(db, desk.rep)
    for path in ("/orders", f"/orders/{ours['id']}", f"/orders/{ours['id']}/transitions"):
        assert (await client.get(path, headers=rep_headers)).status_code == 403
    refused = await desk.act(ours, "release", {"note": "me"}, headers=rep_headers)
    assert refused.status_code == 403
    others = await auth_headers(db, other_manager)
    assert (await client.get(f"/orders/{ours['id']}", headers=others)).status_code == 404
    assert (await client.get("/orders", headers=others)).json()["items"] == []
    outside = await desk.act(ours, "release", {"note": "not mine"}, headers=others)
    assert outside.status_code == 404
    for headers in (desk.headers, admin_headers):
        listed = await client.get(f"/orders?territory_id={north}", headers=headers)
        assert [o["id"] for o in listed.json()["items"]] == [ours["id"]]
    del stranger


async def test_the_list_filters_and_pages(client, db, settings) -> None:
    desk = await make_desk(client, db, settings, stock="100")
    good, owing = await desk.account(), await desk.account(arrears=D("1"))
    confirmed = [await desk.submit(good, "1") for _ in range(3)]
    held = await desk.submit(owing, "1")
    other_rep = await make_user(db, "rep", manager_id=desk.manager.id)
    headers = desk.headers

    async def ids(query: str) -> list[str]:
        answer = await client.get(f"/orders?{query}", headers=headers)
        assert answer.status_code == 200, answer.text
        return [o["id"] for o in answer.json()["items"]]

    assert await ids("status=confirmed") == [o["id"] for o in confirmed]
    assert await ids("hold_reason=arrears") == [held["id"]]
    assert await ids("hold_reason=credit_limit") == []
    assert await ids(f"account_id={owing}") == [held["id"]]
    assert len(await ids(f"rep_id={desk.rep.id}")) == 4
    assert await ids(f"rep_id={other_rep.id}") == []
    since = confirmed[1]["submitted_at"]
    assert await ids(f"status=confirmed&since={since.replace('+', '%2B')}") == [
        o["id"] for o in confirmed[1:]
    ]
    assert await ids(f"until={confirmed[0]['submitted_at'].replace('+', '%2B')}") == []
    assert len(await walk_pages(client, "/orders", headers, 1)) == 4
    for query, field in (
        ("hold_reason=bogus", "hold_reason"),
        ("status=shipped", "status"),
        ("limit=0", "limit"),
        ("cursor=%25%25", "cursor"),
    ):
        answer = await client.get(f"/orders?{query}", headers=headers)
        assert answer.status_code in (400, 422), (query, answer.text)
        assert answer.json()["field"] == field, (query, answer.text)
    backwards = await client.get(
        f"/orders?since={since.replace('+', '%2B')}&until={since.replace('+', '%2B')}",
        headers=headers,
    )
    assert (backwards.status_code, backwards.json()["field"]) == (422, "until")


async def test_bad_warehouses_are_refused_over_sync_with_code_and_field(
    client, db, settings
) -> None:
    from tests.integration.sfa.core_builders import make_warehouse

    desk = await make_desk(client, db, settings)
    account = await desk.account()
    someone = await make_user(db, "rep")
    cases = {
        "unknown_warehouse": uuid7(),
        "inactive_warehouse": await make_warehouse(db, active=False),
    }
    cases_van = await make_warehouse(db, owner_id=someone.id)
    for code, warehouse in [*cases.items(), ("unknown_warehouse", cases_van)]:
        result = await desk.phone.push_one(
            "order",
            uuid7(),
            "upsert",
            {
                "account_id": str(account),
                "owner_id": str(desk.rep.id),
                "warehouse_id": str(warehouse),
                "lines": [{"id": str(uuid7()), "product_id": str(desk.product), "quantity": "1"}],
            },
        )
        assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
            "rejected",
            code,
            "warehouse_id",
        )
    own_van = await make_warehouse(db, owner_id=desk.rep.id)
    await desk.stock("2", own_van)
    from_van = await desk.submit(account, "2", warehouse=own_van)
    assert from_van["status"] == "confirmed"
    assert await desk.figures(own_van) == (D(2), D(2))
    assert await desk.figures() == (D(10), D(0))
