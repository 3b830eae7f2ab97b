"""``/territories``: managers read the tree and its members, admins change them."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only, managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.territories.models import TerritoryLevel
from server.sfa.territories.schemas import (
    MemberRecord,
    TerritoryCreate,
    TerritoryPatch,
    TerritoryRecord,
)
from server.sfa.territories.service import TerritoryService
from server.sync.registry import Principal


def provide_territory_service(
    state: State, principal: NamedDependency[Principal]
) -> TerritoryService:
    """The service for one request, wired from the app state."""
    return TerritoryService(state.db, state.writer, principal, state.settings)


class TerritoryController(Controller):
    """The region -> area -> territory tree."""

    path = "/territories"
    tags = ["territories"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_territory_service, sync_to_thread=False)}

    @get("/")
    async def list_territories(
        self,
        service: NamedDependency[TerritoryService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        level: FromQuery[TerritoryLevel | None] = None,
        parent_id: FromQuery[uuid.UUID | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[TerritoryRecord]:
        """Nodes of the tree, keyset-paginated by id."""
        return await service.list_territories(level, parent_id, q, cursor=cursor, limit=limit)

    @get("/{territory_id:uuid}")
    async def get_territory(
        self, service: NamedDependency[TerritoryService], territory_id: FromPath[uuid.UUID]
    ) -> TerritoryRecord:
        """One node."""
        return await service.get_territory(territory_id)

    @post("/", guards=[admins_only])
    async def create_territory(
        self, service: NamedDependency[TerritoryService], data: JSONBody[TerritoryCreate]
    ) -> TerritoryRecord:
        """Add a node."""
        return await service.create_territory(data)

    @patch("/{territory_id:uuid}", guards=[admins_only])
    async def update_territory(
        self,
        service: NamedDependency[TerritoryService],
        territory_id: FromPath[uuid.UUID],
        data: JSONBody[TerritoryPatch],
        if_match: IfMatch = None,
    ) -> TerritoryRecord:
        """Rename or move a node."""
        return await service.update_territory(
            territory_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{territory_id:uuid}", guards=[admins_only])
    async def delete_territory(
        self,
        service: NamedDependency[TerritoryService],
        territory_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete an empty node."""
        await service.delete_territory(territory_id, expected=expected_version(if_match))

    @get("/{territory_id:uuid}/members")
    async def list_members(
        self,
        service: NamedDependency[TerritoryService],
        territory_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[MemberRecord]:
        """Users attached to a node."""
        return await service.list_members(territory_id, cursor=cursor, limit=limit)

    @put("/{territory_id:uuid}/members/{user_id:uuid}", guards=[admins_only])
    async def add_member(
        self,
        service: NamedDependency[TerritoryService],
        territory_id: FromPath[uuid.UUID],
        user_id: FromPath[uuid.UUID],
    ) -> MemberRecord:
        """Attach a rep or manager to a node."""
        return await service.add_member(territory_id, user_id)

    @delete("/{territory_id:uuid}/members/{user_id:uuid}", guards=[admins_only])
    async def remove_member(
        self,
        service: NamedDependency[TerritoryService],
        territory_id: FromPath[uuid.UUID],
        user_id: FromPath[uuid.UUID],
    ) -> None:
        """Detach a user from a node."""
        await service.remove_member(territory_id, user_id)
