"""Bulk INSERT, UPDATE, DELETE and IN for the push path: one statement per chunk of rows.

On PostgreSQL the rows travel as one array per column and are joined with ``unnest`` (``INSERT
... SELECT ... FROM unnest(...)``, ``UPDATE ... FROM unnest(...)``, ``DELETE ... USING
unnest(...)``, ``= ANY(array)``): the server runs one statement instead of one execution per
row, the statement text does not depend on the number of rows (so it is prepared once), and an
UPDATE can return the stored rows. SQLite runs in process, where an executemany costs little:
there the same calls are an executemany and ``IN`` lists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from server.sync.position import is_postgres

CHUNK = 1000
_PREFIX = "a_"
# column types an array parameter carries as it is; other types (JSON) go row by row
_ARRAY_SAFE = (
    sa.String,
    sa.Integer,
    sa.Boolean,
    sa.Uuid,
    sa.Numeric,
    sa.DateTime,
    sa.Date,
    sa.Float,
    sa.Enum,
    sa.LargeBinary,
)
_NO_SYNC = {"synchronize_session": False}

T = TypeVar("T")
Rows = list[dict[str, Any]]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    """``items`` in slices of at most ``size`` (a statement's bound values stay bounded)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _array_safe(column: sa.Column[Any]) -> bool:
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, _ARRAY_SAFE)


def arrays_allowed(table: sa.Table, names: Iterable[str]) -> bool:
    """True when every column in ``names`` can travel as a PostgreSQL array parameter."""
    return all(_array_safe(table.c[name]) for name in names)


def _unnest(
    table: sa.Table, names: Sequence[str], ordinality: str | None = None
) -> sa.TableValuedAlias:
    arrays = [
        sa.bindparam(_PREFIX + name, type_=postgresql.ARRAY(table.c[name].type)) for name in names
    ]
    columns = [sa.column(name, table.c[name].type) for name in names]
    function = sa.func.unnest(*arrays)
    return function.table_valued(*columns, with_ordinality=ordinality).render_derived(name="v")


def _as_arrays(names: Sequence[str]) -> Callable[[Sequence[dict[str, Any]]], Any]:
    """Parameters of a chunk for an ``unnest`` statement: one list per column."""
    return lambda chunk: {_PREFIX + name: [row[name] for row in chunk] for name in names}


def _as_rows(renamed: dict[str, str]) -> Callable[[Sequence[dict[str, Any]]], Any]:
    """Parameters of a chunk for an executemany: one dict per row, keys renamed."""
    return lambda chunk: [{bound: row[name] for name, bound in renamed.items()} for row in chunk]


async def _run_chunks(
    session: AsyncSession,
    statement: Any,
    rows: Rows,
    params: Callable[[Sequence[dict[str, Any]]], Any],
    *,
    returning: bool = False,
) -> list[Any]:
    """Execute ``statement`` once per chunk of ``rows``; the returned rows when ``returning``."""
    stored: list[Any] = []
    for chunk in chunks(rows):
        result = await session.execute(statement, params(chunk), execution_options=_NO_SYNC)
        if returning:
            stored.extend(result)
    return stored


class BulkUpdate:
    """``UPDATE table SET <names> WHERE <keys>`` for many rows (each row a dict with both)."""

    def __init__(
        self,
        table: sa.Table,
        keys: Sequence[str],
        names: Iterable[str],
        *,
        returning: bool,
        bump_version: bool = False,
    ) -> None:
        self.table, self.returning = table, returning
        self.columns = [*keys, *sorted(names)]
        self.arrays_allowed = arrays_allowed(table, self.columns)
        # ``bump_version``: ``version = version + 1`` on every row as well
        bumped = {"version": table.c.version + 1} if bump_version else {}
        v = _unnest(table, self.columns)
        by_array = (
            sa.update(table)
            .where(*(table.c[k] == v.c[k] for k in keys))
            .values({**{name: v.c[name] for name in names}, **bumped})
        )
        self._by_array = by_array.returning(*table.c) if returning else by_array
        self._by_row = (
            sa.update(table)
            .where(*(table.c[k] == sa.bindparam("b_" + k) for k in keys))
            .values({**{name: sa.bindparam("v_" + name) for name in names}, **bumped})
        )
        self._renamed = {k: "b_" + k for k in keys} | {n: "v_" + n for n in names}

    async def run(self, session: AsyncSession, rows: Rows) -> list[Any]:
        """Update every row; the stored rows when ``returning`` and the database gives them in
        the same statement (PostgreSQL), else an empty list (read them back if needed)."""
        if is_postgres(session) and self.arrays_allowed:
            return await _run_chunks(
                session, self._by_array, rows, _as_arrays(self.columns), returning=self.returning
            )
        await _run_chunks(session, self._by_row, rows, _as_rows(self._renamed))
        return []


