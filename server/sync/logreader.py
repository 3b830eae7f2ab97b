"""Named read queries over the change log, for pulls.

Each key is read by its own index range scan on (scope_key, txid, seq), merged with UNION ALL:
a page costs O(limit x keys) index entries, never a scan of the whole scope.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.sync.models import sync_log
from server.sync.position import NO_CEILING, START, Position, ceiling_sql

HORIZON = "horizon"
_UNION_MAX_KEYS = 48
_COLUMNS = (
    sync_log.c.txid,
    sync_log.c.seq,
    sync_log.c.entity,
    sync_log.c.record_id,
    sync_log.c.scope_key,
    sync_log.c.op,
    sync_log.c.version,
    sync_log.c.payload,
)


@dataclass(frozen=True, slots=True)
class LogRow:
    """One change-log row as read by a pull."""

    txid: int
    seq: int
    entity: str
    record_id: uuid.UUID
    scope_key: str
    op: str
    version: int
    payload: str | None

    @property
    def position(self) -> Position:
        """Where the row sits in the log."""
        return (self.txid, self.seq)


async def ceiling_and_horizon(session: AsyncSession) -> tuple[int, Position]:
    """The first txid not yet safe to read, and the position pruning has removed rows up to."""
    statement = sa.text(
        f"SELECT {ceiling_sql(session)}, (SELECT value FROM sync_state WHERE name = :name)"
    )
    ceiling, horizon = (await session.execute(statement, {"name": HORIZON})).one()
    return int(ceiling), parse_position(horizon)


def parse_position(value: str | None) -> Position:
    """A position stored as ``"txid:seq"``."""
    if not value:
        return START
    txid, seq = value.split(":")
    return int(txid), int(seq)


def format_position(position: Position) -> str:
    """The stored form of a position."""
    return f"{position[0]}:{position[1]}"


_SELECT = (
    "SELECT txid, seq, entity, record_id, scope_key, op, version, payload FROM sync_log"
    " WHERE {where} AND (txid, seq) > (:after_txid, :after_seq) AND txid < :ceiling{extra}"
    " ORDER BY txid, seq LIMIT :lim"
)
_UPSERTS_UP_TO = " AND op = 'upsert' AND (txid, seq) <= (:upto_txid, :upto_seq)"


@functools.lru_cache(maxsize=256)
def _statement(plain: int, upserts: int, expanding: bool) -> sa.TextClause:
    """Plain SQL (built once per shape): a pull is hot, and composing a UNION of subqueries
    with the expression language costs more than the index scans it runs."""
    if expanding:
        members = [_SELECT.format(where="scope_key IN :keys", extra="")]
    else:
        members = [_SELECT.format(where=f"scope_key = :k{i}", extra="") for i in range(plain)]
        members += [
            _SELECT.format(where=f"scope_key = :k{plain + i}", extra=_UPSERTS_UP_TO)
            for i in range(upserts)
        ]
    if len(members) == 1:
        sql = members[0]
    else:
        union = " UNION ALL ".join(f"SELECT * FROM ({m}) AS m{i}" for i, m in enumerate(members))
        sql = f"SELECT * FROM ({union}) AS u ORDER BY txid, seq LIMIT :lim"
    statement = sa.text(sql)
    if expanding:
        statement = statement.bindparams(sa.bindparam("keys", expanding=True))
    return statement.columns(*_COLUMNS)  # type: ignore[return-value]


async def _run(
    session: AsyncSession,
    plain: list[str],
    upserts: list[str],
    after: Position,
    ceiling: int,
    limit: int,
    upto: Position = START,
) -> list[LogRow]:
    if not plain and not upserts:
        return []
    params: dict[str, object] = {
        "after_txid": after[0],
        "after_seq": after[1],
        "ceiling": min(ceiling, NO_CEILING),
        "lim": limit,
        "upto_txid": upto[0],
        "upto_seq": upto[1],
    }
    expanding = not upserts and len(plain) > _UNION_MAX_KEYS
    if expanding:
        params["keys"] = plain
    else:
        params.update({f"k{i}": key for i, key in enumerate(plain + upserts)})
    statement = _statement(len(plain), len(upserts), expanding)
    if not upserts:
        params.pop("upto_txid"), params.pop("upto_seq")
    return [LogRow(*row) for row in (await session.execute(statement, params)).all()]


async def stream_rows(
    session: AsyncSession, keys: Collection[str], after: Position, ceiling: int, limit: int
) -> list[LogRow]:
    """Rows under ``keys`` after ``after`` and below the ceiling, in log order."""
    return await _run(session, sorted(keys), [], after, ceiling, limit)


async def catch_up_rows(
    session: AsyncSession,
    removed: Collection[str],
    added: Collection[str],
    after: Position,
    stream_position: Position,
    ceiling: int,
    limit: int,
) -> list[LogRow]:
    """Rows a keyset change must look at: every row of a removed key up to the live end, and
    the upserts of an added key at or before the stream position (later ones are streamed)."""
    return await _run(
        session, sorted(removed), sorted(added), after, ceiling, limit, stream_position
    )


async def count_rows(session: AsyncSession, keys: Collection[str], ceiling: int) -> int:
    """How many rows an initial sync of ``keys`` will send (for progress)."""
    statement = (
        sa.select(sa.func.count()).select_from(sync_log).where(sync_log.c.scope_key.in_(keys))
    )
    if ceiling < NO_CEILING:
        statement = statement.where(sync_log.c.txid < ceiling)
    return int((await session.execute(statement)).scalar_one())


async def held_before(
    session: AsyncSession, entity: str, record_id: uuid.UUID, keys: Sequence[str]
) -> bool:
    """True when the record has ever been logged under one of ``keys``."""
    if not keys:
        return False
    statement = (
        sa.select(sync_log.c.seq)
        .where(
            sync_log.c.entity == entity,
            sync_log.c.record_id == record_id,
            sync_log.c.scope_key.in_(keys),
        )
        .limit(1)
    )
    return (await session.execute(statement)).first() is not None
