"""Positions in the change log: (txid, seq), and how far a reader may safely go.

PostgreSQL. Every transaction that writes the change log first takes a shared transaction-level
advisory lock (``LOG_WRITER_LOCK``, in Outpost's database) and its transaction id, and only then
numbers its rows: ``txid`` is the larger of its transaction id and the latest completed one
(``pg_snapshot_xmax - 1``) seen by a snapshot taken after the lock. A pull reads rows only below
the **ceiling**, the smallest of: its snapshot's ``xmax``; the ids of the lock's holders; the ids
its snapshot saw running that have ended since (they may have written rows it cannot see).
Transactions that never write the log (in another database, a report, a backup) hold no lock
and hold no pull back. Why no row can then appear behind a served position: docs/protocol.md,
"Why a cursor never skips a change".

SQLite serializes writers (BEGIN IMMEDIATE), so seq is commit order and txid is always 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

Position = tuple[int, int]
START: Position = (0, 0)
# larger than any PostgreSQL xid8 in practice; the "no ceiling" value on SQLite
NO_CEILING = 2**62

# pg_advisory_xact_lock_shared(key1, key2): "OPST", 1. In pg_locks: classid, objid, objsubid 2.
LOG_WRITER_LOCK = (1330664276, 1)

_TXID_KEY = "sync_txid"
_LOCK = sa.text(
    f"SELECT pg_advisory_xact_lock_shared({LOG_WRITER_LOCK[0]}, {LOG_WRITER_LOCK[1]}),"
    " pg_current_xact_id()"
)
# a statement of its own: its snapshot is taken after the lock is held
_NUMBER = sa.text(
    "SELECT greatest(pg_current_xact_id()::text::bigint,"
    " pg_snapshot_xmax(pg_current_snapshot())::text::bigint - 1)"
)

# The ceiling (see the module docstring), from one read of the lock table. ``busy``: 32-bit ids
# of transactions running in backends that do not hold the lock (they never write the log);
# ``writers``: the ids of those that do, widened to 64 bits against the snapshot's xmax.
_PG_CEILING = (
    "(WITH locks AS MATERIALIZED ("
    "SELECT pid, locktype, transactionid::text::bigint AS xid FROM pg_locks WHERE granted AND ("
    "(locktype = 'transactionid' AND mode = 'ExclusiveLock') OR (locktype = 'advisory'"
    f" AND classid = {LOG_WRITER_LOCK[0]} AND objid = {LOG_WRITER_LOCK[1]} AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())))),"
    " held AS (SELECT t.xid, EXISTS (SELECT 1 FROM locks AS a WHERE a.locktype = 'advisory'"
    " AND a.pid = t.pid) AS writer FROM locks AS t WHERE t.locktype = 'transactionid'),"
    " snap AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax)"
    " SELECT least((SELECT xmax FROM snap),"
    " (SELECT min(e::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS e"
    " WHERE NOT EXISTS (SELECT 1 FROM held AS h WHERE NOT h.writer"
    " AND h.xid = e::text::bigint % 4294967296)),"
    " (SELECT min(s.xmax + ((h.xid - s.xmax) % 4294967296 + 6442450944) % 4294967296"
    " - 2147483648) FROM held AS h, snap AS s WHERE h.writer)))"
)


def is_postgres(session: AsyncSession) -> bool:
    """True on PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


async def current_txid(session: AsyncSession) -> int:
    """The number of the session's change-log rows: on PostgreSQL taken once per transaction,
    with the log writer's lock held from then to its end (see the module docstring); 0 on
    SQLite."""
    if not is_postgres(session):
        return 0
    transaction = session.get_transaction()
    cached = session.info.get(_TXID_KEY)
    if cached is not None and cached[0] is transaction:
        return int(cached[1])
    # In a subtransaction (SAVEPOINT) the lock and the id are still the top-level transaction's.
    await session.execute(_LOCK)
    txid = int((await session.execute(_NUMBER)).scalar_one())
    session.info[_TXID_KEY] = (transaction, txid)
    return txid


def ceiling_sql(postgres: bool) -> str:
    """SQL for the first txid that is not yet safe to read (exclusive)."""
    if postgres:
        return _PG_CEILING
    return str(NO_CEILING)
