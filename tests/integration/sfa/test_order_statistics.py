"""``GET /orders/statistics``: figures equal a Python reference on random orders (DST days
included), scope, filters, pagination, bad input; the read model follows every order write."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from server.settings import Settings
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, make_account, make_tree
from tests.integration.sfa.stats_tools import (
    BERLIN,
    as_numbers,
    insert_products,
    random_company,
    reference,
    stats_writer,
    write_order,
)
from tests.synctools import writer

URL = "/orders/statistics"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The test settings with the company in Berlin (two DST changes a year)."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        password_memory_kib=8,
        password_time_cost=1,
        company_timezone=BERLIN,
    )


async def fetch_all(client: Any, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every row of a statistics query, following the cursor (small pages)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        response = await client.get(URL, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


async def company_setup(db, settings, seed: int, count: int = 60) -> dict[str, Any]:
    """Territories north (n1 > n1a, n1b) and south (s1 > s1a), a manager of n1, reps, accounts
    in n1a, n1b and s1a, products in two categories, and ``count`` random orders."""
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    await add_member(db, tree["n1"], manager.id)
    north_rep = await make_user(db, "rep", manager_id=manager.id)
    south_rep = await make_user(db, "rep")
    accounts = []
    for territory, rep in (("n1a", north_rep), ("n1b", north_rep), ("s1a", south_rep)):
        for _ in range(2):
            account_id = await make_account(db, territory_id=tree[territory], owner_id=rep.id)
            accounts.append((account_id, tree[territory], rep.id))
    products = await insert_products(db, 4)
    writer = stats_writer(settings)
    company = await random_company(db, writer, random.Random(seed), accounts, products, count)
    north = {a for a, t, _ in accounts if t in (tree["n1a"], tree["n1b"])}
    return {
        "tree": tree,
        "manager": manager,
        "north_rep": north_rep,
        "company": company,
        "north_accounts": north,
        "products": products,
        "writer": writer,
    }


@pytest.mark.parametrize("seed", [1, 2])
async def test_figures_equal_the_reference_for_every_interval_and_group(
    client, db, settings, seed
) -> None:
    world = await company_setup(db, settings, seed)
    admin = await auth_headers(db, await make_user(db, "admin"))
    for interval in ("day", "week", "month"):
        for group_by in (None, "rep", "territory", "account", "product", "category"):
            params = {"interval": interval, **({"group_by": group_by} if group_by else {})}
            answered = await fetch_all(client, admin, **params)
            expected = reference(world["company"], interval, group_by)
            assert as_numbers(answered) == expected, (interval, group_by)
    assert expected, "the random company has committed orders"


async def test_a_manager_sees_only_their_subtree(client, db, settings) -> None:
    world = await company_setup(db, settings, seed=3)
    headers = await auth_headers(db, world["manager"])
    for group_by in ("account", "territory", None):
        params = {"interval": "month", **({"group_by": group_by} if group_by else {})}
        answered = await fetch_all(client, headers, **params)
        expected = reference(world["company"], "month", group_by, visible=world["north_accounts"])
        assert as_numbers(answered) == expected
    accounts = {row["key"] for row in await fetch_all(client, headers, group_by="account")}
    assert accounts and accounts <= {str(a) for a in world["north_accounts"]}
    # filtering on a territory outside the subtree finds nothing, never another's figures
    south = await fetch_all(client, headers, territory_id=str(world["tree"]["south"]))
    assert south == []


async def test_filters_narrow_the_figures(client, db, settings) -> None:
    world = await company_setup(db, settings, seed=4)
    company = world["company"]
    admin = await auth_headers(db, await make_user(db, "admin"))
    statuses = ("on_hold", "cancelled")
    answered = await fetch_all(client, admin, status=list(statuses), group_by="rep")
    assert as_numbers(answered) == reference(company, "month", "rep", statuses=statuses)
    product = next(iter(world["products"]))
    answered = await fetch_all(client, admin, product_id=str(product), group_by="rep")
    assert as_numbers(answered) == reference(company, "month", "rep", product_id=product)
    north = await fetch_all(client, admin, territory_id=str(world["tree"]["north"]))
    visible = world["north_accounts"]
    assert as_numbers(north) == reference(company, "month", None, visible=visible)
    rep = world["north_rep"]
    by_rep = await fetch_all(client, admin, rep_id=str(rep.id), group_by="rep")
    assert {row["key"] for row in by_rep} <= {str(rep.id)}
    days = await fetch_all(
        client, admin, interval="day", **{"from": "2026-03-29", "to": "2026-03-31"}
    )
    expected = [
        row
        for row in reference(company, "day", None)
        if "2026-03-29" <= row["bucket"] <= "2026-03-31"
    ]
    assert as_numbers(days) == expected


async def test_days_weeks_and_months_follow_the_company_clock_across_dst(
    client, db, settings
) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    account_id = await make_account(db, territory_id=tree["n1a"], owner_id=rep.id)
    products = list(await insert_products(db, 1))
    writer = stats_writer(settings)
    line = {"id": None, "product_id": str(products[0]), "quantity": "1", "unit_price": "10"}
    moments = {
        "2026-03-28T23:30:00+00:00": ("2026-03-29", "2026-03-23", "2026-03-01"),
        "2026-03-29T22:30:00+00:00": ("2026-03-30", "2026-03-30", "2026-03-01"),
        "2026-03-31T22:30:00+00:00": ("2026-04-01", "2026-03-30", "2026-04-01"),
        "2026-10-24T22:30:00+00:00": ("2026-10-25", "2026-10-19", "2026-10-01"),
        "2026-10-25T23:30:00+00:00": ("2026-10-26", "2026-10-26", "2026-10-01"),
    }
    for moment in moments:
        await write_order(
            db,
            writer,
            {
                "account_id": account_id,
                "owner_id": rep.id,
                "status": "confirmed",
                "lines": [{**line, "id": str(uuid.uuid4())}],
                "submitted_at": dt.datetime.fromisoformat(moment),
            },
        )
    admin = await auth_headers(db, await make_user(db, "admin"))
    for index, interval in enumerate(("day", "week", "month")):
        rows = await fetch_all(client, admin, interval=interval)
        counted: dict[str, int] = {}
        for buckets in moments.values():
            counted[buckets[index]] = counted.get(buckets[index], 0) + 1
        assert {row["bucket"]: row["orders"] for row in rows} == counted, interval
        assert all(Decimal(row["amount"]) == 10 * row["orders"] for row in rows)


async def test_the_read_model_follows_status_changes_and_deletes(client, db, settings) -> None:
    world = await company_setup(db, settings, seed=5, count=0)
    writer = world["writer"]
    account_id = next(iter(world["north_accounts"]))
    product = next(iter(world["products"]))
    order = await write_order(
        db,
        writer,
        {
            "account_id": account_id,
            "owner_id": world["north_rep"].id,
            "status": "confirmed",
            "lines": [
                {
                    "id": str(uuid.uuid4()),
                    "product_id": str(product),
                    "quantity": "3",
                    "unit_price": "2.50",
                }
            ],
            "submitted_at": dt.datetime(2026, 5, 5, 12, tzinfo=dt.UTC),
        },
    )
    admin = await auth_headers(db, await make_user(db, "admin"))
    [row] = await fetch_all(client, admin)
    assert (row["orders"], Decimal(row["amount"]), Decimal(row["quantity"])) == (1, 7.5, 3)
    async with db.transaction() as session:
        await writer.update(
            session, "order", uuid.UUID(order["id"]), {"status": "cancelled"}, principal=None
        )
    assert await fetch_all(client, admin) == []
    [cancelled] = await fetch_all(client, admin, status="cancelled")
    assert cancelled["orders"] == 1
    async with db.transaction() as session:
        await writer.delete(session, "order", uuid.UUID(order["id"]), principal=None)
    assert await fetch_all(client, admin, status="cancelled") == []


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"group_by": "colour"}, 422, "group_by"),
        ({"interval": "year"}, 422, "interval"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, 422, "from"),
        ({"from": "yesterday"}, 422, "from"),
        ({"status": "shipped"}, 422, "status"),
        ({"limit": 0}, 422, "limit"),
        ({"rep_id": "nobody"}, 422, "rep_id"),
        ({"territory_id": str(uuid.uuid4())}, 422, "territory_id"),
    ],
)
async def test_bad_parameters_are_refused_with_the_field(client, db, params, status, field) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    response = await client.get(URL, params=params, headers=admin)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field


async def test_a_garbage_cursor_is_refused(client, db) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    for cursor in ("%%%", "bm90IGEgY3Vyc29y", "c3RhdHM6LTE"):  # "not a cursor", "stats:-1"
        response = await client.get(URL, params={"cursor": cursor}, headers=admin)
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["field"]) == ("invalid_cursor", "cursor")


async def test_reps_are_refused(client, db) -> None:
    rep = await make_user(db, "rep")
    response = await client.get(URL, headers=await auth_headers(db, rep))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_orders_follow_their_account_moved_by_a_bulk_move(client, db, settings) -> None:
    # a realignment rekeys the orders without rewriting them: the move observer gives their
    # statistics the account's new territory (as a single-account move, which rewrites them)
    from server.sfa.orders.statistics_models import OrderLineStat, OrderStat
    from server.sync import relocation

    world = await company_setup(db, settings, seed=7, count=0)
    tree, writer = world["tree"], world["writer"]
    account_id = await make_account(db, territory_id=tree["n1a"], owner_id=world["north_rep"].id)
    product = next(iter(world["products"]))
    line = {"id": str(uuid.uuid4()), "product_id": str(product), "quantity": "2", "unit_price": "4"}
    order = await write_order(
        db,
        writer,
        {
            "account_id": account_id,
            "owner_id": world["north_rep"].id,
            "status": "confirmed",
            "lines": [line],
            "submitted_at": dt.datetime(2026, 5, 5, 12, tzinfo=dt.UTC),
        },
    )
    async with db.transaction() as session:
        await relocation.update_many(
            writer, session, "account", {account_id: {"territory_id": tree["n1b"]}}
        )
    async with db.sessions() as session:
        for model in (OrderStat, OrderLineStat):
            table = model.__table__
            rows = (
                await session.execute(
                    sa.select(table.c.territory_id, table.c.amount_cents).where(
                        table.c.order_id == uuid.UUID(order["id"])
                    )
                )
            ).all()
            assert [tuple(r) for r in rows] == [(tree["n1b"], 800)], model.__name__


async def test_a_manager_sees_their_subtree_before_and_after_an_account_moves(
    client, db, settings
) -> None:
    world = await company_setup(db, settings, seed=4)
    headers = await auth_headers(db, world["manager"])
    params = {"interval": "month", "group_by": "account"}
    north = set(world["north_accounts"])
    before = reference(world["company"], "month", "account", visible=north)
    assert as_numbers(await fetch_all(client, headers, **params)) == before
    moved = sorted(north)[0]
    async with db.transaction() as session:  # the account leaves the manager's subtree
        await writer().update(
            session, "account", moved, {"territory_id": world["tree"]["s1a"]}, principal=None
        )
    after = reference(world["company"], "month", "account", visible=north - {moved})
    assert after != before, "the moved account had figures"
    assert as_numbers(await fetch_all(client, headers, **params)) == after
