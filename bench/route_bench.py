"""How long the day's route (``rules.routes.plan_route``) takes for 50 stops.

Run ``python -m bench.route_bench``.

Random days of stops scattered over a 30 x 30 km city, a fixed seed; prints the median, the 95th
percentile and the worst of ``--runs`` plans, wall-clock and CPU time of the planning thread (the
CPU figure is hardly inflated by other work on a shared machine), and the load average (quoted in
docs/visits.md and docs/benchmarks.md). Pure CPU, no database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from rules.routes import Stop, plan_route

CENTRE = (31.2304, 121.4737)


def random_day(rng: random.Random, stops: int) -> list[Stop]:
    """``stops`` stops around the centre."""
    return [
        Stop(f"s{i}", (CENTRE[0] + rng.uniform(-0.15, 0.15), CENTRE[1] + rng.uniform(-0.15, 0.15)))
        for i in range(stops)
    ]


def main() -> None:
    """Time ``--runs`` plans of ``--stops`` stops and print the figures in milliseconds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stops", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    timings, cpu = [], []
    for _ in range(args.runs):
        day = random_day(rng, args.stops)
        started, started_cpu = time.perf_counter(), time.thread_time()
        plan_route(CENTRE, day)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    for name, values in (("wall", timings), ("CPU", cpu)):
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        print(
            f"{args.stops} stops, {args.runs} runs, {name}: median "
            f"{statistics.median(values):.1f} ms, p95 {p95:.1f} ms, max {values[-1]:.1f} ms"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
