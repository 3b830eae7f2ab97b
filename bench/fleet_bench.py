"""The fleet benchmark (issue 17): many devices pulling with nothing new, on PostgreSQL.

    python bench/fleet_bench.py            # 500 devices, 30 s phases, 1 and 2 server processes
    python bench/fleet_bench.py --quick    # 100 devices, 5 s phases (a smoke pass)

A fresh database gets ``--devices`` reps (distinct users, devices and tokens, 10 to a territory
of 4 accounts: a small scope), each synced once. Then, against 1 and 2 server processes
(``uvicorn server.cli:app_from_env``, as ``outpost serve`` runs the app, with the access log on)
on one PostgreSQL, every device repeats for ``--seconds``: ``GET /health`` (the framework's
floor), a no-op ``POST /sync/pull``, and the pull again while ``--pushers`` devices push
``--mutations`` account creations each, one mutation per request. Each device sends its next
request ``--interval`` seconds after the previous one started (at once when it is late), so
the offered rate is ``devices / interval`` and latency is not just queueing of a closed loop.
The load generator (``bench.fleet_load``) runs in ``--generators`` processes on the same
machine. Results go to stdout and to ``docs/benchmarks.md`` under "Fleet (issue 17)".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.database import PG_ADMIN_DSN, BenchDatabase  # noqa: E402
from bench.fleet_load import Job, Tally, load, sequential  # noqa: E402
from bench.fleet_seed import FleetDevice, seed_fleet  # noqa: E402
from bench.report import machine  # noqa: E402
from bench.server_proc import ServerProcess  # noqa: E402
from protocol.hlc import Clock  # noqa: E402
from protocol.sync import SCHEMA_VERSION  # noqa: E402
from server.app import build_writer  # noqa: E402
from server.db import Database, create_engine  # noqa: E402

HEADING = "## Fleet (issue 17)"
STAMP = "%Y-%m-%d %H:%M UTC"


@dataclass
class Phase:
    """One measured phase."""

    name: str
    servers: int
    seconds: float
    tally: Tally
    cpu: float  # server CPU seconds (all server processes)
    sessions: int  # PostgreSQL sessions opened during the phase
    pushes: int = 0
    push_errors: int = 0

    @property
    def requests(self) -> int:
        return len(self.tally.latencies)

    def row(self) -> str:
        lat = sorted(self.tally.latencies)
        n = max(1, len(lat))

        def p(q: float) -> float:
            return lat[min(n - 1, int(q * n))] * 1000 if lat else 0.0

        bad = (
            sum(c for s, c in self.tally.statuses.items() if s not in (200, 503))
            + self.tally.errors
        )
        return (
            f"| {self.name} | {self.servers} | {self.requests / self.seconds:,.0f} "
            f"| {p(0.5):.1f} | {p(0.99):.1f} | {(lat[-1] * 1000 if lat else 0):.0f} "
            f"| {bad} | {self.tally.refused} | {self.cpu / n * 1000:.2f} | {self.sessions} "
            f"| {self.tally.bytes_out / n:.0f} / {self.tally.bytes_in / n:.0f} |"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--interval",
        type=float,
        default=0.25,
        help="seconds between one device's requests (offered rate = devices/it)",
    )
    parser.add_argument("--pushers", type=int, default=50)
    parser.add_argument("--mutations", type=int, default=10)
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="100 devices, 5 s phases")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.devices, args.seconds, args.pushers = 100, 5.0, 10
        args.sequential = 300
    return args


async def _pg_sessions(name: str) -> int:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        value = await conn.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", name
        )
        return int(value or 0)
    finally:
        await conn.close()


def sessions(db: BenchDatabase) -> int:
    """Sessions ever opened on the bench database (statistics lag by up to 0.5 s)."""
    assert db.pg_name is not None
    time.sleep(0.6)
    return asyncio.run(_pg_sessions(db.pg_name))


def pusher(
    base: str,
    device: FleetDevice,
    first_mid: int,
    count: int,
    seconds: float,
    outcome: list[int],
) -> None:
    """``count`` single-mutation pushes spread over ``seconds`` (a phone pushing each edit);
    a 503 ``overloaded`` is retried after its Retry-After, like the SDK."""
    clock = Clock(device.device_id)
    with httpx.Client(
        base_url=base, timeout=30, headers={"Authorization": f"Bearer {device.token}"}
    ) as client:
        for mid in range(first_mid, first_mid + count):
            started = time.monotonic()
            body = {
                "device_id": device.device_id,
                "schema_version": SCHEMA_VERSION,
                "mutations": [
                    {
                        "mid": mid,
                        "entity": "account",
                        "id": str(uuid.uuid4()),
                        "op": "upsert",
                        "hlc": clock.tick(),
                        "changes": {
                            "name": f"Fleet shop {mid}",
                            "territory_id": device.territory_id,
                        },
                    }
                ],
            }
            response = client.post("/sync/push", json=body)
            while response.status_code == 503:
                time.sleep(float(response.headers.get("retry-after", "1")))
                response = client.post("/sync/push", json=body)
            ok = response.status_code == 200 and all(
                r["status"] == "applied" for r in response.json()["results"]
            )
            outcome.append(1 if ok else 0)
            time.sleep(max(0.0, seconds / count - (time.monotonic() - started)))


def run_phase(
    name: str,
    servers: list[ServerProcess],
    db: BenchDatabase,
    jobs: list[Job],
    args: argparse.Namespace,
    pushers: list[tuple[str, FleetDevice]] = (),
    first_mid: int = 1,
) -> Phase:
    before_cpu = sum(s.cpu() for s in servers)
    before_sessions = sessions(db)
    outcome: list[int] = []
    threads = [
        threading.Thread(
            target=pusher,
            args=(base, device, first_mid, args.mutations, args.seconds * 0.9, outcome),
        )
        for base, device in pushers
    ]
    for thread in threads:
        thread.start()
    tally = load(jobs, args.seconds, processes=args.generators, interval=args.interval)
    for thread in threads:
        thread.join()
    cpu = sum(s.cpu() for s in servers) - before_cpu
    phase = Phase(
        name,
        len(servers),
        args.seconds,
        tally,
        cpu,
        sessions(db) - before_sessions,
        pushes=len(outcome),
        push_errors=outcome.count(0),
    )
    print(phase.row(), flush=True)
    return phase


def start_servers(count: int, url: str, secret: str, work: Path) -> list[ServerProcess]:
    procs = []
    for index in range(count):
        proc = ServerProcess(ROOT, url, work / f"server-{count}-{index}.log")
        proc.env["OUTPOST_SECRET_KEY"] = secret
        # as `outpost serve` runs it: uvicorn's access log off (the app writes its own, to the
        # process's log file), keep-alive at the default keepalive_seconds
        proc.command += ["--timeout-keep-alive", "75"]
        proc.start()
        procs.append(proc)
    return procs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.gettempdir()) / f"outpost-fleet-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    db = BenchDatabase("postgresql")
    url = db.create()
    phases: list[Phase] = []
    seq: dict[str, tuple[float, float]] = {}
    try:
        db.migrate(ROOT)
        secret = os.urandom(16).hex()
        fleet = asyncio.run(_seed(url, args.devices, secret))
        print(f"seeded {len(fleet)} devices", flush=True)
        for count in (1, 2):
            servers = start_servers(count, url, secret, work)
            try:
                ports = [s.port for s in servers]
                jobs = [Job(ports[i % count], d.token, d.device_id) for i, d in enumerate(fleet)]
                if count == 1:
                    synced = load(jobs, 300, processes=args.generators, mode="sync")
                    cursors = synced.cursors
                    print(f"initial syncs: {dict(synced.statuses)}", flush=True)
                    seq = measure_sequential(servers[0], fleet[-1], cursors, args.sequential)
                for job in jobs:
                    job.cursor = cursors[job.device_id]
                health = [Job(j.port, j.token, j.device_id, path="/health") for j in jobs]
                phases.append(run_phase("GET /health", servers, db, health, args))
                phases.append(run_phase("no-op pull", servers, db, jobs, args))
                pushing = [
                    (servers[i % count].base_url, d) for i, d in enumerate(fleet[: args.pushers])
                ]
                phases.append(
                    run_phase(
                        f"pull + {args.pushers} pushers",
                        servers,
                        db,
                        jobs[args.pushers :],
                        args,
                        pushing,
                        first_mid=(count - 1) * args.mutations + 1,
                    )
                )
            finally:
                for server in servers:
                    server.stop()
    finally:
        db.drop()
    lines = report(args, phases, seq)
    print("\n".join(lines))
    if not args.no_write and not args.quick:
        write_section(ROOT / "docs" / "benchmarks.md", lines)
    return 0


async def _seed(url: str, devices: int, secret: str) -> list[FleetDevice]:
    database = Database(create_engine(url))
    try:
        return await seed_fleet(database, build_writer(), devices=devices, secret_key=secret)
    finally:
        await database.dispose()


def measure_sequential(
    server: ServerProcess, device: FleetDevice, cursors: dict[str, Any], count: int
) -> dict[str, tuple[float, float]]:
    """Median latency (ms) and server CPU per request (ms) of ``count`` requests in a row."""
    found = {}
    for path in ("/health", "/sync/pull"):
        job = Job(server.port, device.token, device.device_id, cursors[device.device_id], path)
        sequential(job, 100)  # warm up
        before = server.cpu()
        latencies = sequential(job, count)
        cpu = (server.cpu() - before) / count * 1000
        found[path] = (statistics.median(latencies) * 1000, cpu)
        print(f"sequential {path}: median {found[path][0]:.2f} ms, CPU {cpu:.2f} ms", flush=True)
    return found


def report(
    args: argparse.Namespace, phases: list[Phase], seq: dict[str, tuple[float, float]]
) -> list[str]:
    lines = [
        HEADING,
        "",
        f"`python bench/fleet_bench.py` (`make bench`), {time.strftime(STAMP, time.gmtime())}; "
        f"{args.devices} devices (distinct users and tokens, 10 reps to a territory of 4 "
        f"accounts, each synced once), {args.seconds:.0f} s per phase, one request per device "
        f"every {args.interval} s at most (offered {args.devices / args.interval:,.0f}/s), "
        f"load generator in {args.generators} processes on the same machine, PostgreSQL 15 on "
        "loopback. **The machine was shared with other helpers' test runs and benchmarks "
        "while this ran (load average well above its 2 cores): every figure is inflated.**",
        "",
        *machine(),
        "",
        "| phase | server processes | answered/s | p50 ms | p99 ms | max ms | errors "
        "| 503 overloaded "
        "| server CPU ms/request | PostgreSQL sessions opened | bytes out / in per request |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(phase.row() for phase in phases),
        "",
    ]
    for phase in phases:
        if phase.pushes:
            lines.append(
                f"- {phase.name} ({phase.servers} process(es)): {phase.pushes} pushes, "
                f"{phase.push_errors} not applied."
            )
    for path, (median, cpu) in seq.items():
        lines.append(
            f"- sequential {path} (one device, one kept-alive connection, one "
            f"process): median {median:.2f} ms, server CPU {cpu:.2f} ms per request."
        )
    return lines


def write_section(path: Path, lines: list[str]) -> None:
    """Replace (or append) the fleet section of ``docs/benchmarks.md``."""
    text = path.read_text() if path.exists() else ""
    start = text.find(HEADING)
    section = "\n".join(lines) + "\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    path.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
