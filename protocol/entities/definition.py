"""What both sides know about a syncable entity: its record, who may write which fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import msgspec

# Written by the engine on every record; a device never sends them.
ENGINE_FIELDS = frozenset({"id", "version", "created_at", "updated_at"})


class NoParams(msgspec.Struct, forbid_unknown_fields=True):
    """The parameters of an action that takes none."""


@dataclass(frozen=True)
class EntityDef:
    """One syncable entity as the wire sees it, shared by the server and the SDK.

    ``record`` is the msgspec Struct of the record (every field a device holds, with its type
    and limits); ``server_fields`` are the fields only the server writes, of which a device may
    send ``create_fields`` when it creates a record; ``actions`` maps each domain action
    (op ``<name>.<action>``) to the Struct of its parameters.
    """

    name: str
    record: type[msgspec.Struct]
    writable: bool = True
    deletable: bool = True
    # the statuses (the record's ``status``) from which a device may delete a record of a
    # deletable entity; None: any. An order past draft holds stock and history, so the server
    # refuses the delete (``invalid_state``) and the SDK refuses it offline the same way
    deletable_from: frozenset[str] | None = None
    server_fields: frozenset[str] = ENGINE_FIELDS
    create_fields: frozenset[str] = frozenset()
    actions: Mapping[str, type[msgspec.Struct]] = field(default_factory=dict)

    @property
    def fields(self) -> frozenset[str]:
        """Every field name of the record."""
        return frozenset(self.record.__struct_fields__)

    def writable_field(self, name: str, *, creating: bool) -> bool:
        """May a device write ``name`` (on a create when ``creating``)?"""
        return name not in self.server_fields or (creating and name in self.create_fields)
