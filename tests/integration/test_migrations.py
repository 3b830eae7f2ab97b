"""Migrations on both backends: upgrade, no drift from the models, downgrade, startup check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from litestar.testing import AsyncTestClient

from server import schema
from server.app import create_app
from server.db import Database, Money, UTCDateTime, create_engine
from server.models import Base
from server.settings import Settings


@pytest.fixture
async def empty_db(database_url: str) -> AsyncIterator[Database]:
    """A database with no tables at all (not the ``db`` fixture, which creates them)."""
    database = Database(create_engine(database_url))
    if database.dialect == "postgresql":
        async with database.engine.begin() as conn:
            await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
    yield database
    await database.dispose()


async def drift(db: Database, metadata: sa.MetaData) -> list[Any]:
    """What autogenerate would change to make the database match ``metadata``."""

    def compare(connection: sa.Connection) -> list[Any]:
        options = {**schema.migration_options(), "target_metadata": metadata}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as conn:
        return await conn.run_sync(compare)


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (possibly nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


async def test_upgrade_head_on_empty_database_matches_the_models(empty_db: Database) -> None:
    assert await schema.current_revisions(empty_db) == ()

    assert await schema.upgrade(empty_db) == schema.head_revisions()

    tables = await schema.table_names(empty_db)
    assert set(Base.metadata.tables) <= tables
    assert await drift(empty_db, Base.metadata) == []


async def test_the_drift_check_sees_a_column_missing_from_the_migrations(
    empty_db: Database,
) -> None:
    await schema.upgrade(empty_db)
    changed = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["accounts"].append_column(sa.Column("loyalty_points", sa.Integer()))

    diffs = await drift(empty_db, changed)

    added = [(d[0], d[2], d[3].name) for d in diffs]
    assert added == [("add_column", "accounts", "loyalty_points")]


async def test_downgrade_to_base_then_upgrade_again(empty_db: Database) -> None:
    await schema.upgrade(empty_db)

    assert await schema.downgrade(empty_db, "base") == ()
    assert await schema.table_names(empty_db) <= {"alembic_version"}

    assert await schema.upgrade(empty_db) == schema.head_revisions()
    assert await drift(empty_db, Base.metadata) == []


async def test_ensure_migrated_refuses_an_empty_database_then_passes(empty_db: Database) -> None:
    with pytest.raises(schema.SchemaNotReady) as refused:
        await schema.ensure_migrated(empty_db)
    message = str(refused.value)
    assert "database is not migrated: run `outpost migrate`" in message
    assert "none (empty database)" in message
    assert schema.head_revisions()[0] in message
    assert refused.value.current == ()

    await schema.upgrade(empty_db)
    await schema.ensure_migrated(empty_db)  # no error at head


async def test_ensure_migrated_refuses_a_database_at_an_unknown_revision(
    empty_db: Database,
) -> None:
    await schema.upgrade(empty_db)
    async with empty_db.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))

    with pytest.raises(schema.SchemaNotReady, match="f00dfeedbeef is unknown") as refused:
        await schema.ensure_migrated(empty_db)
    assert refused.value.current == ("f00dfeedbeef",)


async def test_the_app_refuses_to_start_on_an_unmigrated_database(
    empty_db: Database, database_url: str
) -> None:
    # the app opens its own engine: the test client runs the lifespan on its own event loop
    settings = Settings(database_url=database_url)
    app = create_app(settings, check_schema=True)
    with pytest.raises(BaseException) as refused:
        async with AsyncTestClient(app=app):
            pass
    errors = leaves(refused.value)
    assert any(isinstance(e, schema.SchemaNotReady) and "outpost migrate" in str(e) for e in errors)

    await schema.upgrade(empty_db)
    async with AsyncTestClient(app=create_app(settings, check_schema=True)) as client:
        assert (await client.get("/health")).status_code == 200


def test_custom_column_types_render_importably() -> None:
    context = SimpleNamespace(imports=set())

    assert schema.render_item("type", Money(), context) == "server.db.Money()"  # type: ignore[arg-type]
    assert schema.render_item("type", UTCDateTime(), context) == "server.db.UTCDateTime()"  # type: ignore[arg-type]
    assert context.imports == {"import server.db"}
    assert schema.render_item("type", sa.String(10), context) is False  # type: ignore[arg-type]

    class Padded(sa.TypeDecorator[str]):
        impl = sa.String
        cache_ok = True

        def __init__(self, width: int = 10) -> None:
            super().__init__(width)

    rendered = schema.render_item("type", Padded(12), context)  # type: ignore[arg-type]
    assert isinstance(rendered, str) and rendered.startswith(f"{__name__}.Padded(")
    assert f"import {__name__}" in context.imports


def test_there_is_exactly_one_head_and_revision_files_are_dated() -> None:
    assert len(schema.head_revisions()) == 1
    names = [p.name for p in (schema.MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    assert all(name[:4].isdigit() and name[4] == "_" for name in names)
