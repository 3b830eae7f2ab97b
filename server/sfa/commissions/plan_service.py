"""Commission plans (admins create and replace them) and credit splits of orders (managers of
the order's owner, and admins, set them; every change is audited)."""

from __future__ import annotations

import decimal
import uuid
from typing import Any

import msgspec

from protocol.errors import PERIOD_CLOSED
from rules.commission_plans import Plan, PlanInvalid, period_bounds, split_credit, validate_plan
from server.db import new_id, utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.sfa.area_service import AreaService
from server.sfa.commissions.events import reader_for
from server.sfa.commissions.repository import CommissionRepository
from server.sfa.commissions.schemas import PlanInput, PlanRecord, Share, SplitChange, SplitInput
from server.sfa.inputs import check_decimal
from server.sfa.scopes import managed_users


def plan_record(row: Any) -> PlanRecord:
    """A stored plan as its API record."""
    return msgspec.convert(row._mapping, PlanRecord, from_attributes=True)


def _shares(items: list[Any] | None) -> list[Share]:
    return [msgspec.convert(item, Share, strict=False) for item in items or []]


def _check_plan_decimals(data: PlanInput) -> None:
    check_decimal(data.quota, "quota")
    check_decimal(data.default_rate_pct, "default_rate_pct")
    check_decimal(data.cap, "cap")
    check_decimal(data.overlay_rate_pct, "overlay_rate_pct")
    for name, rate in data.category_rates_pct.items():
        check_decimal(rate, f"category_rates_pct.{name}")
    for index, spiff in enumerate(data.spiffs):
        check_decimal(spiff.amount_per_unit, f"spiffs.{index}.amount_per_unit")


