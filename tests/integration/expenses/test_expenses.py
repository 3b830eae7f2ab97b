"""Expense reports: created and submitted offline (sync), decided by the rep's manager over
REST, private to the rep, approved totals per rep and period, and the refusals."""

from __future__ import annotations

import pytest

from protocol.ids import uuid7
from tests.builders import auth_headers, make_user
from tests.integration.expenses.receipt_tools import upload_receipt
from tests.integration.sfa.core_builders import add_member, count, make_tree
from tests.synctools import device_for


def line(amount="12.50", currency="CNY", date="2026-03-02", category="meals", **extra):
    return {
        "id": str(uuid7()),
        "date": date,
        "category": category,
        "amount": amount,
        "currency": currency,
        **extra,
    }


async def team(db):
    """north -> n1 -> n1a (rep a, rep b); the manager of n1; another manager of south."""
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    stranger = await make_user(db, "manager")
    rep_a, rep_b = await make_user(db, "rep"), await make_user(db, "rep")
    await add_member(db, tree["n1"], manager.id)
    await add_member(db, tree["south"], stranger.id)
    await add_member(db, tree["n1a"], rep_a.id)
    await add_member(db, tree["n1b"], rep_b.id)
    return manager, stranger, rep_a, rep_b


async def create_report(device, owner, lines, **fields):
    report_id = str(uuid7())
    changes = {"owner_id": str(owner.id), "title": "March trip", "lines": lines, **fields}
    result = await device.push_one("expense", report_id, "upsert", changes)
    return report_id, result


async def test_offline_report_is_submitted_decided_and_synced_back(client, db) -> None:
    manager, _, rep, _ = await team(db)
    device = await device_for(client, db, rep)
    attachment = (await upload_receipt(client, await auth_headers(db, rep))).json()["id"]
    rid, created = await create_report(
        device, rep, [line(), line("80", category="fuel", receipt_attachment_id=attachment)]
    )
    assert created["status"] == "applied", created
    submitted = await device.push_one("expense", rid, "expense.submit", {}, base_version=1)
    assert submitted["status"] == "applied", submitted
    assert submitted["record"]["status"] == "submitted" and submitted["record"]["submitted_at"]

    boss = await auth_headers(db, manager)
    waiting = await client.get("/expense-reports?status=submitted", headers=boss)
    assert [r["id"] for r in waiting.json()["items"]] == [rid]
    stale = await client.post(
        f"/expense-reports/{rid}/approve", json={"note": "ok"}, headers={**boss, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    approved = await client.post(
        f"/expense-reports/{rid}/approve", json={"note": "ok, thanks"}, headers=boss
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["decided_by"], body["decision_note"]) == (
        "approved",
        str(manager.id),
        "ok, thanks",
    )
    assert body["lines"][1]["receipt_attachment_id"] == attachment
    again = await client.post(f"/expense-reports/{rid}/refuse", json={}, headers=boss)
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"

    changes, _ = await device.pull_all(None)
    [mine] = [c for c in changes if c["entity"] == "expense"]
    assert (
        mine["record"]["status"] == "approved" and mine["record"]["decision_note"] == "ok, thanks"
    )
    # an offline edit made before the decision arrives is refused: the report is approved
    late = await device.push_one("expense", rid, "upsert", {"lines": [line("999")]}, base_version=2)
    assert late["status"] == "rejected" and late["error"]["code"] == "invalid_state"


async def test_a_refused_report_is_edited_and_submitted_again(client, db) -> None:
    manager, _, rep, _ = await team(db)
    device = await device_for(client, db, rep)
    rid, _ = await create_report(device, rep, [line()])
    await device.push_one("expense", rid, "expense.submit", {}, base_version=1)
    boss = await auth_headers(db, manager)
    refused = await client.post(
        f"/expense-reports/{rid}/refuse", json={"note": "receipt missing"}, headers=boss
    )
    assert refused.json()["status"] == "refused"
    fixed = await device.push_one(
        "expense", rid, "upsert", {"title": "March, fixed"}, base_version=3
    )
    assert fixed["status"] in ("applied", "merged"), fixed
    again = await device.push_one("expense", rid, "expense.submit", {}, base_version=4)
    assert again["record"]["status"] == "submitted"


async def test_reports_are_private_to_their_rep_over_sync_and_rest(client, db) -> None:
    manager, stranger, rep_a, rep_b = await team(db)
    device_a, device_b = await device_for(client, db, rep_a), await device_for(client, db, rep_b)
    rid, _ = await create_report(device_a, rep_a, [line()])
    pulled, _ = await device_b.pull_all(None)
    assert not [c for c in pulled if c["entity"] == "expense"]
    edit = await device_b.push_one("expense", rid, "upsert", {"title": "mine now"}, base_version=1)
    assert edit["status"] == "rejected", edit
    submit = await device_b.push_one("expense", rid, "expense.submit", {}, base_version=1)
    assert submit["status"] == "rejected", submit
    as_other = await device_b.push_one(
        "expense", str(uuid7()), "upsert", {"owner_id": str(rep_a.id), "lines": [line()]}
    )
    assert as_other["status"] == "rejected" and as_other["error"]["field"] == "owner_id"

    headers_b = await auth_headers(db, rep_b)
    assert (await client.get(f"/expense-reports/{rid}", headers=headers_b)).status_code == 404
    assert (await client.get("/expense-reports", headers=headers_b)).json()["items"] == []
    headers_a = await auth_headers(db, rep_a)
    own = await client.get(f"/expense-reports/{rid}", headers=headers_a)
    assert own.status_code == 200 and own.json()["owner_id"] == str(rep_a.id)
    assert own.json()["title"] == "March trip" and own.json()["version"] == 1  # b wrote nothing
    decide = await client.post(f"/expense-reports/{rid}/approve", json={}, headers=headers_a)
    assert decide.status_code == 403
    # a manager outside the rep's territory subtree does not see it
    await device_a.push_one("expense", rid, "expense.submit", {}, base_version=1)
    outside = await auth_headers(db, stranger)
    assert (await client.get(f"/expense-reports/{rid}", headers=outside)).status_code == 404
    refused = await client.post(f"/expense-reports/{rid}/approve", json={}, headers=outside)
    assert refused.status_code == 404
    admin = await auth_headers(db, await make_user(db, "admin"))
    assert (
        await client.post(f"/expense-reports/{rid}/approve", json={}, headers=admin)
    ).status_code == 200


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"amount": "0"}, "lines[0].amount"),
        ({"amount": "-3"}, "lines[0].amount"),
        ({"amount": "1.23456"}, "lines[0].amount"),
        ({"category": "yacht"}, "lines[0].category"),
        ({"currency": "euro"}, "lines[0].currency"),
        ({"date": "yesterday"}, "lines[0].date"),
        ({"receipt_attachment_id": "not-a-uuid"}, "lines[0].receipt_attachment_id"),
    ],
)
async def test_bad_lines_are_rejected_with_their_field(client, db, bad, field) -> None:
    rep = await make_user(db, "rep")
    device = await device_for(client, db, rep)
    _, result = await create_report(device, rep, [{**line(), **bad}])
    assert result["status"] == "rejected", result
    assert result["error"]["field"] == field, result
    assert await count(db, "expense_reports") == 0


