"""The benchmark's summary: a table on stdout and ``docs/benchmarks.md``."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import platform
import pstats
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.measure import Sample
from bench.peer import PeerFigure, pick
from bench.wire import bytes_lines, single_push_lines

if TYPE_CHECKING:
    from bench.sync_bench import BackendResult

KEEP_MARKER = "<!-- everything below this line is hand-written and kept by sync_bench.py -->"
PEER_SOURCE = "../shared/peer-bench/RESULTS.md"
PACKAGES = ("litestar", "uvicorn", "sqlalchemy", "msgspec", "httpx", "asyncpg", "aiosqlite")
# issue 4's targets (stated for PostgreSQL on this 2-core machine)
TARGET_RATE = 25_000.0
TARGET_NOOP = 0.005
TARGET_CHANGE = 0.030
TARGET_PUSH = 0.500
# "flat": ten times the records may cost at most this factor of peak server RSS
TARGET_MEMORY_RATIO = 1.25


@dataclass
class Figure:
    """One row of a result table."""

    name: str
    samples: list[Sample]
    target: str = ""
    ok: bool | None = None

    def seconds(self) -> list[float]:
        """The wall times of every sample."""
        return [s.seconds for s in self.samples]


def median(values: Sequence[float]) -> float:
    """The median, 0 for nothing."""
    return statistics.median(values) if values else 0.0


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)] if ordered else 0.0


def fmt_time(seconds: float) -> str:
    """``5.36 s`` / ``73.7 ms``."""
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def figures(result: BackendResult) -> list[Figure]:
    """The rows of a backend's table, with their targets."""
    rows: list[Figure] = []
    seeded = result.seeded
    if result.initial:
        rate = median([s.rate for s in result.initial])
        rows.append(Figure(f"a. initial sync of the rep's scope ({result.initial[0].records:,}"
                           " records)", result.initial, f">= {TARGET_RATE:,.0f} records/s",
                           rate >= TARGET_RATE))
    if result.noop:
        rows.append(Figure("b. pull with nothing new", result.noop,
                           f"median <= {TARGET_NOOP * 1000:.0f} ms",
                           median([s.seconds for s in result.noop]) <= TARGET_NOOP))
    if result.change100:
        rows.append(Figure(f"c. pull of {result.change100[0].records} changed records",
                           result.change100, f"<= {TARGET_CHANGE * 1000:.0f} ms",
                           median([s.seconds for s in result.change100]) <= TARGET_CHANGE))
    if result.push:
        rows.append(Figure(f"d. push of {result.push[0].records:,} offline mutations",
                           result.push, f"<= {TARGET_PUSH * 1000:.0f} ms",
                           median([s.seconds for s in result.push]) <= TARGET_PUSH))
        rows.append(Figure("d'. the sync after each push (pulls the pushed records back)",
                           result.after_push))
    if result.mem_big is not None and seeded is not None:
        rows.append(Figure(f"e. admin's initial sync of everything "
                           f"({result.mem_big.records:,} records)", [result.mem_big]))
    return rows


def memory_ratio(result: BackendResult) -> float | None:
    """Peak server RSS of the admin's sync over the rep's (each on a fresh process)."""
    small, big = result.mem_small, result.mem_big
    if small is None or big is None or not small.peak_rss_mib:
        return None
    return big.peak_rss_mib / small.peak_rss_mib


def _rate(samples: list[Sample]) -> str:
    if not any(s.records for s in samples) or len(samples) == 0:
        return "—"
    rates = [s.rate for s in samples]
    spread = f" ({min(rates):,.0f}–{max(rates):,.0f})" if len(rates) > 1 else ""
    return f"{median(rates):,.0f}/s{spread}"


