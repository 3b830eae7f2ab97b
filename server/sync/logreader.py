"""Named read queries over the change log, for pulls.

A page is one statement: the visibility ceiling and the pruning horizon are read in the same
statement (so the same snapshot) as the rows. Each key is its own index range scan on
(scope_key, txid, seq); the scans are merged in (txid, seq) order by the database (PostgreSQL
Merge Append, SQLite's ordered compound-select merge) and the merge stops at LIMIT, so a page
costs O(limit + keys) index entries whatever the number of keys, and a pull with nothing new one
empty range probe per key.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import UTCDateTime, utcnow
from server.sync.models import sync_log
from server.sync.position import NO_CEILING, START, Position, ceiling_sql

HORIZON = "horizon"
# SQLite allows 500 terms in a compound SELECT; past this many keys a page walks the position
# index with an IN filter instead (one scan that stops at LIMIT; such a scope is most of the log).
_MERGE_MAX_KEYS = 400


@dataclass(frozen=True, slots=True)
class LogRow:
    """One change-log row as read by a pull (the record id as its canonical UUID string)."""

    txid: int
    seq: int
    entity: str
    record_id: str
    scope_key: str
    op: str
    version: int
    payload: str | None

    @property
    def position(self) -> Position:
        """Where the row sits in the log."""
        return (self.txid, self.seq)


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows of one statement below the ceiling, with the ceiling and horizon that statement saw."""

    rows: list[LogRow]
    ceiling: int
    horizon: Position
    # a committed row at or above the ceiling came next: the reader is behind an open log writer
    held_back: bool = False


def parse_position(value: str | None) -> Position:
    """A position stored as ``"txid:seq"``."""
    if not value:
        return START
    txid, seq = value.split(":")
    return int(txid), int(seq)


def format_position(position: Position) -> str:
    """The stored form of a position."""
    return f"{position[0]}:{position[1]}"


_ROW = "txid, seq, entity, {rid}, scope_key, op, version, payload"
# PostgreSQL: a row comparison on (txid, seq) is an index range on (scope_key, txid, seq).
# No ceiling here: rows at or above it (committed, visible, but not yet safe to serve) come last
# in the merge and are cut off in Python, which is how a pull learns it is held back.
_PG_WHERE = "(txid, seq) > (:after_txid, :after_seq)"
_PG_UPSERTS = " AND op = 'upsert' AND (txid, seq) <= (:upto_txid, :upto_seq)"
# SQLite only turns the first column of a row comparison into an index range, and its txid is
# always 0: compare seq alone so each key's scan starts at the cursor, not at the key's start.
_LITE_WHERE = "txid = :after_txid AND seq > :after_seq"
_LITE_UPSERTS = " AND op = 'upsert' AND seq <= :upto_seq"
_HEAD = (
    "SELECT h.ceiling, h.horizon, r.* FROM (SELECT {ceiling} AS ceiling,"
    " (SELECT value FROM sync_state WHERE name = '" + HORIZON + "') AS horizon) AS h"
    " LEFT JOIN ({rows}) AS r ON 1 = 1"
)
_ORDER = " ORDER BY txid, seq LIMIT :lim"


@functools.lru_cache(maxsize=512)
def _statement(dialect: str, plain: int, upserts: int, fixed: bool) -> sa.TextClause:
    """Plain SQL, built once per shape: composing it with the expression language on every pull
    would cost more than the index scans it runs. ``fixed``: the ceiling is a parameter (a later
    statement of the same pull) rather than read by this statement.

    The per-key scans are merged by (txid, seq) and the merge stops at LIMIT. What the plans
    show: PostgreSQL merges (Merge Append) only ordered, limited subqueries; SQLite merges a
    flat compound SELECT with one ORDER BY, and materializes each limited subquery instead.
    """
    postgres = dialect == "postgresql"
    head = (
        ("CAST(:ceiling AS BIGINT)" if fixed else ceiling_sql(True))
        if postgres
        else ceiling_sql(False)
    )
    if postgres:
        where = _PG_WHERE
        extra = _PG_UPSERTS
        row = _ROW.format(rid="CAST(record_id AS TEXT)")
    else:
        where, extra, row = _LITE_WHERE, _LITE_UPSERTS, _ROW.format(rid="record_id")
    member = "SELECT " + row + " FROM sync_log WHERE {key} AND " + where + "{extra}"
    count = plain + upserts
    if count > _MERGE_MAX_KEYS:
        key = f"(scope_key IN :keys OR (scope_key IN :added{extra}))"
        rows = member.format(key=key, extra="") + _ORDER
    else:
        members = [
            member.format(key=f"scope_key = :k{i}", extra="" if i < plain else extra)
            for i in range(count)
        ]
        if postgres and count > 1:
            members = [f"SELECT * FROM ({m}{_ORDER}) AS m{i}" for i, m in enumerate(members)]
            rows = "SELECT * FROM (" + " UNION ALL ".join(members) + ") AS u" + _ORDER
        else:
            rows = " UNION ALL ".join(members) + _ORDER
    statement = sa.text(_HEAD.format(ceiling=head, rows=rows))
    if count > _MERGE_MAX_KEYS:
        statement = statement.bindparams(
            sa.bindparam("keys", expanding=True, type_=sa.String()),
            sa.bindparam("added", expanding=True, type_=sa.String()),
        )
    return statement