async def test_submit_without_lines_and_server_fields_are_refused(client, db) -> None:
    rep = await make_user(db, "rep")
    device = await device_for(client, db, rep)
    rid, _ = await create_report(device, rep, [])
    empty = await device.push_one("expense", rid, "expense.submit", {}, base_version=1)
    assert empty["status"] == "rejected" and empty["error"]["field"] == "lines"
    self_approved = await device.push_one(
        "expense", rid, "upsert", {"status": "approved"}, base_version=1
    )
    assert self_approved["status"] == "rejected" and self_approved["error"]["field"] == "status"


async def test_approved_totals_per_rep_and_period(client, db) -> None:
    manager, _, rep_a, rep_b = await team(db)
    boss = await auth_headers(db, manager)
    for rep, lines, decide in (
        (rep_a, [line("10"), line("5.25"), line("7", currency="EUR")], "approve"),
        (rep_a, [line("100", date="2026-04-02")], "approve"),  # outside the period
        (rep_a, [line("1000")], "refuse"),
        (rep_b, [line("3.5", date="2026-03-31")], "approve"),
    ):
        device = await device_for(client, db, rep)
        rid, _ = await create_report(device, rep, lines)
        await device.push_one("expense", rid, "expense.submit", {}, base_version=1)
        response = await client.post(f"/expense-reports/{rid}/{decide}", json={}, headers=boss)
        assert response.status_code == 200, response.text
    url = "/expense-reports/totals?since=2026-03-01&until=2026-03-31"
    page = (await client.get(url, headers=boss)).json()
    totals = {item["owner_id"]: item for item in page["items"]}
    assert totals[str(rep_a.id)]["reports"] == 1
    assert totals[str(rep_a.id)]["totals"] == [
        {"currency": "CNY", "amount": "15.25", "lines": 2},
        {"currency": "EUR", "amount": "7", "lines": 1},
    ]
    assert totals[str(rep_b.id)]["totals"] == [{"currency": "CNY", "amount": "3.5", "lines": 1}]
    one = await client.get(f"{url}&owner_id={rep_b.id}", headers=boss)
    assert [i["owner_id"] for i in one.json()["items"]] == [str(rep_b.id)]
    first = (await client.get(f"{url}&limit=1", headers=boss)).json()
    rest = (await client.get(f"{url}&limit=1&cursor={first['next_cursor']}", headers=boss)).json()
    paged = [i["owner_id"] for i in first["items"] + rest["items"]]
    assert paged == sorted(totals) and rest["next_cursor"] is None
    bad = await client.get(
        "/expense-reports/totals?since=2026-04-01&until=2026-03-01", headers=boss
    )
    assert bad.status_code == 422 and bad.json()["field"] == "since"
    rep_headers = await auth_headers(db, rep_a)
    assert (await client.get(url, headers=rep_headers)).status_code == 403
