"""The timed operations, run with the real SDK (its default httpx client, a local SQLite file)."""

from __future__ import annotations

import contextlib
import cProfile
import datetime as dt
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.server_proc import RssSampler, ServerProcess
from client_sdk import OutpostClient, SyncReport
from client_sdk.sync import Syncer


@dataclass
class Sample:
    """One timed operation: wall time, records moved, wire traffic, CPU on both sides."""

    seconds: float
    records: int = 0
    requests: int = 0
    bytes_in: int = 0  # response bytes as downloaded (before any content decoding)
    bytes_out: int = 0  # request bodies
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    peak_rss_mib: float = 0.0  # sampled every 50 ms during the operation
    hwm_mib: float = 0.0  # the server process's VmHWM after it

    @property
    def rate(self) -> float:
        """Records per second."""
        return self.records / self.seconds if self.seconds else 0.0


class Traffic:
    """Counts requests and body bytes through httpx event hooks on the SDK's own client."""

    def __init__(self, http: httpx.Client) -> None:
        self.requests = self.bytes_in = self.bytes_out = 0
        hooks = http.event_hooks
        hooks["request"] = [*hooks.get("request", []), self._request]
        hooks["response"] = [*hooks.get("response", []), self._response]
        http.event_hooks = hooks

    def _request(self, request: httpx.Request) -> None:
        self.requests += 1
        with contextlib.suppress(httpx.RequestNotRead):
            self.bytes_out += len(request.content)

    def _response(self, response: httpx.Response) -> None:
        response.read()  # hooks run before the body is read; the SDK's read is then a no-op
        self.bytes_in += response.num_bytes_downloaded

    def snapshot(self) -> tuple[int, int, int]:
        """(requests, bytes in, bytes out) so far."""
        return self.requests, self.bytes_in, self.bytes_out


def utcnow_text() -> str:
    """Now as ISO text (the SDK's meta timestamps)."""
    return dt.datetime.now(dt.UTC).isoformat()


