"""Cache epochs: counters every server process reads to know when its caches went stale.

A process keeps verified tokens (``server.auth.token_cache``) and users' scope keys
(``server.sync.scope_cache``) in memory. What they were computed from lives in a few tables;
any transaction that writes one of the columns they depend on bumps the matching epoch in the
same transaction (a ``before_commit`` hook), so every process, on its next epoch read, drops
what it cached before. Processes read the epochs at most every ``cache_epoch_interval_seconds``
(one tiny statement shared by the requests of that moment), so a revoked token or a lost scope
takes effect on every process within that interval plus the read itself.

The watch is on SQLAlchemy statements, not on call sites: every INSERT, UPDATE or DELETE of a
watched table run through an ORM ``Session`` (ORM flushes, ``session.execute`` of Core
statements, the ChangeWriter) is seen, whoever wrote it. An UPDATE counts when it sets a watched
column (or when the table's every column is watched); writes outside a ``Session`` (a bare
``engine.begin()``) are not seen, and nothing that changes tokens or scopes is written that way.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.db import Base, Database

AUTH = "auth"  # tokens, devices, users' activity and credentials
SCOPE = "scope"  # territory tree, memberships, users' roles and managers

_ANY = frozenset({"*"})
# table -> columns whose UPDATE matters ("*": any) -> epochs it bumps. An INSERT or DELETE of a
# watched table always bumps (except new tokens and devices: nothing cached them yet).
WATCHED: dict[str, tuple[frozenset[str], tuple[str, ...], bool]] = {
    # (update columns, epochs, inserts count)
    "access_tokens": (
        frozenset({"revoked_at", "expires_at", "secret_hash", "user_id", "device_id"}),
        (AUTH,),
        False,
    ),
    "devices": (frozenset({"active", "user_id"}), (AUTH,), False),
    "users": (frozenset({"active", "password_hash", "role", "manager_id"}), (AUTH, SCOPE), True),
    "territories": (frozenset({"parent_id"}), (SCOPE,), True),
    "territory_members": (_ANY, (SCOPE,), True),
}
_PENDING = "outpost_epochs_pending"  # connection.info: epochs this transaction must bump


class CacheEpoch(Base):
    """One named counter, bumped by every transaction that invalidates what it guards."""

    __tablename__ = "cache_epochs"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


cache_epochs = CacheEpoch.__table__
_BUMP = sa.text(
    "INSERT INTO cache_epochs (name, value) VALUES (:name, 1)"
    " ON CONFLICT (name) DO UPDATE SET value = cache_epochs.value + 1"
)
_READ = sa.text("SELECT name, value FROM cache_epochs")


def _epochs_of(context: Any) -> tuple[str, ...]:
    statement = context.compiled.statement if context.compiled is not None else None
    table = getattr(statement, "table", None)
    watched = WATCHED.get(getattr(table, "name", ""))
    if watched is None:
        return ()
    columns, epochs, inserts = watched
    if context.isinsert:
        return epochs if inserts else ()
    if context.isdelete or columns is _ANY:
        return epochs
    # the bound names of an UPDATE: its SET columns by key (WHERE binds get a suffix)
    return epochs if columns.intersection(context.compiled.params) else ()


def _after_cursor_execute(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> None:
    if context is None or not (context.isinsert or context.isupdate or context.isdelete):
        return
    epochs = _epochs_of(context)
    if epochs:
        conn.info.setdefault(_PENDING, set()).update(epochs)


def _before_commit(session: Session) -> None:
    if not session.in_transaction():
        return
    # the commit's own flush runs after this hook: flush first, so its writes are seen
    session.flush()
    conn = session.connection()
    pending = conn.info.pop(_PENDING, None)
    for name in sorted(pending or ()):  # one order: two bumping transactions never deadlock
        conn.execute(_BUMP, {"name": name})


def _forget(conn: Connection) -> None:
    # an invalidated connection (the server ended the session, e.g. idle in a transaction past
    # its timeout) cannot even be asked for its info; at worst its pending set bumps an epoch
    # once more later, which only empties caches
    if conn.invalidated:
        return
    conn.info.pop(_PENDING, None)


def install() -> None:
    """Watch every engine and session of the process (idempotent)."""
    if event.contains(Engine, "after_cursor_execute", _after_cursor_execute):
        return
    event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(Engine, "rollback", _forget)
    event.listen(Engine, "commit", _forget)
    event.listen(Session, "before_commit", _before_commit)


class EpochClock:
    """This process's view of the epochs, re-read at most every ``interval`` seconds.

    Concurrent requests that find the view stale share one read. Callers tag what they cache
    with the epoch they read *before* computing it: a change committed after that read bumps the
    epoch past the tag, so the next read drops the entry.
    """

    def __init__(self, db: Database, interval: float) -> None:
        self.db, self.interval = db, interval
        self._values: dict[str, int] = {}
        self._read_at = -1e9
        self._reading: asyncio.Future[dict[str, int]] | None = None

    async def current(self) -> dict[str, int]:
        """The epochs, no older than ``interval`` seconds."""
        if time.monotonic() - self._read_at < self.interval:
            return self._values
        if self._reading is not None:
            return await asyncio.shield(self._reading)
        self._reading = asyncio.get_running_loop().create_future()
        try:
            started = time.monotonic()
            async with self.db.engine.connect() as conn:
                conn = await conn.execution_options(**self.db.read_options)
                rows = (await conn.execute(_READ)).all()
            self._values = {name: int(value) for name, value in rows}
            self._read_at = started
            self._reading.set_result(self._values)
            return self._values
        except BaseException as exc:
            self._reading.set_exception(exc)
            self._reading.exception()  # retrieved: no "never retrieved" warning if unshared
            raise
        finally:
            self._reading = None
