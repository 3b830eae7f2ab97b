"""The SDK's own structs: what it reports to the app, and the typed shapes it decodes fast."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class SyncReport(msgspec.Struct, kw_only=True):
    """What one ``sync()`` did."""

    pushed: int = 0
    applied: int = 0
    merged: int = 0
    conflicts: int = 0
    rejected: int = 0
    received: int = 0
    removed: int = 0
    pages: int = 0
    reset: bool = False
    # pending mutations moved above the server's last applied number (a restored backup)
    renumbered: int = 0
    seconds: float = 0.0
    # lines of quotes and orders the server priced differently from this device (stale price
    # lists): per line the result's ``repriced`` entry with ``entity`` and ``record_id`` added
    # (docs/pricing.md, "The push result"); the pulled records carry the server's figures
    repriced: list[dict[str, Any]] = msgspec.field(default_factory=list)
    # local records an action built that the server refused to make (the order of a refused
    # ``quote.convert``): removed with the mutations queued for them. One dict each:
    # ``entity``, ``record_id``, ``refused_mid`` (the action's mutation, in
    # ``rejected_mutations()``) and ``withdrawn`` (how many queued mutations went with it)
    discarded: list[dict[str, Any]] = msgspec.field(default_factory=list)


class SyncStatus(msgspec.Struct, kw_only=True):
    """The state of synchronisation as an app shows it."""

    last_success_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    pending: int
    last_error: str | None
    last_error_code: str | None
    has_cursor: bool
    logged_in: bool
    last_mid: int = 0
    acked_mid: int = 0


class FieldConflictRecord(msgspec.Struct):
    """One field both sides changed: the device's value, the server's, the one kept, and the
    name of the domain rule that decided (None when the field's policy was a plain one)."""

    field: str
    yours: Any
    theirs: Any
    kept: str
    rule: str | None = None


class LocalConflict(msgspec.Struct, kw_only=True):
    """A conflict the server reported for one of this device's mutations."""

    id: int
    mid: int
    entity: str
    record_id: str
    conflict_id: str | None
    fields: list[FieldConflictRecord]
    created_at: dt.datetime


class RejectedMutation(msgspec.Struct, kw_only=True):
    """A mutation the server refused, with its reason; the local copy was restored."""

    mid: int
    entity: str
    record_id: str
    op: str
    changes: dict[str, Any]
    code: str
    message: str
    field: str | None
    conflict_id: str | None
    created_at: dt.datetime


class LoggedInUser(msgspec.Struct, kw_only=True):
    """The user a token belongs to."""

    id: str
    email: str
    name: str = ""
    role: str = ""
    manager_id: str | None = None
    timezone: str = "UTC"


class LoginResponse(msgspec.Struct, kw_only=True):
    """``POST /auth/login`` answer (unknown fields ignored)."""

    access_token: str
    user: LoggedInUser
    expires_at: str | None = None
    token_type: str = "bearer"


class PulledChange(msgspec.Struct):
    """One change of a pull page; the record stays raw JSON so it is stored without re-encoding."""

    entity: str
    id: str
    op: str
    version: int = 0
    record: msgspec.Raw = msgspec.Raw()


class PullPage(msgspec.Struct):
    """A pull page decoded with raw records (JSON path)."""

    changes: list[PulledChange]
    cursor: str
    has_more: bool
    reset: bool = False
    progress: dict[str, int] | None = None


class PulledChangeAny(msgspec.Struct):
    """One change of a MessagePack pull page (the record decoded to builtins)."""

    entity: str
    id: str
    op: str
    version: int = 0
    record: dict[str, Any] | None = None


class PullPageAny(msgspec.Struct):
    """A pull page decoded from MessagePack."""

    changes: list[PulledChangeAny]
    cursor: str
    has_more: bool
    reset: bool = False
    progress: dict[str, int] | None = None
