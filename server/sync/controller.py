"""HTTP endpoints of the sync protocol; thin: decode, call one service method, encode."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.response.base import ASGIResponse

from protocol.sync import (
    MSGPACK,
    ConflictRecord,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
)
from server.pagination import Page
from server.sync.engine import SyncEngine
from server.sync.pullbody import pull_body
from server.sync.registry import Principal
from server.sync.wire import JSON, decode_request, encode, is_msgpack

Caller: TypeAlias = NamedDependency[Principal]


def _engine(request: Request[Any, Any, Any]) -> SyncEngine:
    return request.app.state.sync  # type: ignore[no-any-return]


def _wants_msgpack(request: Request[Any, Any, Any]) -> bool:
    return is_msgpack(request.headers.get("accept"))


def _answer(request: Request[Any, Any, Any], body: bytes) -> ASGIResponse:
    # Already-encoded bytes go out as they are: no Litestar response serialization.
    media_type = MSGPACK if _wants_msgpack(request) else JSON
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
        body = decode_request(
            await request.body(), request.headers.get("content-type"), PullRequest
        )
        page = await _engine(request).pull.pull(principal, body)
        return _answer(request, pull_body(page, _wants_msgpack(request)))

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
        body = decode_request(
            await request.body(), request.headers.get("content-type"), PushRequest
        )
        response = await _engine(request).push.push(principal, body)
        return _answer(request, encode(response, _wants_msgpack(request)))

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
