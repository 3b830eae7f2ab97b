"""Statements computed from the central records: order credits per category and split, payment
credits to the account's owner on the day, cancellations and refunds (same period and carried),
overlays, the company's time zone, idempotent recomputation and who sees what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from server.settings import Settings
from server.sfa.commissions.compute import StatementComputer
from server.sfa.commissions.events import reader_for
from server.sfa.commissions.repository import CommissionRepository
from tests.builders import auth_headers, make_user
from tests.integration.commissions.builders import (
    DEC,
    amounts,
    category_product,
    compute,
    confirmed_order,
    mine,
    owned,
    payment,
    post_plan,
    transition,
)
from tests.integration.sfa.core_builders import make_account

D = Decimal


async def team(client, db, **plan):
    """An admin (with a rep plan posted), a manager and their rep, the rep's headers."""
    admin = await auth_headers(db, await make_user(db, "admin"))
    await post_plan(client, admin, **plan)
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    return admin, manager, rep, await auth_headers(db, rep)


async def test_a_confirmed_order_earns_per_category(client, db) -> None:
    _, _, rep, headers = await team(client, db)
    hardware, other = await category_product(db, "hardware"), await category_product(db, None)
    order = await confirmed_order(db, rep.id, [(hardware, "2", "100"), (other, "1", "50")])
    [statement] = await compute(client, headers, "2026-11")
    assert statement["status"] == "open" and D(statement["total"]) == D("18.50")
    first, second = statement["lines"]
    assert (first["source"], first["source_id"], first["category"]) == (
        "order",
        str(order),
        "hardware",
    )
    assert (D(first["rate_pct"]), D(first["credited"]), D(first["amount"])) == (8, 200, D("16.00"))
    assert (second["category"], D(second["rate_pct"]), D(second["amount"])) == (None, 5, D("2.50"))
    assert [line["no"] for line in statement["lines"]] == [1, 2]
    assert {k: D(v) for k, v in statement["by_category"].items()} == {
        "hardware": 16,
        "other": D("2.5"),
    }
    assert D(statement["attainment"]["credited"]) == 250
    # an order confirmed in another period, and one never confirmed, do not count
    await confirmed_order(db, rep.id, [(hardware, "1", "999")], at=DEC)
    await confirmed_order(db, rep.id, [(hardware, "1", "999")], at=None)
    [again] = await compute(client, headers, "2026-11")
    assert again["lines"] == statement["lines"] and again["version"] == 1


async def test_split_credit_goes_to_each_rep_by_share(client, db) -> None:
    _, manager, rep, headers = await team(client, db)
    partner = await make_user(db, "rep", manager_id=manager.id)
    hardware = await category_product(db, "hardware")
    order = await confirmed_order(db, rep.id, [(hardware, "1", "100.01")])
    shares = [
        {"rep_id": str(rep.id), "share_pct": "60"},
        {"rep_id": str(partner.id), "share_pct": "40"},
    ]
    boss = await auth_headers(db, manager)
    put = await client.put(f"/orders/{order}/credit-splits", json={"shares": shares}, headers=boss)
    assert put.status_code == 200, put.text
    both = await compute(client, boss, "2026-11")
    credited = {s["rep_id"]: D(s["lines"][0]["credited"]) for s in both}
    assert credited == {str(rep.id): D("60.01"), str(partner.id): D("40.00")}
    assert sum(credited.values()) == D("100.01")
    assert D(mine(both, partner)["total"]) == D("3.20")


