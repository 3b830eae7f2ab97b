"""The ``opportunity`` syncable entity: wire record, scope and funnel validation."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from rules.pricing import round_cents
from server.errors import ValidationFailed
from server.sfa.calendar.wire import (
    AwareDateTime,
    check_owner,
    require_non_negative,
    require_text,
    typed,
)
from server.sfa.opportunities.models import Opportunity, Stage
from server.sfa.visits.account_scope import scope_of_account_child
from server.sync.registry import ActionContext, EntitySpec


class OpportunityRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An opportunity on the wire."""

    id: uuid.UUID
    version: int = 1
    account_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    stage: Stage = Stage.INITIAL_CONTACT
    amount: Decimal = Decimal(0)
    probability: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    expected_close: dt.date | None = None
    lost_reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None

    def __post_init__(self) -> None:
        # an amount of money in cents, the same string on SQLite and PostgreSQL (NUMERIC(18, 4))
        if self.amount.is_finite():
            self.amount = round_cents(self.amount)


async def validate_opportunity(
    ctx: ActionContext, record: dict[str, Any], old: dict[str, Any] | None
) -> None:
    """Check an opportunity after a merge; a lost one must say why."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "owner_id")
    opportunity = typed(record, OpportunityRecord)
    if opportunity.account_id is None:
        raise ValidationFailed("account_id is required", field="account_id")
    require_text(opportunity.name, "name")
    require_non_negative(opportunity.amount, "amount")
    if opportunity.stage is Stage.LOST and not opportunity.lost_reason.strip():
        raise ValidationFailed("a lost opportunity needs a lost_reason", field="lost_reason")


def opportunity_spec() -> EntitySpec:
    """The sync registration of opportunities (every field last-writer-wins)."""
    return EntitySpec(
        name="opportunity",
        table=Opportunity.__table__,  # type: ignore[arg-type]
        record_type=OpportunityRecord,
        scope=scope_of_account_child,
        parent=("account", "account_id"),
        validate=validate_opportunity,
    )
