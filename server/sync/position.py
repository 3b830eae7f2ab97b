"""Positions in the change log: (txid, seq), and how far a reader may safely go.

PostgreSQL: ``txid`` is the writing transaction's id. Rows are read in (txid, seq) order and only
when ``txid < pg_snapshot_xmin(pg_current_snapshot())``: every transaction with a smaller id has
ended, so no row can later appear behind a position already served. SQLite serializes writers
(BEGIN IMMEDIATE), so seq is commit order and txid is always 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

Position = tuple[int, int]
START: Position = (0, 0)
# larger than any PostgreSQL xid8 in practice; the "no ceiling" value on SQLite
NO_CEILING = 2**62

_TXID_KEY = "sync_txid"


def is_postgres(session: AsyncSession) -> bool:
    """True on PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


async def current_txid(session: AsyncSession) -> int:
    """The id of the session's transaction on PostgreSQL (assigned if needed); 0 on SQLite."""
    if not is_postgres(session):
        return 0
    transaction = session.get_transaction()
    cached = session.info.get(_TXID_KEY)
    if cached is not None and cached[0] is transaction:
        return int(cached[1])
    # In a subtransaction (SAVEPOINT) this is still the top-level transaction's id.
    txid = int(
        (await session.execute(sa.text("SELECT pg_current_xact_id()::text::bigint"))).scalar_one()
    )
    session.info[_TXID_KEY] = (transaction, txid)
    return txid


def ceiling_sql(postgres: bool) -> str:
    """SQL for the first txid that is not yet safe to read (exclusive)."""
    if postgres:
        return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    return str(NO_CEILING)
