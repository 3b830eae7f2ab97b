"""The ``opportunity`` syncable entity: wire record, scope and funnel validation."""

from __future__ import annotations

from typing import Any

from protocol.entities.opportunities import OPPORTUNITY, OpportunityRecord
from server.sfa.calendar.wire import check_owner, check_record, typed
from server.sfa.opportunities.models import Opportunity
from server.sfa.visits.account_scope import scope_of_account_child
from server.sync.registry import ActionContext, EntitySpec

__all__ = ["OpportunityRecord", "opportunity_spec"]


async def validate_opportunity(
    ctx: ActionContext, record: dict[str, Any], old: dict[str, Any] | None
) -> None:
    """Check an opportunity after a merge; a lost one must say why."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "owner_id")
    check_record(typed(record, OpportunityRecord))


def opportunity_spec() -> EntitySpec:
    """The sync registration of opportunities (every field last-writer-wins)."""
    return EntitySpec.of(
        OPPORTUNITY,
        table=Opportunity.__table__,
        scope=scope_of_account_child,
        parent=("account", "account_id"),
        validate=validate_opportunity,
    )
