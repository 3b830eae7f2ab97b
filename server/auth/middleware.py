"""Authenticates every request except login, health and the OpenAPI schema."""

from __future__ import annotations

import hmac

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from protocol import errors as codes
from server.auth.models import AccessToken, Device, User
from server.auth.tokens import hash_secret, parse_token
from server.db import Database, utcnow
from server.errors import NotAuthenticated
from server.settings import Settings
from server.sync.registry import Principal

PUBLIC_PATHS = ["^/auth/login$", "^/health$", "^/schema"]


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
        db: Database = connection.app.state.db
        settings: Settings = connection.app.state.settings
        async with db.sessions() as session:
            row = (
                await session.execute(
                    sa.select(AccessToken, User, Device)
                    .join(User, User.id == AccessToken.user_id)
                    .join(Device, Device.id == AccessToken.device_id)
                    .where(AccessToken.id == token_id)
                )
            ).first()
        if row is None:
            raise NotAuthenticated("unknown token", code=codes.NOT_AUTHENTICATED)
        access, user, device = row
        if not hmac.compare_digest(access.secret_hash, hash_secret(secret, settings.secret_key)):
            raise NotAuthenticated("invalid token", code=codes.NOT_AUTHENTICATED)
        if access.revoked_at is not None:
            raise NotAuthenticated("token revoked", code=codes.TOKEN_REVOKED)
        if access.expires_at <= utcnow():
            raise NotAuthenticated("token expired", code=codes.TOKEN_EXPIRED)
        if not device.active:
            raise NotAuthenticated("device deactivated", code=codes.DEVICE_DEACTIVATED)
        if not user.active:
            raise NotAuthenticated("user deactivated", code=codes.USER_DEACTIVATED)
        principal = Principal(user_id=user.id, role=user.role.value, device_id=device.id)
        return AuthenticationResult(user=principal, auth=access.id)
