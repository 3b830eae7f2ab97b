"""The local SQLite store: one generic ``records`` table, the outbox, meta, conflicts, rejections.

A record row holds the local view (``data``, NULL while a delete waits to be pushed) and, only
while it has pending mutations, the server's copy it was edited from (``base``). With nothing
pending, ``data`` *is* the server's copy, so applying a pull page writes one column.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
from msgspec.structs import astuple

SCHEMA_VERSION = 1
DEFAULT_INDEXED_FIELDS = ("account_id", "owner_id")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    data TEXT,
    base TEXT,
    pending INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, id)
);
CREATE TABLE IF NOT EXISTS outbox (
    mid INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    changes TEXT NOT NULL,
    local TEXT,
    hlc TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_outbox_record ON outbox (entity, record_id);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mid INTEGER NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    conflict_id TEXT,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    mid INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    changes TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    field TEXT,
    conflict_id TEXT,
    created_at TEXT NOT NULL
);
"""

json_encode = msgspec.json.Encoder().encode
json_decode = msgspec.json.Decoder().decode


def dumps(value: Any) -> str:
    """Compact JSON text of builtins."""
    return json_encode(value).decode()


def check_field(name: str) -> str:
    """A field name safe to put in SQL (letters, digits, underscore)."""
    if not _FIELD.match(name):
        raise ValueError(f"not a field name: {name!r}")
    return name


KeyReader = tuple[tuple[str, ...], Callable[[str | None], tuple[Any, ...]]]
RecordKey = tuple[str, str]  # (entity, id)
Row = tuple[int, str | None, str | None, int]  # (version, data, base, pending)
# (entity, id, version, data, base, pending): a record row to write
RowWrite = tuple[str, str, int, str | None, str | None, bool]

# ids bound per ``IN (...)``: below the 999 parameters of SQLite builds older than 3.32
_IN_CHUNK = 500

_CHECKPOINT_PAGES = 1000  # SQLite's default
# ~80 MB of WAL at most during a pull (4 KiB pages); a crash in between loses nothing
_BULK_CHECKPOINT_PAGES = 20_000


def _key_reader(names: tuple[str, ...]) -> Callable[[str | None], tuple[Any, ...]]:
    """A function from a record's JSON to the values of the indexed fields ``names``."""
    scalar = str | int | float | None
    typed = msgspec.json.Decoder(
        msgspec.defstruct("Keys", [(n, scalar, None) for n in names])
    ).decode
    loose = msgspec.json.Decoder(
        msgspec.defstruct("AnyKeys", [(n, Any, None) for n in names])
    ).decode
    empty = (None,) * len(names)

    def read(data: str | None) -> tuple[Any, ...]:
        if data is None or not names:
            return empty
        try:
            return astuple(typed(data))
        except msgspec.ValidationError:
            # a boolean or an object in an indexed field: rare, so the slow path is fine
            return tuple(_scalar(v) for v in astuple(loose(data)))

    return read


def chunks_by_entity(keys: Iterable[RecordKey]) -> Iterator[tuple[str, list[str]]]:
    """``(entity, ids)`` groups covering ``keys`` once each, small enough for one ``IN (...)``.

    Grouped by entity so that ``entity = ? AND id IN (...)`` uses the (entity, id) indexes.
    """
    by_entity: dict[str, dict[str, None]] = {}
    for entity, record_id in keys:
        by_entity.setdefault(entity, {})[record_id] = None
    for entity, ids in by_entity.items():
        listed = list(ids)
        for start in range(0, len(listed), _IN_CHUNK):
            yield entity, listed[start : start + _IN_CHUNK]


def _scalar(value: Any) -> Any:
    """A JSON value as an indexed column holds it (true -> 1; objects are not indexed)."""
    if isinstance(value, bool):
        return int(value)
    return None if isinstance(value, dict | list) else value


