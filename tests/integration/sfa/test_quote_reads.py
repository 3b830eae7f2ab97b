"""``GET /quotes`` and ``GET /quotes/{id}`` (issue 15): managers read the quotes of the
accounts they see (their territory subtree, their reps' accounts), admins all, reps get 403;
filtered, keyset-paginated, each quote as it reads today (expired once its validity ended)."""

from __future__ import annotations

import datetime as dt

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, make_territory, walk_pages
from tests.integration.sfa.quote_builders import quote_in, set_valid_until
from tests.synctools import insert_account


async def test_managers_list_and_read_the_quotes_they_see(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    region = await make_territory(db)
    district = await make_territory(db, "area", parent_id=region)
    await add_member(db, region, manager.id)
    inside = await insert_account(db, owner_id=rep.id, territory_id=district)
    mine = [await quote_in(db, rep, account_id=inside) for _ in range(3)]
    sent = await quote_in(db, rep, ("send",), account_id=inside)
    stranger = await make_user(db, "rep")
    far = await make_territory(db)
    elsewhere = await insert_account(db, owner_id=stranger.id, territory_id=far)
    hidden = await quote_in(db, stranger, account_id=elsewhere)
    headers = await auth_headers(db, manager)

    ids = await walk_pages(client, "/quotes", headers, limit=2)
    assert ids == sorted(q["id"] for q in [*mine, sent])  # by id, the stranger's left out
    one = await client.get(f"/quotes/{sent['id']}", headers=headers)
    assert one.status_code == 200 and one.json()["status"] == "sent"
    assert one.json()["total"] == sent["total"] and one.json()["lines"] == sent["lines"]
    missing = await client.get(f"/quotes/{hidden['id']}", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")

    def listed(query: str):
        return walk_pages(client, f"/quotes?{query}", headers, limit=10)

    assert await listed("status=sent") == [sent["id"]]
    assert await listed(f"territory_id={region}") == ids  # the region and the district below
    assert await listed(f"territory_id={district}&status=draft") == sorted(q["id"] for q in mine)
    assert await listed(f"rep_id={stranger.id}") == []  # a filter never widens the scope
    assert await listed(f"account_id={inside}&rep_id={rep.id}") == ids

    admin = await auth_headers(db, await make_user(db, "admin"))
    assert hidden["id"] in await walk_pages(client, "/quotes", admin, limit=50)
    rep_headers = await auth_headers(db, rep)
    assert (await client.get("/quotes", headers=rep_headers)).status_code == 403
    assert (await client.get(f"/quotes/{sent['id']}", headers=rep_headers)).status_code == 403


async def test_a_quote_past_its_validity_reads_and_filters_as_expired(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    account = await insert_account(db, owner_id=rep.id)
    late = await quote_in(db, rep, ("send",), account_id=account)
    valid = await quote_in(db, rep, ("send",), account_id=account)
    accepted = await quote_in(db, rep, ("send", "accept"), account_id=account)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    for quote in (late, accepted):
        await set_valid_until(db, quote["id"], yesterday)
    headers = await auth_headers(db, manager)
    read = await client.get(f"/quotes/{late['id']}", headers=headers)
    assert read.json()["status"] == "expired"  # stored "sent" until expire-quotes runs
    expired = await walk_pages(client, "/quotes?status=expired", headers, limit=10)
    assert expired == [late["id"]]  # an accepted quote does not expire
    assert await walk_pages(client, "/quotes?status=sent", headers, limit=10) == [valid["id"]]
    assert await walk_pages(client, "/quotes?status=accepted", headers, limit=10) == [
        accepted["id"]
    ]


async def test_bad_list_parameters_are_422_naming_them(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    cases = (
        ("status=lost", "validation_error", "status"),
        ("rep_id=nope", "validation_error", "rep_id"),
        ("cursor=garbage", "invalid_cursor", "cursor"),
        ("limit=0", "validation_error", "limit"),
    )
    for query, code, field in cases:
        answer = await client.get(f"/quotes?{query}", headers=headers)
        assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
            422, code, field
        ), query
