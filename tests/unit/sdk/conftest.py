"""Fixtures of the SDK unit tests: a fake server and clients talking to it through MockTransport."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from client_sdk import OutpostClient, RetryPolicy
from tests.unit.sdk.fake_server import ENTITIES, PASSWORD, FakeServer

MakeClient = Callable[..., OutpostClient]


@pytest.fixture
def server() -> FakeServer:
    fake = FakeServer()
    fake.add_user("rep@example.com")
    return fake


@pytest.fixture
def sleeps() -> list[float]:
    """Every backoff delay the clients slept (nobody really sleeps in unit tests)."""
    return []


@pytest.fixture
def make_client(
    server: FakeServer, tmp_path: Path, sleeps: list[float]
) -> Iterator[MakeClient]:
    """Build a client on its own local file; ``login=True`` logs it in."""
    made: list[OutpostClient] = []

    def make(name: str = "device", *, login: bool = True, **kwargs: object) -> OutpostClient:
        kwargs.setdefault("http", server.client())
        kwargs.setdefault("sleep", sleeps.append)
        kwargs.setdefault("rng", random.Random(1))
        kwargs.setdefault("retry", RetryPolicy(attempts=4, base_delay=0.1, max_delay=1.0))
        kwargs.setdefault("entities", ENTITIES)  # the fake server's loose records
        client = OutpostClient(db_path=tmp_path / f"{name}.sqlite3", **kwargs)  # type: ignore[arg-type]
        made.append(client)
        if login:
            client.login("rep@example.com", PASSWORD)
        return client

    yield make
    for client in made:
        client.close()


def offline_http() -> httpx.Client:
    """An HTTP client whose every request fails as if there were no network."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network", request=request)

    return httpx.Client(transport=httpx.MockTransport(refuse), base_url="http://offline")
