"""The SDK's backoff when the server is overloaded: 503 with Retry-After, then 200."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from client_sdk import RetryPolicy
from client_sdk.errors import ServerError
from client_sdk.transport import Transport
from tests.unit.sdk.conftest import MakeClient
from tests.unit.sdk.fake_server import FakeServer

OVERLOADED = {"code": "overloaded", "message": "the server is busy; retry later"}


def busy_then(
    handler: Callable[[httpx.Request], httpx.Response], busy: int, retry_after: str = "2"
) -> tuple[httpx.Client, list[str]]:
    """A client whose first ``busy`` requests answer 503 ``overloaded`` with Retry-After."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) <= busy:
            return httpx.Response(503, json=OVERLOADED, headers={"Retry-After": retry_after})
        return handler(request)

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="http://fake"), seen


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def test_503_with_retry_after_waits_at_least_the_hint_jittered_and_bounded() -> None:
    http, seen = busy_then(ok, busy=3)
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=5, base_delay=0.25, max_delay=8.0)
    transport = Transport(http, retry=policy, sleep=sleeps.append, rng=random.Random(3))

    response = transport.post("/sync/pull", {"x": 1})

    assert response.status_code == 200 and len(seen) == 4
    assert len(sleeps) == 3
    assert all(2.0 <= s <= 3.0 for s in sleeps), sleeps  # the hint, plus up to half of it
    assert len(set(sleeps)) == 3  # jittered: devices told the same second spread out


def test_a_long_retry_after_is_capped_by_the_policy() -> None:
    http, _ = busy_then(ok, busy=1, retry_after="3600")
    sleeps: list[float] = []
    transport = Transport(
        http, retry=RetryPolicy(max_delay=5.0), sleep=sleeps.append, rng=random.Random(1)
    )
    assert transport.post("/sync/pull", {}).status_code == 200
    assert sleeps == [5.0]


def test_without_retry_after_the_exponential_backoff_applies() -> None:
    http, _ = busy_then(ok, busy=2, retry_after="soon")  # unreadable: ignored
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=8.0)
    transport = Transport(http, retry=policy, sleep=sleeps.append, rng=random.Random(2))
    assert transport.post("/sync/pull", {}).status_code == 200
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_still_overloaded_after_every_attempt_raises_a_typed_server_error() -> None:
    http, seen = busy_then(ok, busy=10)
    sleeps: list[float] = []
    transport = Transport(
        http, retry=RetryPolicy(attempts=3), sleep=sleeps.append, rng=random.Random(1)
    )
    with pytest.raises(ServerError) as raised:
        transport.post("/sync/pull", {})
    assert (raised.value.code, raised.value.status) == ("overloaded", 503)
    assert len(seen) == 3 and len(sleeps) == 2


def test_a_sync_turned_away_once_completes_after_its_wait(
    make_client: MakeClient, server: FakeServer, sleeps: list[float]
) -> None:
    client = make_client()
    rid = client.create("account", {"name": "a"})
    http, seen = busy_then(server.handle, busy=1, retry_after="1")
    client.http = client.transport.http = http

    report = client.sync()

    assert seen[:2] == ["/sync/push", "/sync/push"]  # the push was answered on its retry
    assert report.pushed == 1 and client.status().pending == 0
    assert client.get("account", rid) == server.records[("account", rid)]
    assert sleeps == [1.0]  # the 1 s hint; its jitter is cut by these fixtures' max_delay 1.0


def test_the_sdk_asks_for_compressed_responses() -> None:
    headers: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["accept-encoding"])
        return httpx.Response(200, json={})

    http = httpx.Client(transport=httpx.MockTransport(handle), base_url="http://fake")
    Transport(http).post("/sync/pull", {})
    assert {e.strip() for e in headers[0].split(",")} == {"br", "gzip"}
