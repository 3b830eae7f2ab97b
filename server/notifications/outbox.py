"""The notification outbox: insert-or-ignore under the idempotency key, atomic claims, results.

Claiming is one statement on both backends::

    UPDATE notifications SET claimed_by = :worker, claimed_until = :lease_end
    WHERE id IN (SELECT id FROM notifications
                 WHERE status = 'queued' AND due_at <= :now
                   AND (claimed_until IS NULL OR claimed_until < :now)
                 ORDER BY due_at LIMIT :n
                 FOR UPDATE SKIP LOCKED)          -- PostgreSQL only
    RETURNING ...

On PostgreSQL the row locks of ``FOR UPDATE SKIP LOCKED`` make concurrent claimers take
disjoint rows (a row another claimer holds is skipped; one it claimed and committed is
re-checked against the WHERE and no longer qualifies). SQLite has no row locks and ignores
``SKIP LOCKED``, but every Outpost write transaction there starts with ``BEGIN IMMEDIATE``
(``server/db.py``): one writer at a time for the whole database file, across processes, so
the sub-select and the update of a claim run with no other writer in between, and a second
scheduler's claim sees the first one's rows as claimed.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from rules.reminders import Reminder, payload
from server.db import new_id
from server.notifications.models import Notification, NotificationStatus

QUEUED = NotificationStatus.QUEUED
_INSERT_BATCH = 1000


def backoff_seconds(
    attempt: int,
    base: float,
    cap: float,
    rng: random.Random | None = None,
    retry_after: float | None = None,
) -> float:
    """Delay before attempt ``attempt + 1``: exponential (``base * 2**(attempt-1)``, at most
    ``cap``) with equal jitter (half fixed, half random), never less than the service's
    ``retry_after``."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
    return float(max(delay, retry_after or 0.0))


def outbox_row(
    *,
    user_id: uuid.UUID,
    rule: str,
    record_id: uuid.UUID,
    occurrence: str,
    due_at: dt.datetime,
    now: dt.datetime,
    **fields: Any,
) -> dict[str, Any]:
    """A new queued outbox row (``fields``: title, body, data, collapse_key, silent,
    device_id)."""
    return {
        "id": new_id(),
        "user_id": user_id,
        "device_id": None,
        "rule": rule,
        "record_id": record_id,
        "occurrence": occurrence,
        "title": "",
        "body": "",
        "data": {},
        "collapse_key": "",
        "silent": False,
        "status": QUEUED,
        "due_at": due_at,
        "attempts": 0,
        "delivered_to": [],
        "last_error": "",
        "created_at": now,
        "updated_at": now,
        **fields,
    }


def reminder_row(reminder: Reminder, now: dt.datetime) -> dict[str, Any]:
    """The outbox row of a reminder."""
    return outbox_row(
        user_id=reminder.user_id,
        rule=reminder.rule,
        record_id=reminder.record_id,
        occurrence=reminder.occurrence,
        due_at=reminder.due_at,
        now=now,
        title=reminder.title,
        body=reminder.body,
        data=payload(reminder),
        collapse_key=reminder.collapse_key,
    )


class Claimed(msgspec.Struct, kw_only=True):
    """A claimed outbox row, as the dispatcher works on it (plain values, no ORM state)."""

    id: uuid.UUID
    user_id: uuid.UUID
    device_id: uuid.UUID | None
    rule: str
    record_id: uuid.UUID
    occurrence: str
    title: str
    body: str
    data: dict[str, Any]
    collapse_key: str
    silent: bool
    due_at: dt.datetime
    attempts: int
    delivered_to: list[Any]
    last_error: str


_CLAIMED = tuple(Claimed.__struct_fields__)