class Bench:
    """Runs the benchmark's operations against one server process."""

    def __init__(self, server: ServerProcess, workdir: Path, password: str) -> None:
        self.server, self.workdir, self.password = server, workdir, password
        self.clients: list[OutpostClient] = []
        self.traffic: dict[int, Traffic] = {}

    def client(self, email: str) -> OutpostClient:
        """A fresh device (new local SQLite file) logged in as ``email``."""
        path = self.workdir / f"device-{uuid.uuid4().hex[:12]}.sqlite3"
        client = OutpostClient(self.server.base_url, path, timeout=120.0)
        self.clients.append(client)
        self.traffic[id(client)] = Traffic(client.http)
        client.login(email, self.password, device_name="bench")
        return client

    def close(self) -> None:
        """Close every device this bench opened."""
        for client in self.clients:
            client.close()
        self.clients.clear()

    def timed(self, client: OutpostClient, label: str, work: Callable[[], int], *,
              sample_rss: bool = False, profile_to: Path | None = None) -> Sample:
        """Run ``work`` (returns records moved) and measure it."""
        self.server.mark("between")
        traffic = self.traffic[id(client)]
        before = traffic.snapshot()
        cpu0, server_cpu0 = time.process_time(), self.server.cpu()
        profiler = cProfile.Profile() if profile_to else None
        sampler = RssSampler(self.server.pid) if sample_rss else None
        if sampler:
            sampler.__enter__()
        try:
            if profiler:
                profiler.enable()
            start = time.perf_counter()
            records = work()
            seconds = time.perf_counter() - start
        finally:
            if profiler:
                profiler.disable()
            if sampler:
                sampler.__exit__(None, None, None)
        self.server.mark(label)
        if profiler and profile_to:
            profiler.dump_stats(profile_to)
        after = traffic.snapshot()
        return Sample(
            seconds=seconds, records=records, requests=after[0] - before[0],
            bytes_in=after[1] - before[1], bytes_out=after[2] - before[2],
            server_cpu=self.server.cpu() - server_cpu0, client_cpu=time.process_time() - cpu0,
            peak_rss_mib=sampler.peak_kib / 1024 if sampler else 0.0,
            hwm_mib=self.server.hwm_mib(),
        )

    # -- the operations ---------------------------------------------------------------------

    def initial_sync(self, email: str, *, label: str = "a. initial sync",
                     profile_to: Path | None = None) -> tuple[Sample, OutpostClient]:
        """A fresh device's first sync of its whole scope."""
        client = self.client(email)

        def work() -> int:
            report = client.sync()
            held = local_records(client)
            if held != report.received:
                raise AssertionError(f"received {report.received} changes but holds {held}")
            return report.received

        sample = self.timed(client, label, work, sample_rss=True, profile_to=profile_to)
        return sample, client

    def noop_pull(self, client: OutpostClient) -> Sample:
        """A sync with nothing to push and nothing new on the server (one pull)."""

        def work() -> int:
            report = client.sync()
            if report.received or report.pushed:
                raise AssertionError(f"a no-op sync moved records: {report}")
            return 0

        return self.timed(client, "b. no-op pull", work)

    def change_pull(self, client: OutpostClient, change: Callable[[], int]) -> Sample:
        """``change()`` edits records on the server (untimed); then a timed sync pulls them."""
        changed = change()

        def work() -> int:
            report = client.sync()
            if report.received != changed:
                raise AssertionError(f"{changed} records changed, the pull brought "
                                     f"{report.received}")
            return report.received

        return self.timed(client, "c. pull of changes", work)

    def push(self, client: OutpostClient, count: int, rng: random.Random,
             ) -> tuple[Sample, float, Sample]:
        """``count`` offline edits (a fifth creates), then the push alone, timed.

        Returns the push, the seconds the local edits took, and the sync that follows it.
        """
        started = time.perf_counter()
        offline_edits(client, count, rng)
        editing = time.perf_counter() - started

        def work() -> int:
            report = push_outbox(client)
            if report.pushed != count or report.rejected:
                raise AssertionError(f"pushed {report.pushed}/{count}, rejected {report.rejected}"
                                     f": {client.rejected_mutations()[:3]}")
            return report.pushed

        pushed = self.timed(client, "d. push", work)
        after = self.timed(client, "d'. sync after the push", lambda: client.sync().received)
        return pushed, editing, after


    def single_push(self, client: OutpostClient, rng: random.Random) -> Sample:
        """One offline account edit, then its push alone, timed (a phone pushing each edit as
        it happens)."""
        accounts = client.query("account", limit=50)
        client.update("account", rng.choice(accounts)["id"], {"industry": f"one {rng.random()}"})

        def work() -> int:
            report = push_outbox(client)
            if report.pushed != 1 or report.rejected:
                raise AssertionError(f"pushed {report.pushed}/1, rejected {report.rejected}")
            return 1

        return self.timed(client, "f. push of one mutation", work)


def local_records(client: OutpostClient) -> int:
    """Records the device holds."""
    with client.store.reading() as conn:
        return int(conn.execute("SELECT count(*) FROM records WHERE data IS NOT NULL")
                   .fetchone()[0])


def offline_edits(client: OutpostClient, count: int, rng: random.Random) -> None:
    """``count`` local mutations: creates of contacts, edits of contacts and accounts."""
    accounts = client.query("account", limit=5000)
    contacts = client.query("contact", limit=5000)
    if not accounts or not contacts:
        raise AssertionError("the device holds no accounts or contacts to edit")
    creates = count // 5
    edits = count - creates
    for n in range(creates):
        client.create("contact", {"account_id": rng.choice(accounts)["id"],
                                  "name": f"Bench contact {n}", "role": "buyer",
                                  "phone": f"+86 139 {n:04d} 0000", "email": f"b{n}@example.cn"})
    for n in range(edits):
        if n % 2:
            client.update("contact", rng.choice(contacts)["id"], {"phone": f"+86 137 {n:08d}"})
        else:
            client.update("account", rng.choice(accounts)["id"], {"industry": f"edited {n}"})


def push_outbox(client: OutpostClient) -> SyncReport:
    """The push half of a sync alone (the SDK's own push loop), under its sync lock."""
    push: Any = getattr(client, "push", None)
    if callable(push):
        return push()  # type: ignore[no-any-return]
    with client._sync_lock:
        syncer = Syncer(client.store, client.transport, client.device_id,
                        push_batch=client.push_batch, pull_limit=client.pull_limit,
                        now=utcnow_text)
        report = SyncReport()
        syncer.push(report)
        return report