class LocalStore:
    """One SQLite connection behind a re-entrant lock, safe to share between threads.

    Indexed fields (foreign keys such as ``account_id``) are copied into real columns
    ``f_<field>`` when a record is written: an expression index on the JSON would parse every
    record once per index, which halves the speed of applying a pull page.
    """

    def __init__(self, path: str | Path, indexed_fields: Sequence[str] = DEFAULT_INDEXED_FIELDS):
        self.path = str(path)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives an application crash at any point (only power loss can drop
        # the last commits), which is the failure the outbox must survive.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self.conn.execute("PRAGMA cache_size=-32768")  # 32 MiB: index inserts of big pulls
        # the WAL grows during a pull (see ``bulk``); give the disk back once it is reused
        self.conn.execute("PRAGMA journal_size_limit=16777216")
        with self.lock:
            self.conn.executescript(_SCHEMA)
            self.conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )
            existing = [
                row[1][2:] for row in self.conn.execute("PRAGMA table_info(records)")
                if row[1].startswith("f_")
            ]
            self.indexed: tuple[str, ...] = tuple(existing)
            self._prepare()
            for name in indexed_fields:
                self.add_index(name)

    def _prepare(self) -> None:
        """Statements and the key reader for the current set of indexed columns."""
        names = self.indexed
        # one attribute, replaced whole, so another thread reads names and reader that match
        self.key_reader: KeyReader = (names, _key_reader(names))
        columns = "".join(f", f_{n}" for n in names)
        marks = ", ?" * len(names)
        updates = "".join(f", f_{n} = excluded.f_{n}" for n in names)
        self._put_sql = (
            f"INSERT INTO records(entity, id, version, data, base, pending{columns}) "
            f"VALUES (?, ?, ?, ?, ?, ?{marks}) ON CONFLICT(entity, id) DO UPDATE SET "
            f"version = excluded.version, data = excluded.data, base = excluded.base, "
            f"pending = excluded.pending{updates}"
        )
        # a pulled record never replaces a newer one already held (replays, own writes)
        self._server_sql = self._put_sql + " WHERE excluded.version >= records.version"

    def add_index(self, name: str) -> None:
        """Index one field of every entity's records (a column filled on every write)."""
        check_field(name)
        with self.lock:
            if name in self.indexed:
                return
            self.conn.execute(f"ALTER TABLE records ADD COLUMN f_{name}")
            self.conn.execute(f"UPDATE records SET f_{name} = json_extract(data, '$.{name}')")
            self.conn.execute(
                f'CREATE INDEX IF NOT EXISTS "ix_records_{name}" ON records (entity, f_{name}) '
                f"WHERE f_{name} IS NOT NULL"
            )
            self.indexed = (*self.indexed, name)
            self._prepare()

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): everything in it commits or nothing does."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, held by this thread for the duration."""
        with self.lock:
            yield self.conn

    # -- meta -------------------------------------------------------------------------------

    @staticmethod
    def get_meta(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
        """A meta value (JSON-decoded)."""
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json_decode(row[0])

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
        """Store a meta value (JSON); None deletes it."""
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, dumps(value)),
            )

    # -- records ----------------------------------------------------------------------------

    @staticmethod
    def get_row(conn: sqlite3.Connection, entity: str, record_id: str) -> Row | None:
        """(version, data, base, pending) of a record row, or None."""
        row = conn.execute(
            "SELECT version, data, base, pending FROM records WHERE entity = ? AND id = ?",
            (entity, record_id),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3])

    @staticmethod
    def get_rows(conn: sqlite3.Connection, keys: Iterable[RecordKey]) -> dict[RecordKey, Row]:
        """The rows of many records by (entity, id); records without a row are left out."""
        rows: dict[RecordKey, Row] = {}
        for entity, ids in chunks_by_entity(keys):
            found = conn.execute(
                "SELECT id, version, data, base, pending FROM records "
                f"WHERE entity = ? AND id IN ({','.join('?' * len(ids))})",
                (entity, *ids),
            )
            for record_id, version, data, base, pending in found:
                rows[(entity, record_id)] = (version, data, base, pending)
        return rows

    def keys(self, data: str | None) -> tuple[Any, ...]:
        """The indexed columns' values of a record's JSON."""
        return self.key_reader[1](data)

    def put_row(
        self,
        conn: sqlite3.Connection,
        entity: str,
        record_id: str,
        version: int,
        data: str | None,
        base: str | None,
        pending: bool,
    ) -> None:
        """Insert or replace a record row."""
        conn.execute(
            self._put_sql,
            (entity, record_id, version, data, base, int(pending), *self.keys(data)),
        )

    def put_rows(self, conn: sqlite3.Connection, rows: Iterable[RowWrite]) -> None:
        """Insert or replace many record rows in one ``executemany``."""
        keys = self.keys
        conn.executemany(
            self._put_sql,
            [(e, i, v, d, b, int(p), *keys(d)) for e, i, v, d, b, p in rows],
        )

    def put_server_rows(
        self, conn: sqlite3.Connection, rows: list[tuple[str, str, int, str]]
    ) -> None:
        """Store server copies (entity, id, version, JSON) of records with nothing pending."""
        keys = self.keys
        self.put_server_params(conn, [(e, i, v, d, None, 0, *keys(d)) for e, i, v, d in rows])

    def put_server_params(self, conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> None:
        """Store server copies already laid out as ``(entity, id, version, data, None, 0,
        *keys)`` with the keys of the current indexed fields."""
        conn.executemany(self._server_sql, params)

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many big commits in a row (a pull): checkpoint the WAL once at the end instead of
        after every commit (each checkpoint copies the WAL and fsyncs the database file)."""
        with self.lock:
            self.conn.execute(f"PRAGMA wal_autocheckpoint={_BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            with self.lock:
                self.conn.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @staticmethod
    def delete_row(conn: sqlite3.Connection, entity: str, record_id: str) -> None:
        """Remove a record row."""
        conn.execute("DELETE FROM records WHERE entity = ? AND id = ?", (entity, record_id))

    @staticmethod
    def delete_rows(conn: sqlite3.Connection, keys: Iterable[RecordKey]) -> None:
        """Remove many record rows in one ``executemany``."""
        conn.executemany("DELETE FROM records WHERE entity = ? AND id = ?", list(keys))

    def field_expr(self, name: str) -> str:
        """The SQL reading one field of the local view (its column when indexed)."""
        if name == "id":
            return "id"
        check_field(name)
        return f"f_{name}" if name in self.indexed else f"json_extract(data, '$.{name}')"

    def where_clause(self, entity: str, where: dict[str, Any] | None) -> tuple[str, list[Any]]:
        """SQL conditions and parameters for equality filters on the local view."""
        sql = ["entity = ?", "data IS NOT NULL"]
        params: list[Any] = [entity]
        for name, raw in (where or {}).items():
            expr = self.field_expr(name)
            if isinstance(raw, list | tuple | set | frozenset):
                values = [_sql_value(v) for v in raw]
                if not values:
                    sql.append("0")
                    continue
                sql.append(f"{expr} IN ({','.join('?' * len(values))})")
                params.extend(values)
                continue
            value = _sql_value(raw)
            if value is None:
                sql.append(f"{expr} IS NULL")
            else:
                sql.append(f"{expr} = ?")
                params.append(value)
        return " AND ".join(sql), params

    def select_sql(
        self,
        entity: str,
        where: dict[str, Any] | None,
        order_by: str | None,
        limit: int | None,
        offset: int,
    ) -> tuple[str, list[Any]]:
        """The SELECT of a local query (``-field`` orders descending; default: id)."""
        conditions, params = self.where_clause(entity, where)
        descending = bool(order_by and order_by.startswith("-"))
        order = self.field_expr((order_by or "id").lstrip("-"))
        if order == "id" and where:
            # "+id" keeps SQLite from walking the primary key for the order instead of using
            # the filter's index (a scan of every record of the entity)
            order = "+id"
        direction = " DESC" if descending else ""
        sql = f"SELECT data FROM records WHERE {conditions} ORDER BY {order}{direction}"
        if order not in ("id", "+id"):
            sql += f", +id{direction}"
        sql += " LIMIT ? OFFSET ?"
        return sql, [*params, -1 if limit is None else limit, offset]


def _sql_value(value: Any) -> Any:
    """A filter value as SQLite sees the JSON value (true -> 1, Decimal/UUID/time -> text)."""
    if value is None or isinstance(value, str | int | float):
        return int(value) if isinstance(value, bool) else value
    built = msgspec.to_builtins(value)
    if isinstance(built, dict | list):
        raise ValueError("filters compare scalar values only")
    return built