class BulkDelete:
    """``DELETE FROM table WHERE <keys>`` for many key tuples."""

    def __init__(self, table: sa.Table, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        v = _unnest(table, self.keys)
        self._by_array = sa.delete(table).where(*(table.c[k] == v.c[k] for k in keys))
        self._by_row = sa.delete(table).where(*(table.c[k] == sa.bindparam("b_" + k) for k in keys))
        self._renamed = {k: "b_" + k for k in keys}

    async def run(self, session: AsyncSession, rows: Rows) -> None:
        """Delete the row of every key dict in ``rows``."""
        if is_postgres(session):
            await _run_chunks(session, self._by_array, rows, _as_arrays(self.keys))
        else:
            await _run_chunks(session, self._by_row, rows, _as_rows(self._renamed))


@functools.lru_cache(maxsize=512)
def update_for(
    table: sa.Table,
    keys: tuple[str, ...],
    names: frozenset[str],
    returning: bool = False,
    *,
    bump_version: bool = False,
) -> BulkUpdate:
    """The (cached) bulk update of ``names`` by ``keys`` in ``table``."""
    return BulkUpdate(table, keys, names, returning=returning, bump_version=bump_version)


@functools.lru_cache(maxsize=64)
def delete_for(table: sa.Table, keys: tuple[str, ...]) -> BulkDelete:
    """The (cached) bulk delete by ``keys`` from ``table``."""
    return BulkDelete(table, keys)


def _defaults_given(table: sa.Table, names: Iterable[str]) -> bool:
    # INSERT ... SELECT evaluates a Python-side default once per statement, not once per row
    given = set(names)
    return all(
        column.name in given or column.default is None or not column.default.is_callable
        for column in table.c
    )


async def insert_rows(
    session: AsyncSession, table: sa.Table, rows: Rows, *, returning: bool = False
) -> list[Any]:
    """INSERT every row, in order (all rows with the same columns); the stored rows when
    ``returning``. On PostgreSQL one ``INSERT ... SELECT ... FROM unnest(...)`` per chunk;
    elsewhere an executemany."""
    if not rows:
        return []
    names = sorted(rows[0])
    if is_postgres(session) and arrays_allowed(table, names) and _defaults_given(table, names):
        # in the rows' order (WITH ORDINALITY): a serial key is assigned in that order
        v = _unnest(table, names, ordinality="n")
        select = sa.select(*(v.c[n] for n in names)).order_by(v.c.n)
        by_array: Any = sa.insert(table).from_select(names, select)
        statement = by_array.returning(*table.c) if returning else by_array
        return await _run_chunks(session, statement, rows, _as_arrays(names), returning=returning)
    by_row: Any = sa.insert(table)
    if returning:
        by_row = by_row.returning(*table.c, sort_by_parameter_order=True)
    return await _run_chunks(session, by_row, rows, lambda chunk: chunk, returning=returning)


@functools.lru_cache(maxsize=16)
def _replacing(table: sa.Table, names: tuple[str, ...], keys: tuple[str, ...]) -> Any:
    v = _unnest(table, names, ordinality="n")
    insert = postgresql.insert(table).from_select(
        names, sa.select(*(v.c[n] for n in names)).order_by(v.c.n)
    )
    return insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={c.name: insert.excluded[c.name] for c in table.c if c.name not in keys},
    )


async def replace_rows(
    session: AsyncSession, table: sa.Table, rows: Rows, keys: Sequence[str]
) -> bool:
    """PostgreSQL: INSERT every row in order, replacing the row that has the same ``keys`` (ON
    CONFLICT DO UPDATE of every other column, the serial key included: a replaced row takes the
    number drawn for it in the rows' order, so it is positioned as a deleted-then-inserted row
    would be). One statement per chunk instead of a DELETE and an INSERT. The rows must not
    repeat a key. False when nothing was done: elsewhere the caller deletes, then inserts."""
    if not rows or not is_postgres(session):
        return False
    names = tuple(sorted(rows[0]))
    if not (arrays_allowed(table, names) and _defaults_given(table, names)):
        return False
    await _run_chunks(session, _replacing(table, names, tuple(keys)), rows, _as_arrays(names))
    return True


def any_of(session: AsyncSession, column: sa.ColumnElement[Any], values: Sequence[Any]) -> Any:
    """``column IN values``: on PostgreSQL ``column = ANY(:array)``, one parameter whatever the
    number of values (so the statement is prepared once, and planned without a long list)."""
    if is_postgres(session):
        array = sa.bindparam(
            "any_values", list(values), type_=postgresql.ARRAY(column.type), unique=True
        )
        return column == sa.any_(array)
    return column.in_(list(values))


async def rows_by_id(
    session: AsyncSession, table: sa.Table, ids: Sequence[Any], *, lock: bool = False
) -> list[sa.Row[Any]]:
    """The rows of ``table`` whose ``id`` is among ``ids`` (those that exist), one query per
    chunk; ``lock``: locked for the transaction (PostgreSQL), taken in id order so that two
    transactions locking overlapping sets cannot deadlock."""
    found: list[sa.Row[Any]] = []
    for chunk in chunks(ids):
        statement = sa.select(table).where(any_of(session, table.c.id, chunk))
        if lock:
            # NO KEY UPDATE: serializes writers of the row, but not the foreign-key checks of
            # rows inserted under it (a child created while its parent is edited)
            statement = statement.order_by(table.c.id).with_for_update(key_share=True)
        found.extend(await session.execute(statement))
    return found
