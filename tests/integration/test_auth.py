"""Login, tokens, logout, devices and role guards, over HTTP on both backends."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from server.auth import passwords as passwords_module
from server.auth.models import AccessToken, Device, User
from server.auth.passwords import KdfParams, hash_password, hash_scrypt, verify_password
from server.auth.schemas import LoginRequest
from server.auth.service import AuthService
from server.auth.tokens import format_token, hash_secret, new_secret
from server.db import Database, new_id, utcnow
from server.errors import Conflict
from tests.builders import TEST_PASSWORD, auth_headers, issue_token, make_user


async def login(
    client: Any, user: User, *, device_id: uuid.UUID | None = None,
    password: str = TEST_PASSWORD, **extra: Any,
) -> Any:
    """POST /auth/login for ``user``; returns the response."""
    body = {"email": user.email, "password": password,
            "device_id": str(device_id or uuid.uuid4()), **extra}
    return await client.post("/auth/login", json=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def count(db: Database, table: Any) -> int:
    async with db.sessions() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(table))).scalar())


# ---- login --------------------------------------------------------------------------------


async def test_login_returns_a_working_token_bound_to_the_device(client, db, settings) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id, timezone="Europe/Paris")
    device_id = uuid.uuid4()
    before = utcnow()

    response = await login(client, rep, device_id=device_id, device_name="Pixel 8")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"] == {
        "id": str(rep.id), "email": rep.email, "name": rep.name, "role": "rep",
        "manager_id": str(manager.id), "timezone": "Europe/Paris",
    }
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    ttl = dt.timedelta(seconds=settings.access_token_ttl_seconds)
    assert before + ttl <= expires_at <= utcnow() + ttl
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["id"] == str(rep.id)
    assert me.json()["device"]["id"] == str(device_id)
    assert me.json()["device"]["name"] == "Pixel 8"
    assert me.json()["device"]["user_id"] == str(rep.id)


async def test_the_token_secret_is_stored_only_as_a_keyed_hash(client, db, settings) -> None:
    rep = await make_user(db)
    token = (await login(client, rep)).json()["access_token"]
    token_id, secret = token.split(".")
    async with db.sessions() as session:
        stored = await session.get(AccessToken, uuid.UUID(hex=token_id))
    assert stored is not None
    assert secret not in stored.secret_hash
    assert stored.secret_hash == hash_secret(secret, settings.secret_key)


async def test_the_email_is_matched_without_regard_to_case(client, db) -> None:
    rep = await make_user(db, email="mixed.case@example.com")
    response = await client.post("/auth/login", json={
        "email": "  Mixed.Case@Example.COM ", "password": TEST_PASSWORD,
        "device_id": str(uuid.uuid4()),
    })
    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(rep.id)


async def test_wrong_password_and_unknown_email_look_the_same(client, db) -> None:
    rep = await make_user(db)
    wrong = await login(client, rep, password="not the password")
    ghost = await client.post("/auth/login", json={
        "email": "nobody@example.com", "password": TEST_PASSWORD, "device_id": str(uuid.uuid4()),
    })
    assert wrong.status_code == ghost.status_code == 401
    assert wrong.json() == ghost.json()
    assert wrong.json()["code"] == "invalid_credentials"
    assert await count(db, AccessToken) == 0
    assert await count(db, Device) == 0


async def test_an_unknown_email_still_pays_for_the_kdf(db, settings, monkeypatch) -> None:
    calls: list[str] = []
    real = passwords_module.verify_password

    def spy(password: str, encoded: str) -> bool:
        calls.append(encoded)
        return real(password, encoded)

    monkeypatch.setattr(passwords_module, "verify_password", spy)
    service = AuthService(db, settings)
    with pytest.raises(Exception) as caught:
        await service.login(LoginRequest(
            email="ghost@example.com", password="whatever-pw", device_id=uuid.uuid4()
        ))
    assert getattr(caught.value, "code", None) == "invalid_credentials"
    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$v=19$m=8,t=1,p=1$")


async def test_login_upgrades_a_hash_made_with_an_old_cost(client, db, settings) -> None:
    rep = await make_user(
        db, password_hash=hash_password(TEST_PASSWORD, KdfParams(memory_kib=16, time_cost=1))
    )
    assert (await login(client, rep)).status_code == 200
    async with db.sessions() as session:
        stored = (await session.get(User, rep.id)).password_hash
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert (await login(client, rep)).status_code == 200


async def test_login_rehashes_an_old_scrypt_hash_with_argon2id(client, db, settings) -> None:
    rep = await make_user(db, password_hash=hash_scrypt(TEST_PASSWORD, n=2**10))
    assert (await login(client, rep, password="not the password")).status_code == 401
    async with db.sessions() as session:
        assert (await session.get(User, rep.id)).password_hash.startswith("scrypt$")

    assert (await login(client, rep)).status_code == 200

    async with db.sessions() as session:
        stored = (await session.get(User, rep.id)).password_hash
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(TEST_PASSWORD, stored)
    assert (await login(client, rep)).status_code == 200


async def test_a_deactivated_user_cannot_log_in(client, db) -> None:
    rep = await make_user(db, active=False)
    response = await login(client, rep)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert await count(db, AccessToken) == 0
    assert await count(db, Device) == 0


async def test_deactivated_login_answers_the_same_for_right_and_wrong_passwords(
    client, db
) -> None:
    rep = await make_user(db, active=False)
    right = await login(client, rep)
    wrong = await login(client, rep, password="wrong password")
    ghost = await client.post("/auth/login", json={
        "email": "nobody@example.com", "password": TEST_PASSWORD, "device_id": str(uuid.uuid4()),
    })
    assert right.status_code == wrong.status_code == ghost.status_code == 401
    assert right.json() == wrong.json() == ghost.json()
    assert right.headers.get("content-length") == wrong.headers.get("content-length")


async def test_a_device_bound_to_another_user_is_refused(client, db) -> None:
    first, second = await make_user(db), await make_user(db)
    device_id = uuid.uuid4()
    assert (await login(client, first, device_id=device_id)).status_code == 200
    response = await login(client, second, device_id=device_id)
    assert response.status_code == 409
    assert response.json()["code"] == "device_in_use"
    assert response.json()["field"] == "device_id"
    async with db.sessions() as session:
        device = await session.get(Device, device_id)
        tokens = (await session.execute(
            sa.select(AccessToken.user_id).where(AccessToken.device_id == device_id)
        )).scalars().all()
    assert device is not None and device.user_id == first.id
    assert tokens == [first.id]


async def test_logging_in_again_on_the_same_device_reuses_it(client, db) -> None:
    rep = await make_user(db)
    device_id = uuid.uuid4()
    first = (await login(client, rep, device_id=device_id)).json()["access_token"]
    second = (await login(client, rep, device_id=device_id)).json()["access_token"]
    assert first != second
    assert await count(db, Device) == 1
    for token in (first, second):
        assert (await client.get("/auth/me", headers=bearer(token))).status_code == 200


async def test_concurrent_first_logins_on_one_device_bind_it_to_one_user(db, settings) -> None:
    alice, bob = await make_user(db), await make_user(db)
    device_id = uuid.uuid4()
    service = AuthService(db, settings)

    def request(user: User) -> LoginRequest:
        return LoginRequest(email=user.email, password=TEST_PASSWORD, device_id=device_id)

    results = await asyncio.gather(
        service.login(request(alice)), service.login(request(bob)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], Conflict) and losers[0].code == "device_in_use"
    async with db.sessions() as session:
        device = await session.get(Device, device_id)
    assert device is not None and device.user_id == winners[0].user.id


async def test_concurrent_logins_of_one_user_on_a_new_device_both_succeed(db, settings) -> None:
    rep = await make_user(db)
    device_id = uuid.uuid4()
    service = AuthService(db, settings)
    request = LoginRequest(email=rep.email, password=TEST_PASSWORD, device_id=device_id)
    results = await asyncio.gather(*(service.login(request) for _ in range(4)))
    assert len({r.access_token for r in results}) == 4
    assert await count(db, Device) == 1
    assert await count(db, AccessToken) == 4


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"email": "a@b.co", "password": "x"}, 422, "validation_error", "device_id"),
        ({"email": "a@b.co", "password": "x", "device_id": "nope"}, 422, "validation_error",
         "device_id"),
        ({"email": 5, "password": "x", "device_id": str(uuid.UUID(int=1))}, 422,
         "validation_error", "email"),
        ({"email": "a@b.co", "password": "x", "device_id": str(uuid.UUID(int=1)), "role": "admin"},
         422, "unknown_field", "role"),
    ],
)
async def test_bad_login_bodies_are_refused(client, db, body, status, code, field) -> None:
    response = await client.post("/auth/login", json=body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    assert await count(db, Device) == 0


# ---- presented tokens -----------------------------------------------------------------------


async def test_an_expired_token_is_refused(client, db) -> None:
    rep = await make_user(db)
    token, _ = await issue_token(db, rep, ttl=dt.timedelta(seconds=-1))
    response = await client.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


async def test_a_token_past_its_expiry_stops_working(client, db) -> None:
    rep = await make_user(db)
    token = (await login(client, rep)).json()["access_token"]
    assert (await client.get("/auth/me", headers=bearer(token))).status_code == 200
    async with db.transaction() as session:
        await session.execute(sa.update(AccessToken).values(
            expires_at=utcnow() - dt.timedelta(seconds=1)
        ))
    response = await client.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


async def test_logout_revokes_the_presented_token_only(client, db) -> None:
    rep = await make_user(db)
    first = (await login(client, rep)).json()["access_token"]
    second = (await login(client, rep)).json()["access_token"]
    response = await client.post("/auth/logout", headers=bearer(first))
    assert response.status_code == 200
    reused = await client.get("/auth/me", headers=bearer(first))
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_revoked"
    assert (await client.post("/auth/logout", headers=bearer(first))).status_code == 401
    assert (await client.get("/auth/me", headers=bearer(second))).status_code == 200


async def forged_headers(db: Database) -> dict[str, dict[str, str]]:
    rep = await make_user(db)
    token, _ = await issue_token(db, rep)
    token_id = token.split(".")[0]
    return {
        "random well-formed": bearer(format_token(new_id(), new_secret())),
        "right id, wrong secret": bearer(f"{token_id}.{new_secret()}"),
        "right id, empty secret": bearer(f"{token_id}."),
        "garbage": bearer("not-a-token"),
        "missing header": {},
        "empty bearer": {"Authorization": "Bearer "},
        "wrong scheme": {"Authorization": f"Basic {token}"},
        "no scheme": {"Authorization": token},
    }


async def test_forged_tokens_are_refused(client, db) -> None:
    for name, headers in (await forged_headers(db)).items():
        response = await client.get("/auth/me", headers=headers)
        assert response.status_code == 401, name
        assert response.json()["code"] == "not_authenticated", name
        assert set(response.json()) <= {"code", "message", "field", "data"}


async def test_a_token_minted_with_another_secret_key_is_refused(client, db) -> None:
    rep = await make_user(db)
    token, _ = await issue_token(db, rep, secret_key="some-other-key")
    response = await client.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_a_user_deactivated_behind_a_live_token_is_refused(client, db) -> None:
    rep = await make_user(db)
    token, _ = await issue_token(db, rep)
    async with db.transaction() as session:
        await session.execute(sa.update(User).where(User.id == rep.id).values(active=False))
    response = await client.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "user_deactivated"


# ---- tokens of a user -----------------------------------------------------------------------


async def test_a_user_lists_their_own_active_tokens(client, db) -> None:
    rep, other = await make_user(db), await make_user(db)
    token, _ = await issue_token(db, rep)
    await issue_token(db, rep, ttl=dt.timedelta(seconds=-5))  # expired: not listed
    revoked, _ = await issue_token(db, rep)
    await client.post("/auth/logout", headers=bearer(revoked))
    await issue_token(db, other)
    response = await client.get("/auth/tokens", headers=bearer(token))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [str(uuid.UUID(hex=token.split(".")[0]))]
    assert "secret_hash" not in items[0]
    forbidden = await client.get(f"/auth/tokens?user_id={other.id}", headers=bearer(token))
    assert forbidden.status_code == 403
    assert forbidden.json()["field"] == "user_id"


async def test_token_lists_are_paginated(client, db) -> None:
    rep = await make_user(db)
    token, device_id = await issue_token(db, rep)
    for _ in range(4):
        await issue_token(db, rep, device_id=device_id)
    seen: list[str] = []
    cursor = None
    while True:
        query = "/auth/tokens?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=bearer(token))).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


async def test_an_admin_lists_and_revokes_anyones_tokens(client, db) -> None:
    admin, rep = await make_user(db, "admin"), await make_user(db)
    admin_headers = await auth_headers(db, admin)
    rep_token, _ = await issue_token(db, rep)
    listed = await client.get(f"/auth/tokens?user_id={rep.id}", headers=admin_headers)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    response = await client.post(f"/auth/tokens/{item['id']}/revoke", headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    reused = await client.get("/auth/me", headers=bearer(rep_token))
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_revoked"


async def test_a_user_revokes_their_own_token_but_not_someone_elses(client, db) -> None:
    rep, other = await make_user(db), await make_user(db)
    headers = await auth_headers(db, rep)
    mine, _ = await issue_token(db, rep)
    theirs, _ = await issue_token(db, other)
    their_id = uuid.UUID(hex=theirs.split(".")[0])
    refused = await client.post(f"/auth/tokens/{their_id}/revoke", headers=headers)
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert (await client.get("/auth/me", headers=bearer(theirs))).status_code == 200
    missing = await client.post(f"/auth/tokens/{uuid.uuid4()}/revoke", headers=headers)
    assert missing.status_code == 404
    my_id = uuid.UUID(hex=mine.split(".")[0])
    assert (await client.post(f"/auth/tokens/{my_id}/revoke", headers=headers)).status_code == 200
    assert (await client.get("/auth/me", headers=bearer(mine))).status_code == 401
    again = await client.post(f"/auth/tokens/{my_id}/revoke", headers=headers)
    assert again.status_code == 200  # idempotent


# ---- devices --------------------------------------------------------------------------------


async def test_deactivating_a_device_revokes_its_tokens_and_blocks_login(client, db) -> None:
    admin, rep = await make_user(db, "admin"), await make_user(db)
    admin_headers = await auth_headers(db, admin)
    device_id = uuid.uuid4()
    token = (await login(client, rep, device_id=device_id)).json()["access_token"]
    other_device_token, _ = await issue_token(db, rep)

    response = await client.post(f"/devices/{device_id}/deactivate", headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["active"] is False

    refused = await client.get("/auth/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["code"] in {"token_revoked", "device_deactivated"}
    relogin = await login(client, rep, device_id=device_id)
    assert relogin.status_code == 403
    assert relogin.json()["code"] == "device_deactivated"
    assert relogin.json()["field"] == "device_id"
    assert (await client.get("/auth/me", headers=bearer(other_device_token))).status_code == 200

    activated = await client.post(f"/devices/{device_id}/activate", headers=admin_headers)
    assert activated.status_code == 200 and activated.json()["active"] is True
    assert (await client.get("/auth/me", headers=bearer(token))).status_code == 401  # still revoked
    assert (await login(client, rep, device_id=device_id)).status_code == 200


async def test_a_token_on_a_deactivated_device_is_refused(client, db) -> None:
    rep = await make_user(db)
    token, device_id = await issue_token(db, rep)
    async with db.transaction() as session:  # deactivated without revocation (e.g. by hand)
        await session.execute(sa.update(Device).where(Device.id == device_id).values(active=False))
    response = await client.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "device_deactivated"


async def test_device_admin_endpoints_are_for_admins_only(client, db) -> None:
    for role in ("rep", "manager"):
        user = await make_user(db, role)
        headers = await auth_headers(db, user)
        _, device_id = await issue_token(db, user)
        assert (await client.get("/devices", headers=headers)).status_code == 403
        refused = await client.post(f"/devices/{device_id}/deactivate", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
    async with db.sessions() as session:
        active = (await session.execute(sa.select(Device.active))).scalars().all()
    assert all(active)


async def test_unknown_devices_are_not_found(client, db) -> None:
    admin = await make_user(db, "admin")
    response = await client.post(
        f"/devices/{uuid.uuid4()}/deactivate", headers=await auth_headers(db, admin)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_devices_are_listed_by_user_and_active_flag_in_pages(client, db) -> None:
    admin, rep, other = await make_user(db, "admin"), await make_user(db), await make_user(db)
    admin_headers = await auth_headers(db, admin)
    rep_devices = [(await issue_token(db, rep))[1] for _ in range(3)]
    await issue_token(db, other)
    await client.post(f"/devices/{rep_devices[0]}/deactivate", headers=admin_headers)

    everything = (await client.get("/devices?limit=500", headers=admin_headers)).json()
    assert len(everything["items"]) == 5 and everything["next_cursor"] is None
    of_rep = (await client.get(f"/devices?user_id={rep.id}", headers=admin_headers)).json()
    assert {d["id"] for d in of_rep["items"]} == {str(d) for d in rep_devices}
    inactive = (await client.get("/devices?active=false", headers=admin_headers)).json()
    assert [d["id"] for d in inactive["items"]] == [str(rep_devices[0])]

    first = (await client.get("/devices?limit=2", headers=admin_headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (await client.get(
        f"/devices?limit=500&cursor={first['next_cursor']}", headers=admin_headers
    )).json()
    ids = [d["id"] for d in first["items"] + rest["items"]]
    assert sorted(ids) == sorted(d["id"] for d in everything["items"])


async def test_a_user_lists_only_their_own_devices(client, db) -> None:
    rep, other = await make_user(db), await make_user(db)
    token, device_id = await issue_token(db, rep)
    await issue_token(db, other)
    response = await client.get("/auth/devices", headers=bearer(token))
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["items"]] == [str(device_id)]


# ---- guards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, users_status, devices_status",
    [("rep", 403, 403), ("manager", 200, 403), ("admin", 200, 200)],
)
async def test_role_guards(client, db, role, users_status, devices_status) -> None:
    headers = await auth_headers(db, await make_user(db, role))
    assert (await client.get("/users", headers=headers)).status_code == users_status
    assert (await client.get("/devices", headers=headers)).status_code == devices_status
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    create = await client.post("/users", headers=headers, json={
        "email": f"new-{role}@example.com", "name": "New", "role": "rep", "password": "long enough",
    })
    assert create.status_code == (201 if role == "admin" else 403)


async def test_every_protected_endpoint_needs_a_token(client, db) -> None:
    some_id = uuid.uuid4()
    calls = [
        ("GET", "/auth/me"), ("POST", "/auth/logout"), ("GET", "/auth/tokens"),
        ("POST", f"/auth/tokens/{some_id}/revoke"), ("GET", "/auth/devices"),
        ("GET", "/devices"), ("POST", f"/devices/{some_id}/deactivate"),
        ("POST", f"/devices/{some_id}/activate"), ("GET", "/users"), ("GET", f"/users/{some_id}"),
        ("POST", "/users"), ("PATCH", f"/users/{some_id}"),
    ]
    for method, path in calls:
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "not_authenticated"