def _uuid_text(value: object) -> str:
    # SQLite stores a UUID as 32 lower-case hex digits (``UUID.hex``); the wire wants the
    # canonical dashed form. Sliced rather than parsed: on an initial sync this runs for every
    # row, and ``str(uuid.UUID(hex=...))`` cost more than the rest of reading the row.
    text = str(value)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}".lower()
    return text


async def _run(
    session: AsyncSession,
    plain: list[str],
    upserts: list[str],
    after: Position,
    limit: int,
    ceiling: int | None,
    upto: Position = START,
) -> Batch:
    dialect = session.get_bind().dialect.name
    params: dict[str, object] = {
        "after_txid": after[0],
        "after_seq": after[1],
        "lim": limit,
        "upto_txid": upto[0],
        "upto_seq": upto[1],
    }
    if ceiling is not None:
        params["ceiling"] = min(ceiling, NO_CEILING)
    keys = plain + upserts
    if not keys:
        # nothing to read, but the ceiling and horizon are still wanted: an impossible key
        keys, plain = [""], [""]
    if len(keys) > _MERGE_MAX_KEYS:
        params["keys"], params["added"] = plain, upserts
    else:
        params.update({f"k{i}": key for i, key in enumerate(keys)})
    statement = _statement(dialect, len(plain), len(upserts), ceiling is not None)
    result = (await session.execute(statement, params)).all()
    first = result[0]
    seen = int(first[0])
    postgres = dialect == "postgresql"
    rows = [
        LogRow(
            txid,
            seq,
            entity,
            rid if postgres else _uuid_text(rid),
            scope_key,
            op,
            version,
            payload,
        )
        for _c, _h, txid, seq, entity, rid, scope_key, op, version, payload in result
        if txid is not None
    ]
    # rows come in (txid, seq) order: those below the ceiling are a prefix
    served = next((i for i, row in enumerate(rows) if row.txid >= seen), len(rows))
    return Batch(rows[:served], seen, parse_position(first[1]), held_back=served < len(rows))


async def stream_rows(
    session: AsyncSession,
    keys: Collection[str],
    after: Position,
    limit: int,
    ceiling: int | None = None,
) -> Batch:
    """Rows under ``keys`` after ``after`` and below the ceiling, in log order (at most
    ``limit``). Without a ``ceiling`` the statement reads the current one."""
    return await _run(session, sorted(keys), [], after, limit, ceiling)


async def catch_up_rows(
    session: AsyncSession,
    removed: Collection[str],
    added: Collection[str],
    after: Position,
    stream_position: Position,
    limit: int,
    ceiling: int | None = None,
) -> Batch:
    """Rows a keyset change must look at: every row of a removed key up to the live end, and
    the upserts of an added key at or before the stream position (later ones are streamed)."""
    return await _run(
        session, sorted(removed), sorted(added), after, limit, ceiling, stream_position
    )


@functools.lru_cache(maxsize=4)
def _count_statement(dialect: str) -> sa.TextClause:
    ceiling = ceiling_sql(dialect == "postgresql")
    return sa.text(
        "SELECT (SELECT count(*) FROM sync_log WHERE scope_key IN :keys AND txid < c.ceiling),"
        f" c.ceiling, (SELECT value FROM sync_state WHERE name = '{HORIZON}')"
        f" FROM (SELECT {ceiling} AS ceiling) AS c"
    ).bindparams(sa.bindparam("keys", expanding=True, type_=sa.String()))


async def count_rows(session: AsyncSession, keys: Collection[str]) -> tuple[int, int, Position]:
    """How many rows an initial sync of ``keys`` will send (for progress), with the ceiling and
    horizon the count saw (read in the same statement)."""
    statement = _count_statement(session.get_bind().dialect.name)
    total, ceiling, horizon = (
        await session.execute(statement, {"keys": sorted(keys) or [""]})
    ).one()
    return int(total), int(ceiling), parse_position(horizon)


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


@dataclass(frozen=True, slots=True)
class PullLag:
    """How far pulls are behind the change log: committed rows at or above the visibility
    ceiling (an open log writer holds them back), and the age of the oldest of them."""

    seconds: float
    held_back: int


@functools.lru_cache(maxsize=1)
def _lag_statement() -> sa.TextualSelect:
    return sa.text(
        "SELECT (SELECT min(created_at) FROM sync_log WHERE txid >= c.ceiling),"
        " (SELECT count(*) FROM sync_log WHERE txid >= c.ceiling)"
        f" FROM (SELECT {ceiling_sql(True)} AS ceiling) AS c"
    ).columns(sa.column("oldest", UTCDateTime()), sa.column("held", sa.BigInteger()))


async def pull_lag(session: AsyncSession) -> PullLag:
    """The current pull lag (one statement; on SQLite, whose pulls read every committed row,
    always none, after checking that the database answers)."""
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(sa.text("SELECT 1"))
        return PullLag(0.0, 0)
    oldest, held = (await session.execute(_lag_statement())).one()
    if oldest is None:
        return PullLag(0.0, 0)
    return PullLag(max(0.0, (utcnow() - oldest).total_seconds()), int(held))