def table(result: BackendResult) -> list[str]:
    """A backend's markdown table."""
    lines = ["| figure | samples | median | p95 | min | max | records/s: median (min–max) "
             "| HTTP requests | MB in / out | CPU server / SDK | target | pass |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for fig in figures(result):
        secs, samples = fig.seconds(), fig.samples
        mb_in = median([s.bytes_in for s in samples]) / 1e6
        mb_out = median([s.bytes_out for s in samples]) / 1e6
        ok = "" if fig.ok is None else ("**pass**" if fig.ok else "**FAIL**")
        lines.append(
            f"| {fig.name} | {len(secs)} | **{fmt_time(median(secs))}** | {fmt_time(p95(secs))} "
            f"| {fmt_time(min(secs))} | {fmt_time(max(secs))} | {_rate(samples)} "
            f"| {median([s.requests for s in samples]):.0f} | {mb_in:.2f} / {mb_out:.2f} "
            f"| {fmt_time(median([s.server_cpu for s in samples]))} / "
            f"{fmt_time(median([s.client_cpu for s in samples]))} | {fig.target} | {ok} |"
        )
    return lines


def memory_lines(result: BackendResult) -> list[str]:
    """The memory-flatness paragraph of a backend."""
    small, big, ratio = result.mem_small, result.mem_big, memory_ratio(result)
    if small is None or big is None or ratio is None:
        return ["Memory: not measured (the run did not get that far)."]
    ok = ratio <= TARGET_MEMORY_RATIO
    return [
        "| initial sync on a fresh server process | records | peak server RSS (sampled every "
        "50 ms) | server VmHWM after |",
        "|---|---|---|---|",
        f"| the rep's scope | {small.records:,} | {small.peak_rss_mib:.0f} MiB "
        f"| {small.hwm_mib:.0f} MiB |",
        f"| an admin's scope (everything) | {big.records:,} | {big.peak_rss_mib:.0f} MiB "
        f"| {big.hwm_mib:.0f} MiB |",
        "",
        f"Ratio of the peaks: **{ratio:.2f}** for {big.records / max(small.records, 1):.1f}x the "
        f"records (target: flat, taken as <= {TARGET_MEMORY_RATIO}): "
        f"**{'pass' if ok else 'FAIL'}**.",
    ]


def print_summary(results: list[BackendResult], args: argparse.Namespace) -> None:
    """The summary table on stdout."""
    print("\n" + "=" * 100)
    print(f"{'backend':<11} {'figure':<52} {'median':>9} {'min':>9} {'max':>9}  target")
    for result in results:
        if result.error:
            print(f"{result.backend:<11} FAILED: {result.error}")
        for fig in figures(result):
            secs = fig.seconds()
            verdict = "" if fig.ok is None else ("pass" if fig.ok else "FAIL")
            rate = f" [{_rate(fig.samples)}]" if fig.samples[0].records > 1000 else ""
            print(f"{result.backend:<11} {fig.name[:52]:<52} {fmt_time(median(secs)):>9} "
                  f"{fmt_time(min(secs)):>9} {fmt_time(max(secs)):>9}  {fig.target} "
                  f"{verdict}{rate}")
        ratio = memory_ratio(result)
        if ratio is not None and result.mem_small and result.mem_big:
            print(f"{result.backend:<11} {'e. peak server RSS rep -> admin':<52} "
                  f"{result.mem_small.peak_rss_mib:>6.0f} MiB -> {result.mem_big.peak_rss_mib:.0f}"
                  f" MiB, ratio {ratio:.2f} "
                  f"{'pass' if ratio <= TARGET_MEMORY_RATIO else 'FAIL'}")
    print("=" * 100)


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu, mem_kib = "?", 0
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo
                   if line.startswith("model name"))
        mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    return [f"- {os.cpu_count()} CPUs ({cpu}), {mem_kib / 1048576:.0f} GiB RAM, Linux "
            f"{platform.release()}",
            f"- Python {platform.python_version()}; {', '.join(versions)}"]


def _peer_ratio(ours: float, theirs: float | None, higher_is_better: bool = False) -> str:
    if theirs is None or not ours:
        return "—"
    ratio = ours / theirs if higher_is_better else theirs / ours
    return f"{ratio:.1f}x"


