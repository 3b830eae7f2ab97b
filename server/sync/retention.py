"""Tombstone retention: old delete/evict rows and receipts are pruned, behind a horizon.

A cursor older than the horizon may have missed a pruned tombstone, so its next pull answers
``reset: true`` and restarts the device's stream from the beginning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from server.db import Database
from server.settings import Settings
from server.sync.logreader import HORIZON, format_position, parse_position
from server.sync.models import sync_log, sync_receipts, sync_records, sync_refused, sync_state
from server.sync.sql import upsert


@dataclass(frozen=True)
class PruneReport:
    """What one pruning pass removed."""

    log_rows: int
    receipts: int
    records: int
    horizon: str


def _silent(_what: str, _count: int) -> None:
    pass


async def prune_log(
    db: Database,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[str, int], None] = _silent,
) -> PruneReport:
    """Delete tombstones and receipts older than the retention; advance the horizon.

    ``progress(step, rows deleted)`` is called after each of the three deletions.
    """
    cutoff = now - dt.timedelta(seconds=settings.tombstone_retention_seconds)
    old = sa.and_(sync_log.c.op.in_(("delete", "evict")), sync_log.c.created_at < cutoff)
    async with db.transaction() as session:
        current = parse_position(
            (
                await session.execute(
                    sa.select(sync_state.c.value).where(sync_state.c.name == HORIZON)
                )
            ).scalar_one_or_none()
        )
        newest = (
            await session.execute(
                sa.select(sync_log.c.txid, sync_log.c.seq)
                .where(old)
                .order_by(sync_log.c.txid.desc(), sync_log.c.seq.desc())
                .limit(1)
            )
        ).first()
        horizon = max(current, (int(newest[0]), int(newest[1]))) if newest else current
        if horizon != current:
            await upsert(
                session,
                sync_state,
                {"name": HORIZON, "value": format_position(horizon)},
                ["name"],
                ["value"],
            )
        log_rows = (await session.execute(sa.delete(sync_log).where(old))).rowcount  # type: ignore[attr-defined]
        progress("change-log tombstones", log_rows)
        receipts = (
            await session.execute(
                sa.delete(sync_receipts).where(sync_receipts.c.created_at < cutoff)
            )
        ).rowcount  # type: ignore[attr-defined]
        # the ids refused mutations named go with their receipts
        await session.execute(sa.delete(sync_refused).where(sync_refused.c.created_at < cutoff))
        progress("receipts", receipts)
        records = (
            await session.execute(
                sa.delete(sync_records).where(
                    sync_records.c.deleted.is_(True), sync_records.c.updated_at < cutoff
                )
            )
        ).rowcount  # type: ignore[attr-defined]
        progress("deleted records", records)
    return PruneReport(log_rows, receipts, records, format_position(horizon))
