"""SDK <-> server in one process: the real app behind Litestar's (synchronous) TestClient.

The app's database work runs on the TestClient's event loop (its portal), so setup code is
written as coroutines and run with ``world.run(...)``; the SDK gets an ``httpx.Client``.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from client_sdk import OutpostClient, RetryPolicy
from server.app import create_app
from server.auth.models import Role, User
from server.db import Database
from server.models import Base
from server.settings import Settings
from server.sfa.territories.models import TerritoryLevel, TerritoryMember
from server.sync.models import SyncLog
from server.sync.registry import Principal
from tests.builders import TEST_PASSWORD, make_user

T = TypeVar("T")


class Relay(httpx.BaseTransport):
    """Hands each request to the in-process app; subclasses add faults."""

    def __init__(self, app_client: TestClient) -> None:  # type: ignore[type-arg]
        self.app_client = app_client

    def deliver(self, request: httpx.Request) -> httpx.Response:
        # the wire bytes as sent (compressed when the SDK asked for it): the SDK's client decodes
        response = self.app_client.send(request, stream=True)
        try:
            raw = b"".join(response.iter_raw())
        finally:
            response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=raw)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.deliver(request)


class World:
    """The server, its database, and helpers to set up users, territories and accounts."""

    def __init__(self, app_client: TestClient, tmp_path: Path) -> None:  # type: ignore[type-arg]
        self.app_client = app_client
        self.app = app_client.app
        self.db: Database = self.app.state.db
        self.writer = self.app.state.writer
        self.tmp_path = tmp_path

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a coroutine function on the app's event loop."""
        return self.app_client.blocking_portal.call(fn, *args)

    def user(self, role: str = "rep", manager: User | None = None) -> User:
        return self.run(
            lambda: make_user(self.db, Role(role), manager_id=manager.id if manager else None)
        )

    def territory(self, name: str, *members: User) -> uuid.UUID:
        territory_id = uuid.uuid4()

        async def create() -> None:
            async with self.db.transaction() as session:
                await self.writer.create(
                    session, "territory",
                    {"id": territory_id, "name": name, "level": TerritoryLevel.TERRITORY},
                    principal=None,
                )
                for member in members:
                    session.add(TerritoryMember(territory_id=territory_id, user_id=member.id))

        self.run(create)
        return territory_id

    def create(self, entity: str, **values: Any) -> dict[str, Any]:
        """A server-side write (as REST services do it), through the change writer."""
        values.setdefault("id", uuid.uuid4())

        async def write() -> dict[str, Any]:
            async with self.db.transaction() as session:
                return await self.writer.create(session, entity, values, principal=None)  # type: ignore[no-any-return]

        return self.run(write)

    def update(self, entity: str, record_id: Any, **changes: Any) -> dict[str, Any]:
        async def write() -> dict[str, Any]:
            async with self.db.transaction() as session:
                return await self.writer.update(  # type: ignore[no-any-return]
                    session, entity, uuid.UUID(str(record_id)), changes, principal=None
                )

        return self.run(write)

    def load(self, entity: str, record_id: Any) -> dict[str, Any] | None:
        async def read() -> dict[str, Any] | None:
            async with self.db.transaction() as session:
                try:
                    return await self.writer.load(session, entity, uuid.UUID(str(record_id)))  # type: ignore[no-any-return]
                except Exception:  # noqa: BLE001 - NotFound: the record is gone
                    return None

        return self.run(read)

    def scalar(self, sql: str, **params: Any) -> Any:
        async def read() -> Any:
            async with self.db.sessions() as session:
                return (await session.execute(sa.text(sql), params)).scalar()

        return self.run(read)

    def expected(self, client: OutpostClient) -> dict[tuple[str, str], dict[str, Any]]:
        """Every record the server says the client's user holds now (latest state)."""
        user = client.user
        assert user is not None
        principal = Principal(user_id=uuid.UUID(user.id), role=user.role)

        async def read() -> dict[tuple[str, str], dict[str, Any]]:
            async with self.db.sessions() as session:
                keys = await self.app.state.registry.scope_keys(session, principal)
                rows = await session.execute(
                    sa.select(SyncLog.entity, SyncLog.record_id, SyncLog.payload).where(
                        SyncLog.scope_key.in_(keys), SyncLog.op == "upsert"
                    )
                )
                return {
                    (entity, str(rid)): msgspec.json.decode(payload)
                    for entity, rid, payload in rows
                }

        return self.run(read)

    @staticmethod
    def local(client: OutpostClient) -> dict[tuple[str, str], dict[str, Any]]:
        """Every record the client shows."""
        with client.store.reading() as conn:
            rows = conn.execute(
                "SELECT entity, id, data FROM records WHERE data IS NOT NULL"
            ).fetchall()
        return {(entity, rid): msgspec.json.decode(data) for entity, rid, data in rows}

    def settle(self, *clients: OutpostClient, timeout: float = 30.0) -> None:
        """Sync each client until it holds exactly what the server says it should.

        On PostgreSQL a pull never passes a change while an older transaction is still open
        anywhere on the cluster (the visibility floor), so a change can take a few pulls to
        arrive when other work runs on the same server; it is delayed, never lost.
        """
        for client in clients:
            deadline = time.monotonic() + timeout
            while True:
                client.sync()
                local, expected = self.local(client), self.expected(client)
                if local == expected:
                    break
                if time.monotonic() > deadline:
                    assert local == expected
                time.sleep(0.05)

    def device(
        self,
        user: User,
        name: str | None = None,
        transport: httpx.BaseTransport | None = None,
        **kwargs: Any,
    ) -> OutpostClient:
        """A logged-in SDK client on its own local file."""
        http = httpx.Client(
            transport=transport or Relay(self.app_client), base_url=str(self.app_client.base_url)
        )
        kwargs.setdefault("sleep", lambda _: None)
        kwargs.setdefault("rng", random.Random(0))
        kwargs.setdefault("retry", RetryPolicy(attempts=6, base_delay=0.001, max_delay=0.01))
        client = OutpostClient(
            http=http, db_path=self.tmp_path / f"{name or uuid.uuid4().hex}.sqlite3", **kwargs
        )
        client.login(user.email, TEST_PASSWORD, device_name=name or "test")
        return client


async def _reset_schema(db: Database) -> None:
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
        await conn.run_sync(Base.metadata.create_all)


@pytest.fixture
def world(settings: Settings, tmp_path: Path) -> Iterator[World]:
    """A fresh schema on the chosen backend and the app serving it (synchronously)."""
    app = create_app(settings, check_schema=False)
    with TestClient(app=app) as app_client:
        app_client.blocking_portal.call(_reset_schema, app.state.db)
        yield World(app_client, tmp_path)
