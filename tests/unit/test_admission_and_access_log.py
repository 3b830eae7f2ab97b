"""Admission control (503 ``overloaded`` past the limit) and the sampled access log."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from server.http.access_log import AccessLog
from server.http.admission import AdmissionControl


class Gate:
    """An ASGI app whose requests wait until the gate opens; ``/fail`` answers 500."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered += 1
        if scope["path"] == "/wait":
            await self.open.wait()
        status = 500 if scope["path"] == "/fail" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_past_the_limit_a_request_is_refused_at_once_with_retry_after() -> None:
    gate = Gate()
    admission = AdmissionControl(gate, limit=2, retry_after=3)
    async with client(admission) as http:
        waiting = [asyncio.create_task(http.get("/wait")) for _ in range(2)]
        while gate.entered < 2:
            await asyncio.sleep(0.001)
        refused = await http.get("/sync/pull")
        health = await http.get("/health")  # always admitted
        gate.open.set()
        answers = await asyncio.gather(*waiting)
        after = await http.get("/sync/pull")
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "3"
    assert refused.json()["code"] == "overloaded"
    assert health.status_code == 200
    assert [a.status_code for a in answers] == [200, 200]
    assert after.status_code == 200 and admission.in_flight == 0 and admission.refused == 1


async def test_a_zero_limit_admits_everything() -> None:
    gate = Gate()
    gate.open.set()
    async with client(AdmissionControl(gate, limit=0, retry_after=1)) as http:
        answers = await asyncio.gather(*(http.get("/wait") for _ in range(5)))
    assert {a.status_code for a in answers} == {200}


async def test_the_access_log_samples_fast_successes_and_keeps_every_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = Gate()
    gate.open.set()
    caplog.set_level(logging.INFO, logger="outpost.access")
    async with client(AccessLog(gate, sample=3, slow_ms=10_000)) as http:
        for _ in range(6):
            await http.get("/sync/pull")
        await http.get("/fail")
    lines = [r.getMessage() for r in caplog.records if r.name == "outpost.access"]
    assert len([line for line in lines if "status=200" in line]) == 2
    assert [line for line in lines if "status=500" in line] == [
        next(line for line in lines if "path=/fail" in line)
    ]
    assert lines[0].startswith("method=GET path=/sync/pull status=200 ms=")
    assert lines[0].endswith("bytes=2")
