"""The push-token registry over REST: register, refresh, move, remove, logout, deactivation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.db import Database
from server.notifications.models import PushToken
from tests.builders import auth_headers, issue_token, make_user


async def tokens(db: Database) -> list[tuple[Any, Any, str]]:
    async with db.reading() as session:
        rows = await session.execute(
            sa.select(PushToken.user_id, PushToken.device_id, PushToken.token).order_by(
                PushToken.token
            )
        )
        return [tuple(row) for row in rows.all()]


async def test_a_rep_registers_and_refreshes_their_device_token(client: Any, db: Database) -> None:
    rep = await make_user(db, "rep")
    token, device_id = await issue_token(db, rep)
    headers = {"Authorization": f"Bearer {token}"}
    first = await client.put(
        "/devices/push-token", json={"token": "fcm-a", "platform": "ios"}, headers=headers
    )
    assert first.status_code == 200, first.text
    assert first.json()["device_id"] == str(device_id)
    assert first.json()["platform"] == "ios"
    assert "token" not in first.json()
    again = await client.put("/devices/push-token", json={"token": "fcm-b"}, headers=headers)
    assert again.status_code == 200
    assert await tokens(db) == [(rep.id, device_id, "fcm-b")]  # refreshed, not added
    shown = await client.get("/devices/push-token", headers=headers)
    assert shown.status_code == 200 and shown.json()["platform"] == "android"


async def test_a_token_moves_to_the_device_of_whoever_registers_it_last(
    client: Any, db: Database
) -> None:
    first, second = await make_user(db, "rep"), await make_user(db, "manager")
    one, device_one = await issue_token(db, first)
    two, device_two = await issue_token(db, second)
    for bearer in (one, two):  # the same phone (one FCM token), a second user's login
        answer = await client.put(
            "/devices/push-token",
            json={"token": "shared-phone"},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        assert answer.status_code == 200
    assert await tokens(db) == [(second.id, device_two, "shared-phone")]
    gone = await client.get("/devices/push-token", headers={"Authorization": f"Bearer {one}"})
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    assert device_one != device_two


async def test_bad_tokens_are_refused_with_the_field(client: Any, db: Database) -> None:
    headers = await auth_headers(db, await make_user(db, "rep"))
    for body, status in (
        ({"token": ""}, 400),
        ({"token": "a b"}, 400),
        ({"token": "x" * 4097}, 400),
        ({"token": "ok", "platform": "pager"}, 400),
        ({"token": "ok", "extra": 1}, 400),
        ({}, 400),
    ):
        answer = await client.put("/devices/push-token", json=body, headers=headers)
        assert answer.status_code in (status, 422), (body, answer.text)
        assert answer.json()["code"]
    assert await tokens(db) == []


async def test_logout_forgets_the_device_token(client: Any, db: Database) -> None:
    rep = await make_user(db, "rep")
    token, _ = await issue_token(db, rep)
    other, other_device = await issue_token(db, rep)
    for bearer, value in ((token, "fcm-1"), (other, "fcm-2")):
        await client.put(
            "/devices/push-token",
            json={"token": value},
            headers={"Authorization": f"Bearer {bearer}"},
        )
    answer = await client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert await tokens(db) == [(rep.id, other_device, "fcm-2")]  # the other device keeps its


async def test_device_deactivation_forgets_its_token(client: Any, db: Database) -> None:
    rep, admin = await make_user(db, "rep"), await make_user(db, "admin")
    token, device_id = await issue_token(db, rep)
    await client.put(
        "/devices/push-token", json={"token": "fcm-d"}, headers={"Authorization": f"Bearer {token}"}
    )
    answer = await client.post(
        f"/devices/{device_id}/deactivate", headers=await auth_headers(db, admin)
    )
    assert answer.status_code == 200
    assert await tokens(db) == []


async def test_removing_the_token_and_removing_it_again(client: Any, db: Database) -> None:
    headers = await auth_headers(db, await make_user(db, "rep"))
    await client.put("/devices/push-token", json={"token": "fcm-r"}, headers=headers)
    assert (await client.delete("/devices/push-token", headers=headers)).status_code == 204
    again = await client.delete("/devices/push-token", headers=headers)
    assert again.status_code == 404
    assert await tokens(db) == []


async def test_the_registry_needs_a_login(client: Any, db: Database) -> None:
    answer = await client.put("/devices/push-token", json={"token": "x"})
    assert answer.status_code == 401