def peer_lines(results: list[BackendResult], ref: list[PeerFigure],
               now: list[PeerFigure] | None, error: str | None) -> list[str]:
    """Outpost next to the PouchDB peer: the peer's recorded figures, and a same-sitting run."""
    sources: list[tuple[str, list[PeerFigure], int | None]] = []
    if ref:
        sources += [(f"peer, {PEER_SOURCE}, 100,000 docs", ref, 100_000),
                    (f"peer, {PEER_SOURCE}, 10,000 docs", ref, 10_000)]
    if now:
        sources.append(("peer, run in this sitting, 10,000 docs", now, 10_000))
    if not sources:
        return ["The peer's figures were not found."]
    done = [r for r in results if r.error is None or r.initial]
    head = "| figure | " + " | ".join(f"Outpost {r.backend}" for r in done)
    head += " | " + " | ".join(s[0] for s in sources) + " | peer / Outpost (best backend) |"
    lines = [head, "|" + "---|" * (2 + len(done) + len(sources))]
    spec: list[tuple[str, str, Callable[[BackendResult], list[Sample]], bool]] = [
        ("initial sync, records/s (more is better)", "initial", lambda r: r.initial, True),
        ("initial sync, HTTP requests per 10,000 records", "initial", lambda r: r.initial,
         False),
        ("pull with nothing new", "noop_pull", lambda r: r.noop, False),
        ("pull of 100 changes", "change100", lambda r: r.change100, False),
        ("push of 1,000 offline edits", "push1000", lambda r: r.push, False),
    ]
    for label, name, get, is_rate in spec:
        ours: list[float] = []
        cells = []
        for result in done:
            samples = get(result)
            if not samples:
                cells.append("—")
                ours.append(0.0)
            elif "requests" in label:
                per = median([s.requests / max(s.records, 1) * 10_000 for s in samples])
                ours.append(per)
                cells.append(f"{per:,.1f}")
            elif is_rate:
                ours.append(median([s.rate for s in samples]))
                cells.append(f"{ours[-1]:,.0f}/s")
            else:
                ours.append(median([s.seconds for s in samples]))
                cells.append(fmt_time(ours[-1]))
        theirs_cells, ratios = [], []
        for _, figs, docs in sources:
            fig = pick(figs, name, docs)
            if fig is None:
                theirs_cells.append("—")
                continue
            if "requests" in label:
                value = fig.requests / fig.docs * 10_000
                theirs_cells.append(f"{value:,.0f}")
            elif is_rate:
                value = fig.docs / fig.median
                theirs_cells.append(f"{value:,.0f}/s ({fmt_time(fig.median)})")
            else:
                value = fig.median
                theirs_cells.append(f"{fmt_time(value)} ({fmt_time(fig.low)}–"
                                    f"{fmt_time(fig.high)})")
            valid = [o for o in ours if o]
            if valid:
                best = max(valid) if is_rate else min(valid)
                ratios.append(_peer_ratio(best, value, higher_is_better=is_rate))
        lines.append(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(theirs_cells)
                     + f" | {' / '.join(ratios) or '—'} |")
    if error:
        lines += ["", f"The same-sitting peer run failed: `{error}`."]
    return lines