class Rescheduled(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed row going back to the queue: when, after how many attempts, the devices that
    already took it, the last error."""

    id: uuid.UUID
    due_at: dt.datetime
    attempts: int
    delivered_to: list[str]
    error: str = ""


class OutboxRepository:
    """Named statements on ``notifications``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_once(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert rows whose ``(rule, record_id, occurrence)`` is new; the others are left as
        they are (``ON CONFLICT DO NOTHING`` on both backends). The number inserted."""
        if not rows:
            return 0
        table = cast(sa.Table, Notification.__table__)
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
        statement = insert.on_conflict_do_nothing(
            index_elements=["rule", "record_id", "occurrence"]
        ).returning(table.c.id)
        inserted = 0
        for start in range(0, len(rows), _INSERT_BATCH):
            # executemany: one statement compiled once, sent in batches (insertmanyvalues)
            result = await self.session.execute(
                statement, list(rows[start : start + _INSERT_BATCH])
            )
            inserted += len(result.all())
        return inserted

    async def claim(
        self, worker: str, now: dt.datetime, lease: dt.timedelta, limit: int
    ) -> list[Claimed]:
        """Claim up to ``limit`` due rows for ``worker`` until ``now + lease`` (see above)."""
        due = (
            sa.select(Notification.id)
            .where(
                Notification.status == QUEUED,
                Notification.due_at <= now,
                sa.or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
            )
            .order_by(Notification.due_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        statement = (
            sa.update(Notification)
            .where(Notification.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(*(Notification.__table__.c[name] for name in _CLAIMED))
            .execution_options(synchronize_session=False)
        )
        rows = (await self.session.execute(statement)).all()
        return [Claimed(**row._mapping) for row in rows]

    async def finish(
        self,
        worker: str,
        ids: Iterable[uuid.UUID],
        status: NotificationStatus,
        now: dt.datetime,
        *,
        error: str = "",
        sent: bool = False,
        add_attempt: bool = True,
    ) -> int:
        """Give rows of this worker's claim their final status in one statement."""
        chosen = list(ids)
        if not chosen:
            return 0
        values: dict[str, Any] = {
            "status": status,
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": now,
            "last_error": error,
        }
        if add_attempt:
            values["attempts"] = Notification.attempts + 1
        if sent:
            values["sent_at"] = now
        result = await self.session.execute(
            sa.update(Notification)
            .where(
                among(Notification.id, chosen, self.session.get_bind().dialect.name),
                Notification.claimed_by == worker,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def reschedule(self, worker: str, rows: Sequence[Rescheduled], now: dt.datetime) -> int:
        """Put claimed rows back in the queue, each for its ``due_at`` (a retry, or after quiet
        hours): one statement sent as an executemany."""
        if not rows:
            return 0
        table = cast(sa.Table, Notification.__table__)
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"), table.c.claimed_by == worker)
            .values(
                due_at=sa.bindparam("new_due_at"),
                attempts=sa.bindparam("new_attempts"),
                delivered_to=sa.bindparam("new_delivered_to"),
                last_error=sa.bindparam("new_error"),
                claimed_by=None,
                claimed_until=None,
                updated_at=now,
            )
        )
        await self.session.execute(
            statement,
            [
                {
                    "row_id": row.id,
                    "new_due_at": row.due_at,
                    "new_attempts": row.attempts,
                    "new_delivered_to": row.delivered_to,
                    "new_error": row.error,
                }
                for row in rows
            ],
        )
        return len(rows)

    async def sent_since(
        self, user_ids: Iterable[uuid.UUID], since: dt.datetime
    ) -> dict[uuid.UUID, int]:
        """How many visible (not silent) pushes each user was sent since ``since``."""
        ids = list(set(user_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            sa.select(Notification.user_id, sa.func.count())
            .where(
                Notification.user_id.in_(ids),
                Notification.status == NotificationStatus.SENT,
                Notification.silent.is_(False),
                Notification.sent_at >= since,
            )
            .group_by(Notification.user_id)
        )
        return {user_id: int(count) for user_id, count in rows.all()}

    async def queued_row(
        self, rule: str, record_id: uuid.UUID, occurrence: str
    ) -> Notification | None:
        """The row under this key (locked on PostgreSQL)."""
        statement = sa.select(Notification).where(
            Notification.rule == rule,
            Notification.record_id == record_id,
            Notification.occurrence == occurrence,
        )
        if self.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def suppress_queued(
        self, rule: str, record_ids: Iterable[uuid.UUID], now: dt.datetime
    ) -> int:
        """Mark the still-queued, unclaimed reminders of these records suppressed (a hook for
        write paths that know a record's reminders are moot)."""
        ids = list(record_ids)
        if not ids:
            return 0
        result = await self.session.execute(
            sa.update(Notification)
            .where(
                Notification.rule == rule,
                Notification.record_id.in_(ids),
                Notification.status == QUEUED,
                Notification.claimed_by.is_(None),
            )
            .values(status=NotificationStatus.SUPPRESSED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def among(column: Any, ids: Iterable[uuid.UUID], dialect: str) -> Any:
    """``column IN ids``; on PostgreSQL ``column = ANY(:ids)``, one array parameter, so a
    1,000-row batch is not a statement with 1,000 placeholders to parse and plan."""
    chosen = list(ids)
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(None, chosen, type_=ARRAY(sa.Uuid())))
    return column.in_(chosen)
