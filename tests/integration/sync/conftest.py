"""Fixtures of the engine tests: the toy registry, an app on it, and simulated devices."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.db import Database
from server.settings import Settings
from server.sync.registry import Principal, SyncRegistry
from server.sync.writer import ChangeWriter
from tests.builders import issue_token, make_user
from tests.integration.sync import toy
from tests.synctools import settle


@pytest.fixture
def scopes() -> toy.Scopes:
    return toy.Scopes()


@pytest.fixture
def registry(scopes: toy.Scopes) -> SyncRegistry:
    return toy.build_registry(scopes)


@pytest.fixture
async def toy_db(db: Database) -> Database:
    async with db.engine.begin() as conn:
        await conn.run_sync(toy.metadata.create_all)
    return db


@pytest.fixture
async def app(settings: Settings, toy_db: Database, registry: SyncRegistry) -> Any:
    # The test client runs the app on its own event loop: it gets its own engine (pool), since
    # asyncpg connections cannot cross loops; tests write through ``toy_db`` on theirs.
    return create_app(settings, check_schema=False, registry=registry)


@pytest.fixture
async def sync_client(app: Any) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def writer(app: Any) -> ChangeWriter:
    return app.state.writer  # type: ignore[no-any-return]


class Device:
    """A simulated device: its token, mutation numbers and pull cursor."""

    def __init__(
        self,
        client: AsyncTestClient,
        user: Any,
        token: str,
        device_id: uuid.UUID,  # type: ignore[type-arg]
        db: Database,
    ) -> None:
        self.client, self.user, self.device_id, self.db = client, user, device_id, db
        self.headers = {"Authorization": f"Bearer {token}"}
        self.cursor: str | None = None
        self.next_mid = 1
        self.copy: dict[tuple[str, str], dict[str, Any]] = {}
        self.evicted: list[tuple[str, str]] = []

    @property
    def principal(self) -> Principal:
        return Principal(self.user.id, self.user.role.value, self.device_id)

    async def pull(self, limit: int = 1000, *, wait: bool = True, **extra: Any) -> dict[str, Any]:
        if wait:
            await settle(self.db, timeout=10.0)
        body = {
            "device_id": str(self.device_id),
            "schema_version": 1,
            "cursor": self.cursor,
            "limit": limit,
            **extra,
        }
        response = await self.client.post("/sync/pull", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        if data.get("reset"):
            self.copy.clear()
        for change in data["changes"]:
            key = (change["entity"], change["id"])
            if change["op"] == "upsert":
                held = self.copy.get(key)
                if held is None or held["version"] <= change["version"]:
                    self.copy[key] = change["record"]
            else:
                if change["op"] == "evict":
                    self.evicted.append(key)
                self.copy.pop(key, None)
        self.cursor = data["cursor"]
        return data

    async def pull_all(self, limit: int = 1000) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = []
        while True:
            data = await self.pull(limit)
            changes += data["changes"]
            if not data["has_more"]:
                return changes

    def mutation(
        self,
        entity: str,
        record_id: uuid.UUID,
        op: str = "upsert",
        *,
        base_version: int = 0,
        hlc: str | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        mid = self.next_mid
        self.next_mid += 1
        return {
            "mid": mid,
            "entity": entity,
            "id": str(record_id),
            "op": op,
            "base_version": base_version,
            "hlc": hlc or f"{1_700_000_000_000 + mid:013d}-00000-{self.device_id}",
            "changes": changes,
        }

    async def push_raw(self, mutations: list[dict[str, Any]], **extra: Any) -> Any:
        body = {
            "device_id": str(self.device_id),
            "schema_version": 1,
            "mutations": mutations,
            **extra,
        }
        return await self.client.post("/sync/push", json=body, headers=self.headers)

    async def push(self, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = await self.push_raw(mutations)
        assert response.status_code == 200, response.text
        return response.json()["results"]  # type: ignore[no-any-return]


@pytest.fixture
async def make_device(sync_client: AsyncTestClient, toy_db: Database, scopes: toy.Scopes) -> Any:  # type: ignore[type-arg]
    async def make(
        role: str = "rep", keys: set[str] | None = None, user: Any = None, **overrides: Any
    ) -> Device:
        if user is None:
            user = await make_user(toy_db, role, **overrides)
            scopes.keys[user.id] = set(keys or set())
        token, device_id = await issue_token(toy_db, user)
        return Device(sync_client, user, token, device_id, toy_db)

    return make
