"""A device's ``last_seen_at``, kept current by the auth middleware at a minute's resolution."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import cast

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from server.auth.models import Device
from server.db import Database, utcnow

log = logging.getLogger("outpost")
_devices = cast(sa.Table, Device.__table__)
# One write per device per minute at most, however many requests it makes.
SEEN_RESOLUTION = dt.timedelta(seconds=60)


async def touch_device(
    db: Database, device_id: uuid.UUID, last_seen_at: dt.datetime | None
) -> None:
    """Set the device's ``last_seen_at`` to now when it is older than ``SEEN_RESOLUTION``.

    The token query already read it, so most requests write nothing; the conditional UPDATE
    keeps concurrent requests (and server processes) to one write per device per minute.
    """
    now = utcnow()
    if last_seen_at is not None and now - last_seen_at < SEEN_RESOLUTION:
        return
    stale = now - SEEN_RESOLUTION
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.update(_devices)
                .where(
                    _devices.c.id == device_id,
                    sa.or_(_devices.c.last_seen_at.is_(None), _devices.c.last_seen_at < stale),
                )
                .values(last_seen_at=now)
            )
    except SQLAlchemyError:
        # bookkeeping: it never fails the request (the next request retries)
        log.warning("could not update last_seen_at of device %s", device_id, exc_info=True)
