"""One definition per entity: the server's EntitySpecs and the SDK check the same Struct objects."""

from __future__ import annotations

import typing
from pathlib import Path

import msgspec
import pytest

from client_sdk import OutpostClient
from protocol.entities import CATALOG
from protocol.entities.fields import NOTES_MAX
from server.sfa.registration import register_entities
from server.sync.conflicts import register_engine_entities
from server.sync.registry import SyncRegistry
from tests.unit.sdk.conftest import offline_http


def _registry() -> SyncRegistry:
    registry = SyncRegistry()  # as create_app builds it
    register_entities(registry)
    register_engine_entities(registry)
    return registry


def test_server_and_sdk_use_the_same_struct_objects(tmp_path: Path) -> None:
    registry = _registry()
    client = OutpostClient(http=offline_http(), db_path=tmp_path / "device.sqlite3")
    try:
        assert set(registry.entities) == set(CATALOG) == set(client.schema.entities)
        for name, spec in registry.entities.items():
            definition = CATALOG[name]
            assert client.schema.entities[name] is definition
            assert spec.record_type is definition.record, name
            assert (spec.writable, spec.deletable) == (definition.writable, definition.deletable)
            assert spec.server_fields == definition.server_fields, name
            assert spec.create_fields == definition.create_fields, name
            assert set(spec.actions) == set(definition.actions), name
    finally:
        client.close()


def test_a_spec_whose_actions_differ_from_its_definition_is_refused() -> None:
    spec = _registry().entities["visit"]
    registry = SyncRegistry()
    with pytest.raises(ValueError, match="actions differ"):
        registry.register(
            type(spec).of(
                CATALOG["visit"], table=spec.table, scope=spec.scope, actions={"check_in": None}
            )
        )


def _text_limits(record: type[msgspec.Struct]) -> dict[str, int | None]:
    """Every text field of a record (``str``, optional or not) with its max_length."""
    limits: dict[str, int | None] = {}
    for info in msgspec.structs.fields(record):
        kind = info.type
        if typing.get_origin(kind) is typing.Union:
            kinds = [k for k in typing.get_args(kind) if k is not type(None)]
            kind = kinds[0] if len(kinds) == 1 else None
        base = typing.get_args(kind)[0] if typing.get_origin(kind) is typing.Annotated else kind
        if base is not str:
            continue
        metas = typing.get_args(kind)[1:] if typing.get_origin(kind) is typing.Annotated else ()
        limits[info.name] = next(
            (m.max_length for m in metas if getattr(m, "max_length", None) is not None), None
        )
    return limits


def test_every_text_field_of_every_entity_has_a_maximum_length() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "entities.md").read_text()
    unbounded = []
    for name, definition in CATALOG.items():
        if name == "conflict":
            continue  # written by the engine only, never decoded from a device
        for field, limit in _text_limits(definition.record).items():
            if limit is None:
                unbounded.append(f"{name}.{field}")
            else:
                assert limit <= NOTES_MAX, f"{name}.{field}"
    assert unbounded == []
    assert f"{NOTES_MAX:,}" in docs  # the limits are documented
