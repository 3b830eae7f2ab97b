"""Realigning a territory of 5,000 accounts: preview, apply, and the two reps' catch-up pulls.

Run ``python -m bench.realign_bench [--backend postgresql|sqlite|both] [--accounts 5000]``.

A fresh, migrated database per backend (``bench/database.py``). The seed (``bench/seed.py``'s
generator, through ``create_many``): territory A holds ``--accounts`` accounts, each with 2
contacts, 1-2 visits and most with an order (5 records per account on average); other
territories hold ``--background`` more accounts the rules never match, so the plan has to skip
them. Rep A works territory A, rep B territory B, each with one device that has pulled its
whole scope. An assignment rule on ``industry`` then points the accounts at B; each run
previews the realignment (``POST /territories/realignments``), applies it (``.../apply``) and
times each device's catch-up (``/sync/pull`` from its cursor until ``has_more`` is false,
5,000 changes a page). The next run retires that rule and activates the one pointing back at
A, so every run moves the whole territory. The app runs in process (Litestar's test client),
as in the tests; the counts each device pulled are checked against the preview's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from bench.database import PG_ADMIN_DSN, BenchDatabase
from bench.seed import Generator
from bench.server_proc import cpu_seconds
from protocol.ids import uuid7
from server.app import build_registry, create_app
from server.auth.models import User
from server.auth.passwords import hash_password
from server.auth.service import issue_token
from server.db import Database, create_engine, utcnow
from server.settings import Settings
from server.sfa.territories.models import TerritoryMember
from server.sync.writer import ChangeWriter

ROOT = Path(__file__).resolve().parent.parent
INDUSTRY = "bench-realign"  # what the rules match; background accounts never carry it
PAGE = 5000


@dataclass
class Company:
    """The seeded ids the runs need."""

    admin: uuid.UUID
    reps: dict[str, uuid.UUID]
    territories: dict[str, uuid.UUID]
    records: int = 0


class CpuMeter:
    """CPU seconds used by this process (the app runs in it) and by the PostgreSQL backends
    serving the benchmark database: unlike wall-clock time, hardly inflated by other work on
    a shared machine."""

    def __init__(self, database: str | None) -> None:
        self.database = database

    async def now(self) -> float:
        total = time.process_time()
        if self.database is not None:
            conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
            try:
                pids = await conn.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
                )
            finally:
                await conn.close()
            total += sum(cpu_seconds(row["pid"]) for row in pids)
        return total


@dataclass
class Run:
    """The figures of one realignment (wall-clock seconds; ``*_cpu``: CPU seconds)."""

    preview: float
    apply: float
    pulls: dict[str, float]
    preview_cpu: float
    apply_cpu: float
    moved: int
    announced: dict[str, tuple[int, int]]
    pulled: dict[str, tuple[int, int]]


@dataclass
class Result:
    """One backend's runs."""

    backend: str
    version: str = ""
    seed_seconds: float = 0.0
    records: int = 0
    runs: list[Run] = field(default_factory=list)


