"""Every filter of the finance views (contracts, receivables and their totals, collections) on
its own and within a manager's scope: a filter never reaches outside the caller's subtree."""

from __future__ import annotations

from typing import Any

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, make_account, make_territory
from tests.integration.sfa.finance_builders import admin_headers, days, pay, scheduled_contract


async def book(client: Any, db: Any) -> dict[str, Any]:
    """north (a manager) holds ann's account A and bob's account B; south holds cy's C. Each
    has an active 1000 CNY contract; A's runs in the past, B's and C's now; each has paid."""
    admin = await admin_headers(db)
    north, south = await make_territory(db), await make_territory(db)
    manager = await make_user(db, "manager")
    await add_member(db, north, manager.id)
    ann, bob, cy = [await make_user(db, "rep") for _ in range(3)]
    accounts = {
        "A": await make_account(db, territory_id=north, owner_id=ann.id),
        "B": await make_account(db, territory_id=north, owner_id=bob.id),
        "C": await make_account(db, territory_id=south, owner_id=cy.id),
    }
    contracts, instalments = {}, {}
    for name, account in accounts.items():
        when = {"start_date": days(-400), "end_date": days(-200)} if name == "A" else {}
        schedule = [(-60, "400"), (30, "600")] if name == "B" else [(-10, "400"), (20, "600")]
        contracts[name], instalments[name] = await scheduled_contract(
            client, admin, account, schedule=schedule, **when
        )
    assert (await pay(client, admin, instalments["A"][0], "100")).status_code == 201
    old = {"received_on": days(-30)}
    assert (await pay(client, admin, instalments["B"][0], "50", **old)).status_code == 201
    assert (await pay(client, admin, instalments["C"][0], "70")).status_code == 201
    return {
        "admin": admin,
        "boss": await auth_headers(db, manager),
        "north": north,
        "south": south,
        "reps": {"ann": ann.id, "bob": bob.id, "cy": cy.id},
        "accounts": accounts,
        "contracts": {k: v["id"] for k, v in contracts.items()},
    }


async def listed(client: Any, url: str, headers: dict[str, str], key: str) -> set[str]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return {str(item[key]) for item in response.json()["items"]}


async def test_contract_filters_and_scope(client, db) -> None:
    w = await book(client, db)
    c, reps, admin, boss = w["contracts"], w["reps"], w["admin"], w["boss"]

    async def ids(headers: dict[str, str], query: str) -> set[str]:
        return await listed(client, f"/contracts?{query}", headers, "id")

    assert await ids(admin, "") == set(c.values())
    assert await ids(admin, f"account_id={w['accounts']['B']}") == {c["B"]}
    assert await ids(admin, f"owner_id={reps['cy']}") == {c["C"]}
    assert await ids(admin, f"territory_id={w['north']}") == {c["A"], c["B"]}
    # the period: contracts whose start..end overlaps it
    assert await ids(admin, f"period_from={days(-350)}&period_to={days(-300)}") == {c["A"]}
    assert await ids(admin, f"period_from={days(-10)}") == {c["B"], c["C"]}
    assert await ids(admin, "status=active") == set(c.values())
    # a manager's filters stay within the subtree
    assert await ids(boss, "") == {c["A"], c["B"]}
    assert await ids(boss, f"territory_id={w['south']}") == set()
    assert await ids(boss, f"owner_id={reps['cy']}") == set()
    assert await ids(boss, f"account_id={w['accounts']['C']}") == set()
    page = (await client.get("/contracts?limit=1", headers=boss)).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = await client.get(f"/contracts?limit=1&cursor={page['next_cursor']}", headers=boss)
    assert {page["items"][0]["id"], rest.json()["items"][0]["id"]} == {c["A"], c["B"]}
    assert rest.json()["next_cursor"] is None
    figures = {x["id"]: x for x in (await client.get("/contracts", headers=admin)).json()["items"]}
    assert (figures[c["A"]]["collected"], figures[c["A"]]["outstanding"]) == (
        "100.0000",
        "900.0000",
    )


async def test_receivable_filters_totals_and_scope(client, db) -> None:
    w = await book(client, db)
    a, reps, admin, boss = w["accounts"], w["reps"], w["admin"], w["boss"]

    async def accounts(headers: dict[str, str], query: str) -> set[str]:
        return await listed(client, f"/receivables?{query}", headers, "account_id")

    everyone = {str(x) for x in a.values()}
    assert await accounts(admin, "") == everyone
    assert await accounts(admin, f"account_id={a['A']}") == {str(a["A"])}
    assert await accounts(admin, f"owner_id={reps['bob']}") == {str(a["B"])}
    assert await accounts(admin, f"territory_id={w['south']}") == {str(a["C"])}
    # due in the period: only B has an instalment due 60 days ago
    assert await accounts(admin, f"due_to={days(-30)}") == {str(a["B"])}
    assert await accounts(admin, f"due_from={days(25)}") == {str(a["B"])}
    assert await accounts(boss, "") == {str(a["A"]), str(a["B"])}
    assert await accounts(boss, f"territory_id={w['south']}") == set()
    assert await accounts(boss, f"owner_id={reps['cy']}") == set()

    async def totals(headers: dict[str, str], query: str) -> Any:
        response = await client.get(f"/receivables/totals?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["totals"]

    [north] = await totals(admin, f"territory_id={w['north']}")
    assert (north["accounts"], north["total"]) == (2, "1850.0000")  # 900 + 950
    [bob_only] = await totals(admin, f"owner_id={reps['bob']}&due_to={days(-30)}")
    assert (bob_only["overdue"], bob_only["open_instalments"]) == ("350.0000", 1)
    [seen] = await totals(boss, "")
    assert (seen["accounts"], seen["total"]) == (2, "1850.0000")  # C (930) is not theirs
    assert await totals(boss, f"account_id={a['C']}") == []


async def test_collection_filters_and_scope(client, db) -> None:
    w = await book(client, db)
    a, reps, admin, boss = w["accounts"], w["reps"], w["admin"], w["boss"]

    async def nets(headers: dict[str, str], query: str) -> dict[str, str]:
        response = await client.get(f"/finance/collections?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return {row["rep_id"]: row["net"] for row in response.json()["items"]}

    ann, bob, cy = (str(reps[n]) for n in ("ann", "bob", "cy"))
    assert await nets(admin, "") == {ann: "100.0000", bob: "50.0000", cy: "70.0000"}
    assert await nets(admin, f"rep_id={bob}") == {bob: "50.0000"}
    assert await nets(admin, f"account_id={a['C']}") == {cy: "70.0000"}
    assert await nets(admin, f"territory_id={w['north']}") == {ann: "100.0000", bob: "50.0000"}
    assert await nets(admin, f"received_to={days(-1)}") == {bob: "50.0000"}
    assert await nets(admin, f"received_from={days(-1)}") == {ann: "100.0000", cy: "70.0000"}
    assert await nets(boss, "") == {ann: "100.0000", bob: "50.0000"}
    assert await nets(boss, f"rep_id={cy}") == {}
    assert await nets(boss, f"territory_id={w['south']}") == {}
    first = (await client.get("/finance/collections?limit=1", headers=boss)).json()
    second = await client.get(
        f"/finance/collections?limit=1&cursor={first['next_cursor']}", headers=boss
    )
    walked = [r["rep_id"] for r in first["items"] + second.json()["items"]]
    assert sorted(walked) == sorted([ann, bob]) and second.json()["next_cursor"] is None
