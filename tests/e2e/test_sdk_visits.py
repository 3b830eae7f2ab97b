"""The SDK's offline visit helpers agree with the server: the day's route."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from client_sdk.visits import check_in_verdict, day_route, makeup_needed
from tests.builders import issue_token
from tests.e2e.conftest import World

PARIS = (48.8566, 2.3522)
DAY = dt.date(2026, 5, 6)


def planned_day(world: World, stops: int = 6) -> tuple[object, object]:
    manager = world.user("manager")
    rep = world.user("rep", manager=manager)
    territory = world.territory("Paris", rep, manager)
    for i in range(stops):
        offset = ((i * 7) % stops) / 100  # planned in a zigzag order
        account = world.create(
            "account",
            name=f"Shop {i}",
            territory_id=territory,
            latitude=PARIS[0] + offset,
            longitude=PARIS[1] + (i % 2) / 100,
        )
        world.create(
            "visit",
            account_id=uuid.UUID(account["id"]),
            rep_id=rep.id,  # type: ignore[attr-defined]
            planned_at=dt.datetime.combine(DAY, dt.time(8 + i), tzinfo=dt.UTC),
        )
    return manager, rep


def test_the_sdk_computes_the_same_route_offline_as_the_server(world: World) -> None:
    manager, rep = planned_day(world)
    device = world.device(rep, "phone")
    device.sync()
    token, _ = world.run(issue_token, world.db, manager)
    served = world.app_client.get(
        "/visits/route",
        params={
            "rep_id": str(rep.id),
            "date": DAY.isoformat(),
            "start_latitude": PARIS[0],  # type: ignore[attr-defined]
            "start_longitude": PARIS[1],
        },
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    offline = day_route(device, DAY, start=PARIS)
    assert offline.route.order == [stop["visit_id"] for stop in served["stops"]]
    assert offline.route.total_m == served["total_m"]
    assert len(offline.route.order) == 6
    assert day_route(device, DAY + dt.timedelta(days=1)).route.order == []


@pytest.mark.parametrize(
    ("north_deg", "accuracy", "verdict"),
    [(0.001, 10.0, "inside"), (0.0017, 30.0, "uncertain"), (0.01, 10.0, "outside")],
)
def test_the_sdk_shows_the_servers_check_in_verdict_offline(
    world: World, north_deg: float, accuracy: float, verdict: str
) -> None:
    _manager, rep = planned_day(world, stops=1)
    device = world.device(rep, "phone")
    device.sync()
    [visit] = device.query("visit")
    here = (PARIS[0] + north_deg, PARIS[1])
    offline = check_in_verdict(device, visit["id"], *here, accuracy)
    assert offline.verdict == verdict
    now = dt.datetime.now(dt.UTC)
    params: dict[str, object] = {
        "at": now.isoformat(),
        "latitude": here[0],
        "longitude": here[1],
        "accuracy_m": accuracy,
    }
    if makeup_needed(offline, now):  # the app asks the rep why
        params["makeup_reason"] = "geo_anomaly"
    assert makeup_needed(offline, now) == (verdict == "outside")
    device.action("visit", visit["id"], "check_in", params)
    device.sync()
    served = world.load("visit", visit["id"])
    assert served is not None
    assert served["check_in_verdict"] == verdict
    assert served["check_in_distance_m"] == offline.distance_m
    assert served["approval"] == ("pending" if verdict == "outside" else "none")
    assert device.rejected_mutations() == []


@pytest.mark.parametrize(
    ("radius_m", "north_deg", "verdict"),
    [(500.0, 0.0027, "inside"), (50.0, 0.001, "outside"), (None, 0.0027, "outside")],
    ids=["wider", "narrower", "unset"],
)
def test_the_sdk_judges_by_the_accounts_own_radius_like_the_server(
    world: World, radius_m: float | None, north_deg: float, verdict: str
) -> None:
    # 300 m north is outside the default 200 m but inside an account radius of 500 m; 111 m is
    # inside the default but outside an account radius of 50 m
    _manager, rep = planned_day(world, stops=1)
    device = world.device(rep, "phone")
    device.sync()
    [visit] = device.query("visit")
    if radius_m is not None:  # a manager sets it; the device receives it at its next sync
        world.update("account", visit["account_id"], checkin_radius_m=radius_m)
        device.sync()
    here = (PARIS[0] + north_deg, PARIS[1])
    offline = check_in_verdict(device, visit["id"], *here, 10.0)
    assert (offline.verdict, offline.radius_m) == (verdict, radius_m or 200.0)
    now = dt.datetime.now(dt.UTC)
    params: dict[str, object] = {
        "at": now.isoformat(),
        "latitude": here[0],
        "longitude": here[1],
        "accuracy_m": 10.0,
    }
    if makeup_needed(offline, now):
        params["makeup_reason"] = "geo_anomaly"
    device.action("visit", visit["id"], "check_in", params)
    device.sync()
    served = world.load("visit", visit["id"])
    assert served is not None
    assert (served["check_in_verdict"], served["check_in_radius_m"]) == (verdict, offline.radius_m)
    assert device.rejected_mutations() == []