class PlanService(AreaService):
    """Plans and splits over REST."""

    async def create_plan(self, data: PlanInput) -> PlanRecord:
        """Store a plan; the open plan of the same role or rep ends the day it starts. A plan
        never starts inside or before a closed period (that period is locked)."""
        _check_plan_decimals(data)
        plan_id = new_id()
        fields = {name: getattr(data, name) for name in PlanInput.__struct_fields__}
        try:
            plan = validate_plan(
                Plan(
                    id=plan_id,
                    **fields | {"tiers": tuple(data.tiers), "spiffs": tuple(data.spiffs)},
                )
            )
        except PlanInvalid as exc:
            raise ValidationFailed(str(exc), field=exc.field) from None
        async with self.db.transaction() as session:
            repo = CommissionRepository(session)
            if plan.rep_id is not None:
                person = await repo.person(plan.rep_id)
                if person is None or str(person.role) not in ("rep", "manager"):
                    raise ValidationFailed("no such rep or manager", field="rep_id")
            closed = await repo.last_closed_period_end()
            if closed is not None and plan.valid_from < period_bounds(closed)[1]:
                raise Conflict(
                    f"a plan cannot start in or before the closed period {closed}",
                    field="valid_from",
                    code=PERIOD_CLOSED,
                    data={"closed_through": closed},
                )
            previous = await repo.open_plan_of(plan.role, plan.rep_id)
            if previous is not None:
                if plan.valid_from <= previous.valid_from:
                    raise ValidationFailed(
                        "a successor must start after the plan it replaces starts",
                        field="valid_from",
                    )
                ended = dict(previous.definition) | {"valid_to": plan.valid_from.isoformat()}
                await repo.end_plan(previous.id, plan.valid_from, ended)
            row = {
                "id": plan_id,
                "name": plan.name,
                "role": plan.role,
                "rep_id": plan.rep_id,
                "valid_from": plan.valid_from,
                "valid_to": None,
                "definition": msgspec.to_builtins(plan),
                "replaces": previous.id if previous is not None else None,
                "created_by": self.principal.user_id,
                "created_at": utcnow(),
            }
            await repo.insert_plan(row)
            return plan_record(await repo.plan_row(plan_id))

    async def list_plans(self) -> list[PlanRecord]:
        """Every plan, oldest first (a short list: one per role or rep and change)."""
        async with self.db.reading() as session:
            return [plan_record(row) for row in await CommissionRepository(session).all_plans()]

    async def _order_in_scope(self, repo: CommissionRepository, order_id: uuid.UUID) -> Any:
        order = await repo.order_owner(order_id)
        seen = await managed_users(repo.session, self.principal) if order else None
        if order is None or (seen is not None and order.owner_id not in seen):
            raise NotFound(f"order {order_id} not found", field="order_id")
        return order

    async def get_split(self, order_id: uuid.UUID) -> Any:
        """An order's shares and their trail."""
        from server.sfa.commissions.schemas import SplitRecord

        async with self.db.reading() as session:
            repo = CommissionRepository(session)
            order = await self._order_in_scope(repo, order_id)
            stored = await repo.split_of(order_id)
            changes = await repo.split_changes_of(order_id)
        shares = (
            _shares(stored.shares)
            if stored
            else [Share(rep_id=order.owner_id, share_pct=decimal.Decimal(100))]
        )
        return SplitRecord(
            order_id=order_id,
            shares=shares,
            changes=[
                SplitChange(
                    before=_shares(c.before) if c.before is not None else None,
                    after=_shares(c.after),
                    actor_id=c.actor_id,
                    created_at=c.created_at,
                )
                for c in changes
            ],
        )

    async def put_split(self, order_id: uuid.UUID, data: SplitInput) -> Any:
        """Set an order's shares (each a rep or manager; summing to 100). Refused when the
        order's credit sits in a closed period (that statement is locked)."""
        for index, share in enumerate(data.shares):
            check_decimal(share.share_pct, f"shares.{index}.share_pct")
        try:
            split_credit(decimal.Decimal(100), [(s.rep_id, s.share_pct) for s in data.shares])
        except PlanInvalid as exc:
            raise ValidationFailed(str(exc), field=exc.field) from None
        async with self.db.transaction() as session:
            repo = CommissionRepository(session)
            await self._order_in_scope(repo, order_id)
            for index, share in enumerate(data.shares):
                person = await repo.person(share.rep_id)
                if person is None or str(person.role) not in ("rep", "manager"):
                    raise ValidationFailed("no such rep or manager", field=f"shares.{index}.rep_id")
            await self._refuse_closed(repo, order_id, [s.rep_id for s in data.shares])
            stored = await repo.split_of(order_id, lock=True)
            after = msgspec.to_builtins(data.shares)
            now = utcnow()
            await repo.put_split(
                order_id,
                {"shares": after, "set_by": self.principal.user_id, "updated_at": now},
                exists=stored is not None,
            )
            await repo.add_split_change(
                {
                    "id": new_id(),
                    "order_id": order_id,
                    "before": stored.shares if stored else None,
                    "after": after,
                    "actor_id": self.principal.user_id,
                    "created_at": now,
                }
            )
        return await self.get_split(order_id)

    async def _refuse_closed(
        self, repo: CommissionRepository, order_id: uuid.UUID, reps: list[uuid.UUID]
    ) -> None:
        confirmed = (await repo.confirmations_of([order_id])).get(order_id)
        if confirmed is None:
            return
        reader = reader_for(repo, self.settings)
        period = reader.period_of_day(reader.clock.day_of(confirmed))
        stored = await repo.statements_of(period)
        old = await repo.split_of(order_id)
        owner = (await repo.order_owner(order_id)).owner_id
        involved = (
            set(reps) | {s.rep_id for s in _shares(old.shares)} if old else set(reps) | {owner}
        )
        if any(row.status != "open" and row.rep_id in involved for row in stored):
            raise Conflict(
                f"the order's credit is in the closed period {period}",
                field="shares",
                code=PERIOD_CLOSED,
                data={"period": period},
            )
