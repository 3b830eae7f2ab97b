"""Computes statements of a period from the stored plans and the central records, with the pure
rules (``rules.commissions.statement``), and stores them; closed statements are never touched.

Overlay: a manager whose plan has ``overlay_rate_pct`` also gets the credits (and reversals) of
their direct reports (``users.manager_id``) with ``overlay=True``. A reversal of a credit of an
earlier period is a carried clawback computed against that period: the plan its stored statement
was computed under when it is closed (else the plan in force), and its credits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from rules.commission_plans import Plan, plan_for
from rules.commissions import (
    Credit,
    Reversal,
    Statement,
    StatementLine,
    clawback,
    clawback_line,
    fold,
    statement,
)
from server.db import new_id, utcnow
from server.sfa.commissions.events import EventReader, Events
from server.sfa.commissions.repository import CommissionRepository

OPEN = "open"


def plan_of(definition: Any) -> Plan:
    """A stored plan definition (JSON, decimals as strings) as the rules' ``Plan``."""
    return msgspec.convert(definition, Plan)


def line_rows(lines: Sequence[StatementLine]) -> list[dict[str, Any]]:
    """Statement lines as stored (JSON, decimals as strings), numbered from 1."""
    return [{"no": no, **msgspec.to_builtins(line)} for no, line in enumerate(lines, 1)]


def figures_of(computed: Statement) -> dict[str, Any]:
    """The stored columns of a computed statement."""
    return {
        "plan_id": computed.plan_id,
        "total": computed.total,
        "lines": line_rows(computed.lines),
        "attainment": msgspec.to_builtins(computed.attainment),
        "by_category": msgspec.to_builtins(computed.by_category),
        "by_tier": msgspec.to_builtins(computed.by_tier),
    }


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    role: str
    manager_id: uuid.UUID | None


