"""The sync benchmark: a real server process, the real SDK, SQLite and PostgreSQL.

    python bench/sync_bench.py                      # both backends, 20,000 in 200,000, 5 reps
    python bench/sync_bench.py --quick              # a smoke pass of a minute or two
    python bench/sync_bench.py --backend postgresql --peer   # and the PouchDB peer, same sitting

Per backend: a fresh database, migrated and seeded through ``ChangeWriter.create_many``; a server
process (uvicorn) on a free 127.0.0.1 port; then, timed with the SDK: (a) initial syncs of the
rep's scope, (b) no-op pulls, (c) pulls of 100 server-side changes, (d) pushes of 1,000 offline
mutations; (e) on two fresh server processes, the peak RSS of an initial sync of the rep's scope
and of an admin's (everything). Results go to stdout and to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from bench import peer  # noqa: E402
from bench.database import BenchDatabase  # noqa: E402
from bench.measure import Bench, Sample  # noqa: E402
from bench.report import (  # noqa: E402
    print_summary,
    profile_summary,
    sql_summary,
    write_markdown,
)
from bench.seed import ADMIN_EMAIL, PASSWORD, REP_EMAIL, Seeded, change_records, seed  # noqa: E402
from bench.server_proc import ServerProcess  # noqa: E402
from bench.wire import SinglePush, WireBytes, statement_counts, wire_bytes  # noqa: E402
from server.app import build_registry  # noqa: E402
from server.db import Database, create_engine  # noqa: E402
from server.sync.writer import ChangeWriter  # noqa: E402


@dataclass
class BackendResult:
    """Everything measured on one backend."""

    backend: str
    version: str = ""
    schema: str = ""
    seeded: Seeded | None = None
    seed_seconds: float = 0.0
    initial: list[Sample] = field(default_factory=list)
    noop: list[Sample] = field(default_factory=list)
    change100: list[Sample] = field(default_factory=list)
    push: list[Sample] = field(default_factory=list)
    push_edit_seconds: list[float] = field(default_factory=list)
    after_push: list[Sample] = field(default_factory=list)
    single: SinglePush | None = None
    wire: WireBytes | None = None
    mem_small: Sample | None = None
    mem_big: Sample | None = None
    sql: list[str] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average, per stage
    error: str | None = None

    def fail(self, message: str) -> None:
        """Record a failed stage (the run goes on with the next one)."""
        message = message if len(message) <= 600 else message[:600] + " ..."
        print(f"!!! {self.backend}: {message}", flush=True)
        self.error = message if self.error is None else f"{self.error}; {message}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scope", type=int, help="records in the rep's scope (20,000)")
    parser.add_argument("--total", type=int, help="records in the database (200,000)")
    parser.add_argument("--reps", type=int, help="repetitions of each figure (5)")
    parser.add_argument("--noop", type=int, help="no-op pulls to time (200)")
    parser.add_argument("--changes", type=int, default=100, help="server-side changes to pull")
    parser.add_argument("--push", type=int, default=1000, help="offline mutations to push")
    parser.add_argument("--single", type=int, help="pushes of one mutation to time (50)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke pass: 2,000 in 20,000, 2 reps, 10 no-op pulls")
    parser.add_argument("--out", default=None,
                        help="markdown report (default docs/benchmarks.md; none with --profile)")
    parser.add_argument("--no-out", action="store_true", help="write no report")
    parser.add_argument("--peer", action="store_true",
                        help="also run the PouchDB peer's quick pass (a few minutes)")
    parser.add_argument("--peer-dir", default=str(ROOT.parent / "shared" / "peer-bench"))
    parser.add_argument("--profile", metavar="DIR",
                        help="cProfile the server and the SDK's first initial sync into DIR")
    parser.add_argument("--sql-stats", action="store_true",
                        help="time every SQL statement in the server, per operation")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=int, default=3600, help="give up after this many s")
    args = parser.parse_args(argv)
    # --quick changes the defaults; flags given explicitly still win
    defaults = (2_000, 20_000, 2, 10, 10) if args.quick else (20_000, 200_000, 5, 200, 50)
    for name, value in zip(("scope", "total", "reps", "noop", "single"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.out is None and not args.profile:
        args.out = str(ROOT / "docs" / "benchmarks.md")
    if args.no_out:
        args.out = None
    if args.total < args.scope:
        parser.error("--total must be at least --scope")
    return args


def run_backend(args: argparse.Namespace, backend: str, work: Path) -> BackendResult:
    """Seed, serve and measure one backend; the database and servers are removed at the end."""
    result = BackendResult(backend)
    database = BenchDatabase(backend)
    profile_dir = Path(args.profile) if args.profile else None
    try:
        print(f"\n=== {backend}: creating and migrating a fresh database", flush=True)
        url = database.create()
        database.migrate(ROOT)
        result.version, result.schema = database.version(), database.schema_note
        print(f"=== {backend}: seeding {args.scope:,} records in the rep's scope, "
              f"{args.total:,} in all", flush=True)
        started = time.perf_counter()
        result.seeded = asyncio.run(_seed(url, args))
        result.seed_seconds = time.perf_counter() - started
        print(f"  seeded in {result.seed_seconds:.1f} s", flush=True)
        stats = [work / f"sql-{backend}.jsonl", work / f"sql-{backend}-admin.jsonl"]
        if not args.sql_stats:
            stats = [None, None]
        result.load.append(os.getloadavg()[0])
        for stage in (lambda: measure_rep(args, backend, url, work, result, profile_dir,
                                          stats[0]),
                      lambda: measure_big(url, work, result, backend, stats[1]),
                      lambda: measure_wire(args, url, work, result, backend)):
            try:
                stage()
            except Exception as exc:  # report what we have; the next stage still runs
                result.fail(f"{type(exc).__name__}: {exc}")
            result.load.append(os.getloadavg()[0])
        for path in stats:
            if path is not None:
                lines = sql_summary(path)
                result.sql += lines if not result.sql else lines[2:]
        if result.sql:
            print("\n".join(result.sql), flush=True)
    except Exception as exc:
        result.fail(f"{type(exc).__name__}: {exc}")
    finally:
        database.drop()
    return result


async def _seed(url: str, args: argparse.Namespace) -> Seeded:
    db = Database(create_engine(url))
    try:
        seeded = await seed(db, ChangeWriter(build_registry()), scope=args.scope,
                            total=args.total, seed=args.seed,
                            progress=lambda line: print(line, flush=True))
        # As after any bulk load (and as autovacuum keeps a live server): planner statistics,
        # which right after the seed still describe empty tables, and on PostgreSQL the vacuum
        # autovacuum would otherwise start in the middle of the measurements.
        async with db.engine.connect() as conn:
            if db.dialect == "postgresql":
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE")
            else:
                await conn.exec_driver_sql("ANALYZE")
                await conn.commit()
        return seeded
    finally:
        await db.dispose()


async def _change(url: str, seeded: Seeded, count: int, rng: random.Random) -> int:
    db = Database(create_engine(url))
    try:
        accounts = rng.sample(seeded.rep_account_ids, count // 2)
        contacts = rng.sample(seeded.rep_contact_ids, count - count // 2)
        return await change_records(db, ChangeWriter(build_registry()), accounts, contacts,
                                    f"{rng.random():.6f}")
    finally:
        await db.dispose()


def measure_rep(args: argparse.Namespace, backend: str, url: str, work: Path,
                result: BackendResult, profile_dir: Path | None, stats: Path | None) -> None:
    """Figures (a)-(d) and the small half of (e), on one server process."""
    assert result.seeded is not None
    seeded = result.seeded
    rng = random.Random(args.seed)
    profile = profile_dir / f"server-{backend}.prof" if profile_dir else None
    server = ServerProcess(ROOT, url, work / f"server-{backend}.log", profile_to=profile,
                           stats_to=stats)
    bench = Bench(server, work, PASSWORD)
    try:
        server.start()
        print(f"=== {backend}: server pid {server.pid} on {server.base_url}", flush=True)
        client = None
        for rep in range(args.reps):
            client_profile = (profile_dir / f"sdk-initial-{backend}.prof"
                              if profile_dir and rep == 0 else None)
            sample, client = bench.initial_sync(REP_EMAIL, profile_to=client_profile)
            result.initial.append(sample)
            if rep == 0:
                result.mem_small = sample  # the first sync of a fresh server process
            print(f"  (a) initial sync {rep + 1}/{args.reps}: {sample.records:,} records in "
                  f"{sample.seconds:.2f} s = {sample.rate:,.0f}/s, {sample.requests} requests, "
                  f"server peak RSS {sample.peak_rss_mib:.0f} MiB, CPU server "
                  f"{sample.server_cpu:.2f} s / SDK {sample.client_cpu:.2f} s", flush=True)
        assert client is not None
        for _ in range(args.noop):
            result.noop.append(bench.noop_pull(client))
        print(f"  (b) no-op pull: median {_ms(result.noop)} over {len(result.noop)}", flush=True)
        for rep in range(args.reps):
            sample = bench.change_pull(
                client, lambda: asyncio.run(_change(url, seeded, args.changes, rng)))
            result.change100.append(sample)
            print(f"  (c) pull of {sample.records} changes {rep + 1}/{args.reps}: "
                  f"{sample.seconds * 1000:.1f} ms", flush=True)
        try:
            for rep in range(args.reps):
                pushed, editing, after = bench.push(client, args.push, rng)
                result.push.append(pushed)
                result.push_edit_seconds.append(editing)
                result.after_push.append(after)
                print(f"  (d) push of {pushed.records} mutations {rep + 1}/{args.reps}: "
                      f"{pushed.seconds * 1000:.0f} ms in {pushed.requests} requests, server "
                      f"CPU {pushed.server_cpu:.2f} s (local "
                      f"edits {editing * 1000:.0f} ms; next sync {after.seconds * 1000:.0f} ms, "
                      f"{after.records} records)", flush=True)
        except Exception as exc:  # the push may fail while (e) can still be measured
            result.fail(f"push: {type(exc).__name__}: {exc}")
    finally:
        bench.close()
        server.stop()
    if profile:
        print(profile_summary(profile, f"server ({backend})"), flush=True)
    if profile_dir:
        print(profile_summary(profile_dir / f"sdk-initial-{backend}.prof",
                              f"SDK initial sync ({backend})"), flush=True)


def measure_big(url: str, work: Path, result: BackendResult, backend: str,
                stats: Path | None) -> None:
    """The big half of (e): an admin's initial sync of everything on a fresh server process."""
    server = ServerProcess(ROOT, url, work / f"server-{backend}-admin.log", stats_to=stats)
    bench = Bench(server, work, PASSWORD)
    try:
        server.start()
        sample, _ = bench.initial_sync(ADMIN_EMAIL, label="e. admin's initial sync")
        result.mem_big = sample
        print(f"  (e) admin initial sync: {sample.records:,} records in {sample.seconds:.1f} s "
              f"= {sample.rate:,.0f}/s, {sample.requests} requests, server peak RSS "
              f"{sample.peak_rss_mib:.0f} MiB (VmHWM {sample.hwm_mib:.0f} MiB)", flush=True)
    finally:
        bench.close()
        server.stop()


