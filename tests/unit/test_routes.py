"""The day's route (rules.routes): close to the optimum, deterministic, every stop once."""

from __future__ import annotations

import itertools
import random

import pytest

from rules.geo import haversine_m
from rules.routes import EXACT_UP_TO, Stop, heuristic_path, path_length, plan_route

SHANGHAI = (31.2304, 121.4737)


def random_stops(rng: random.Random, n: int) -> list[Stop]:
    """``n`` stops scattered over a city (about 30 x 30 km around Shanghai)."""
    return [
        Stop(
            f"s{i}",
            (SHANGHAI[0] + rng.uniform(-0.15, 0.15), SHANGHAI[1] + rng.uniform(-0.15, 0.15)),
        )
        for i in range(n)
    ]


def brute_force_m(start: tuple[float, float], stops: list[Stop]) -> float:
    points = [start, *(s.position for s in stops)]
    d = [[haversine_m(*a, *b) for b in points] for a in points]
    return min(
        path_length(d, [0, *order]) for order in itertools.permutations(range(1, len(points)))
    )


def walked_m(start: tuple[float, float], stops: list[Stop], order: list[str]) -> float:
    where = {s.key: s.position for s in stops}
    points = [start, *(where[key] for key in order)]
    return sum(haversine_m(*a, *b) for a, b in zip(points, points[1:], strict=False))


@pytest.mark.parametrize("seed", range(60))
def test_route_is_within_5_percent_of_the_brute_force_optimum(seed: int) -> None:
    rng = random.Random(seed)
    stops = random_stops(rng, rng.randint(1, 8))
    start = random_stops(rng, 1)[0].position
    route = plan_route(start, stops)
    assert sorted(route.order) == sorted(s.key for s in stops)  # every stop exactly once
    optimum = brute_force_m(start, stops)
    assert route.total_m <= optimum * 1.05 + 0.5  # 0.5 m: the legs are rounded to 0.1 m
    assert route.total_m == pytest.approx(walked_m(start, stops, route.order), abs=1.0)


def test_legs_carry_the_distance_from_the_previous_point() -> None:
    start = SHANGHAI
    north = Stop("north", (SHANGHAI[0] + 0.01, SHANGHAI[1]))
    farther = Stop("farther", (SHANGHAI[0] + 0.02, SHANGHAI[1]))
    route = plan_route(start, [farther, north])
    assert route.order == ["north", "farther"]
    assert [leg.distance_m for leg in route.legs] == [pytest.approx(1111.9, abs=0.1)] * 2
    assert route.total_m == pytest.approx(2223.9, abs=0.2)


def test_the_heuristic_used_past_the_exact_size_is_close_to_the_optimum() -> None:
    """Nearest neighbour + 2-opt + or-opt alone, measured on 200 instances of 2..8 stops."""
    ratios = []
    for seed in range(200):
        rng = random.Random(1000 + seed)
        stops = random_stops(rng, rng.randint(2, 8))
        points = [SHANGHAI, *(s.position for s in stops)]
        d = [[haversine_m(*a, *b) for b in points] for a in points]
        ratios.append(path_length(d, heuristic_path(d)) / brute_force_m(SHANGHAI, stops))
    assert min(ratios) >= 1 - 1e-9
    assert sum(r <= 1.05 for r in ratios) >= 0.97 * len(ratios)
    assert sum(ratios) / len(ratios) < 1.01


def test_larger_days_use_the_heuristic_and_visit_every_stop_once() -> None:
    stops = random_stops(random.Random(11), 50)
    assert len(stops) > EXACT_UP_TO
    route = plan_route(SHANGHAI, stops)
    assert sorted(route.order) == sorted(s.key for s in stops)
    assert route.total_m == pytest.approx(walked_m(SHANGHAI, stops, route.order), abs=5.0)


def test_empty_and_single_routes() -> None:
    assert plan_route(SHANGHAI, []).legs == ()
    assert plan_route(SHANGHAI, []).total_m == 0.0
    only = plan_route(SHANGHAI, [Stop("a", SHANGHAI)])
    assert (only.order, only.total_m) == (["a"], 0.0)


def test_the_route_is_deterministic_and_refuses_duplicate_keys() -> None:
    stops = random_stops(random.Random(3), 20)
    assert plan_route(SHANGHAI, stops) == plan_route(SHANGHAI, stops)
    with pytest.raises(ValueError):
        plan_route(SHANGHAI, [Stop("a", SHANGHAI), Stop("a", SHANGHAI)])
