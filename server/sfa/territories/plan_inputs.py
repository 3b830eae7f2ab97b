"""What a realignment request asks for besides the stored rules: rule changes, previewed in
memory and saved when the plan is applied, and a manager's explicit moves of accounts.

Both are checked against the caller's reach the way the REST endpoints check them: a rule or a
territory outside it answers 404 like a missing one, a rule that does not fit its kind or an
owner who is not an active rep or manager answers 422, each naming the offending entry
(``rules.1.rule.value``, ``moves.0.territory_id``).
"""

from __future__ import annotations

import datetime as dt
import types
import uuid
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.territory_rules import AssignmentRule
from server.db import new_id
from server.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from server.sfa.accounts.models import Account
from server.sfa.inputs import sent_fields
from server.sfa.scopes import Visibility
from server.sfa.territories.realignment_schemas import AccountMove, ManualMove, RuleChange
from server.sfa.territories.repository import TerritoryRepository
from server.sfa.territories.rule_repository import RuleRepository, as_rule
from server.sfa.territories.rule_service import OWNER_ROLES, check_rule
from server.sync.bulk import any_of, chunks

_accounts = cast(sa.Table, Account.__table__)


def _reaches(seen: Visibility, territory_id: Any) -> bool:
    return seen.everything or territory_id in seen.territory_ids


async def proposed_rules(
    session: AsyncSession, seen: Visibility, changes: list[RuleChange]
) -> tuple[list[AssignmentRule], list[RuleChange]]:
    """The active rules as they would be with ``changes`` made (in order), and the changes
    completed for storage: an added rule's id, an edited or deleted rule's expected version."""
    rules = await RuleRepository(session).rules_by_id()
    completed: list[RuleChange] = []
    for index, change in enumerate(changes):
        at = f"rules.{index}."
        if change.op == "add":
            if change.territory_id is None or change.rule is None:
                raise ValidationFailed(
                    "an added rule needs territory_id and rule", field=at + "rule"
                )
            territory = await TerritoryRepository(session).get_territory(change.territory_id)
            if territory is None or not _reaches(seen, change.territory_id):
                raise NotFound(
                    f"territory {change.territory_id} not found", field=at + "territory_id"
                )
            values = sent_fields(change.rule)
            await check_rule(session, values, values, prefix=at + "rule.")
            rule_id = change.rule_id or new_id()
            if rule_id in rules:
                raise ValidationFailed(f"rule {rule_id} exists already", field=at + "rule_id")
            rules[rule_id] = {**values, "id": rule_id, "territory_id": change.territory_id}
            completed.append(msgspec.structs.replace(change, rule_id=rule_id))
            continue
        current = rules.get(change.rule_id) if change.rule_id is not None else None
        if current is None or not _reaches(seen, current["territory_id"]):
            raise NotFound(f"rule {change.rule_id} not found", field=at + "rule_id")
        expected = change.version or _patch_version(change) or int(current.get("version", 1))
        if "version" in current and int(current["version"]) != expected:
            raise PreconditionFailed(
                f"rule {change.rule_id} has changed: it is at version {current['version']}",
                field=at + "version",
                data={"version": int(current["version"])},
            )
        if change.op == "edit":
            if change.changes is None:
                raise ValidationFailed("an edit needs changes", field=at + "changes")
            edits = sent_fields(change.changes)
            await check_rule(session, {**current, **edits}, edits, prefix=at + "changes.")
            rules[change.rule_id] = {**current, **edits}  # type: ignore[index]
        else:
            del rules[change.rule_id]  # type: ignore[arg-type]
        completed.append(msgspec.structs.replace(change, version=expected))
    active = [
        as_rule(types.SimpleNamespace(**{"value": "", "owner_id": None, **values}))
        for values in rules.values()
        if values.get("active", True)
    ]
    active.sort(key=lambda rule: (rule.priority, rule.id))
    return active, completed


def _patch_version(change: RuleChange) -> int | None:
    version = getattr(change.changes, "version", None)
    return version if isinstance(version, int) else None


async def save_rule_changes(
    session: AsyncSession, changes: list[RuleChange], *, by: uuid.UUID, now: dt.datetime
) -> None:
    """Make the completed rule changes of an applied plan; 409 ``plan_stale`` when a rule it
    edits or deletes is gone or at another version than the preview's (nothing is written)."""
    repo = RuleRepository(session)
    for change in changes:
        if change.op == "add":
            assert change.rule is not None  # completed by ``proposed_rules``
            values = sent_fields(change.rule)
            await repo.insert_rule(
                {
                    **values,
                    "id": change.rule_id,
                    "territory_id": change.territory_id,
                    "created_by": by,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        assert change.rule_id is not None
        row = await repo.lock_rule(change.rule_id)
        if row is None or int(row.version) != change.version:
            raise Conflict(
                "a rule the plan changes was edited since the preview: preview again",
                field="id",
                code="plan_stale",
            )
        if change.op == "edit":
            assert change.changes is not None
            await repo.update_rule(
                change.rule_id, {**sent_fields(change.changes), "updated_at": now}
            )
        else:
            await repo.delete_rule(change.rule_id)


async def manual_moves(
    session: AsyncSession, seen: Visibility, moves: list[ManualMove], *, lock: bool = False
) -> list[AccountMove]:
    """The explicit moves as plan moves (those that change nothing left out), checked: each
    account visible once, each target territory in reach, each new owner an active rep or
    manager. ``records`` is 1 here (the caller adds what lives under the account)."""
    rows: dict[uuid.UUID, Any] = {}
    ids = [move.account_id for move in moves]
    c = _accounts.c
    for chunk in chunks(sorted(set(ids))):
        statement = sa.select(c.id, c.version, c.territory_id, c.owner_id).where(
            any_of(session, c.id, chunk), seen.account_filter(c.territory_id, c.owner_id)
        )
        if lock:
            statement = statement.order_by(c.id).with_for_update(key_share=True)
        rows.update((row.id, row) for row in await session.execute(statement))
    territories = TerritoryRepository(session)
    found: list[AccountMove] = []
    named: set[uuid.UUID] = set()
    for index, move in enumerate(moves):
        at = f"moves.{index}."
        row = rows.get(move.account_id)
        if row is None:
            raise NotFound(f"account {move.account_id} not found", field=at + "account_id")
        if move.account_id in named:
            raise ValidationFailed("an account is moved once per plan", field=at + "account_id")
        named.add(move.account_id)
        target = await territories.get_territory(move.territory_id)
        if target is None or not _reaches(seen, move.territory_id):
            raise NotFound(f"territory {move.territory_id} not found", field=at + "territory_id")
        owner = row.owner_id if move.owner_id is msgspec.UNSET else move.owner_id
        if owner is not None and owner != row.owner_id:
            status = await territories.user_status(owner)
            if status is None or status[0] not in OWNER_ROLES or not status[1]:
                raise ValidationFailed(
                    "owner must be an active rep or manager", field=at + "owner_id"
                )
        if (row.territory_id, row.owner_id) == (move.territory_id, owner):
            continue
        found.append(
            AccountMove(
                account_id=row.id,
                version=int(row.version),
                from_territory_id=row.territory_id,
                from_owner_id=row.owner_id,
                to_territory_id=move.territory_id,
                to_owner_id=owner,
                rule_id=None,
                records=1,
                cause="manual",
                excluded_from_realignment=move.exclude_from_realignment,
            )
        )
    return found
