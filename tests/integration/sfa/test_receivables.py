"""Receivables with ageing over REST, the daily ageing, and arrears feeding the credit check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from server.sfa.collections.receivables import age_receivables
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, make_account, make_territory
from tests.integration.sfa.finance_builders import admin_headers, pay, scheduled_contract
from tests.integration.sfa.test_orders import draft_order, insert_product, load, order_line
from tests.synctools import act_as, insert_account, writer

NOW = dt.datetime.now(dt.UTC)


async def arrears(db, account_id) -> str:
    return (await load(db, "account", str(account_id)))["arrears"]


async def test_receivables_are_aged_into_buckets_per_account(client, db) -> None:
    headers = await admin_headers(db)
    account = await make_account(db, name="Owes")
    await scheduled_contract(
        client,
        headers,
        account,
        value="1000",
        schedule=[(5, "100"), (-1, "200"), (-45, "300"), (-75, "150"), (-120, "250")],
    )
    # a draft contract's schedule is not owed yet
    await scheduled_contract(client, headers, account, activate=False)
    other, (first, _) = await scheduled_contract(client, headers, db=db)
    await pay(client, headers, first, "400")  # its first instalment is settled
    response = await client.get("/receivables", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == NOW.date().isoformat()
    rows = {row["account_id"]: row for row in body["items"]}
    assert set(rows) == {str(account), other["account_id"]}
    owes = rows[str(account)]
    assert (owes["account_name"], owes["currency"], owes["open_instalments"]) == ("Owes", "CNY", 5)
    assert [
        owes[k]
        for k in ("current", "days_1_30", "days_31_60", "days_61_90", "over_90", "overdue", "total")
    ] == [
        "100.0000",
        "200.0000",
        "300.0000",
        "150.0000",
        "250.0000",
        "900.0000",
        "1000.0000",
    ]
    assert rows[other["account_id"]]["current"] == "600.0000"
    assert rows[other["account_id"]]["overdue"] == "0.0000"
    # arrears was derived in the same transactions: the overdue amounts
    assert await arrears(db, account) == "900.0000"
    period = await client.get(
        f"/receivables?due_from={(NOW.date() - dt.timedelta(days=50)).isoformat()}"
        f"&due_to={NOW.date().isoformat()}",
        headers=headers,
    )
    [row] = period.json()["items"]
    assert (row["open_instalments"], row["total"]) == (2, "500.0000")
    paged = await client.get("/receivables?limit=1", headers=headers)
    assert len(paged.json()["items"]) == 1 and paged.json()["next_cursor"]
    only = await client.get(f"/receivables?account_id={account}", headers=headers)
    assert [r["account_id"] for r in only.json()["items"]] == [str(account)]
    totals = (await client.get("/receivables/totals", headers=headers)).json()
    assert totals["totals"] == [
        {
            "currency": "CNY",
            "current": "700.0000",
            "days_1_30": "200.0000",
            "days_31_60": "300.0000",
            "days_61_90": "150.0000",
            "over_90": "250.0000",
            "overdue": "900.0000",
            "total": "1600.0000",
            "accounts": 2,
            "open_instalments": 6,
        }
    ]
    one = (
        await client.get(f"/receivables/totals?account_id={other['account_id']}", headers=headers)
    ).json()
    assert [(t["total"], t["accounts"]) for t in one["totals"]] == [("600.0000", 1)]


async def test_a_manager_sees_receivables_and_collections_of_their_subtree(client, db) -> None:
    admin = await admin_headers(db)
    north, south = await make_territory(db), await make_territory(db)
    manager = await make_user(db, "manager")
    await add_member(db, north, manager.id)
    rep = await make_user(db, "rep")
    mine = await make_account(db, territory_id=north, owner_id=rep.id)
    theirs = await make_account(db, territory_id=south)
    _, (a, _) = await scheduled_contract(client, admin, mine)
    _, (b, _) = await scheduled_contract(client, admin, theirs)
    assert (await pay(client, admin, a, "100")).status_code == 201
    assert (await pay(client, admin, b, "50")).status_code == 201
    headers = await auth_headers(db, manager)
    seen = await client.get("/receivables", headers=headers)
    assert [r["account_id"] for r in seen.json()["items"]] == [str(mine)]
    collections = await client.get("/finance/collections", headers=headers)
    assert collections.json()["items"] == [
        {
            "rep_id": str(rep.id),
            "currency": "CNY",
            "collected": "100.0000",
            "refunded": "0.0000",
            "net": "100.0000",
            "payments": 1,
        }
    ]
    payments = await client.get("/payments", headers=headers)
    assert [p["instalment_id"] for p in payments.json()["items"]] == [a["id"]]


async def test_collections_per_rep_and_period_net_of_refunds(client, db) -> None:
    headers = await admin_headers(db)
    ann, bob = await make_user(db, "rep"), await make_user(db, "rep")
    _, (a, _) = await scheduled_contract(client, headers, await make_account(db, owner_id=ann.id))
    _, (b, _) = await scheduled_contract(client, headers, await make_account(db, owner_id=bob.id))
    early = (NOW.date() - dt.timedelta(days=40)).isoformat()
    first = await pay(client, headers, a, "100", received_on=early)
    await pay(client, headers, a, "50")
    await pay(client, headers, b, "70")
    refund = await client.post(
        f"/payments/{first.json()['id']}/refunds",
        json={"amount": "30", "received_on": NOW.date().isoformat()},
        headers=headers,
    )
    assert refund.status_code == 201
    every = (await client.get("/finance/collections", headers=headers)).json()["items"]
    by_rep = {row["rep_id"]: row for row in every}
    assert (by_rep[str(ann.id)]["collected"], by_rep[str(ann.id)]["refunded"]) == (
        "150.0000",
        "30.0000",
    )
    assert (by_rep[str(ann.id)]["net"], by_rep[str(ann.id)]["payments"]) == ("120.0000", 2)
    assert by_rep[str(bob.id)]["net"] == "70.0000"
    since = (NOW.date() - dt.timedelta(days=7)).isoformat()
    recent = await client.get(
        f"/finance/collections?received_from={since}&rep_id={ann.id}", headers=headers
    )
    [row] = recent.json()["items"]
    assert (row["collected"], row["refunded"], row["net"]) == ("50.0000", "30.0000", "20.0000")
    paged = await client.get("/finance/collections?limit=1", headers=headers)
    assert len(paged.json()["items"]) == 1 and paged.json()["next_cursor"]


async def test_passing_due_dates_and_payments_drive_the_credit_check(client, db) -> None:
    """An instalment going overdue puts the account's next order on hold ``arrears``; the
    payment that settles it lets the next order through."""
    headers = await admin_headers(db)
    rep = await make_user(db, "rep")
    account = await insert_account(db, owner_id=rep.id, credit_limit=Decimal("100000"))
    _, (first, second) = await scheduled_contract(
        client, headers, account, schedule=[(3, "400"), (60, "600")]
    )
    product = await insert_product(db)
    before = await draft_order(db, rep, account, [order_line(product, "1", "1")])
    assert (await act_as(db, rep, "order", before["id"], "submit", {}))["status"] == "confirmed"

    summary = await age_receivables(db, writer(), NOW + dt.timedelta(days=10))
    assert (summary.accounts, summary.changed, summary.in_arrears) == (1, 1, 1)
    assert await arrears(db, account) == "400.0000"
    again = await age_receivables(db, writer(), NOW + dt.timedelta(days=10))
    assert again.changed == 0  # the same day twice: nothing new written
    held = await draft_order(db, rep, account, [order_line(product, "1", "1")])
    outcome = await act_as(db, rep, "order", held["id"], "submit", {})
    assert (outcome["status"], outcome["hold_reason"]) == ("on_hold", "arrears")

    assert (await pay(client, headers, first, "399")).status_code == 201
    assert await arrears(db, account) == "0.0000"  # seen from today, nothing is overdue
    await age_receivables(db, writer(), NOW + dt.timedelta(days=10))
    assert await arrears(db, account) == "1.0000"  # one unit still overdue then
    assert (await pay(client, headers, first, "1")).status_code == 201
    await age_receivables(db, writer(), NOW + dt.timedelta(days=10))
    assert await arrears(db, account) == "0.0000"
    after = await draft_order(db, rep, account, [order_line(product, "1", "1")])
    assert (await act_as(db, rep, "order", after["id"], "submit", {}))["status"] == "confirmed"
    assert second["status"] == "open"


async def test_ageing_clears_arrears_that_nothing_owes_any_more(db) -> None:
    account = await insert_account(db, arrears=Decimal("12.5"))  # typed by hand before
    summary = await age_receivables(db, writer(), NOW)
    assert (summary.accounts, summary.changed, summary.in_arrears) == (1, 1, 0)
    assert await arrears(db, account) == "0.0000"
    assert (await age_receivables(db, writer(), NOW)).accounts == 0  # nothing left to age