def measure_wire(args: argparse.Namespace, url: str, work: Path, result: BackendResult,
                 backend: str) -> None:
    """(f) pushes of one mutation, on a server that counts its SQL statements; then the bytes
    per record of an initial sync, per entity, JSON and MessagePack, compressed or not."""
    stats = work / f"sql-{backend}-single.jsonl"
    server = ServerProcess(ROOT, url, work / f"server-{backend}-single.log", stats_to=stats)
    bench = Bench(server, work, PASSWORD)
    rng = random.Random(args.seed + 1)
    try:
        server.start()
        _, client = bench.initial_sync(REP_EMAIL)
        single = SinglePush([bench.single_push(client, rng) for _ in range(args.single)])
        single.statements, single.top = statement_counts(stats, "f. push of one mutation")
        result.single = single
        print(f"  (f) push of one mutation: median {_ms(single.samples)} over "
              f"{len(single.samples)}, {single.statements:.0f} SQL statements per push",
              flush=True)
        assert client.transport.token is not None
        result.wire = wire_bytes(server.base_url, client.transport.token, client.device_id)
        served = ", ".join(f"{k} {v:.0f}" for k, v in result.wire.served.items())
        print(f"  bytes per record of the initial sync as served: {served}", flush=True)
    finally:
        bench.close()
        server.stop()


