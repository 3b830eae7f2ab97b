"""``/notifications/preferences`` (every user, their own) and ``/notifications/deliveries``
(managers: their team; admins: everyone), paginated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.db import Database
from server.notifications.models import NotificationStatus
from server.notifications.outbox import OutboxRepository, outbox_row
from tests.builders import auth_headers, make_user


async def test_a_rep_sets_quiet_hours_and_mutes_rules(client: Any, db: Database) -> None:
    rep = await make_user(db, "rep", timezone="Asia/Shanghai")
    headers = await auth_headers(db, rep)
    shown = await client.get("/notifications/preferences", headers=headers)
    assert shown.status_code == 200
    assert shown.json() | {"rules": None} == {
        "timezone": "Asia/Shanghai",
        "quiet_start_minute": 1320,
        "quiet_end_minute": 420,
        "muted_rules": [],
        "rules": None,
    }
    assert "event_upcoming" in shown.json()["rules"]
    changed = await client.patch(
        "/notifications/preferences",
        headers=headers,
        json={"quiet_start_minute": 1380, "muted_rules": ["vip_not_visited", "digest"]},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["quiet_start_minute"], changed.json()["quiet_end_minute"]) == (1380, 420)
    assert changed.json()["muted_rules"] == ["digest", "vip_not_visited"]
    reset = await client.patch(
        "/notifications/preferences", headers=headers, json={"quiet_start_minute": None}
    )
    assert reset.json()["quiet_start_minute"] == 1320  # back to the default
    assert reset.json()["muted_rules"] == ["digest", "vip_not_visited"]  # untouched


async def test_bad_preferences_are_refused_with_the_field(client: Any, db: Database) -> None:
    headers = await auth_headers(db, await make_user(db, "rep"))
    unknown = await client.patch(
        "/notifications/preferences", headers=headers, json={"muted_rules": ["no_such_rule"]}
    )
    assert unknown.status_code == 422
    assert (unknown.json()["code"], unknown.json()["field"]) == ("unknown_rule", "muted_rules")
    for body in ({"quiet_start_minute": 1440}, {"quiet_end_minute": -1}, {"other": 1}):
        answer = await client.patch("/notifications/preferences", headers=headers, json=body)
        assert answer.status_code in (400, 422), body
    shown = await client.get("/notifications/preferences", headers=headers)
    assert shown.json()["muted_rules"] == [] and shown.json()["quiet_start_minute"] == 1320


async def queue(db: Database, user_id: Any, n: int, status: NotificationStatus) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [
        outbox_row(
            user_id=user_id,
            rule="event_upcoming",
            record_id=user_id,
            occurrence=f"{status}-{i}",
            due_at=now,
            now=now,
            title=f"t{i}",
            status=status,
        )
        for i in range(n)
    ]
    async with db.transaction() as session:
        await OutboxRepository(session).add_once(rows)


async def test_managers_see_their_teams_delivery_status_paginated(
    client: Any, db: Database
) -> None:
    manager, other_manager = await make_user(db, "manager"), await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    stranger = await make_user(db, "rep", manager_id=other_manager.id)
    await queue(db, rep.id, 3, NotificationStatus.SENT)
    await queue(db, rep.id, 2, NotificationStatus.DEAD)
    await queue(db, stranger.id, 4, NotificationStatus.SENT)
    headers = await auth_headers(db, manager)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/notifications/deliveries", headers=headers, params=params)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and {item["user_id"] for item in seen} == {str(rep.id)}
    dead = await client.get(
        "/notifications/deliveries",
        headers=headers,
        params={"status": "dead", "user_id": str(rep.id)},
    )
    assert [item["status"] for item in dead.json()["items"]] == ["dead", "dead"]
    outside = await client.get(
        "/notifications/deliveries", headers=headers, params={"user_id": str(stranger.id)}
    )
    assert outside.status_code == 404
    admin = await client.get(
        "/notifications/deliveries",
        params={"limit": 100},
        headers=await auth_headers(db, await make_user(db, "admin")),
    )
    assert len(admin.json()["items"]) == 9


async def test_reps_may_not_read_deliveries(client: Any, db: Database) -> None:
    rep = await make_user(db, "rep")
    answer = await client.get("/notifications/deliveries", headers=await auth_headers(db, rep))
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    bad = await client.get(
        "/notifications/deliveries",
        params={"status": "lost"},
        headers=await auth_headers(db, await make_user(db, "admin")),
    )
    assert bad.status_code == 422 and bad.json()["field"] == "status"
