"""The fleet benchmark's load generator: a small raw asyncio HTTP/1.1 client.

httpx costs the generator more CPU per request than the server spends on a no-op pull, and the
generator shares the machine's cores with the servers; this client writes a prepared request
and reads ``Content-Length`` bytes back on a kept-alive connection, nothing more. Several
generator processes (``multiprocessing``) each drive a share of the devices.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec

from protocol.sync import SCHEMA_VERSION

_cursor_of = msgspec.json.Decoder(dict[str, Any])


@dataclass
class Job:
    """What one device does: POST ``/sync/pull`` (or GET ``path``) until the deadline."""

    port: int
    token: str
    device_id: str
    cursor: str | None = None
    path: str = "/sync/pull"


@dataclass
class Tally:
    """What a generator saw: latencies (s), statuses, bytes received, requests."""

    latencies: list[float] = field(default_factory=list)  # of answers other than 503
    refused: int = 0  # 503 overloaded answers
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    cursors: dict[str, str | None] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        """Fold another generator's tally into this one."""
        self.latencies += other.latencies
        self.refused += other.refused
        self.statuses.update(other.statuses)
        self.errors += other.errors
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.cursors.update(other.cursors)


def pull_body(device_id: str, cursor: str | None, limit: int = 500) -> bytes:
    """A ``PullRequest`` as JSON."""
    return msgspec.json.encode(
        {"device_id": device_id, "schema_version": SCHEMA_VERSION, "cursor": cursor, "limit": limit}
    )


def request_bytes(job: Job, body: bytes | None) -> bytes:
    """The whole HTTP/1.1 request."""
    method = "GET" if body is None else "POST"
    head = (
        f"{method} {job.path} HTTP/1.1\r\nhost: 127.0.0.1:{job.port}\r\n"
        f"authorization: Bearer {job.token}\r\n"
    )
    if body is None:
        return (head + "\r\n").encode()
    return (
        head + f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bool]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def drive(
    job: Job,
    deadline: float,
    tally: Tally,
    *,
    count: int = 0,
    until_current: bool = False,
    interval: float = 0.0,
) -> None:
    """Repeat the job on one kept-alive connection until ``deadline`` (or ``count`` times;
    or, with ``until_current``, pull until ``has_more`` is false: the initial sync)."""
    reader = writer = None
    done = 0
    while time.monotonic() < deadline:
        body = pull_body(job.device_id, job.cursor) if job.path == "/sync/pull" else None
        request = request_bytes(job, body)
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", job.port)
            assert reader is not None
            status, answer, close = await _exchange(reader, writer, request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            tally.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
            continue
        if status != 503:
            tally.latencies.append(time.perf_counter() - started)
        tally.statuses[status] += 1
        if status != 503:  # bytes per answered request
            tally.bytes_in += len(answer)
            tally.bytes_out += len(request)
        more = False
        if status == 200 and body is not None:
            decoded = _cursor_of.decode(answer)
            job.cursor = decoded["cursor"]
            more = bool(decoded.get("has_more"))
        elif status == 503:
            tally.refused += 1
            await asyncio.sleep(1.0)  # the answer's Retry-After, as the SDK honours it
        if close and writer is not None:
            writer.close()
            reader = writer = None
        done += 1
        if interval:
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
        if done == count or (until_current and not more and status == 200):
            break
    if writer is not None:
        writer.close()
    tally.cursors[job.device_id] = job.cursor


async def _run(jobs: list[Job], seconds: float, mode: str, interval: float) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(
            drive(
                job,
                deadline,
                tally,
                count=1 if mode == "once" else 0,
                until_current=mode == "sync",
                interval=interval,
            )
            for job in jobs
        )
    )
    return tally


def _worker(jobs: list[Job], seconds: float, mode: str, interval: float, out: Any) -> None:
    out.put(asyncio.run(_run(jobs, seconds, mode, interval)))


def load(
    jobs: list[Job],
    seconds: float,
    *,
    processes: int = 2,
    mode: str = "loop",
    interval: float = 0.0,
) -> Tally:
    """Run ``jobs`` concurrently from ``processes`` generator processes for ``seconds``;
    ``mode``: ``loop`` (until the deadline), ``once``, ``sync`` (pull until current); in a
    loop each device starts a request at most every ``interval`` seconds."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    shares = [jobs[i::processes] for i in range(processes)]
    workers = [
        context.Process(target=_worker, args=(share, seconds, mode, interval, out))
        for share in shares
        if share
    ]
    for worker in workers:
        worker.start()
    total = Tally()
    for _ in workers:
        total.add(out.get(timeout=seconds + 120))
    for worker in workers:
        worker.join(timeout=10)
    return total


def sequential(job: Job, count: int) -> list[float]:
    """``count`` requests one after another on one connection; their latencies (s)."""
    tally = Tally()

    asyncio.run(drive(job, time.monotonic() + 120, tally, count=count))
    return tally.latencies
