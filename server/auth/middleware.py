"""Authenticates every request except login, health and the OpenAPI schema."""

from __future__ import annotations

import hmac
import uuid
from typing import Any, cast

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from protocol import errors as codes
from server.auth.last_seen import SEEN_RESOLUTION, touch_device
from server.auth.models import AccessToken, Device, User
from server.auth.token_cache import CachedToken, TokenCache
from server.auth.tokens import hash_secret, parse_token
from server.cache_epochs import AUTH
from server.db import Database, utcnow
from server.errors import NotAuthenticated
from server.settings import Settings
from server.sync.registry import Principal

PUBLIC_PATHS = ["^/auth/login$", "^/health$", "^/health/ready$", "^/schema"]

_tokens = cast(sa.Table, AccessToken.__table__)
_users = cast(sa.Table, User.__table__)
_devices = cast(sa.Table, Device.__table__)
# One indexed Core query (no ORM objects): this runs on every authenticated request.
_TOKEN_QUERY = (
    sa.select(
        _tokens.c.secret_hash,
        _tokens.c.revoked_at,
        _tokens.c.expires_at,
        _users.c.id,
        _users.c.role,
        _users.c.active,
        _devices.c.id,
        _devices.c.active,
        _devices.c.last_seen_at,
    )
    .select_from(_tokens)
    .join(_users, _users.c.id == _tokens.c.user_id)
    .join(_devices, _devices.c.id == _tokens.c.device_id)
    .where(_tokens.c.id == sa.bindparam("token_id"))
)


async def _token_row(db: Database, token_id: Any) -> Any:
    # A single read: no write lock on SQLite, no BEGIN and ROLLBACK round trips on PostgreSQL.
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(**db.read_options)
        return (await conn.execute(_TOKEN_QUERY, {"token_id": token_id})).first()


async def authenticate(state: Any, header: str) -> tuple[Principal, uuid.UUID]:
    """The caller of ``Authorization: <header>`` and its token id, or ``NotAuthenticated``.

    ``state`` is the app's state (``db``, ``settings``, ``tokens``, ``epochs``). A token verified
    once is kept in the process's ``TokenCache`` while the ``auth`` cache epoch stands
    (``server.cache_epochs``): a request then costs a keyed hash and no query. The middleware
    below and the sync fast path (``server.http.sync_fast``) both authenticate with this.
    """
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("missing bearer token", code=codes.NOT_AUTHENTICATED)
    parsed = parse_token(token.strip())
    if parsed is None:
        raise NotAuthenticated("malformed bearer token", code=codes.NOT_AUTHENTICATED)
    token_id, secret = parsed
    db: Database = state.db
    settings: Settings = state.settings
    cache: TokenCache = state.tokens
    # read before the token row: a change committed after this read bumps past it
    epoch = (await state.epochs.current()).get(AUTH, 0)
    entry = cache.get(token_id, epoch)
    if entry is None:
        row = await _token_row(db, token_id)
        if row is None:
            raise NotAuthenticated("unknown token", code=codes.NOT_AUTHENTICATED)
        entry = CachedToken.of(row, epoch)
        cache.put(token_id, entry)
    if not hmac.compare_digest(entry.secret_hash, hash_secret(secret, settings.secret_key)):
        raise NotAuthenticated("invalid token", code=codes.NOT_AUTHENTICATED)
    # Deactivation is told before revocation (deactivating revokes the tokens too): its
    # distinct code is what makes a device wipe the user's data (docs/protocol.md).
    if not entry.device_active:
        raise NotAuthenticated("device deactivated", code=codes.DEVICE_DEACTIVATED)
    if not entry.user_active:
        raise NotAuthenticated("user deactivated", code=codes.USER_DEACTIVATED)
    if entry.revoked:
        raise NotAuthenticated("token revoked", code=codes.TOKEN_REVOKED)
    now = utcnow()
    if entry.expires_at <= now:
        raise NotAuthenticated("token expired", code=codes.TOKEN_EXPIRED)
    if entry.last_seen_at is None or now - entry.last_seen_at >= SEEN_RESOLUTION:
        await touch_device(db, entry.device_id, entry.last_seen_at)
        entry.last_seen_at = now
    principal = Principal(user_id=entry.user_id, role=entry.role, device_id=entry.device_id)
    return principal, token_id


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves ``Authorization: Bearer <token>`` to a ``Principal`` (``request.user``)."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        header = connection.headers.get("authorization", "")
        principal, token_id = await authenticate(connection.app.state, header)
        return AuthenticationResult(user=principal, auth=token_id)
