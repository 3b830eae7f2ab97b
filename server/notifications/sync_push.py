"""Silent "sync now" pushes: data-only, coalesced to one per device per interval.

The write path calls ``request_sync`` in its own transaction with the users whose scope just
gained data (an order's outcome, an approval, a realignment). Each of their active devices
with a push token gets one row keyed by the interval the change falls in and due when that
interval ends (trailing edge): a burst within the interval writes one row per device, and two
pushes to a device are always at least one interval apart, while no change waits longer than
one interval. Quiet hours do not apply (nothing is shown).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Device
from server.db import utcnow
from server.notifications.models import PushToken
from server.notifications.outbox import OutboxRepository, outbox_row

SYNC_NOW = "sync_now"
DEFAULT_INTERVAL_SECONDS = 60


def interval_start(now: dt.datetime, seconds: int) -> dt.datetime:
    """The start of the coalescing interval ``now`` falls in."""
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % max(1, seconds), dt.UTC)


async def request_sync(
    session: AsyncSession,
    user_ids: Iterable[uuid.UUID],
    *,
    now: dt.datetime | None = None,
    interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
) -> int:
    """Queue a silent push to every active device of these users (one per device per
    interval); the number of new rows."""
    ids = list(set(user_ids))
    if not ids:
        return 0
    now = now or utcnow()
    start = interval_start(now, interval_seconds)
    bucket, due_at = start.isoformat(), start + dt.timedelta(seconds=max(1, interval_seconds))
    devices = (
        await session.execute(
            sa.select(PushToken.device_id, PushToken.user_id)
            .join(Device, Device.id == PushToken.device_id)
            .where(PushToken.user_id.in_(ids), Device.active.is_(True))
        )
    ).all()
    rows = [
        outbox_row(
            user_id=user_id,
            rule=SYNC_NOW,
            record_id=device_id,
            occurrence=bucket,
            due_at=due_at,
            now=now,
            device_id=device_id,
            data={"action": "sync"},
            collapse_key="sync",
            silent=True,
        )
        for device_id, user_id in devices
    ]
    return await OutboxRepository(session).add_once(rows) if rows else 0
