"""Login, logout, tokens and devices: the authentication use cases."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.exc import IntegrityError

from protocol import errors as codes
from server.auth.models import Role
from server.auth.passwords import Passwords
from server.auth.repository import AuthRepository
from server.auth.schemas import (
    DeviceView,
    IssuedToken,
    LoginRequest,
    LoginResponse,
    LogoutResponse,
    MeResponse,
    TokenView,
    UserSummary,
)
from server.auth.throttle import check_login_allowed
from server.auth.tokens import format_token, hash_secret, new_secret
from server.db import Database, new_id, utcnow
from server.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from server.notifications.tokens import forget_device_push_token, forget_push_token_of_access_token
from server.pagination import Page, page_size
from server.settings import Settings
from server.sfa.users.rules import normalize_email
from server.sync.registry import Principal

DEVICE_IN_USE = "device_in_use"
_BAD_CREDENTIALS = "email or password is incorrect"


async def _mint(
    repo: AuthRepository, settings: Settings, user_id: uuid.UUID, device_id: uuid.UUID,
    ttl: dt.timedelta | None,
) -> IssuedToken:
    now = utcnow()
    expires_at = now + (ttl if ttl is not None else dt.timedelta(
        seconds=settings.access_token_ttl_seconds
    ))
    secret = new_secret()
    token = await repo.add_token(
        token_id=new_id(), user_id=user_id, device_id=device_id,
        secret_hash=hash_secret(secret, settings.secret_key), created_at=now,
        expires_at=expires_at,
    )
    return IssuedToken(
        token=format_token(token.id, secret), token_id=token.id, device_id=device_id,
        expires_at=expires_at,
    )


async def issue_token(
    db: Database,
    settings: Settings,
    user_id: uuid.UUID,
    device_id: uuid.UUID,
    *,
    ttl: dt.timedelta | None = None,
    device_name: str = "",
) -> IssuedToken:
    """Mint a token for a user on a device (registered if new), without a password (tests, CLI)."""
    async with db.transaction() as session:
        repo = AuthRepository(session)
        device = await repo.device(device_id)
        if device is None:
            await repo.add_device(device_id, user_id, device_name)
        elif device.user_id != user_id:
            raise Conflict("device is registered to another user", field="device_id",
                           code=DEVICE_IN_USE)
        return await _mint(repo, settings, user_id, device_id, ttl)


class AuthService:
    """Authentication use cases over one database."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.passwords = Passwords(settings)

    async def login(self, request: LoginRequest, address: str = "") -> LoginResponse:
        """Check credentials, register the device on first use, and mint a bearer token.

        Throttled per account and per client ``address`` (``server.auth.throttle``). Unknown
        emails, wrong passwords and deactivated users all answer ``invalid_credentials``
        after the same password check, so the answer tells nothing about the account.
        """
        email = normalize_email(request.email)
        address = address[:64]  # the column's width (an IPv6 address takes at most 45)
        async with self.db.transaction() as session:
            repo = AuthRepository(session)
            await check_login_allowed(repo, self.settings, email, address, utcnow())
            await repo.add_login_failure(email, address, utcnow())  # until it succeeds
            found = await repo.user_by_email(email)
            stored = found.password_hash if found is not None else None
        # The KDF runs outside any transaction (SQLite would hold its write lock meanwhile) and
        # in the bounded hashing pool (it would stall the event loop); unknown emails pay the
        # same cost.
        valid = await self.passwords.verify(request.password, stored)
        if found is None or stored is None or not valid or not found.active:
            raise NotAuthenticated(_BAD_CREDENTIALS, code=codes.INVALID_CREDENTIALS)
        rehashed = None
        if self.passwords.needs_rehash(stored):
            rehashed = await self.passwords.hash(request.password)
        try:
            return await self._open_session(found.id, email, request, rehashed)
        except IntegrityError:
            # A concurrent first login registered the same device id; the retry sees its row
            # and answers by the normal rules (same user: fine; another user: device_in_use).
            return await self._open_session(found.id, email, request, rehashed)

    async def _open_session(
        self, user_id: uuid.UUID, email: str, request: LoginRequest, rehashed: str | None
    ) -> LoginResponse:
        async with self.db.transaction() as session:
            repo = AuthRepository(session)
            user = await repo.user(user_id)
            if user is None or not user.active:
                raise NotAuthenticated(_BAD_CREDENTIALS, code=codes.INVALID_CREDENTIALS)
            await repo.clear_login_failures(email)
            device = await repo.device(request.device_id, for_update=True)
            if device is None:
                device = await repo.add_device(request.device_id, user.id, request.device_name)
            elif device.user_id != user.id:
                raise Conflict("device is registered to another user", field="device_id",
                               code=DEVICE_IN_USE)
            elif not device.active:
                raise Forbidden("this device is deactivated", field="device_id",
                                code=codes.DEVICE_DEACTIVATED)
            device.last_seen_at = utcnow()
            if request.device_name:
                device.name = request.device_name
            if rehashed is not None:
                user.password_hash = rehashed
            issued = await _mint(repo, self.settings, user.id, device.id, None)
            return LoginResponse(
                access_token=issued.token, token_type="bearer", expires_at=issued.expires_at,
                user=UserSummary.of(user),
            )

    async def logout(self, token_id: uuid.UUID) -> LogoutResponse:
        """Revoke the token the caller presented."""
        async with self.db.transaction() as session:
            await AuthRepository(session).revoke_token(token_id, utcnow())
            await forget_push_token_of_access_token(session, token_id)
        return LogoutResponse(revoked=True)

    async def me(self, principal: Principal) -> MeResponse:
        """The caller and their device."""
        if principal.device_id is None:
            raise NotAuthenticated("unknown caller")
        async with self.db.reading() as session:
            row = await AuthRepository(session).caller(principal.user_id, principal.device_id)
        if row is None:
            raise NotAuthenticated("unknown caller")
        user = UserSummary(
            id=row.id, email=row.email, name=row.name, role=Role(row.role),
            manager_id=row.manager_id, timezone=row.timezone,
        )
        device = DeviceView(
            id=principal.device_id, user_id=row.user_id, name=row.device_name,
            active=row.active, created_at=row.created_at, last_seen_at=row.last_seen_at,
        )
        return MeResponse(user=user, device=device)

    async def list_tokens(
        self, principal: Principal, user_id: uuid.UUID | None, cursor: str | None,
        limit: int | None,
    ) -> Page[TokenView]:
        """Active tokens of the caller, or of ``user_id`` for an admin."""
        owner = user_id or principal.user_id
        if owner != principal.user_id and principal.role != Role.ADMIN:
            raise Forbidden("only an admin may list another user's tokens", field="user_id")
        size = page_size(limit, self.settings)
        async with self.db.reading() as session:
            tokens, next_cursor = await AuthRepository(session).page_active_tokens(
                owner, utcnow(), cursor=cursor, limit=size
            )
            return Page(items=[TokenView.of(t) for t in tokens], next_cursor=next_cursor)

    async def revoke_token(self, principal: Principal, token_id: uuid.UUID) -> TokenView:
        """Revoke a token of the caller's (any token for an admin)."""
        async with self.db.transaction() as session:
            token = await AuthRepository(session).token(token_id)
            if token is None or (
                token.user_id != principal.user_id and principal.role != Role.ADMIN
            ):
                raise NotFound("no such token", field="id")
            if token.revoked_at is None:
                token.revoked_at = utcnow()
            return TokenView.of(token)

    async def list_devices(
        self, *, user_id: uuid.UUID | None, active: bool | None, cursor: str | None,
        limit: int | None,
    ) -> Page[DeviceView]:
        """Devices, filtered by owner and active flag."""
        size = page_size(limit, self.settings)
        async with self.db.reading() as session:
            devices, next_cursor = await AuthRepository(session).page_devices(
                user_id=user_id, active=active, cursor=cursor, limit=size
            )
            return Page(items=[DeviceView.of(d) for d in devices], next_cursor=next_cursor)

    async def set_device_active(self, device_id: uuid.UUID, active: bool) -> DeviceView:
        """Activate or deactivate a device; deactivation revokes every token bound to it."""
        async with self.db.transaction() as session:
            repo = AuthRepository(session)
            device = await repo.device(device_id, for_update=True)
            if device is None:
                raise NotFound("no such device", field="id")
            device.active = active
            if not active:
                await repo.revoke_device_tokens(device_id, utcnow())
                await forget_device_push_token(session, device_id)
            return DeviceView.of(device)

