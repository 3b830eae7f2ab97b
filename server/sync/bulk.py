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
from collections.abc import Iterable, Sequence
from typing import Any

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


def _array_safe(column: sa.Column[Any]) -> bool:
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, _ARRAY_SAFE) and not isinstance(kind, sa.JSON)


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


def _columns(rows: list[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {_PREFIX + name: [row[name] for row in rows] for name in names}


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


class BulkUpdate:
    """``UPDATE table SET <names> WHERE <keys>`` for many rows (each row a dict with both)."""

    def __init__(
        self, table: sa.Table, keys: Sequence[str], names: Iterable[str], *, returning: bool
    ) -> None:
        self.table, self.keys, self.names = table, list(keys), sorted(names)
        self.returning = returning
        self._arrays: sa.Update | None = None
        self._rows: sa.Update | None = None

    def _array_statement(self) -> sa.Update:
        if self._arrays is None:
            table = self.table
            v = _unnest(table, self.keys + self.names)
            statement = (
                sa.update(table)
                .where(*(table.c[k] == v.c[k] for k in self.keys))
                .values({name: v.c[name] for name in self.names})
            )
            self._arrays = statement.returning(*table.c) if self.returning else statement
        return self._arrays

    def _row_statement(self) -> sa.Update:
        if self._rows is None:
            table = self.table
            self._rows = (
                sa.update(table)
                .where(*(table.c[k] == sa.bindparam("b_" + k) for k in self.keys))
                .values({name: sa.bindparam("v_" + name) for name in self.names})
            )
        return self._rows

    async def run(self, session: AsyncSession, rows: list[dict[str, Any]]) -> list[Any]:
        """Update every row; the stored rows when ``returning`` and the database gives them in
        the same statement (PostgreSQL), else an empty list (read them back if needed)."""
        stored: list[Any] = []
        if is_postgres(session) and arrays_allowed(self.table, self.keys + self.names):
            for chunk in _chunks(rows):
                result = await session.execute(
                    self._array_statement(),
                    _columns(chunk, self.keys + self.names),
                    execution_options={"synchronize_session": False},
                )
                if self.returning:
                    stored.extend(result)
            return stored
        statement = self._row_statement()
        for chunk in _chunks(rows):
            params = [
                {**{"b_" + k: row[k] for k in self.keys}, **{"v_" + n: row[n] for n in self.names}}
                for row in chunk
            ]
            await session.execute(
                statement, params, execution_options={"synchronize_session": False}
            )
        return stored


def _defaults_given(table: sa.Table, names: Iterable[str]) -> bool:
    # INSERT ... SELECT evaluates a Python-side default once per statement, not once per row
    given = set(names)
    return all(
        column.name in given or column.default is None or not column.default.is_callable
        for column in table.c
    )


async def insert_rows(
    session: AsyncSession, table: sa.Table, rows: list[dict[str, Any]], *, returning: bool = False
) -> list[Any]:
    """INSERT every row, in order (all rows with the same columns); the stored rows when
    ``returning``. On PostgreSQL one ``INSERT ... SELECT ... FROM unnest(...)`` per chunk;
    elsewhere an executemany."""
    if not rows:
        return []
    names = sorted(rows[0])
    statement: Any
    if is_postgres(session) and arrays_allowed(table, names) and _defaults_given(table, names):
        # in the rows' order (WITH ORDINALITY): a serial key is assigned in that order
        v = _unnest(table, names, ordinality="n")
        select = sa.select(*(v.c[n] for n in names)).order_by(v.c.n)
        statement = sa.insert(table).from_select(names, select)
        if returning:
            statement = statement.returning(*table.c)
        stored: list[Any] = []
        for chunk in _chunks(rows):
            result = await session.execute(statement, _columns(chunk, names))
            if returning:
                stored.extend(result)
        return stored
    statement = sa.insert(table)
    if returning:
        statement = statement.returning(*table.c, sort_by_parameter_order=True)
    stored = []
    for chunk in _chunks(rows):
        result = await session.execute(statement, chunk)
        if returning:
            stored.extend(result)
    return stored


@functools.lru_cache(maxsize=512)
def update_for(
    table: sa.Table, keys: tuple[str, ...], names: frozenset[str], returning: bool = False
) -> BulkUpdate:
    """The (cached) bulk update of ``names`` by ``keys`` in ``table``."""
    return BulkUpdate(table, keys, names, returning=returning)


@functools.lru_cache(maxsize=64)
def delete_for(table: sa.Table, keys: tuple[str, ...]) -> BulkDelete:
    """The (cached) bulk delete by ``keys`` from ``table``."""
    return BulkDelete(table, keys)


class BulkDelete:
    """``DELETE FROM table WHERE <keys>`` for many key tuples."""

    def __init__(self, table: sa.Table, keys: Sequence[str]) -> None:
        self.table, self.keys = table, list(keys)
        v = _unnest(table, self.keys)
        self._arrays = sa.delete(table).where(*(table.c[k] == v.c[k] for k in self.keys))
        self._rows = sa.delete(table).where(
            *(table.c[k] == sa.bindparam("b_" + k) for k in self.keys)
        )

    async def run(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        """Delete the row of every key dict in ``rows``."""
        postgres = is_postgres(session)
        for chunk in _chunks(rows):
            if postgres:
                await session.execute(
                    self._arrays,
                    _columns(chunk, self.keys),
                    execution_options={"synchronize_session": False},
                )
            else:
                params = [{"b_" + k: row[k] for k in self.keys} for row in chunk]
                await session.execute(
                    self._rows, params, execution_options={"synchronize_session": False}
                )


def any_of(session: AsyncSession, column: sa.ColumnElement[Any], values: Sequence[Any]) -> Any:
    """``column IN values``: on PostgreSQL ``column = ANY(:array)``, one parameter whatever the
    number of values (so the statement is prepared once, and planned without a long list)."""
    if is_postgres(session):
        array = sa.bindparam(
            "any_values", list(values), type_=postgresql.ARRAY(column.type), unique=True
        )
        return column == sa.any_(array)
    return column.in_(list(values))
