"""``/accounts`` over HTTP on both backends: CRUD, money, validation, pagination, filters, scope."""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from protocol.hlc import encode
from server.sfa.accounts.models import Account
from tests.builders import auth_headers, issue_token, make_user
from tests.integration.sfa.core_builders import (
    add_member,
    count,
    make_account,
    make_contact,
    make_tree,
    walk_pages,
)


async def admin(db) -> dict[str, str]:
    return await auth_headers(db, await make_user(db, "admin"))


async def test_create_read_update_delete(client, db) -> None:
    headers = await admin(db)
    rep = await make_user(db, "rep")
    created = await client.post(
        "/accounts",
        json={
            "name": "Acme Trading",
            "segment": "mid_size",
            "value_tier": "key",
            "credit_limit": "5000.50",
            "latitude": 31.23,
            "longitude": 121.47,
            "owner_id": str(rep.id),
            "city": "Shanghai",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Acme Trading" and body["segment"] == "mid_size"
    # money is stored at four places on both backends, so every client sees one string
    assert body["credit_limit"] == "5000.5000" and body["arrears"] == "0.0000"
    assert body["owner_id"] == str(rep.id) and body["version"] == 1
    assert body["created_at"].endswith(("Z", "+00:00"))
    account_id = body["id"]

    fetched = await client.get(f"/accounts/{account_id}", headers=headers)
    assert fetched.status_code == 200 and fetched.json() == body

    patched = await client.patch(
        f"/accounts/{account_id}",
        json={"lifecycle_stage": "active", "latitude": None},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["lifecycle_stage"] == "active" and after["latitude"] is None
    assert after["city"] == "Shanghai" and after["credit_limit"] == "5000.5000"  # untouched
    assert after["version"] == 2

    same = await client.patch(f"/accounts/{account_id}", json={"city": "Shanghai"}, headers=headers)
    assert same.json()["version"] == 2  # nothing changed, nothing written

    deleted = await client.delete(f"/accounts/{account_id}", headers=headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/accounts/{account_id}", headers=headers)
    assert gone.status_code == 404 and gone.json() == {
        "code": "not_found",
        "message": gone.json()["message"],
        "field": "id",
    }


async def test_money_keeps_every_digit_on_both_backends(client, db) -> None:
    headers = await admin(db)
    created = await client.post(
        "/accounts",
        json={"name": "Exact", "credit_limit": "12345.6789"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    again = await client.get(f"/accounts/{created.json()['id']}", headers=headers)
    assert again.json()["credit_limit"] == "12345.6789"
    patched = await client.patch(
        f"/accounts/{created.json()['id']}",
        json={"credit_limit": "99999999999999.9999"},
        headers=headers,
    )
    assert patched.status_code == 200 and patched.json()["credit_limit"] == "99999999999999.9999"


async def test_bad_money_is_refused_with_its_field_and_nothing_written(client, db) -> None:
    headers = await admin(db)
    for field, value in (
        ("credit_limit", "-1"),
        ("credit_limit", "1.23456"),
        ("arrears", "NaN"),
        ("arrears", "Infinity"),
        ("credit_limit", "1e20"),
        ("credit_limit", "abc"),
    ):
        response = await client.post("/accounts", json={"name": "X", field: value}, headers=headers)
        assert response.status_code == 422, (field, value, response.text)
        assert response.json()["field"] == field
    assert await count(db, "accounts") == 0


async def test_wrong_shapes_get_typed_errors_and_write_nothing(client, db) -> None:
    headers = await admin(db)
    cases = [
        ({"name": "X", "colour": "red"}, 422, "unknown_field", "colour"),
        ({"name": 5}, 422, "validation_error", "name"),
        ({"name": ""}, 422, "validation_error", "name"),
        ({"name": "X", "latitude": 91}, 422, "validation_error", "latitude"),
        ({"name": "X", "longitude": -180.5}, 422, "validation_error", "longitude"),
        ({"name": "X", "segment": "martians"}, 422, "validation_error", "segment"),
        ({"name": "X", "owner_id": "not-a-uuid"}, 422, "validation_error", "owner_id"),
        ({"name": "X", "blacklisted": "yes"}, 422, "validation_error", "blacklisted"),
    ]
    for payload, status, code, field in cases:
        response = await client.post("/accounts", json=payload, headers=headers)
        assert response.status_code == status, (payload, response.text)
        assert response.json()["code"] == code, (payload, response.json())
        assert response.json().get("field") == field, (payload, response.json())
    missing = await client.post("/accounts", json={}, headers=headers)
    assert missing.status_code == 422 and "name" in missing.json()["message"]
    malformed = await client.post(
        "/accounts",
        content=b'{"name": "X",',
        headers={**headers, "content-type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_body"
    assert await count(db, "accounts") == 0


async def test_owner_and_territory_must_exist_and_fit(client, db) -> None:
    headers = await admin(db)
    other_admin = await make_user(db, "admin")
    retired = await make_user(db, "rep", active=False)
    for owner in (uuid.uuid4(), other_admin.id, retired.id):
        response = await client.post(
            "/accounts", json={"name": "X", "owner_id": str(owner)}, headers=headers
        )
        assert response.status_code == 422 and response.json()["field"] == "owner_id"
    response = await client.post(
        "/accounts", json={"name": "X", "territory_id": str(uuid.uuid4())}, headers=headers
    )
    assert response.status_code == 422 and response.json()["field"] == "territory_id"
    account_id = await make_account(db)
    patch = await client.patch(
        f"/accounts/{account_id}", json={"owner_id": str(other_admin.id)}, headers=headers
    )
    assert patch.status_code == 422 and patch.json()["field"] == "owner_id"
    assert (await client.get(f"/accounts/{account_id}", headers=headers)).json()["version"] == 1
    assert await count(db, "accounts") == 1


async def test_unknown_ids_are_404_with_field(client, db) -> None:
    headers = await admin(db)
    missing = uuid.uuid4()
    for method, kwargs in (
        ("get", {}),
        ("patch", {"json": {"name": "Y"}}),
        ("delete", {}),
    ):
        response = await getattr(client, method)(f"/accounts/{missing}", headers=headers, **kwargs)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["code"] == "not_found" and response.json()["field"] == "id"


async def test_pages_cover_every_account_once(client, db) -> None:
    headers = await admin(db)
    made = {str(await make_account(db)) for _ in range(23)}
    ids = await walk_pages(client, "/accounts", headers, limit=5)
    assert len(ids) == 23 and set(ids) == made
    assert ids == sorted(ids, key=uuid.UUID)
    default = await client.get("/accounts", headers=headers)
    assert len(default.json()["items"]) == 23 and default.json()["next_cursor"] is None


async def test_bad_cursor_and_limits_are_refused(client, db) -> None:
    headers = await admin(db)
    garbage = await client.get("/accounts?cursor=!!garbage!!", headers=headers)
    assert garbage.status_code in (400, 422) and garbage.json()["code"] == "invalid_cursor"
    assert garbage.json()["field"] == "cursor"
    for bad in ("limit=0", "limit=501", "limit=-3"):
        response = await client.get(f"/accounts?{bad}", headers=headers)
        assert response.status_code == 422 and response.json()["field"] == "limit"
    not_int = await client.get("/accounts?limit=many", headers=headers)
    assert not_int.status_code == 422 and not_int.json()["field"] == "limit"


async def test_filters(client, db) -> None:
    headers = await admin(db)
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    a = await make_account(
        db,
        name="Golden 50% Bakery",
        segment="consumer",
        value_tier="vip",
        city="Hangzhou",
        postal_code="310001",
        territory_id=tree["n1a"],
        owner_id=rep.id,
    )
    b = await make_account(
        db,
        name="golden gate",
        segment="education",
        lifecycle_stage="loyal",
        city="Hangzhou",
        postal_code="311000",
        blacklisted=True,
    )
    c = await make_account(db, name="Other", segment="consumer", postal_code="100000")

    async def ids(query: str) -> set[uuid.UUID]:
        response = await client.get(f"/accounts?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return {uuid.UUID(item["id"]) for item in response.json()["items"]}

    assert await ids("segment=consumer") == {a, c}
    assert await ids("value_tier=vip") == {a}
    assert await ids("lifecycle_stage=loyal") == {b}
    assert await ids(f"territory_id={tree['n1a']}") == {a}
    assert await ids(f"owner_id={rep.id}") == {a}
    assert await ids("city=Hangzhou") == {a, b}
    assert await ids("postal_code=31") == {a, b}
    assert await ids("postal_code=3100") == {a}
    assert await ids("blacklisted=true") == {b}
    assert await ids("blacklisted=false") == {a, c}
    assert await ids("q=GOLDEN") == {a, b}
    assert await ids("q=50%25") == {a}  # a literal percent sign, not a wildcard
    assert await ids("q=_") == set()
    assert await ids("segment=consumer&city=Hangzhou") == {a}
    bad = await client.get("/accounts?segment=martians", headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "segment"
    bad_id = await client.get("/accounts?owner_id=nope", headers=headers)
    assert bad_id.status_code == 422 and bad_id.json()["field"] == "owner_id"


async def test_reps_are_refused(client, db) -> None:
    rep = await make_user(db, "rep")
    headers = await auth_headers(db, rep)
    account_id = await make_account(db, owner_id=rep.id)
    for method, url, kwargs in (
        ("get", "/accounts", {}),
        ("get", f"/accounts/{account_id}", {}),
        ("post", "/accounts", {"json": {"name": "Mine"}}),
        ("patch", f"/accounts/{account_id}", {"json": {"name": "Mine"}}),
        ("delete", f"/accounts/{account_id}", {}),
    ):
        response = await getattr(client, method)(url, headers=headers, **kwargs)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert await count(db, "accounts") == 1
    no_token = await client.get("/accounts")
    assert no_token.status_code == 401


async def test_manager_sees_and_writes_only_their_scope(client, db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    report = await make_user(db, "rep", manager_id=manager.id)
    stranger = await make_user(db, "rep")
    await add_member(db, tree["n1"], manager.id)
    headers = await auth_headers(db, manager)
    inside = await make_account(db, territory_id=tree["n1b"])
    reports = await make_account(db, owner_id=report.id)
    unassigned = await make_account(db)
    outside = await make_account(db, territory_id=tree["s1a"])
    strangers = await make_account(db, owner_id=stranger.id)

    listed = {uuid.UUID(i) for i in await walk_pages(client, "/accounts", headers, limit=2)}
    assert listed == {inside, reports, unassigned}
    for hidden in (outside, strangers):
        for method, kwargs in (("get", {}), ("patch", {"json": {"name": "Mine"}}), ("delete", {})):
            response = await getattr(client, method)(
                f"/accounts/{hidden}", headers=headers, **kwargs
            )
            assert response.status_code == 404, (method, response.text)

    into_other = await client.post(
        "/accounts", json={"name": "X", "territory_id": str(tree["s1a"])}, headers=headers
    )
    assert into_other.status_code == 403 and into_other.json()["field"] == "territory_id"
    to_stranger = await client.post(
        "/accounts", json={"name": "X", "owner_id": str(stranger.id)}, headers=headers
    )
    assert to_stranger.status_code == 403 and to_stranger.json()["field"] == "owner_id"
    move_out = await client.patch(
        f"/accounts/{inside}",
        json={"territory_id": str(tree["s1a"]), "name": "Moved"},
        headers=headers,
    )
    assert move_out.status_code == 403
    kept = (await client.get(f"/accounts/{inside}", headers=headers)).json()
    assert kept["territory_id"] == str(tree["n1b"]) and kept["name"] != "Moved"

    ok = await client.post(
        "/accounts",
        json={"name": "Mine", "territory_id": str(tree["n1a"]), "credit_limit": "100"},
        headers=headers,
    )
    assert ok.status_code == 201
    assert await count(db, "accounts") == 6


async def test_delete_takes_contacts_along(client, db) -> None:
    headers = await admin(db)
    account_id = await make_account(db)
    contact_id = await make_contact(db, account_id)
    assert (await client.delete(f"/accounts/{account_id}", headers=headers)).status_code == 204
    assert (await client.get(f"/contacts/{contact_id}", headers=headers)).status_code == 404
    assert await count(db, "contacts") == 0


async def test_writes_reach_the_sync_engine_under_the_right_scope(client, db) -> None:
    headers = await admin(db)
    tree = await make_tree(db)
    created = (await client.post("/accounts", json={"name": "Synced"}, headers=headers)).json()

    async def scope_key() -> str:
        async with db.sessions() as session:
            return (
                await session.execute(
                    sa.text("SELECT scope_key FROM sync_records WHERE entity = 'account'")
                )
            ).scalar_one()

    assert await scope_key() == "unassigned"
    await client.patch(
        f"/accounts/{created['id']}", json={"territory_id": str(tree["s1a"])}, headers=headers
    )
    assert await scope_key() == f"t:{tree['s1a']}"


async def test_concurrent_patches_of_different_fields_both_land(client, db) -> None:
    headers = await admin(db)
    account_id = await make_account(db)
    first, second = await asyncio.gather(
        client.patch(f"/accounts/{account_id}", json={"city": "Xi'an"}, headers=headers),
        client.patch(f"/accounts/{account_id}", json={"industry": "Retail"}, headers=headers),
    )
    assert first.status_code == 200 and second.status_code == 200
    final = (await client.get(f"/accounts/{account_id}", headers=headers)).json()
    assert final["city"] == "Xi'an" and final["industry"] == "Retail" and final["version"] == 3


async def test_reading_accounts_does_not_wait_for_a_write_in_progress(client, db) -> None:
    headers = await admin(db)
    made = str(await make_account(db))
    async with db.transaction() as session:
        # a writer holds its lock (SQLite: BEGIN IMMEDIATE) with an uncommitted account
        await session.execute(sa.text("UPDATE accounts SET name = 'uncommitted'"))
        # a list or a read queued behind it would wait for SQLite's 30 s busy timeout
        listed = await asyncio.wait_for(client.get("/accounts", headers=headers), timeout=10)
        one = await asyncio.wait_for(client.get(f"/accounts/{made}", headers=headers), timeout=10)
    assert [item["id"] for item in listed.json()["items"]] == [made]
    assert one.status_code == 200 and one.json()["name"] != "uncommitted"


async def test_arrears_is_derived_and_refused_over_rest(client, db) -> None:
    headers = await admin(db)
    refused = await client.post("/accounts", json={"name": "X", "arrears": "5"}, headers=headers)
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["field"]) == ("server_owned_field", "arrears")
    assert await count(db, "accounts") == 0
    created = await client.post("/accounts", json={"name": "X", "arrears": "0"}, headers=headers)
    assert created.status_code == 201, created.text
    patched = await client.patch(
        f"/accounts/{created.json()['id']}", json={"arrears": "1"}, headers=headers
    )
    assert (patched.status_code, patched.json()["code"]) == (422, "server_owned_field")
    again = await client.get(f"/accounts/{created.json()['id']}", headers=headers)
    assert again.json()["arrears"] == "0.0000" and again.json()["version"] == 1


async def test_managers_set_an_accounts_check_in_radius_and_bad_ones_are_refused(
    client, db
) -> None:
    headers = await admin(db)
    created = await client.post(
        "/accounts", json={"name": "Depot", "checkin_radius_m": 350}, headers=headers
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["checkin_radius_m"] == 350.0
    url = f"/accounts/{account['id']}"
    for value in (-5, 0, 0.5, 10_001, 1e9, "far", True):
        response = await client.patch(url, json={"checkin_radius_m": value}, headers=headers)
        assert response.status_code == 422, (value, response.text)
        assert (response.json()["code"], response.json()["field"]) == (
            "validation_error",
            "checkin_radius_m",
        ), value
    refused = await client.post(
        "/accounts", json={"name": "Far", "checkin_radius_m": -1}, headers=headers
    )
    assert (refused.status_code, refused.json()["field"]) == (422, "checkin_radius_m")
    assert await count(db, "accounts") == 1
    assert (await client.get(url, headers=headers)).json()["checkin_radius_m"] == 350.0
    cleared = await client.patch(url, json={"checkin_radius_m": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["checkin_radius_m"] is None


async def test_a_device_cannot_set_an_accounts_check_in_radius(client, db) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep.id)
    token, device = await issue_token(db, rep)
    account = await make_account(db, territory_id=tree["n1a"])
    created = uuid.uuid4()
    mutations = [
        {
            "mid": 1,
            "entity": "account",
            "id": str(account),
            "op": "upsert",
            "base_version": 1,
            "hlc": encode(1_700_000_000_000, 0, "dev"),
            "changes": {"checkin_radius_m": 5000},
        },
        {
            "mid": 2,
            "entity": "account",
            "id": str(created),
            "op": "upsert",
            "base_version": 0,
            "hlc": encode(1_700_000_000_001, 0, "dev"),
            "changes": {"name": "New", "territory_id": str(tree["n1a"]), "checkin_radius_m": 900},
        },
    ]
    response = await client.post(
        "/sync/push",
        json={"device_id": str(device), "schema_version": 1, "mutations": mutations},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    for result in response.json()["results"]:
        assert result["status"] == "rejected", result
        assert (result["error"]["code"], result["error"]["field"]) == (
            "server_owned_field",
            "checkin_radius_m",
        )
    async with db.sessions() as session:
        radius = await session.scalar(
            sa.select(Account.checkin_radius_m).where(Account.id == account)
        )
    assert radius is None and await count(db, "accounts") == 1
