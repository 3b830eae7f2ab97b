"""User administration and visibility, over HTTP and the service, on both backends."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from server.auth.models import AccessToken, Role, User
from server.auth.passwords import verify_password
from server.db import Database
from server.errors import Conflict, ValidationFailed
from server.sfa.users.service import create_user
from tests.builders import auth_headers, issue_token, make_user


def new_user_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /users body."""
    return {
        "email": f"user-{uuid.uuid4().hex[:8]}@example.com", "name": "New User", "role": "rep",
        "password": "long enough pw", **overrides,
    }


async def user_count(db: Database) -> int:
    async with db.sessions() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(User))).scalar())


async def live_tokens(db: Database, user_id: uuid.UUID) -> int:
    async with db.sessions() as session:
        statement = sa.select(sa.func.count()).select_from(AccessToken).where(
            AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None)
        )
        return int((await session.execute(statement)).scalar())


@pytest.fixture
async def admin_headers(db: Database) -> dict[str, str]:
    return await auth_headers(db, await make_user(db, "admin"))


# ---- create ---------------------------------------------------------------------------------


async def test_an_admin_creates_a_user_who_can_log_in(client, db, admin_headers) -> None:
    manager = await make_user(db, "manager")
    body = new_user_body(
        email="Rep.One@Example.com", manager_id=str(manager.id), timezone="America/Chicago"
    )
    response = await client.post("/users", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "rep.one@example.com"
    assert created["manager_id"] == str(manager.id)
    assert created["timezone"] == "America/Chicago"
    assert created["active"] is True
    assert "password" not in created and "password_hash" not in created
    login = await client.post("/auth/login", json={
        "email": "rep.one@example.com", "password": "long enough pw",
        "device_id": str(uuid.uuid4()),
    })
    assert login.status_code == 200
    assert login.json()["user"]["id"] == created["id"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"password": "short"}, "password"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"role": "superuser"}, "role"),
        ({"manager_id": "not-a-uuid"}, "manager_id"),
    ],
)
async def test_invalid_new_users_are_refused_with_the_field(
    client, db, admin_headers, overrides, field
) -> None:
    before = await user_count(db)
    response = await client.post("/users", json=new_user_body(**overrides), headers=admin_headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["field"] == field
    assert await user_count(db) == before


async def test_the_manager_must_be_an_existing_manager_or_admin(client, db, admin_headers) -> None:
    rep = await make_user(db, "rep")
    admin = await make_user(db, "admin")
    before = await user_count(db)
    for manager_id in (rep.id, uuid.uuid4()):
        response = await client.post(
            "/users", json=new_user_body(manager_id=str(manager_id)), headers=admin_headers
        )
        assert response.status_code == 422
        assert response.json()["field"] == "manager_id"
    assert await user_count(db) == before
    ok = await client.post(
        "/users", json=new_user_body(role="manager", manager_id=str(admin.id)),
        headers=admin_headers,
    )
    assert ok.status_code == 201


async def test_emails_are_unique_regardless_of_case(client, db, admin_headers) -> None:
    await make_user(db, email="taken@example.com")
    before = await user_count(db)
    response = await client.post(
        "/users", json=new_user_body(email="TAKEN@example.com"), headers=admin_headers
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "duplicate_email", "message": response.json()["message"], "field": "email"
    }
    assert await user_count(db) == before


async def test_concurrent_creations_with_one_email_create_one_user(db, settings) -> None:
    results = await asyncio.gather(
        *(create_user(db, settings, "race@example.com", f"Racer {i}", "rep", "long enough pw")
          for i in range(3)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) and r.code == "duplicate_email" for r in refused)
    assert await user_count(db) == 1


async def test_create_user_works_outside_http(db, settings) -> None:
    admin = await create_user(db, settings, "Boss@Example.com", "Boss", "admin", "a good password")
    rep = await create_user(
        db, settings, "rep@example.com", "Rep", Role.REP, "another password",
        manager_id=admin.id, timezone="Asia/Tokyo",
    )
    assert admin.email == "boss@example.com" and admin.role == Role.ADMIN
    assert rep.manager_id == admin.id and rep.timezone == "Asia/Tokyo"
    async with db.sessions() as session:
        stored = await session.get(User, rep.id)
    assert stored is not None and verify_password("another password", stored.password_hash)
    assert stored.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    with pytest.raises(ValidationFailed) as short:
        await create_user(db, settings, "x@example.com", "X", "rep", "short")
    assert short.value.field == "password"
    with pytest.raises(ValidationFailed) as role:
        await create_user(db, settings, "y@example.com", "Y", "king", "long enough pw")
    assert role.value.field == "role"
    assert await user_count(db) == 2


# ---- update ---------------------------------------------------------------------------------


async def test_an_admin_updates_a_user(client, db, admin_headers) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep")
    response = await client.patch(f"/users/{rep.id}", headers=admin_headers, json={
        "name": "Renamed", "manager_id": str(manager.id), "timezone": "Europe/Berlin",
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["manager_id"], body["timezone"]) == (
        "Renamed", str(manager.id), "Europe/Berlin"
    )
    assert body["role"] == "rep" and body["active"] is True  # untouched fields stay
    cleared = await client.patch(
        f"/users/{rep.id}", headers=admin_headers, json={"manager_id": None}
    )
    assert cleared.json()["manager_id"] is None
    assert cleared.json()["name"] == "Renamed"


async def test_deactivating_a_user_revokes_their_tokens(client, db, admin_headers) -> None:
    rep = await make_user(db)
    token, _ = await issue_token(db, rep)
    await issue_token(db, rep)
    response = await client.patch(f"/users/{rep.id}", headers=admin_headers, json={"active": False})
    assert response.status_code == 200 and response.json()["active"] is False
    assert await live_tokens(db, rep.id) == 0
    refused = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.json()["code"] in {"token_revoked", "user_deactivated"}
    inactive = await client.get("/users?active=false", headers=admin_headers)
    assert [u["id"] for u in inactive.json()["items"]] == [str(rep.id)]


async def test_a_new_password_replaces_the_old_and_signs_out(client, db, admin_headers) -> None:
    rep = await make_user(db)
    await issue_token(db, rep)
    response = await client.patch(
        f"/users/{rep.id}", headers=admin_headers, json={"password": "brand new password"}
    )
    assert response.status_code == 200
    assert await live_tokens(db, rep.id) == 0

    async def login(password: str) -> int:
        return (await client.post("/auth/login", json={
            "email": rep.email, "password": password, "device_id": str(uuid.uuid4()),
        })).status_code

    assert await login("brand new password") == 200
    from tests.builders import TEST_PASSWORD

    assert await login(TEST_PASSWORD) == 401


async def test_invalid_updates_change_nothing(client, db) -> None:
    admin = await make_user(db, "admin")
    headers = await auth_headers(db, admin)
    manager = await make_user(db, "manager")
    report = await make_user(db, "manager", manager_id=manager.id)
    rep = await make_user(db, "rep", manager_id=report.id)
    cases = [
        (manager.id, {"manager_id": str(manager.id)}, 422, "manager_id"),  # themselves
        (manager.id, {"manager_id": str(rep.id)}, 422, "manager_id"),  # a rep
        (manager.id, {"manager_id": str(report.id)}, 422, "manager_id"),  # a cycle
        (manager.id, {"role": "rep"}, 409, "role"),  # still has reports
        (admin.id, {"active": False}, 422, "active"),  # locking oneself out
        (admin.id, {"role": "rep"}, 422, "role"),
        (rep.id, {"timezone": "Nowhere/Land", "name": "Changed"}, 422, "timezone"),
        (rep.id, {"password": "short", "name": "Changed"}, 422, "password"),
        (rep.id, {"name": "Changed", "email": "new@example.com"}, 422, "email"),  # unknown field
        (rep.id, {"active": "yes"}, 422, "active"),
    ]
    async with db.sessions() as session:
        before = {u.id: (u.name, u.role, u.manager_id, u.active, u.timezone, u.password_hash)
                  for u in (await session.execute(sa.select(User))).scalars()}
    for user_id, body, status, field in cases:
        response = await client.patch(f"/users/{user_id}", headers=headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["field"] == field, body
    async with db.sessions() as session:
        after = {u.id: (u.name, u.role, u.manager_id, u.active, u.timezone, u.password_hash)
                 for u in (await session.execute(sa.select(User))).scalars()}
    assert after == before


async def test_updating_an_unknown_user_is_not_found(client, db, admin_headers) -> None:
    response = await client.patch(
        f"/users/{uuid.uuid4()}", headers=admin_headers, json={"name": "X"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_managers_cannot_create_or_change_users(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    headers = await auth_headers(db, manager)
    before = await user_count(db)
    assert (await client.post("/users", json=new_user_body(), headers=headers)).status_code == 403
    patched = await client.patch(f"/users/{rep.id}", json={"name": "Hacked"}, headers=headers)
    assert patched.status_code == 403
    assert await user_count(db) == before
    async with db.sessions() as session:
        assert (await session.get(User, rep.id)).name == rep.name


# ---- visibility and listing -----------------------------------------------------------------


async def org_chart(db: Database) -> dict[str, User]:
    """director -> (lead -> rep_a, rep_b), director -> rep_c; peer -> rep_d; admin."""
    director = await make_user(db, "manager", name="Director")
    lead = await make_user(db, "manager", name="Lead", manager_id=director.id)
    peer = await make_user(db, "manager", name="Peer")
    return {
        "director": director, "lead": lead, "peer": peer,
        "rep_a": await make_user(db, "rep", name="Alice Field", manager_id=lead.id),
        "rep_b": await make_user(db, "rep", name="Bob Field", manager_id=lead.id),
        "rep_c": await make_user(db, "rep", name="Carol Field", manager_id=director.id),
        "rep_d": await make_user(db, "rep", name="Dave Field", manager_id=peer.id),
        "admin": await make_user(db, "admin", name="Admin"),
    }


async def all_pages(client: Any, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    separator = "&" if "?" in path else "?"
    while True:
        query = path + (f"{separator}cursor={cursor}" if cursor else "")
        response = await client.get(query, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def test_a_manager_sees_themselves_and_direct_and_indirect_reports(client, db) -> None:
    people = await org_chart(db)
    names = {u.id: key for key, u in people.items()}

    async def visible(who: str) -> set[str]:
        headers = await auth_headers(db, people[who])
        return {names[uuid.UUID(u["id"])] for u in await all_pages(client, "/users", headers)}

    assert await visible("director") == {"director", "lead", "rep_a", "rep_b", "rep_c"}
    assert await visible("lead") == {"lead", "rep_a", "rep_b"}
    assert await visible("peer") == {"peer", "rep_d"}
    assert await visible("admin") == set(people)


async def test_a_manager_cannot_read_someone_outside_their_team(client, db) -> None:
    people = await org_chart(db)
    lead_headers = await auth_headers(db, people["lead"])
    mine = await client.get(f"/users/{people['rep_a'].id}", headers=lead_headers)
    assert mine.status_code == 200 and mine.json()["name"] == "Alice Field"
    for outsider in ("director", "rep_c", "rep_d", "admin"):
        response = await client.get(f"/users/{people[outsider].id}", headers=lead_headers)
        assert response.status_code == 404, outsider
    director_headers = await auth_headers(db, people["director"])
    indirect = await client.get(f"/users/{people['rep_b'].id}", headers=director_headers)
    assert indirect.status_code == 200


async def test_a_rep_cannot_list_or_read_users(client, db) -> None:
    people = await org_chart(db)
    headers = await auth_headers(db, people["rep_a"])
    for path in ("/users", f"/users/{people['rep_a'].id}"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"


async def test_users_are_filtered(client, db) -> None:
    people = await org_chart(db)
    headers = await auth_headers(db, people["admin"])

    async def ids(query: str) -> set[uuid.UUID]:
        return {uuid.UUID(u["id"]) for u in await all_pages(client, "/users" + query, headers)}

    reps = {people[k].id for k in ("rep_a", "rep_b", "rep_c", "rep_d")}
    assert await ids("?role=rep") == reps
    assert await ids(f"?manager_id={people['lead'].id}") == {people["rep_a"].id, people["rep_b"].id}
    assert await ids("?q=FIELD&role=rep") == reps
    assert await ids("?q=carol") == {people["rep_c"].id}
    assert await ids(f"?q={people['rep_d'].email[:12]}") == {people["rep_d"].id}
    assert await ids("?q=%25") == set()  # a literal percent sign, not a wildcard
    assert await ids("?active=false") == set()
    director_headers = await auth_headers(db, people["director"])
    team_reps = {uuid.UUID(u["id"]) for u in await all_pages(
        client, "/users?role=rep", director_headers
    )}
    assert team_reps == {people[k].id for k in ("rep_a", "rep_b", "rep_c")}


async def test_users_are_paginated_without_gaps_or_repeats(client, db) -> None:
    admin = await make_user(db, "admin")
    for _ in range(11):
        await make_user(db, "rep")
    headers = await auth_headers(db, admin)
    first = await client.get("/users?limit=5", headers=headers)
    assert len(first.json()["items"]) == 5 and first.json()["next_cursor"]
    items = await all_pages(client, "/users?limit=5", headers)
    ids = [u["id"] for u in items]
    assert len(ids) == 12 == len(set(ids))
    assert ids == sorted(ids, key=lambda value: uuid.UUID(value))
    for bad in ("limit=0", "limit=100000", "limit=-1"):
        response = await client.get(f"/users?{bad}", headers=headers)
        assert response.status_code == 422
        assert response.json()["field"] == "limit"
    garbage = await client.get("/users?cursor=!!notacursor!!", headers=headers)
    assert garbage.status_code == 422
    assert garbage.json()["code"] == "invalid_cursor"
