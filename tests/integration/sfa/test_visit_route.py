"""``GET /visits/route``: the day's planned visits of a rep in the suggested order."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.builders import auth_headers, make_user
from tests.synctools import create_as, insert_account

SHANGHAI = (31.2304, 121.4737)
DAY = dt.date(2026, 5, 6)


def at(hour: int, day: dt.date = DAY) -> str:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC).isoformat()


async def visit_at(db, rep, north_deg: float | None, planned_at: str) -> str:
    position = (
        {"latitude": SHANGHAI[0] + north_deg, "longitude": SHANGHAI[1]}
        if north_deg is not None
        else {}
    )
    account_id = await insert_account(db, owner_id=rep.id, **position)
    visit = await create_as(
        db, rep, "visit", {"account_id": str(account_id), "planned_at": planned_at}
    )
    return str(visit["id"])


async def test_the_route_orders_the_days_planned_visits_from_the_start(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    # planned in an order that zigzags: 2 km north, 1 km north, 3 km north
    far = await visit_at(db, rep, 0.02, at(9))
    near = await visit_at(db, rep, 0.01, at(10))
    farthest = await visit_at(db, rep, 0.03, at(11))
    nowhere = await visit_at(db, rep, None, at(12))
    await visit_at(db, rep, 0.005, at(9, DAY + dt.timedelta(days=1)))  # another day
    headers = await auth_headers(db, manager)

    answer = await client.get(
        "/visits/route",
        params={
            "rep_id": str(rep.id),
            "date": DAY.isoformat(),
            "start_latitude": SHANGHAI[0],
            "start_longitude": SHANGHAI[1],
        },
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [stop["visit_id"] for stop in body["stops"]] == [near, far, farthest, nowhere]
    assert [stop["distance_m"] for stop in body["stops"]] == [
        pytest.approx(1111.9, abs=0.2),
        pytest.approx(1111.9, abs=0.2),
        pytest.approx(1111.9, abs=0.2),
        None,  # no position: last, unrouted
    ]
    assert body["total_m"] == pytest.approx(3335.8, abs=0.5)
    assert (body["start_latitude"], body["start_longitude"]) == SHANGHAI

    # without a start point the route starts at the first planned visit's account
    default = await client.get(
        "/visits/route", params={"rep_id": str(rep.id), "date": DAY.isoformat()}, headers=headers
    )
    body = default.json()
    assert body["start_latitude"] == pytest.approx(SHANGHAI[0] + 0.02)  # the 09:00 visit's
    assert {s["visit_id"] for s in body["stops"]} == {near, far, farthest, nowhere}
    assert body["total_m"] == pytest.approx(3335.8, abs=0.5)  # 2 km north: 1 km back, 3 on


async def test_the_day_is_the_reps_own_time_zone(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id, timezone="Asia/Shanghai")
    # 23:30 UTC on the 5th is 07:30 on the 6th in Shanghai
    early = await visit_at(
        db, rep, 0.01, dt.datetime(2026, 5, 5, 23, 30, tzinfo=dt.UTC).isoformat()
    )
    late = await visit_at(db, rep, 0.01, dt.datetime(2026, 5, 6, 17, 0, tzinfo=dt.UTC).isoformat())
    headers = await auth_headers(db, manager)
    body = (
        await client.get(
            "/visits/route", params={"rep_id": str(rep.id), "date": "2026-05-06"}, headers=headers
        )
    ).json()
    assert [s["visit_id"] for s in body["stops"]] == [early]  # 01:00 on the 7th is not the 6th
    assert late not in [s["visit_id"] for s in body["stops"]]


async def test_the_route_shows_only_visits_the_manager_may_see(client, db) -> None:
    manager = await make_user(db, "manager")
    stranger = await make_user(db, "rep")
    await visit_at(db, stranger, 0.01, at(9))
    headers = await auth_headers(db, manager)
    body = (
        await client.get(
            "/visits/route",
            params={"rep_id": str(stranger.id), "date": DAY.isoformat()},
            headers=headers,
        )
    ).json()
    assert body["stops"] == [] and body["total_m"] == 0.0


async def test_the_route_refuses_reps_and_bad_queries(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    params = {"rep_id": str(rep.id), "date": DAY.isoformat()}
    as_rep = await client.get("/visits/route", params=params, headers=await auth_headers(db, rep))
    assert (as_rep.status_code, as_rep.json()["code"]) == (403, "forbidden")
    headers = await auth_headers(db, manager)
    half = await client.get(
        "/visits/route", params={**params, "start_latitude": 31.0}, headers=headers
    )
    assert (half.status_code, half.json()["field"]) == (422, "start_longitude")
    off_earth = await client.get(
        "/visits/route",
        params={**params, "start_latitude": 95.0, "start_longitude": 0.0},
        headers=headers,
    )
    assert (off_earth.status_code, off_earth.json()["field"]) == (422, "start_latitude")
    nobody = await client.get(
        "/visits/route", params={**params, "rep_id": str(uuid.uuid4())}, headers=headers
    )
    assert (nobody.status_code, nobody.json()["code"]) == (404, "not_found")
    no_date = await client.get("/visits/route", params={"rep_id": str(rep.id)}, headers=headers)
    assert (no_date.status_code, no_date.json()["code"]) == (422, "validation_error")
