"""The push-token registry: one FCM registration token per device, moved, pruned, forgotten."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import AccessToken
from server.db import Database, new_id, utcnow
from server.errors import Forbidden, NotFound
from server.notifications.models import PushToken
from server.notifications.outbox import among
from server.notifications.schemas import PushTokenRequest, PushTokenView
from server.sync.registry import Principal


class PushTokenRepository:
    """Named queries over ``push_tokens``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(
        self,
        user_id: uuid.UUID,
        device_id: uuid.UUID,
        token: str,
        platform: str,
        now: dt.datetime,
    ) -> PushToken:
        """Bind ``token`` to the device: the device's old token is replaced and the token
        leaves any other device (another user logged in on the same phone)."""
        await self.session.execute(
            sa.delete(PushToken).where(PushToken.token == token, PushToken.device_id != device_id)
        )
        row = await self.session.scalar(
            sa.select(PushToken).where(PushToken.device_id == device_id)
        )
        if row is None:
            row = PushToken(
                id=new_id(),
                user_id=user_id,
                device_id=device_id,
                token=token,
                platform=platform,
                created_at=now,
                updated_at=now,
            )
            self.session.add(row)
        else:
            row.user_id, row.token, row.platform, row.updated_at = user_id, token, platform, now
        await self.session.flush()
        return row

    async def of_device(self, device_id: uuid.UUID) -> PushToken | None:
        """The device's token, if it registered one."""
        return await self.session.scalar(
            sa.select(PushToken).where(PushToken.device_id == device_id)
        )

    async def of_users(self, user_ids: Iterable[uuid.UUID]) -> Sequence[Any]:
        """Every token of these users: rows of ``id, user_id, device_id, token``."""
        ids = list(set(user_ids))
        if not ids:
            return []
        columns = (PushToken.id, PushToken.user_id, PushToken.device_id, PushToken.token)
        return (
            await self.session.execute(
                sa.select(*columns)
                .where(among(PushToken.user_id, ids, self.session.get_bind().dialect.name))
                .order_by(PushToken.id)
            )
        ).all()

    async def forget_device(self, device_id: uuid.UUID) -> int:
        """Delete the device's token; the number deleted."""
        result = await self.session.execute(
            sa.delete(PushToken).where(PushToken.device_id == device_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def forget_ids(self, token_ids: Iterable[uuid.UUID]) -> int:
        """Delete tokens FCM called unregistered."""
        ids = list(token_ids)
        if not ids:
            return 0
        result = await self.session.execute(sa.delete(PushToken).where(PushToken.id.in_(ids)))
        return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_device_push_token(session: AsyncSession, device_id: uuid.UUID) -> None:
    """Hook for device deactivation: the device gets no more pushes."""
    await PushTokenRepository(session).forget_device(device_id)


async def forget_push_token_of_access_token(session: AsyncSession, token_id: uuid.UUID) -> None:
    """Hook for logout: the device the access token was bound to gets no more pushes."""
    device = sa.select(AccessToken.device_id).where(AccessToken.id == token_id).scalar_subquery()
    await session.execute(sa.delete(PushToken).where(PushToken.device_id == device))


class PushTokenService:
    """Register, refresh and remove the caller's device token (any role: it is their phone)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def register(self, principal: Principal, request: PushTokenRequest) -> PushTokenView:
        """Register or refresh the token of the caller's device."""
        device_id = self._device(principal)
        for attempt in range(2):
            try:
                async with self.db.transaction() as session:
                    row = await PushTokenRepository(session).save(
                        principal.user_id, device_id, request.token, request.platform, utcnow()
                    )
                    return msgspec.convert(row, PushTokenView, from_attributes=True)
            except IntegrityError:
                # a concurrent registration of the same token or device: the retry sees it
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def current(self, principal: Principal) -> PushTokenView:
        """The caller's device token (404 when none is registered)."""
        async with self.db.reading() as session:
            row = await PushTokenRepository(session).of_device(self._device(principal))
            if row is None:
                raise NotFound("this device has no push token", field="device_id")
            return msgspec.convert(row, PushTokenView, from_attributes=True)

    async def remove(self, principal: Principal) -> None:
        """Forget the caller's device token (404 when none is registered)."""
        async with self.db.transaction() as session:
            if not await PushTokenRepository(session).forget_device(self._device(principal)):
                raise NotFound("this device has no push token", field="device_id")

    @staticmethod
    def _device(principal: Principal) -> uuid.UUID:
        if principal.device_id is None:
            raise Forbidden("push tokens belong to a device-bound token", field="device_id")
        return principal.device_id
