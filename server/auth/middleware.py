"""Authenticates every request except login, health and the OpenAPI schema."""

from __future__ import annotations

import hmac
from typing import Any, cast

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from protocol import errors as codes
from server.auth.last_seen import touch_device
from server.auth.models import AccessToken, Device, User
from server.auth.tokens import hash_secret, parse_token
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


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves ``Authorization: Bearer <token>`` to a ``Principal`` (``request.user``)."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthenticated("missing bearer token", code=codes.NOT_AUTHENTICATED)
        parsed = parse_token(token.strip())
        if parsed is None:
            raise NotAuthenticated("malformed bearer token", code=codes.NOT_AUTHENTICATED)
        token_id, secret = parsed
        state = connection.app.state
        db: Database = state.db
        settings: Settings = state.settings
        row = await _token_row(db, token_id)
        if row is None:
            raise NotAuthenticated("unknown token", code=codes.NOT_AUTHENTICATED)
        (
            secret_hash,
            revoked_at,
            expires_at,
            user_id,
            role,
            user_active,
            device_id,
            device_active,
            last_seen_at,
        ) = row
        if not hmac.compare_digest(secret_hash, hash_secret(secret, settings.secret_key)):
            raise NotAuthenticated("invalid token", code=codes.NOT_AUTHENTICATED)
        # Deactivation is told before revocation (deactivating revokes the tokens too): its
        # distinct code is what makes a device wipe the user's data (docs/protocol.md).
        if not device_active:
            raise NotAuthenticated("device deactivated", code=codes.DEVICE_DEACTIVATED)
        if not user_active:
            raise NotAuthenticated("user deactivated", code=codes.USER_DEACTIVATED)
        if revoked_at is not None:
            raise NotAuthenticated("token revoked", code=codes.TOKEN_REVOKED)
        if expires_at <= utcnow():
            raise NotAuthenticated("token expired", code=codes.TOKEN_EXPIRED)
        await touch_device(db, device_id, last_seen_at)
        principal = Principal(
            user_id=user_id, role=getattr(role, "value", role), device_id=device_id
        )
        return AuthenticationResult(user=principal, auth=token_id)
