"""Disputes of statement lines: the rep opens one per line of a closed statement with a reason
code; the rep's manager accepts it (an adjustment line in the rep's current period, linked to
the dispute) or refuses it with a reason; who may do what."""

from __future__ import annotations

from decimal import Decimal

from server.db import utcnow
from server.sfa.commissions.events import clock_for, period_in
from server.sfa.commissions.statement_service import close_period
from tests.builders import auth_headers, make_user
from tests.integration.commissions.builders import compute
from tests.integration.commissions.test_closing import AFTER_NOVEMBER, seeded

D = Decimal


async def closed_statement(client, db, settings):
    manager, rep = await seeded(db, settings)
    await close_period(db, settings, "2026-11", AFTER_NOVEMBER)
    rep_headers, boss = await auth_headers(db, rep), await auth_headers(db, manager)
    [statement] = (await client.get("/commissions/statements", headers=rep_headers)).json()["items"]
    return rep, rep_headers, boss, statement


async def test_an_accepted_dispute_posts_an_adjustment_to_the_current_period(
    client, db, settings
) -> None:
    rep, rep_headers, boss, statement = await closed_statement(client, db, settings)
    url = f"/commissions/statements/{statement['id']}/disputes"
    opened = await client.post(
        url,
        json={"line_no": 1, "reason": "wrong_rate", "note": "hardware is 10 %"},
        headers=rep_headers,
    )
    assert opened.status_code == 201, opened.text
    dispute = opened.json()
    assert (dispute["status"], dispute["reason"], dispute["rep_id"]) == (
        "open",
        "wrong_rate",
        str(rep.id),
    )
    twice = await client.post(url, json={"line_no": 1, "reason": "other"}, headers=rep_headers)
    assert twice.status_code == 409 and twice.json()["field"] == "line_no"
    waiting = (await client.get("/commissions/disputes?status=open", headers=boss)).json()["items"]
    assert [item["id"] for item in waiting] == [dispute["id"]]

    accept = f"/commissions/disputes/{dispute['id']}/accept"
    by_rep = await client.post(accept, json={"adjustment": "2.00"}, headers=rep_headers)
    assert by_rep.status_code == 403
    zero = await client.post(accept, json={"adjustment": "0"}, headers=boss)
    assert zero.status_code == 422 and zero.json()["field"] == "adjustment"
    accepted = await client.post(
        accept, json={"adjustment": "2.00", "note": "agreed"}, headers=boss
    )
    assert accepted.status_code == 200, accepted.text
    current = period_in(clock_for(settings).day_of(utcnow()), settings.commission_period)
    assert (accepted.json()["status"], accepted.json()["adjustment_period"]) == (
        "accepted",
        current,
    )
    again = await client.post(
        f"/commissions/disputes/{dispute['id']}/refuse", json={"note": "no"}, headers=boss
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"

    [now] = await compute(client, rep_headers, current)
    [adjustment] = [line for line in now["lines"] if line["kind"] == "adjustment"]
    assert (adjustment["source"], adjustment["source_id"], D(adjustment["amount"])) == (
        "dispute",
        dispute["id"],
        D("2.00"),
    )
    # the disputed statement itself never changes
    same = (
        await client.get(f"/commissions/statements/{statement['id']}", headers=rep_headers)
    ).json()
    assert same["lines"] == statement["lines"] and same["status"] == "closed"


async def test_a_refused_dispute_keeps_its_reason_and_who_may_do_what(client, db, settings) -> None:
    rep, rep_headers, boss, statement = await closed_statement(client, db, settings)
    url = f"/commissions/statements/{statement['id']}/disputes"
    missing = await client.post(url, json={"line_no": 9, "reason": "other"}, headers=rep_headers)
    assert missing.status_code == 422 and missing.json()["field"] == "line_no"
    unknown = await client.post(url, json={"line_no": 1, "reason": "because"}, headers=rep_headers)
    assert unknown.status_code == 422 and unknown.json()["field"] == "reason"
    by_manager = await client.post(url, json={"line_no": 1, "reason": "other"}, headers=boss)
    assert by_manager.status_code == 403
    other_rep = await auth_headers(db, await make_user(db, "rep"))
    assert (
        await client.post(url, json={"line_no": 1, "reason": "other"}, headers=other_rep)
    ).status_code == 404
    dispute = (
        await client.post(url, json={"line_no": 1, "reason": "wrong_split"}, headers=rep_headers)
    ).json()
    refuse = f"/commissions/disputes/{dispute['id']}/refuse"
    no_reason = await client.post(refuse, json={"note": ""}, headers=boss)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "note"
    stranger = await auth_headers(db, await make_user(db, "manager"))
    assert (await client.post(refuse, json={"note": "no"}, headers=stranger)).status_code == 404
    assert (
        await client.get(f"/commissions/disputes/{dispute['id']}", headers=other_rep)
    ).status_code == 404
    refused = await client.post(
        refuse, json={"note": "the split was agreed in writing"}, headers=boss
    )
    body = refused.json()
    assert (body["status"], body["resolution_note"], body["adjustment"]) == (
        "refused",
        "the split was agreed in writing",
        None,
    )
    assert body["resolved_at"] and body["resolved_by"]
    seen = (await client.get(f"/commissions/disputes/{dispute['id']}", headers=rep_headers)).json()
    assert seen == body
    # an open statement is not disputed
    rep_of_open, open_statement = await rep_with_an_open_statement(db, client)
    open_url = f"/commissions/statements/{open_statement['id']}/disputes"
    early = await client.post(open_url, json={"line_no": 1, "reason": "other"}, headers=rep_of_open)
    assert early.status_code == 409 and early.json()["code"] == "invalid_state"


async def rep_with_an_open_statement(db, client):
    """Another rep with an open December statement (an order confirmed in December)."""
    from tests.integration.commissions.builders import DEC, category_product, confirmed_order

    rep = await make_user(db, "rep")
    hardware = await category_product(db, "hardware")
    await confirmed_order(db, rep.id, [(hardware, "1", "100")], at=DEC)
    headers = await auth_headers(db, rep)
    [statement] = await compute(client, headers, "2026-12")
    return headers, statement
