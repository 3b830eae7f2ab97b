"""EntitySpec rules that need no database."""

from __future__ import annotations

import uuid

import msgspec
import sqlalchemy as sa

from server.sync.registry import EntitySpec

_table = sa.Table("things", sa.MetaData(), sa.Column("id", sa.Uuid, primary_key=True))


class Thing(msgspec.Struct):
    id: uuid.UUID


async def _scope(_session: object, _record: object) -> str:
    return "global"


def _spec(**kwargs: object) -> EntitySpec:
    return EntitySpec(name="thing", table=_table, record_type=Thing, scope=_scope, **kwargs)  # type: ignore[arg-type]


def test_an_edit_of_a_field_the_scope_reads_may_move_the_record() -> None:
    spec = _spec(scope_fields=frozenset({"territory_id", "owner_id"}))
    assert spec.scope_may_change({"name", "owner_id"})
    assert not spec.scope_may_change({"name", "phone"})
    assert not spec.scope_may_change(set())


def test_a_child_moves_only_when_its_parent_reference_changes() -> None:
    spec = _spec(parent=("account", "account_id"), scope_fields=frozenset({"name"}))
    assert spec.scope_may_change({"account_id"})
    assert not spec.scope_may_change({"name"})  # a child's scope is its parent's, whatever it says


def test_without_declared_fields_every_edit_asks_the_resolver() -> None:
    assert _spec().scope_may_change({"anything"})
    assert _spec().scope_may_change(set())
