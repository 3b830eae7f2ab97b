"""Who an account belongs to and why: rule-based assignment and the effective-dated history.

Every change of an account's territory or owner adds a row to ``account_assignments`` (closing
the open one) in the transaction that makes it, naming its cause (the rule, ``manual`` or
``default``) and who made it. A manual assignment is excluded from rule re-alignment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.territory_rules import AccountFacts, AssignmentCause, AssignmentRule, first_match
from server.db import new_id
from server.sfa.accounts.models import AccountAssignment
from server.sfa.scopes import Visibility, visibility
from server.sfa.territories.rule_repository import RuleRepository
from server.sync.bulk import any_of, chunks, insert_rows
from server.sync.registry import Principal

assignments = cast(sa.Table, AccountAssignment.__table__)


def facts_of(record: Mapping[str, Any]) -> AccountFacts:
    """The fields the rules read, from an account row or wire dict."""

    def text(name: str) -> str:
        value = record.get(name)
        return "" if value is None else str(getattr(value, "value", value))

    def number(name: str) -> float | None:
        value = record.get(name)
        return None if value is None else float(value)

    return AccountFacts(
        postal_code=text("postal_code"),
        city=text("city"),
        region=text("region"),
        segment=text("segment"),
        industry=text("industry"),
        value_tier=text("value_tier"),
        latitude=number("latitude"),
        longitude=number("longitude"),
    )


@dataclass(frozen=True)
class RuleVerdict:
    """Where the rules place an account."""

    rule_id: uuid.UUID
    territory_id: uuid.UUID
    owner_id: uuid.UUID | None


_PUSH_RULES = "outpost.active_assignment_rules"
_PUSH_VISIBILITY = "outpost.pusher_visibility"


async def push_rules(session: AsyncSession) -> list[AssignmentRule]:
    """The active rules, read once per push transaction (a push never edits rules): a query per
    pushed account would also flush the push's queued writes each time."""
    rules: list[AssignmentRule] | None = session.info.get(_PUSH_RULES)
    if rules is None:
        rules = session.info[_PUSH_RULES] = await RuleRepository(session).active_rules()
    return rules


async def push_visibility(session: AsyncSession, principal: Principal) -> Visibility:
    """What the pusher may see, read once per push transaction like ``push_rules`` (the
    principal is the same for every mutation of a push)."""
    key = (_PUSH_VISIBILITY, principal.user_id)
    seen: Visibility | None = session.info.get(key)
    if seen is None:
        seen = session.info[key] = await visibility(session, principal)
    return seen


async def rule_verdict(
    session: AsyncSession,
    record: Mapping[str, Any],
    seen: Visibility,
    rules: list[AssignmentRule] | None = None,
) -> RuleVerdict | None:
    """The first matching active rule's placement of ``record``, or None when no rule matches
    or the matched territory is outside the writer's reach (``seen``): a writer never moves an
    account somewhere they cannot see; a realignment by someone who can will."""
    if rules is None:
        rules = await RuleRepository(session).active_rules()
    rule = first_match(rules, facts_of(record))
    if rule is None:
        return None
    territory = uuid.UUID(rule.territory_id)
    if not (seen.everything or territory in seen.territory_ids):
        return None
    owner = None if rule.owner_id is None else uuid.UUID(rule.owner_id)
    return RuleVerdict(uuid.UUID(rule.id), territory, owner)


def apply_verdict(verdict: RuleVerdict, current: Mapping[str, Any]) -> dict[str, Any]:
    """The territory/owner changes a verdict makes (the owner stays when the rule names none)."""
    changes: dict[str, Any] = {}
    if _uuid(current.get("territory_id")) != verdict.territory_id:
        changes["territory_id"] = verdict.territory_id
    if verdict.owner_id is not None and _uuid(current.get("owner_id")) != verdict.owner_id:
        changes["owner_id"] = verdict.owner_id
    return changes


@dataclass(frozen=True)
class Placement:
    """One account's new assignment, for ``AssignmentRepository.record_many``."""

    account_id: uuid.UUID
    territory_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    cause: AssignmentCause
    rule_id: uuid.UUID | None
    excluded_from_realignment: bool = False


class AssignmentRepository:
    """Named queries over the ownership history."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, account_id: uuid.UUID) -> sa.Row[Any] | None:
        """The open assignment of an account, or None (never assigned through the history)."""
        statement = sa.select(assignments).where(
            assignments.c.account_id == account_id, assignments.c.valid_to.is_(None)
        )
        return (await self.session.execute(statement)).first()

    async def is_manual(self, account_id: uuid.UUID) -> bool:
        """Is the account's current assignment excluded from rule re-alignment?"""
        row = await self.current(account_id)
        return row is not None and bool(row.excluded_from_realignment)

    async def record(
        self,
        account_id: uuid.UUID,
        territory_id: Any,
        owner_id: Any,
        *,
        cause: AssignmentCause,
        rule_id: uuid.UUID | None,
        by: uuid.UUID | None,
        now: dt.datetime,
    ) -> None:
        """Close the open assignment at ``now`` and open the new one from ``now``."""
        await self.session.execute(
            sa.update(assignments)
            .where(assignments.c.account_id == account_id, assignments.c.valid_to.is_(None))
            .values(valid_to=now)
        )
        await self.session.execute(
            sa.insert(assignments).values(
                id=new_id(),
                account_id=account_id,
                territory_id=_uuid(territory_id),
                owner_id=_uuid(owner_id),
                valid_from=now,
                valid_to=None,
                cause=cause.value,
                rule_id=rule_id,
                assigned_by=by,
                excluded_from_realignment=cause == AssignmentCause.MANUAL,
            )
        )

    async def record_many(
        self, placements: Sequence[Placement], *, by: uuid.UUID | None, now: dt.datetime
    ) -> None:
        """``record`` for many accounts at once (a realignment): the open rows closed at
        ``now`` and the new ones opened, one statement per chunk of 1,000 accounts."""
        ids = [p.account_id for p in placements]
        for chunk in chunks(ids):
            await self.session.execute(
                sa.update(assignments)
                .where(
                    any_of(self.session, assignments.c.account_id, chunk),
                    assignments.c.valid_to.is_(None),
                )
                .values(valid_to=now)
                .execution_options(synchronize_session=False)
            )
        rows = [
            {
                "id": new_id(),
                "account_id": p.account_id,
                "territory_id": p.territory_id,
                "owner_id": p.owner_id,
                "valid_from": now,
                "valid_to": None,
                "cause": p.cause.value,
                "rule_id": p.rule_id,
                "assigned_by": by,
                "excluded_from_realignment": p.excluded_from_realignment,
            }
            for p in placements
        ]
        await insert_rows(self.session, assignments, rows)

    def history_statement(self, account_id: uuid.UUID) -> sa.Select[Any]:
        """Every assignment of an account (the pager orders them by id: oldest first)."""
        return sa.select(assignments).where(assignments.c.account_id == account_id)

    async def owner_on(self, account_id: uuid.UUID, at: dt.datetime) -> sa.Row[Any] | None:
        """The assignment in force for ``account_id`` at instant ``at`` (who owned it), or None."""
        statement = (
            sa.select(assignments)
            .where(
                assignments.c.account_id == account_id,
                assignments.c.valid_from <= at,
                sa.or_(assignments.c.valid_to.is_(None), assignments.c.valid_to > at),
            )
            .order_by(assignments.c.valid_from.desc(), assignments.c.id.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).first()


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))
