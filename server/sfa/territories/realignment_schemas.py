"""Wire shapes of realignment plans (``/territories/realignments``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.sfa.inputs import Version
from server.sfa.territories.rule_schemas import RuleCreate, RulePatch

MAX_RULE_CHANGES = 100
MAX_MANUAL_MOVES = 10_000


class RuleChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A change of the assignment rules to preview, saved when the plan is applied.

    ``add``: ``territory_id`` and ``rule`` (the plan answers the ``rule_id`` it will get);
    ``edit``: ``rule_id`` and ``changes``; ``delete``: ``rule_id``. ``version`` (edit, delete):
    the rule's expected version, by default the one it had at the preview."""

    op: Literal["add", "edit", "delete"]
    rule_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    rule: RuleCreate | None = None
    changes: RulePatch | None = None
    version: Version | None = None


class ManualMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A manager's reassignment of one account, whatever the rules say (cause ``manual``).
    ``owner_id``: the new owner (``null`` for none; left out: the owner stays)."""

    account_id: uuid.UUID
    territory_id: uuid.UUID
    owner_id: uuid.UUID | None | UnsetType = UNSET
    # later rule changes and realignments leave the account alone
    exclude_from_realignment: bool = True


class RealignmentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /territories/realignments``: re-run the rules (with ``rules`` changed as given,
    nothing saved yet) over the accounts in reach, plus the explicit ``moves``; only accounts
    in or moving into ``territory_id`` when it is given."""

    territory_id: uuid.UUID | None = None
    rules: Annotated[list[RuleChange], msgspec.Meta(max_length=MAX_RULE_CHANGES)] = []
    moves: Annotated[list[ManualMove], msgspec.Meta(max_length=MAX_MANUAL_MOVES)] = []


class AccountMove(msgspec.Struct, kw_only=True):
    """One account the plan moves, with how many records go with it (itself included):
    by a rule (``rule_id``) or by hand (``cause`` ``manual``, ``rule_id`` null)."""

    account_id: uuid.UUID
    version: int
    from_territory_id: uuid.UUID | None
    from_owner_id: uuid.UUID | None
    to_territory_id: uuid.UUID | None
    to_owner_id: uuid.UUID | None
    rule_id: uuid.UUID | None
    records: int
    cause: Literal["rule", "manual"] = "rule"
    excluded_from_realignment: bool = False


class HolderChange(msgspec.Struct, kw_only=True):
    """Accounts a territory or a rep gains and loses."""

    id: uuid.UUID
    gained: list[uuid.UUID]
    lost: list[uuid.UUID]


class DeviceImpact(msgspec.Struct, kw_only=True):
    """What one device will receive and evict at its next pull once the plan is applied."""

    device_id: uuid.UUID
    user_id: uuid.UUID
    receive: int
    evict: int


class RealignmentPlanRecord(msgspec.Struct, kw_only=True):
    """A realignment preview; ``status`` is ``planned`` until applied."""

    id: uuid.UUID
    status: str
    territory_id: uuid.UUID | None
    request: RealignmentRequest = msgspec.field(default_factory=RealignmentRequest)
    created_by: uuid.UUID
    created_at: dt.datetime
    applied_by: uuid.UUID | None = None
    applied_at: dt.datetime | None = None
    moves: list[AccountMove]
    territories: list[HolderChange]
    reps: list[HolderChange]
    devices: list[DeviceImpact]
