"""The outbox: mutations made on the device, in order, until the server acknowledges them.

It also knows how to rebuild a record's local view from the server's copy plus the pending
mutations (the rebase), which every path that receives a server record goes through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import msgspec

from client_sdk.store import LocalStore, RecordKey, RowWrite, chunks_by_entity, dumps, json_decode


class OutboxEntry(msgspec.Struct, array_like=True):
    """One pending mutation as stored (``changes`` and ``local`` stay JSON text)."""

    mid: int
    entity: str
    record_id: str
    op: str
    base_version: int
    changes: str
    local: str | None
    hlc: str


_COLUMNS = "mid, entity, record_id, op, base_version, changes, local, hlc"


def append(
    conn: sqlite3.Connection,
    *,
    entity: str,
    record_id: str,
    op: str,
    base_version: int,
    changes: str,
    local: str | None,
    hlc: str,
    now: str,
) -> int:
    """Queue a mutation under the next mutation number (never reused) and return the number."""
    mid = int(LocalStore.get_meta(conn, "last_mid", 0)) + 1
    LocalStore.set_meta(conn, "last_mid", mid)
    conn.execute(
        "INSERT INTO outbox(mid, entity, record_id, op, base_version, changes, local, hlc, "
        "created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (mid, entity, record_id, op, base_version, changes, local, hlc, now),
    )
    return mid


def renumber(conn: sqlite3.Connection, first_mid: int, above: int) -> int:
    """Give the pending mutations numbered from ``first_mid`` on the numbers after ``above``
    (the server's last applied number), keeping their order; returns how many moved.

    The server already applied other mutations under those numbers (this device's store was
    restored from a backup, say), so they must be sent again under numbers it has not seen.
    """
    mids = [
        row[0]
        for row in conn.execute("SELECT mid FROM outbox WHERE mid >= ? ORDER BY mid", (first_mid,))
    ]
    if not mids or mids[0] > above:
        return 0
    # through negative numbers: the old and the new ranges may overlap
    conn.execute("UPDATE outbox SET mid = -mid WHERE mid >= ?", (first_mid,))
    conn.executemany(
        "UPDATE outbox SET mid = ? WHERE mid = ?",
        [(above + 1 + i, -mid) for i, mid in enumerate(mids)],
    )
    last = max(int(LocalStore.get_meta(conn, "last_mid", 0)), above + len(mids))
    LocalStore.set_meta(conn, "last_mid", last)
    return len(mids)


def _entries(rows: list[Any]) -> list[OutboxEntry]:
    return [OutboxEntry(*row) for row in rows]


def batch(conn: sqlite3.Connection, limit: int, from_mid: int = 0) -> list[OutboxEntry]:
    """The oldest pending mutations (from ``from_mid`` on), in mutation order."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE mid >= ? ORDER BY mid LIMIT ?", (from_mid, limit)
    ).fetchall()
    return _entries(rows)


def entries_of(
    conn: sqlite3.Connection, keys: Iterable[RecordKey]
) -> dict[RecordKey, list[OutboxEntry]]:
    """The pending mutations of many records, in order, by (entity, record id); records with
    none are left out."""
    found: dict[RecordKey, list[OutboxEntry]] = {}
    for entity, ids in chunks_by_entity(keys):
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM outbox "
            f"WHERE entity = ? AND record_id IN ({','.join('?' * len(ids))}) ORDER BY mid",
            (entity, *ids),
        )
        for entry in _entries(rows.fetchall()):
            found.setdefault((entry.entity, entry.record_id), []).append(entry)
    return found


def pending_records(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Every (entity, id) with a pending mutation."""
    return {(e, r) for e, r in conn.execute("SELECT DISTINCT entity, record_id FROM outbox")}


def remove(conn: sqlite3.Connection, mids: list[int]) -> None:
    """Drop acknowledged mutations."""
    conn.executemany("DELETE FROM outbox WHERE mid = ?", [(m,) for m in mids])


def withdraw(conn: sqlite3.Connection, mids: list[int]) -> None:
    """Drop pending mutations that can no longer apply (their record was never made on the
    server) and number the pending ones after them again, closing the gap the server would
    refuse. None of them was ever applied: only unanswered mutations are pending."""
    if not mids:
        return
    remove(conn, mids)
    first = min(mids)
    rows = conn.execute("SELECT mid FROM outbox WHERE mid > ? ORDER BY mid", (first,))
    later = [row[0] for row in rows]
    conn.execute("UPDATE outbox SET mid = -mid WHERE mid > ?", (first,))
    conn.executemany(
        "UPDATE outbox SET mid = ? WHERE mid = ?",
        [(first + i, -mid) for i, mid in enumerate(later)],
    )
    LocalStore.set_meta(conn, "last_mid", first - 1 + len(later))


def count(conn: sqlite3.Connection) -> int:
    """How many mutations wait to be pushed."""
    return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


def first_mid(conn: sqlite3.Connection) -> int | None:
    """The oldest pending mutation number."""
    value = conn.execute("SELECT min(mid) FROM outbox").fetchone()[0]
    return None if value is None else int(value)


def replay(
    record_id: str, base: dict[str, Any] | None, entries: list[OutboxEntry]
) -> dict[str, Any] | None:
    """The local view: the server's copy with the pending mutations applied (None = deleted)."""
    view = dict(base) if base is not None else None
    deleted = False
    for entry in entries:
        if entry.op == "upsert":
            if view is None:
                # an edit of a record the device no longer holds has no view; only a create does
                if deleted or entry.base_version != 0:
                    continue
                view = {"id": record_id, "version": 0}
            view.update(json_decode(entry.changes))
        elif entry.op == "delete":
            view, deleted = None, True
        elif view is not None and entry.local:
            view.update(json_decode(entry.local))
    return view


def rebase_many(
    store: LocalStore, conn: sqlite3.Connection, bases: dict[RecordKey, tuple[int, str | None]]
) -> None:
    """Make each record's ``(version, base)`` (server JSON; None = the server has no copy for
    us) its new base, with its pending mutations replayed over it: a few statements for any
    number of records. A record left with neither a base nor a pending create is removed."""
    pending = entries_of(conn, bases)
    puts: list[RowWrite] = []
    gone: list[RecordKey] = []
    for (entity, record_id), (version, base) in bases.items():
        row = rebased(record_id, version, base, pending.get((entity, record_id), []))
        if row is None:
            gone.append((entity, record_id))
        else:
            puts.append((entity, record_id, *row))
    store.put_rows(conn, puts)
    LocalStore.delete_rows(conn, gone)


def rebased(
    record_id: str, version: int, base: str | None, entries: list[OutboxEntry]
) -> tuple[int, str | None, str | None, bool] | None:
    """The row ``(version, data, base, pending)`` that makes ``base`` the record's new base under
    its pending ``entries``, or None when the record leaves the device."""
    if not entries:
        return None if base is None else (version, base, None, False)
    view = replay(record_id, None if base is None else json_decode(base), entries)
    if view is None and base is None:
        return None
    data = None if view is None else dumps(view)
    return version if base else 0, data, base, True