def write_markdown(path: Path, results: list[BackendResult], args: argparse.Namespace,
                   command: str, ref: list[PeerFigure], now: list[PeerFigure] | None,
                   peer_error: str | None) -> None:
    """Write the report; a hand-written tail after ``KEEP_MARKER`` in the old file is kept."""
    kept = ""
    if path.exists():
        old = path.read_text()
        if KEEP_MARKER in old:
            kept = old.split(KEEP_MARKER, 1)[1]
    out: list[str] = [
        "# Benchmarks", "",
        "Generated by `bench/sync_bench.py` (the part above the marker line; the analysis below "
        "it is written by hand). Reproduce with `make bench`, or:", "",
        "```", "python bench/sync_bench.py                 # both backends, 20,000 records in a "
        "scope, 200,000 in the database, 5 repetitions",
        "python bench/sync_bench.py --quick         # a smoke pass (2,000 in 20,000)",
        "python bench/sync_bench.py --backend postgresql --peer   # also the PouchDB peer, "
        "same sitting",
        "python bench/sync_bench.py --backend postgresql --profile prof/   # cProfile server "
        "and SDK",
        "```", "",
        "What runs: a fresh database per backend (SQLite file in a temp dir; PostgreSQL database "
        "`outpost_bench_<random>` on 127.0.0.1, dropped afterwards), migrated and seeded through "
        "the sync engine's bulk path (`ChangeWriter.create_many`), then `VACUUM ANALYZE`d "
        "(`ANALYZE` on SQLite), as after any bulk load; a real server process "
        "(`uvicorn server.cli:app_from_env --factory`, one worker) on a free 127.0.0.1 port; the "
        "real SDK (`client_sdk.OutpostClient`, its default `httpx.Client`, a fresh local SQLite "
        "file per device) logged in as a rep whose two territories hold the scope: accounts, "
        "contacts (2 per account), visits (1.25 per account) and orders with 3 lines each "
        "(0.75 per account). Requests and bytes are counted by httpx event hooks on the SDK's "
        "client; server CPU and RSS come from `/proc/<pid>/`. (c) edits 50 accounts and 50 "
        "contacts through `ChangeWriter.update` from the benchmark process (its own database "
        "connection), then times the SDK's `sync()`. (d) makes 1,000 offline edits with the SDK "
        "(200 creates of contacts, 400 contact and 400 account edits) and times the SDK's push "
        "loop alone; the sync after it is reported as d'. (e) runs on two fresh server processes: "
        "the rep's first initial sync, and an admin's (whose scope is every territory).", "",
        f"## Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", "",
        f"Command: `{command}`", "",
        *machine(),
    ]
    for result in results:
        out.append(f"- {result.backend}: {result.version or '?'}; schema by "
                   f"{result.schema or '?'}")
    for result in results:
        out += ["", f"### {result.backend}", ""]
        seeded = result.seeded
        if seeded is not None:
            out.append(f"Seeded {seeded.total_records:,} records ({seeded.scope_records:,} in the "
                       f"rep's scope) plus {seeded.territories} territory nodes and "
                       f"{seeded.global_records} catalog records (everyone holds those), in "
                       f"{result.seed_seconds:.1f} s.")
            out.append("")
        if result.load:
            loads = " -> ".join(f"{value:.1f}" for value in result.load)
            out += [f"1-minute load average at the start, middle and end of the measurements: "
                    f"{loads} (this machine has {os.cpu_count()} CPUs; the server and the SDK "
                    "use one each, so anything above 2 slows every figure).", ""]
        if result.error:
            out += [f"**The run failed:** `{result.error}`", ""]
        out += table(result)
        out += ["", *memory_lines(result)]
        if result.sql:
            out += ["", "SQL the server ran per operation (`--sql-stats`; the time runs from the "
                    "driver call to its result):", "", *result.sql]
        if result.single is not None:
            out += ["", *single_push_lines(result.single)]
        if result.wire is not None:
            out += ["", *bytes_lines(result.wire, result.initial)]
        if result.push_edit_seconds:
            out += ["", f"Making the {result.push[0].records:,} offline edits locally with the "
                    f"SDK took median {fmt_time(median(result.push_edit_seconds))} (not in d)."]
    out += ["", "## Targets (issue 4; stated for PostgreSQL on this 2-core machine)", "",
            "| target | " + " | ".join(r.backend for r in results) + " |",
            "|---|" + "---|" * len(results)]
    names = ("a. initial", "b. pull", "c. pull", "d. push")
    for index, label in enumerate(("initial sync >= 25,000 records/s end to end",
                                   "no-op pull median <= 5 ms", "100-change pull <= 30 ms",
                                   "1,000-mutation push <= 500 ms")):
        cells = []
        for result in results:
            fig = next((f for f in figures(result) if f.name.startswith(names[index])), None)
            if fig is None:
                cells.append("not measured")
                continue
            value = (f"{median([s.rate for s in fig.samples]):,.0f}/s" if index == 0
                     else fmt_time(median(fig.seconds())))
            cells.append(f"{value}: {'pass' if fig.ok else '**FAIL**'}")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    mem_cells = []
    for result in results:
        ratio = memory_ratio(result)
        mem_cells.append("not measured" if ratio is None else
                         f"ratio {ratio:.2f}: "
                         f"{'pass' if ratio <= TARGET_MEMORY_RATIO else '**FAIL**'}")
    out.append("| server memory flat from the rep's scope to everything | "
               + " | ".join(mem_cells) + " |")
    out += ["", "## Against the CouchDB/PouchDB peer", "",
            f"The peer's figures are quoted from `{PEER_SOURCE}` (PouchDB 9 replicating from "
            "express-pouchdb over 127.0.0.1 on this machine; its `e′` no-op pull-only, `c` and `d` "
            "rows). The last column is the peer's time over Outpost's (for records/s, Outpost's "
            "over the peer's), one ratio per peer column, against the better Outpost backend.",
            "", *peer_lines(results, ref, now, peer_error), ""]
    text = scrub("\n".join(out)) + "\n\n" + KEEP_MARKER + (kept or "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def scrub(text: str) -> str:
    """No absolute path of this machine in the report (error messages may carry some)."""
    root = Path(__file__).resolve().parent.parent
    text = text.replace(str(root), ".").replace(str(root.parent), "..")
    text = re.sub(r"/tmp/[^\s`'\"]*", "<tmp>", text)
    return text.replace(str(Path.home()), "~")


def profile_summary(path: Path, title: str, limit: int = 25) -> str:
    """The top functions of a cProfile dump, by own time and by cumulative time."""
    if not path.exists():
        return f"(no profile at {path.name})"
    buffer = io.StringIO()
    stats = pstats.Stats(str(path), stream=buffer)
    stats.strip_dirs()
    buffer.write(f"\n----- {title}: by own time\n")
    stats.sort_stats("tottime").print_stats(limit)
    buffer.write(f"\n----- {title}: by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(limit)
    return buffer.getvalue()


def sql_summary(path: Path, top: int = 4) -> list[str]:
    """Per operation: SQL statements the server ran and the time they took (``--sql-stats``)."""
    if not path.exists():
        return []
    ops: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if entry["label"] != "between":
            ops.setdefault(entry["label"], []).append(entry)
    lines = ["| operation | runs | statements per run | rows bound per run | time in SQL per run "
             "| top statements (calls per run, time per run) |", "|---|---|---|---|---|---|"]
    for label, entries in ops.items():
        runs = len(entries)
        merged: dict[str, list[float]] = {}
        for entry in entries:
            for st in entry["statements"]:
                slot = merged.setdefault(st["sql"], [0, 0.0, 0])
                slot[0] += st["calls"]
                slot[1] += st["seconds"]
                slot[2] += st["rows"]
        calls = sum(v[0] for v in merged.values()) / runs
        rows = sum(v[2] for v in merged.values()) / runs
        seconds = sum(v[1] for v in merged.values()) / runs
        tops = sorted(merged.items(), key=lambda item: -item[1][1])[:top]
        shown = "<br>".join(f"`{sql[:70]}` ({v[0] / runs:,.0f}, {fmt_time(v[1] / runs)})"
                            for sql, v in tops)
        lines.append(f"| {label} | {runs} | {calls:,.0f} | {rows:,.0f} | {fmt_time(seconds)} "
                     f"| {shown} |")
    return lines
