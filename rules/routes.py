"""The day's route: a short order to visit the day's stops from a start point (pure).

An open path (the rep does not have to come back). Up to ``EXACT_UP_TO`` stops the shortest
path is found exactly (Held-Karp dynamic programming); beyond, nearest neighbour builds a first
path, then 2-opt (reverse a segment) and or-opt (move a run of up to three stops elsewhere)
improve it until no move shortens it. Distances are great-circle metres
(``rules.geo.haversine_m``). The server's ``GET /visits/route`` and the SDK's offline helper
call the same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rules.geo import haversine_m

Position = tuple[float, float]  # (latitude, longitude) in degrees

# an improvement smaller than this (metres) is rounding noise: stops the search from cycling
_EPSILON_M = 1e-6
# up to this many stops the exact optimum is cheap (Held-Karp: 9 stops ~ 40,000 steps)
EXACT_UP_TO = 9


@dataclass(frozen=True)
class Stop:
    """One place to visit: ``key`` names it to the caller (a visit id)."""

    key: str
    position: Position


@dataclass(frozen=True)
class Leg:
    """A stop of the route with the distance driven from the previous point."""

    key: str
    distance_m: float


@dataclass(frozen=True)
class Route:
    """The stops in the suggested order; ``total_m`` is the sum of the legs."""

    legs: tuple[Leg, ...]
    total_m: float

    @property
    def order(self) -> list[str]:
        """The stop keys in visiting order."""
        return [leg.key for leg in self.legs]


def _matrix(points: Sequence[Position]) -> list[list[float]]:
    n = len(points)
    d = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            d[i][j] = d[j][i] = haversine_m(*points[i], *points[j])
    return d


def path_length(d: Sequence[Sequence[float]], path: Sequence[int]) -> float:
    """Length of the open path visiting the matrix indices ``path`` in order (0 is the start)."""
    return sum(d[a][b] for a, b in zip(path, path[1:], strict=False))


def _nearest_neighbour(d: Sequence[Sequence[float]], n: int) -> list[int]:
    path, left = [0], set(range(1, n))
    while left:
        here = path[-1]
        # ties broken by index so the answer is deterministic
        nearest = min(left, key=lambda j: (d[here][j], j))
        path.append(nearest)
        left.remove(nearest)
    return path


def _two_opt(d: Sequence[Sequence[float]], path: list[int]) -> bool:
    """Reverse path[i..j] when it shortens the open path; True when something improved."""
    n, improved = len(path), False
    for i in range(1, n - 1):
        for j in range(i + 1, n):
            a, b = path[i - 1], path[i]
            c = path[j]
            after = path[j + 1] if j + 1 < n else None
            old = d[a][b] + (d[c][after] if after is not None else 0.0)
            new = d[a][c] + (d[b][after] if after is not None else 0.0)
            if new < old - _EPSILON_M:
                path[i : j + 1] = reversed(path[i : j + 1])
                improved = True
    return improved


def _or_opt(d: Sequence[Sequence[float]], path: list[int]) -> bool:
    """Move a run of 1..3 stops (either way round) to where it shortens the path the most."""
    n = len(path)
    for size in (1, 2, 3):
        for i in range(1, n - size + 1):
            prev, first, last = path[i - 1], path[i], path[i + size - 1]
            nxt = path[i + size] if i + size < n else None
            gain = d[prev][first] - (d[prev][nxt] - d[last][nxt] if nxt is not None else 0.0)
            rest = path[:i] + path[i + size :]
            best, where, flip = gain - _EPSILON_M, -1, False
            for k in range(1, len(rest) + 1):
                if k == i:  # where the run came from
                    continue
                u, v = rest[k - 1], rest[k] if k < len(rest) else None
                for a, b, flipped in ((first, last, False), (last, first, True)):
                    cost = d[u][a] + (d[b][v] - d[u][v] if v is not None else 0.0)
                    if cost < best:
                        best, where, flip = cost, k, flipped
            if where >= 0:
                run = path[i : i + size]
                path[:] = rest[:where] + (run[::-1] if flip else run) + rest[where:]
                return True
    return False


def _exact_path(d: Sequence[Sequence[float]]) -> list[int]:
    """The shortest open path from 0 through every index (Held-Karp, O(n^2 2^n))."""
    n = len(d) - 1
    if n == 0:
        return [0]
    full = (1 << n) - 1
    # cost[mask][j]: the shortest path from 0 through the stops in mask, ending at stop j
    inf = float("inf")
    cost = [[inf] * n for _ in range(full + 1)]
    back = [[-1] * n for _ in range(full + 1)]
    for j in range(n):
        cost[1 << j][j] = d[0][j + 1]
    for mask in range(1, full + 1):
        for j in range(n):
            here = cost[mask][j]
            if here == inf or not mask >> j & 1:
                continue
            for k in range(n):
                if mask >> k & 1:
                    continue
                step = here + d[j + 1][k + 1]
                to = mask | 1 << k
                if step < cost[to][k]:
                    cost[to][k], back[to][k] = step, j
    end = min(range(n), key=lambda j: (cost[full][j], j))
    order, mask = [], full
    while end >= 0:
        order.append(end + 1)
        end, mask = back[mask][end], mask & ~(1 << end)
    return [0, *reversed(order)]


def heuristic_path(d: Sequence[Sequence[float]]) -> list[int]:
    """Nearest neighbour from index 0, then 2-opt and or-opt until no move shortens it."""
    path = _nearest_neighbour(d, len(d))
    while _two_opt(d, path) or _or_opt(d, path):
        pass
    return path


def best_path(d: Sequence[Sequence[float]]) -> list[int]:
    """A short open path from index 0 through every other index of the matrix: the optimum
    up to ``EXACT_UP_TO`` stops (a few milliseconds), the heuristic beyond."""
    return _exact_path(d) if len(d) - 1 <= EXACT_UP_TO else heuristic_path(d)


def plan_route(start: Position, stops: Sequence[Stop]) -> Route:
    """The suggested order of ``stops`` from ``start``, with each leg's distance in metres."""
    keys = [stop.key for stop in stops]
    if len(set(keys)) != len(keys):
        raise ValueError("stop keys must be unique")
    d = _matrix([start, *(stop.position for stop in stops)])
    path = best_path(d)
    legs = tuple(
        Leg(stops[b - 1].key, round(d[a][b], 1)) for a, b in zip(path, path[1:], strict=False)
    )
    return Route(legs=legs, total_m=round(sum(leg.distance_m for leg in legs), 1))


@dataclass(frozen=True)
class DayPlan:
    """The day's route: where it starts, the located stops in order, and the stops without a
    position (left in their planned order, for the rep to place)."""

    start: Position | None
    route: Route
    unlocated: tuple[str, ...]


def plan_day(start: Position | None, visits: Sequence[tuple[str, Position | None]]) -> DayPlan:
    """The route of the day's visits (``(key, account position or None)`` in planned order).

    Without a start point the route starts at the first planned visit that has a position."""
    located = [Stop(key, position) for key, position in visits if position is not None]
    unlocated = tuple(key for key, position in visits if position is None)
    if start is None:
        start = located[0].position if located else None
    if start is None:
        return DayPlan(None, Route(legs=(), total_m=0.0), unlocated)
    return DayPlan(start, plan_route(start, located), unlocated)
