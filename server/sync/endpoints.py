"""What ``/sync/pull`` and ``/sync/push`` do with a request's bytes: decode, call the service,
encode. Shared by the Litestar handlers (``server.sync.controller``) and the ASGI fast path in
front of the router (``server.http.sync_fast``), so both answer with the same bytes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias

from protocol.sync import MSGPACK, PullRequest, PushRequest
from server.sync.engine import SyncEngine
from server.sync.pullbody import pull_body
from server.sync.registry import Principal
from server.sync.wire import JSON, decode_request, encode, is_msgpack

# (response body, its media type)
Answer: TypeAlias = tuple[bytes, str]
# pull_answer or push_answer: (engine, caller, body, Content-Type, Accept) -> answer
Serve: TypeAlias = Callable[
    [SyncEngine, Principal, bytes, str | None, str | None], Awaitable[Answer]
]


async def pull_answer(
    engine: SyncEngine,
    principal: Principal,
    body: bytes,
    content_type: str | None,
    accept: str | None,
) -> Answer:
    """The answer to a pull (body: ``PullRequest``); domain errors are raised."""
    request = decode_request(body, content_type, PullRequest)
    page = await engine.pull.pull(principal, request)
    msgpack = is_msgpack(accept)
    return pull_body(page, msgpack), MSGPACK if msgpack else JSON


async def push_answer(
    engine: SyncEngine,
    principal: Principal,
    body: bytes,
    content_type: str | None,
    accept: str | None,
) -> Answer:
    """The answer to a push (body: ``PushRequest``); domain errors are raised."""
    request = decode_request(body, content_type, PushRequest)
    response = await engine.push.push(principal, request)
    msgpack = is_msgpack(accept)
    return encode(response, msgpack), MSGPACK if msgpack else JSON