class StatementComputer:
    """Computes (and stores) the statements of one period for some or all reps."""

    def __init__(self, repo: CommissionRepository, reader: EventReader) -> None:
        self.repo = repo
        self.reader = reader
        self._events: dict[tuple[str, str], Events] = {}
        self._plans: dict[uuid.UUID, Plan] = {}
        self._people: dict[uuid.UUID, Person] = {}
        self._team: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)

    async def _load(self) -> None:
        if self._people:
            return
        self._plans = {row.id: plan_of(row.definition) for row in await self.repo.all_plans()}
        for row in await self.repo.people():
            self._people[row.id] = Person(row.id, str(row.role), row.manager_id)
            if row.manager_id is not None:
                self._team[row.manager_id].append(row.id)

    def plan_of_rep(self, rep_id: uuid.UUID, period: str) -> Plan | None:
        """The plan governing a rep's period (None: no plan, no statement)."""
        person = self._people.get(rep_id)
        if person is None:
            return None
        return plan_for(self._plans.values(), rep_id=rep_id, role=person.role, period=period)

    async def _events_of(self, period: str, earns_on: str) -> Events:
        key = (period, earns_on)
        if key not in self._events:
            self._events[key] = await self.reader.events(period, earns_on)
        return self._events[key]

    def _credits(self, events: Events, plan: Plan, rep_id: uuid.UUID) -> list[Credit]:
        credits = list(events.credits.get(rep_id, []))
        if plan.overlay_rate_pct:
            for member in self._team.get(rep_id, []):
                credits += [
                    msgspec.structs.replace(credit, overlay=True)
                    for credit in events.credits.get(member, [])
                ]
        return credits

    def _reversals(self, events: Events, plan: Plan, rep_id: uuid.UUID) -> list[Any]:
        reversals = list(events.reversals.get(rep_id, []))
        if plan.overlay_rate_pct:
            for member in self._team.get(rep_id, []):
                reversals += events.reversals.get(member, [])
        return reversals

    async def compute(
        self, period: str, rep_ids: Sequence[uuid.UUID] | None = None
    ) -> dict[uuid.UUID, Statement]:
        """The statements of ``period`` of these reps (default: every rep and manager with a
        plan for it), computed from the records; not stored."""
        await self._load()
        targets = list(rep_ids) if rep_ids is not None else list(self._people)
        planned = {rep: plan for rep in targets if (plan := self.plan_of_rep(rep, period))}
        adjustments: dict[uuid.UUID, list[StatementLine]] = defaultdict(list)
        for row in await self.repo.accepted_adjustments(period, list(planned)):
            adjustments[row.rep_id].append(adjustment_line(row))
        out = {}
        for rep, plan in planned.items():
            events = await self._events_of(period, plan.earns_on)
            credits = self._credits(events, plan, rep)
            own: list[Reversal] = []
            earlier: list[tuple[Reversal, str]] = []
            for reversal, origin in self._reversals(events, plan, rep):
                if origin == period:
                    own.append(reversal)
                elif origin < period:
                    earlier.append((reversal, origin))
            carried = []
            if earlier:
                _, state = fold(plan, period, credits)
                attained = state.attainment_pct(plan).quantize(Decimal("0.01"))
                for reversal, origin in sorted(earlier, key=lambda item: (item[0].at, item[0].id)):
                    amount = await self._clawback(rep, reversal, origin)
                    if amount is not None:
                        carried.append(
                            clawback_line(reversal, amount, attained, origin_period=origin)
                        )
            out[rep] = statement(
                plan,
                period,
                credits,
                own,
                carried,
                adjustments[rep],
            )
        return out

    async def _clawback(self, rep_id: uuid.UUID, reversal: Reversal, origin: str) -> Decimal | None:
        """What a reversal of a credit of ``origin`` claws back, against that period."""
        [stored] = await self.repo.statements_of(origin, [rep_id]) or [None]
        if stored is not None and stored.status != OPEN:
            plan: Plan | None = self._plans.get(stored.plan_id)
        else:
            plan = self.plan_of_rep(rep_id, origin)
        if plan is None:
            return None
        events = await self._events_of(origin, plan.earns_on)
        credits = self._credits(events, plan, rep_id)
        if reversal.credit_id not in {credit.id for credit in credits}:
            return None
        ids = {credit.id for credit in credits}
        before = await self.reader.earlier_reversals(plan.earns_on, ids, reversal)
        return clawback(plan, origin, credits, before, reversal)

    async def store(self, period: str, computed: dict[uuid.UUID, Statement]) -> int:
        """Write the computed statements of ``period``: new ones inserted, open ones rewritten
        when a figure changed, closed ones left alone. Returns how many were written."""
        existing = {
            row.rep_id: row for row in await self.repo.statements_of(period, list(computed))
        }
        now = utcnow()
        new_rows = []
        written = 0
        for rep, result in computed.items():
            values = figures_of(result)
            row = existing.get(rep)
            if row is None:
                new_rows.append(
                    {
                        "id": new_id(),
                        "rep_id": rep,
                        "period": period,
                        "status": OPEN,
                        "computed_at": now,
                        "version": 1,
                        **values,
                    }
                )
            elif row.status == OPEN and _changed(row, values):
                await self.repo.update_statement(row.id, {**values, "computed_at": now})
                written += 1
        await self.repo.insert_statements(new_rows)
        return written + len(new_rows)


def _changed(row: Any, values: dict[str, Any]) -> bool:
    if row.total != values["total"]:
        return True
    stored = {name: getattr(row, name) for name in values if name != "total"}
    values = {name: value for name, value in values.items() if name != "total"}
    encoded = msgspec.json.decode(msgspec.json.encode(values))
    current = msgspec.json.decode(msgspec.json.encode(stored))
    return bool(encoded != current)


def adjustment_line(row: Any) -> StatementLine:
    """The statement line of an accepted dispute's adjustment."""
    return StatementLine(
        kind="adjustment",
        source="dispute",
        source_id=row.id,
        attainment_pct=Decimal("0.00"),
        amount=row.adjustment,
        rule=f"dispute of line {row.line_no} accepted: {row.resolution_note}".strip(),
    )