async def _seed(url: str, accounts: int, background: int) -> Company:
    db = Database(create_engine(url))
    writer = ChangeWriter(build_registry())
    now = utcnow()
    try:
        names = ("region", "A", "B", "other")
        ids = {name: uuid7() for name in names}
        tree = [{"id": ids["region"], "name": "Region", "level": "region", "parent_id": None}]
        tree += [
            {
                "id": ids[n],
                "name": f"Territory {n}",
                "level": "territory",
                "parent_id": ids["region"],
            }
            for n in names[1:]
        ]
        password = hash_password("bench-password")
        users = {"admin": uuid7(), "A": uuid7(), "B": uuid7(), "other": uuid7()}
        product = uuid7()
        async with db.transaction() as session:
            await session.execute(
                sa.insert(User.__table__),
                [
                    {
                        "id": uid,
                        "email": f"realign-{name}@outpost.example",
                        "name": name,
                        "role": "admin" if name == "admin" else "rep",
                        "manager_id": None,
                        "password_hash": password,
                        "timezone": "UTC",
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for name, uid in users.items()
                ],
            )
            for level in ("region", "territory"):
                rows = [t for t in tree if t["level"] == level]
                await writer.create_many(session, "territory", rows, principal=None)
            await session.execute(
                sa.insert(TerritoryMember.__table__),
                [
                    {"territory_id": ids[n], "user_id": users[n], "created_at": now}
                    for n in ("A", "B", "other")
                ],
            )
            await writer.create_many(
                session,
                "product",
                [
                    {
                        "id": product,
                        "sku": "R-1",
                        "name": "Drink",
                        "unit": "case",
                        "list_price": 100,
                        "active": True,
                    }
                ],
                principal=None,
            )
        gen = Generator(16, [product])
        company = Company(users["admin"], users, ids)
        for territory, count, industry in (("A", accounts, INDUSTRY), ("other", background, None)):
            for start in range(0, count, 1000):
                blocks = (min(count, start + 1000) - start) // 4
                book = gen.book(ids[territory], users[territory], blocks)
                for row in book["account"]:
                    row["industry"] = industry or "retail"
                async with db.transaction() as session:
                    for entity, rows in book.items():
                        await writer.create_many(session, entity, rows, principal=None)
                        company.records += len(rows)
        return company
    finally:
        await db.dispose()


async def _catch_up(client: Any, device: dict[str, Any]) -> tuple[float, tuple[int, int]]:
    """Pull from the device's cursor until ``has_more`` is false: (seconds, (upserts, evicts))."""
    started = time.perf_counter()
    upserts = evicts = 0
    while True:
        body = {
            "device_id": device["id"],
            "schema_version": 1,
            "cursor": device["cursor"],
            "limit": PAGE,
        }
        page = (await client.post("/sync/pull", json=body, headers=device["headers"])).json()
        for change in page["changes"]:
            upserts += change["op"] == "upsert"
            evicts += change["op"] == "evict"
        device["cursor"] = page["cursor"]
        if not page["has_more"]:
            return time.perf_counter() - started, (upserts, evicts)


async def _measure(url: str, company: Company, runs: int, result: Result, meter: CpuMeter) -> None:
    settings = Settings(database_url=url, secret_key="bench-secret", sync_pull_max_limit=PAGE)
    db = Database(create_engine(url))
    tokens = {}
    for name in ("admin", "A", "B"):
        issued = await issue_token(db, settings, company.reps[name], uuid.uuid4())
        tokens[name] = (issued.token, issued.device_id)
    await db.dispose()
    app = create_app(settings)
    admin = {"Authorization": f"Bearer {tokens['admin'][0]}"}
    async with AsyncTestClient(app=app, timeout=600) as client:
        devices = {
            name: {
                "id": str(tokens[name][1]),
                "cursor": None,
                "headers": {"Authorization": f"Bearer {tokens[name][0]}"},
            }
            for name in ("A", "B")
        }
        for device in devices.values():  # the initial sync: every device holds its scope
            await _catch_up(client, device)
        rules = {}
        for name in ("A", "B"):
            answer = await client.post(
                f"/territories/{company.territories[name]}/rules",
                json={"kind": "industry", "value": INDUSTRY, "active": name == "B"},
                headers=admin,
            )
            assert answer.status_code == 201, answer.text
            rules[name] = answer.json()["id"]
        for index in range(runs):
            target = "B" if index % 2 == 0 else "A"
            if index:
                for name in ("A", "B"):
                    patched = await client.patch(
                        f"/territories/{company.territories[name]}/rules/{rules[name]}",
                        json={"active": name == target},
                        headers=admin,
                    )
                    assert patched.status_code == 200, patched.text
            cpu = await meter.now()
            started = time.perf_counter()
            preview = await client.post(
                "/territories/realignments",
                json={"territory_id": str(company.territories["A"])},
                headers=admin,
            )
            preview_s = time.perf_counter() - started
            preview_cpu = await meter.now() - cpu
            assert preview.status_code == 201, preview.text
            plan = preview.json()
            cpu = await meter.now()
            started = time.perf_counter()
            applied = await client.post(
                f"/territories/realignments/{plan['id']}/apply", headers=admin
            )
            apply_s = time.perf_counter() - started
            apply_cpu = await meter.now() - cpu
            assert applied.status_code == 200, applied.text
            announced = {d["device_id"]: (d["receive"], d["evict"]) for d in plan["devices"]}
            pulls, pulled = {}, {}
            for name, device in devices.items():
                pulls[name], pulled[name] = await _catch_up(client, device)
            run = Run(
                preview_s,
                apply_s,
                pulls,
                preview_cpu,
                apply_cpu,
                len(plan["moves"]),
                {n: announced.get(d["id"], (0, 0)) for n, d in devices.items()},
                pulled,
            )
            result.runs.append(run)
            print(
                f"  run {index + 1} -> {target}: preview {preview_s:.2f} s ({preview_cpu:.2f} "
                f"CPU), apply {apply_s:.2f} s ({apply_cpu:.2f} CPU), pulls A {pulls['A']:.2f} s "
                f"{pulled['A']}, B {pulls['B']:.2f} s {pulled['B']} (announced "
                f"{run.announced}), {run.moved:,} accounts, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )


def run_backend(backend: str, args: argparse.Namespace) -> Result:
    """Create, seed and measure one backend; the database is dropped at the end."""
    result = Result(backend)
    database = BenchDatabase(backend)
    try:
        url = database.create()
        database.migrate(ROOT)
        result.version = database.version()
        started = time.perf_counter()
        company = asyncio.run(_seed(url, args.accounts, args.background))
        result.seed_seconds, result.records = time.perf_counter() - started, company.records
        print(
            f"=== {backend}: seeded {company.records:,} records in {result.seed_seconds:.0f} s",
            flush=True,
        )
        meter = CpuMeter(database.pg_name)
        asyncio.run(_measure(url, company, args.runs, result, meter))
    finally:
        database.drop()
    return result


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s"


def summary(result: Result) -> list[str]:
    """A markdown table row per figure (medians of the runs, with the range)."""

    def row(name: str, values: list[float], target: str) -> str:
        return f"| {name} | {_median(values)} | {min(values):.2f}-{max(values):.2f} s | {target} |"

    runs = result.runs
    cpu = "CPU (app" + (
        " + PostgreSQL backends)" if result.backend == "postgresql" else ", in process)"
    )
    exact = all(r.pulled[n] == r.announced[n] for r in runs for n in ("A", "B"))
    return [
        f"{result.version}, {result.records:,} records ({len(runs)} runs, "
        f"{runs[0].moved:,} accounts moved each; every pull matched the preview: {exact})",
        "",
        "| step | median | range | target |",
        "|---|---|---|---|",
        row("preview", [r.preview for r in runs], "<= 2 s"),
        row(f"preview, {cpu}", [r.preview_cpu for r in runs], ""),
        row("apply", [r.apply for r in runs], "<= 5 s"),
        row(f"apply, {cpu}", [r.apply_cpu for r in runs], ""),
        row(
            "catch-up pull, losing rep",
            [r.pulls["A" if i % 2 == 0 else "B"] for i, r in enumerate(runs)],
            "<= 2 s",
        ),
        row(
            "catch-up pull, gaining rep",
            [r.pulls["B" if i % 2 == 0 else "A"] for i, r in enumerate(runs)],
            "<= 2 s",
        ),
    ]


def main() -> None:
    """Run the benchmark and print the markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--background", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    backends = ("postgresql", "sqlite") if args.backend == "both" else (args.backend,)
    results = [run_backend(backend, args) for backend in backends]
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    for result in results:
        print("\n" + "\n".join(summary(result)))


if __name__ == "__main__":
    main()
