"""``/territories/realignments``: preview a reassignment by the rules, then apply it."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from server.auth.guards import managers_only
from server.sfa.territories.realignment import RealignmentService
from server.sfa.territories.realignment_schemas import RealignmentPlanRecord, RealignmentRequest
from server.sync.registry import Principal


def provide_realignment_service(
    state: State, principal: NamedDependency[Principal]
) -> RealignmentService:
    """The service for one request, wired from the app state."""
    return RealignmentService(state.db, state.writer, principal, state.settings)


class RealignmentController(Controller):
    """Plans of account moves by the assignment rules (managers in their subtree, admins)."""

    path = "/territories/realignments"
    tags = ["territories"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_realignment_service, sync_to_thread=False)}

    @post("/")
    async def preview_realignment(
        self, service: NamedDependency[RealignmentService], data: JSONBody[RealignmentRequest]
    ) -> RealignmentPlanRecord:
        """Compute a plan: the moves, gains and losses, and each device's next pull."""
        return await service.preview(data)

    @get("/{plan_id:uuid}")
    async def get_realignment(
        self, service: NamedDependency[RealignmentService], plan_id: FromPath[uuid.UUID]
    ) -> RealignmentPlanRecord:
        """A stored plan."""
        return await service.get_plan(plan_id)

    @post("/{plan_id:uuid}/apply", status_code=200)
    async def apply_realignment(
        self, service: NamedDependency[RealignmentService], plan_id: FromPath[uuid.UUID]
    ) -> RealignmentPlanRecord:
        """Apply a plan in one transaction; 409 plan_stale when the data changed since."""
        return await service.apply(plan_id)