async def test_a_cancellation_claws_back_in_its_own_period(client, db) -> None:
    _, _, rep, headers = await team(client, db)
    hardware = await category_product(db, "hardware")
    kept = await confirmed_order(db, rep.id, [(hardware, "1", "100")])
    gone = await confirmed_order(db, rep.id, [(hardware, "1", "50")])
    await transition(db, gone, "cancelled", dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    [november] = await compute(client, headers, "2026-11")
    assert amounts(november) == [
        ("commission", D("8.00")),
        ("commission", D("4.00")),
        ("clawback", D("-4.00")),
    ]
    assert november["lines"][2]["reverses"] == str(gone) and D(november["total"]) == 8
    # cancelled in December: November keeps its credit, December gets the carried clawback
    await transition(db, kept, "cancelled", DEC)
    [november] = await compute(client, headers, "2026-11")
    assert D(november["total"]) == 8
    [december] = await compute(client, headers, "2026-12")
    [line] = december["lines"]
    assert (line["kind"], D(line["amount"]), line["reverses"]) == (
        "clawback",
        D("-8.00"),
        str(kept),
    )
    assert "2026-11" in line["rule"]


async def test_payments_are_credited_to_the_account_owner_on_the_day(client, db) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    await post_plan(client, admin, earns_on="payment_collected", default_rate_pct="2")
    first, second = await make_user(db, "rep"), await make_user(db, "rep")
    account = await make_account(db)
    await owned(
        db,
        account,
        [
            (first.id, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
            (second.id, dt.datetime(2026, 11, 15, tzinfo=dt.UTC)),
        ],
    )
    early = await payment(db, account, "1000", dt.date(2026, 11, 10), rep_id=second.id)
    await payment(db, account, "500", dt.date(2026, 11, 20))
    both = await compute(client, admin, "2026-11")
    assert amounts(mine(both, first)) == [("commission", D("20.00"))]
    assert mine(both, first)["lines"][0]["source"] == "payment"
    assert amounts(mine(both, second)) == [("commission", D("10.00"))]
    # a refund of a quarter in December reverses a quarter, carried from November
    await payment(db, account, "-250", dt.date(2026, 12, 3), refund_of=early)
    december = await compute(client, admin, "2026-12")
    line = mine(december, first)["lines"][0]
    assert (line["kind"], line["source"], D(line["amount"])) == ("clawback", "refund", D("-5.00"))


async def test_a_manager_with_an_overlay_rate_earns_on_the_team(client, db) -> None:
    admin, manager, rep, _ = await team(client, db)
    await post_plan(
        client, admin, name="Managers", role="manager", default_rate_pct="0", overlay_rate_pct="1.5"
    )
    hardware = await category_product(db, "hardware")
    await confirmed_order(db, rep.id, [(hardware, "1", "200")])
    outsider = await make_user(db, "rep")
    await confirmed_order(db, outsider.id, [(hardware, "1", "999")])
    boss = await auth_headers(db, manager)
    [statement] = await compute(client, boss, "2026-11", rep_id=str(manager.id))
    assert amounts(statement) == [("commission", D("3.00"))]
    assert D(statement["lines"][0]["rate_pct"]) == D("1.5")


async def test_periods_follow_the_company_time_zone(db) -> None:
    rep = await make_user(db, "rep")
    import msgspec

    from server.sfa.commissions.plan_service import PlanService
    from server.sfa.commissions.schemas import PlanInput
    from server.sync.registry import Principal
    from tests.integration.commissions.builders import plan_body
    from tests.synctools import writer

    admin = await make_user(db, "admin")
    utc = Settings(database_url="sqlite://")
    service = PlanService(db, writer(), Principal(user_id=admin.id, role="admin"), utc)
    await service.create_plan(msgspec.convert(plan_body(), PlanInput, strict=False))
    hardware = await category_product(db, "hardware")
    # 01:00 on 1 November in Shanghai, still 31 October in UTC
    await confirmed_order(
        db, rep.id, [(hardware, "1", "100")], at=dt.datetime(2026, 10, 31, 17, tzinfo=dt.UTC)
    )

    async def periods(zone: str) -> dict[str, int]:
        settings = Settings(database_url="sqlite://", company_timezone=zone)
        async with db.reading() as session:
            repo = CommissionRepository(session)
            computer = StatementComputer(repo, reader_for(repo, settings))
            return {
                p: len((await computer.compute(p, [rep.id]))[rep.id].lines)
                for p in ("2026-10", "2026-11")
            }

    assert await periods("UTC") == {"2026-10": 1, "2026-11": 0}
    assert await periods("Asia/Shanghai") == {"2026-10": 0, "2026-11": 1}


async def test_statements_are_seen_by_their_rep_their_managers_and_admins(client, db) -> None:
    admin, manager, rep, headers = await team(client, db)
    other = await make_user(db, "rep")
    stranger = await make_user(db, "manager")
    hardware = await category_product(db, "hardware")
    await confirmed_order(db, rep.id, [(hardware, "1", "100")])
    await confirmed_order(db, other.id, [(hardware, "1", "100")])
    all_of_them = await compute(client, admin, "2026-11")
    assert {s["rep_id"] for s in all_of_them} == {str(rep.id), str(other.id)}
    statement = mine(all_of_them, rep)
    url = f"/commissions/statements/{statement['id']}"
    assert (await client.get(url, headers=headers)).status_code == 200
    own = (await client.get("/commissions/statements", headers=headers)).json()["items"]
    assert [s["rep_id"] for s in own] == [str(rep.id)]
    other_headers = await auth_headers(db, other)
    assert (await client.get(url, headers=other_headers)).status_code == 404
    spied = await client.post(
        "/commissions/statements/compute",
        json={"period": "2026-11", "rep_id": str(rep.id)},
        headers=other_headers,
    )
    assert spied.status_code == 404
    boss = await auth_headers(db, manager)
    assert (await client.get(url, headers=boss)).status_code == 200
    listed = (await client.get("/commissions/statements?period=2026-11", headers=boss)).json()
    assert [s["rep_id"] for s in listed["items"]] == [str(rep.id)]
    outside = await auth_headers(db, stranger)
    assert (await client.get(url, headers=outside)).status_code == 404
    page = (await client.get("/commissions/statements?limit=1", headers=admin)).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    bad = await client.post(
        "/commissions/statements/compute", json={"period": "2026-13"}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["field"] == "period"
