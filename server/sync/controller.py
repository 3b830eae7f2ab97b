"""HTTP endpoints of the sync protocol; thin: decode, call one service method, encode."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.response.base import ASGIResponse

from protocol.sync import ConflictRecord, PullResponse, PushResponse
from server.pagination import Page
from server.sync.endpoints import Serve, pull_answer, push_answer
from server.sync.engine import SyncEngine
from server.sync.registry import Principal

Caller: TypeAlias = NamedDependency[Principal]


def _engine(request: Request[Any, Any, Any]) -> SyncEngine:
    return request.app.state.sync  # type: ignore[no-any-return]


async def _answer(
    request: Request[Any, Any, Any], principal: Principal, serve: Serve
) -> ASGIResponse:
    headers = request.headers
    body, media_type = await serve(
        _engine(request),
        principal,
        await request.body(),
        headers.get("content-type"),
        headers.get("accept"),
    )
    # Already-encoded bytes go out as they are: no Litestar response serialization.
    return ASGIResponse(body=body, media_type=media_type, status_code=200)


class SyncController(Controller):
    """``/sync/pull``, ``/sync/push`` and the conflicts list.

    Bodies are JSON, or MessagePack with ``Content-Type: application/msgpack``; answers are
    MessagePack when ``Accept`` asks for ``application/msgpack``.
    """

    path = "/sync"
    tags = ["sync"]

    @post(
        "/pull",
        status_code=200,
        responses={
            200: ResponseSpec(
                data_container=PullResponse, description="changes", generate_examples=False
            )
        },
    )
    async def pull(self, request: Request[Any, Any, Any], principal: Caller) -> ASGIResponse:
        """Changes in the caller's scope since the cursor (body: ``PullRequest``)."""
        return await _answer(request, principal, pull_answer)

    @post(
        "/push",
        status_code=200,
        responses={
            200: ResponseSpec(
                data_container=PushResponse, description="results", generate_examples=False
            )
        },
    )
    async def push(self, request: Request[Any, Any, Any], principal: Caller) -> ASGIResponse:
        """Apply a device's mutations exactly once, in order (body: ``PushRequest``)."""
        return await _answer(request, principal, push_answer)

    @get("/conflicts")
    async def list_conflicts(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        entity: FromQuery[str | None] = None,
        record_id: FromQuery[uuid.UUID | None] = None,
        resolved: FromQuery[bool | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[ConflictRecord]:
        """Conflicts the caller may see (keyset-paginated)."""
        return await _engine(request).conflicts.list(
            principal,
            entity=entity,
            record_id=record_id,
            resolved=resolved,
            cursor=cursor,
            limit=limit,
        )

    @post("/conflicts/{conflict_id:uuid}/resolve", status_code=200)
    async def resolve_conflict(
        self, request: Request[Any, Any, Any], principal: Caller, conflict_id: FromPath[uuid.UUID]
    ) -> ConflictRecord:
        """Mark a conflict resolved (managers, admins, or the user who pushed it)."""
        return await _engine(request).conflicts.resolve(principal, conflict_id)
