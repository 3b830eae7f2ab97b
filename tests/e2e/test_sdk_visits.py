"""The SDK's offline visit helpers agree with the server: the day's route."""

from __future__ import annotations

import datetime as dt
import uuid

from client_sdk.visits import day_route
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