def _ms(samples: list[Sample]) -> str:
    return f"{statistics.median(s.seconds for s in samples) * 1000:.1f} ms" if samples else "-"


def _timeout(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the benchmark ran past --timeout")


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers and databases go


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every backend completed, 1 otherwise."""
    args = parse_args(argv)
    signal.signal(signal.SIGALRM, _timeout)
    signal.signal(signal.SIGTERM, _terminate)
    signal.alarm(args.timeout)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    command = "python bench/sync_bench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    results: list[BackendResult] = []
    peer_now: list[peer.PeerFigure] | None = None
    peer_error = None
    with tempfile.TemporaryDirectory(prefix="outpost-bench-") as tmp:
        work = Path(tmp)
        for backend in backends:
            results.append(run_backend(args, backend, work))
        if args.peer:
            print("\n=== the PouchDB peer's quick pass (10,000 docs, 1 repetition)", flush=True)
            try:
                peer_now = peer.run_quick(Path(args.peer_dir), work / "peer.log")
            except Exception as exc:
                peer_error = f"{type(exc).__name__}: {exc}"
                print(f"!!! peer run failed: {peer_error}", flush=True)
    signal.alarm(0)
    peer_ref_path = Path(args.peer_dir) / "RESULTS.md"
    peer_ref = peer.parse_results(peer_ref_path.read_text()) if peer_ref_path.exists() else []
    print_summary(results, args)
    if args.out:
        write_markdown(Path(args.out), results, args, command.strip(), peer_ref, peer_now,
                       peer_error)
        print(f"\nwrote {args.out}")
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
