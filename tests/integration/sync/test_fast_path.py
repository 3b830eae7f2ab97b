"""The sync fast path (server/http/sync_fast.py) answers exactly as the regular handlers do.

Two apps on one database, one with ``sync_fast_path`` on and one with it off, get the same
requests; every answer (status, headers in order, the body's bytes as sent) must be the same,
for good requests and for every kind of bad one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from protocol.ids import uuid7
from server.app import create_app
from server.auth.models import AccessToken
from server.auth.tokens import format_token, new_secret, parse_token
from server.http.sync_fast import SyncFastPath
from server.settings import Settings
from tests.builders import issue_token, make_user
from tests.integration.sync.toy import make_folder, make_note

MAX_BODY = 4096

Answer = tuple[int, list[tuple[str, str]], bytes]


@pytest.fixture
async def clients(
    settings: Settings, toy_db: Any, registry: Any
) -> AsyncIterator[tuple[AsyncTestClient[Any], AsyncTestClient[Any]]]:
    def app(fast: bool) -> Any:
        chosen = msgspec.structs.replace(settings, sync_fast_path=fast, max_body_bytes=MAX_BODY)
        return create_app(chosen, check_schema=False, registry=registry)

    async with AsyncTestClient(app=app(True)) as fast, AsyncTestClient(app=app(False)) as slow:
        yield fast, slow


async def _send(
    client: AsyncTestClient[Any], method: str, path: str, body: bytes, headers: dict[str, str]
) -> Answer:
    # httpx asks for compressed answers unless told otherwise
    headers = {"Accept-Encoding": "identity", **headers}
    request = client.build_request(method, path, content=body, headers=headers)
    response = await client.send(request, stream=True)
    wire = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response.status_code, list(response.headers.multi_items()), wire


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


async def _compare(
    clients: tuple[AsyncTestClient[Any], AsyncTestClient[Any]],
    cases: list[tuple[str, str, str, bytes, dict[str, str]]],
) -> dict[str, Answer]:
    fast, slow = clients
    answers = {}
    for name, method, path, body, headers in cases:
        expected = await _send(slow, method, path, body, headers)
        got = await _send(fast, method, path, body, headers)
        assert got == expected, name
        answers[name] = got
    return answers


async def test_fast_and_regular_paths_answer_byte_for_byte_alike(
    clients: Any, toy_db: Any, writer: Any, scopes: Any
) -> None:
    user = await make_user(toy_db, "rep")
    scopes.keys[user.id] = {"t:north"}
    token, device_id = await issue_token(toy_db, user)
    other_token, other_device = await issue_token(toy_db, user)
    expired, _ = await issue_token(toy_db, user, ttl=-dt.timedelta(minutes=1))
    revoked, _ = await issue_token(toy_db, user)
    revoked_id = cast(tuple[uuid.UUID, str], parse_token(revoked))[0]
    async with toy_db.transaction() as session:
        tokens = cast(sa.Table, AccessToken.__table__)
        await session.execute(
            sa.update(tokens).where(tokens.c.id == revoked_id).values(revoked_at=sa.func.now())
        )
    folder = await make_folder(toy_db, writer, "t:north")
    for n in range(30):  # a first page well above the compression threshold
        await make_note(toy_db, writer, folder, title=f"note {n}", body="the same text again")

    auth = {"Authorization": f"Bearer {token}"}
    token_id = cast(tuple[uuid.UUID, str], parse_token(token))[0]
    device = str(device_id)

    def pull(cursor: str | None = None, **extra: Any) -> bytes:
        body = {"device_id": device, "schema_version": 1, "cursor": cursor, "limit": 500}
        return _json({**body, **extra})

    first = await _compare(clients, [("first pull", "POST", "/sync/pull", pull(), auth)])
    cursor = msgspec.json.decode(first["first pull"][2])["cursor"]
    mutation = {
        "mid": 1,
        "entity": "note",
        "id": str(uuid7()),
        "op": "upsert",
        "base_version": 0,
        "hlc": f"{1_700_000_000_000:013d}-00000-{device}",
        "changes": {"folder_id": str(folder), "title": "from the phone"},
    }
    push = _json({"device_id": device, "schema_version": 1, "mutations": [mutation]})
    bad_mutation = {**mutation, "mid": 2, "id": "not-a-uuid"}
    fast, slow = clients
    # applied once (through the regular path); every later send is a retry answered the same
    assert (await _send(slow, "POST", "/sync/push", push, auth))[0] == 200
    packed = {"Content-Type": "application/msgpack", "Accept": "application/msgpack"}
    cases = [
        ("no-op pull", "POST", "/sync/pull", pull(cursor), auth),
        ("no-op pull, msgpack", "POST", "/sync/pull",
         msgspec.msgpack.encode(msgspec.json.decode(pull(cursor))), {**auth, **packed}),
        ("page, brotli", "POST", "/sync/pull", pull(), {**auth, "Accept-Encoding": "br"}),
        ("page, gzip", "POST", "/sync/pull", pull(), {**auth, "Accept-Encoding": "gzip"}),
        ("page, msgpack gzip", "POST", "/sync/pull", pull(),
         {**auth, "Accept": "application/msgpack", "Accept-Encoding": "gzip"}),
        ("retried push", "POST", "/sync/push", push, auth),
        ("retried push, msgpack", "POST", "/sync/push",
         msgspec.msgpack.encode(msgspec.json.decode(push)), {**auth, **packed}),
        ("push with a bad mutation", "POST", "/sync/push",
         _json({"device_id": device, "schema_version": 1, "mutations": [bad_mutation]}), auth),
        ("no token", "POST", "/sync/pull", pull(cursor), {}),
        ("not bearer", "POST", "/sync/pull", pull(cursor), {"Authorization": "Basic abc"}),
        ("malformed token", "POST", "/sync/pull", pull(cursor), {"Authorization": "Bearer x"}),
        ("unknown token", "POST", "/sync/push", push,
         {"Authorization": f"Bearer {format_token(uuid7(), new_secret())}"}),
        ("wrong secret", "POST", "/sync/pull", pull(cursor),
         {"Authorization": f"Bearer {format_token(token_id, new_secret())}"}),
        ("expired token", "POST", "/sync/pull", pull(cursor),
         {"Authorization": f"Bearer {expired}"}),
        ("revoked token", "POST", "/sync/push", push, {"Authorization": f"Bearer {revoked}"}),
        ("empty body", "POST", "/sync/pull", b"", auth),
        ("not JSON", "POST", "/sync/pull", b"{not json", auth),
        ("JSON body sent as msgpack", "POST", "/sync/push", push,
         {**auth, "Content-Type": "application/msgpack"}),
        ("nested too deep", "POST", "/sync/push", b"[" * 100_000, auth),
        ("wrong type", "POST", "/sync/pull", pull(cursor, limit="many"), auth),
        ("unknown field", "POST", "/sync/pull", pull(cursor, colour="red"), auth),
        ("missing field", "POST", "/sync/push", _json({"device_id": device}), auth),
        ("limit out of range", "POST", "/sync/pull", pull(cursor, limit=0), auth),
        ("old client", "POST", "/sync/pull", pull(cursor, schema_version=999), auth),
        ("old client push", "POST", "/sync/push",
         _json({"device_id": device, "schema_version": 999, "mutations": []}), auth),
        ("another device's id", "POST", "/sync/pull",
         pull(cursor, device_id=str(other_device)), auth),
        ("bad cursor", "POST", "/sync/pull", pull("garbage"), auth),
        ("another token's cursor", "POST", "/sync/pull", pull(cursor),
         {"Authorization": f"Bearer {other_token}"}),
        ("body too large", "POST", "/sync/push",
         _json({"device_id": device, "pad": "x" * MAX_BODY}), auth),
        ("query string", "POST", "/sync/pull?limit=5", pull(cursor), auth),
        ("wrong method", "GET", "/sync/pull", b"", auth),
        ("trailing slash", "POST", "/sync/pull/", pull(cursor), auth),
    ]
    answers = await _compare(clients, cases)
    statuses = {name: answer[0] for name, answer in answers.items()}
    # the set covers what it claims to: good answers, compressed ones, and each kind of error
    assert statuses["no-op pull"] == statuses["retried push"] == 200
    assert dict(answers["page, brotli"][1])["content-encoding"] == "br"
    assert dict(answers["page, gzip"][1])["content-encoding"] == "gzip"
    for name in ("no token", "malformed token", "unknown token", "expired token", "revoked token"):
        assert statuses[name] == 401, name
    assert statuses["old client"] == 426 and statuses["body too large"] == 413
    assert statuses["bad cursor"] in (400, 422) and statuses["wrong method"] == 405
    assert statuses["another device's id"] == 403 and statuses["query string"] == 422


async def test_the_fast_path_serves_without_the_regular_handler(
    clients: Any, toy_db: Any, scopes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = clients
    assert isinstance(fast.app.asgi_handler.app, SyncFastPath)
    assert not isinstance(getattr(slow.app.asgi_handler, "app", None), SyncFastPath)
    user = await make_user(toy_db, "rep")
    scopes.keys[user.id] = set()
    token, device_id = await issue_token(toy_db, user)

    async def broken(*args: Any) -> Any:
        raise RuntimeError("the regular handler ran")

    monkeypatch.setattr("server.sync.controller._answer", broken)
    body = _json({"device_id": str(device_id), "schema_version": 1, "cursor": None, "limit": 10})
    auth = {"Authorization": f"Bearer {token}"}
    assert (await _send(fast, "POST", "/sync/pull", body, auth))[0] == 200
    assert (await _send(slow, "POST", "/sync/pull", body, auth))[0] == 500


async def test_the_openapi_document_is_the_same_with_the_fast_path(clients: Any) -> None:
    fast, slow = clients
    document = (await fast.get("/schema/openapi.json")).content
    assert document == (await slow.get("/schema/openapi.json")).content
    assert b"/sync/pull" in document and b"/sync/push" in document
