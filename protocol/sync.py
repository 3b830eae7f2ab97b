"""Wire messages of the sync protocol (``POST /sync/push``, ``POST /sync/pull``).

Versions are integers that the server increments on every write of a record (a create is
version 1). Hybrid logical clocks travel as strings that sort in time order (see ``protocol.hlc``).
Records travel as JSON objects whose keys are field names; the entity registry on the server and
the SDK's local schema agree on those fields.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import msgspec

from protocol.errors import ErrorBody

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
MSGPACK = "application/msgpack"

MutationStatus = Literal["applied", "merged", "conflict", "rejected"]
ChangeOp = Literal["upsert", "delete", "evict"]


class Mutation(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One offline edit. ``op`` is ``upsert``, ``delete`` or an action ``<entity>.<action>``.

    ``base_version`` is the version the device's edit was made on: 0 for a record created on the
    device (also when it is edited again before the create was pushed).
    """

    mid: int
    entity: str
    id: uuid.UUID
    op: str
    hlc: str
    base_version: int = 0
    changes: dict[str, Any] = {}


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    device_id: uuid.UUID
    schema_version: int
    mutations: list[Mutation]


class FieldConflict(msgspec.Struct, omit_defaults=True):
    """A field both sides changed: the device's value, the server's, and the one kept
    (``both``: a value made of the two); ``rule`` names the entity's domain rule that decided,
    when one did."""

    field: str
    yours: Any
    theirs: Any
    kept: Literal["yours", "theirs", "both"]
    rule: str | None = None


class MutationResult(msgspec.Struct, omit_defaults=True):
    """One mutation's outcome. ``record`` is the whole record as stored (merged, conflict,
    actions, rejections). An ``applied`` upsert carries ``server_changes`` instead: the fields
    whose stored value is not what the device sent over its base (defaults, computed totals,
    status, normalised values, timestamps), so base + changes + server_changes is the record.

    ``repriced`` (quotes and orders) lists the lines whose unit price or tax rate the server
    priced differently from the device's own figures (its price lists were stale): per line the
    device's and the server's figures, the deciding price-list entry and the reason
    (docs/pricing.md, "Repricing"). Absent when nothing was repriced; older clients ignore it."""

    mid: int
    status: MutationStatus
    version: int = 0
    record: dict[str, Any] | None = None
    conflicts: list[FieldConflict] | None = None
    error: ErrorBody | None = None
    conflict_id: uuid.UUID | None = None
    server_changes: dict[str, Any] | None = None
    repriced: list[dict[str, Any]] | None = None


class PushResponse(msgspec.Struct, omit_defaults=True):
    results: list[MutationResult]
    last_mid: int = 0


class PullRequest(msgspec.Struct, forbid_unknown_fields=True):
    device_id: uuid.UUID
    schema_version: int
    cursor: str | None = None
    limit: int = 1000


class Change(msgspec.Struct, omit_defaults=True):
    entity: str
    id: uuid.UUID
    op: ChangeOp
    version: int = 0
    record: msgspec.Raw | dict[str, Any] | None = None


class PullResponse(msgspec.Struct, omit_defaults=True):
    changes: list[Change]
    cursor: str
    has_more: bool
    reset: bool = False
    progress: dict[str, int] | None = None


class ConflictRecord(msgspec.Struct, omit_defaults=True):
    """A kept conflict, synced read-only as the entity ``conflict``.

    ``kind`` is ``field`` (both sides changed fields; routed to the pusher) or ``out_of_scope``
    (an edit arrived after its record left the pusher's scope; routed to the record's new scope).
    """

    id: uuid.UUID
    entity: str
    record_id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    fields: list[FieldConflict]
    scope_key: str
    version: int
    created_at: dt.datetime
    device_id: uuid.UUID | None = None
    mid: int = 0
    resolved_at: dt.datetime | None = None
    resolved_by: uuid.UUID | None = None
