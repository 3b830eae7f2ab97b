"""``/commissions``: plans (admins), statements (reps their own, managers their team's, admins
all), approval; ``/orders/{id}/credit-splits`` (managers of the order's owner, admins)."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only, managers_only
from server.pagination import Page
from server.sfa.commissions.dispute_service import DisputeService
from server.sfa.commissions.plan_service import PlanService
from server.sfa.commissions.schemas import (
    ComputeInput,
    DisputeAccept,
    DisputeInput,
    DisputeRecord,
    DisputeRefuse,
    PlanInput,
    PlanRecord,
    SplitInput,
    SplitRecord,
    StatementRecord,
)
from server.sfa.commissions.statement_service import StatementService
from server.sync.registry import Principal


def provide_plan_service(state: State, principal: NamedDependency[Principal]) -> PlanService:
    """The plan service for one request."""
    return PlanService(state.db, state.writer, principal, state.settings)


def provide_statement_service(
    state: State, principal: NamedDependency[Principal]
) -> StatementService:
    """The statement service for one request."""
    return StatementService(state.db, state.writer, principal, state.settings)


class CommissionPlanController(Controller):
    """Effective-dated commission plans."""

    path = "/commissions/plans"
    tags = ["commissions"]
    dependencies = {"service": Provide(provide_plan_service, sync_to_thread=False)}

    @post("/", guards=[admins_only])
    async def create_plan(
        self, service: NamedDependency[PlanService], data: JSONBody[PlanInput]
    ) -> PlanRecord:
        """A new plan; it ends the open plan of the same role or rep the day it starts."""
        return await service.create_plan(data)

    @get("/", guards=[managers_only])
    async def list_plans(self, service: NamedDependency[PlanService]) -> list[PlanRecord]:
        """Every plan, oldest first."""
        return await service.list_plans()


class CreditSplitController(Controller):
    """An order's credit shares between reps."""

    path = "/orders/{order_id:uuid}/credit-splits"
    tags = ["commissions"]
    dependencies = {"service": Provide(provide_plan_service, sync_to_thread=False)}

    @get("/", guards=[managers_only])
    async def get_split(
        self, service: NamedDependency[PlanService], order_id: FromPath[uuid.UUID]
    ) -> SplitRecord:
        """The order's shares (its owner's 100 % unless split) and their trail."""
        result: SplitRecord = await service.get_split(order_id)
        return result

    @put("/", guards=[managers_only])
    async def put_split(
        self,
        service: NamedDependency[PlanService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[SplitInput],
    ) -> SplitRecord:
        """Set the shares (summing to 100)."""
        result: SplitRecord = await service.put_split(order_id, data)
        return result


class StatementController(Controller):
    """Commission statements."""

    path = "/commissions/statements"
    tags = ["commissions"]
    dependencies = {"service": Provide(provide_statement_service, sync_to_thread=False)}

    @get("/")
    async def list_statements(
        self,
        service: NamedDependency[StatementService],
        rep_id: FromQuery[uuid.UUID | None] = None,
        period: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[StatementRecord]:
        """The statements the caller may see, keyset-paginated by id."""
        return await service.list_statements(rep_id, period, cursor=cursor, limit=limit)

    @post("/compute", status_code=200)
    async def compute(
        self, service: NamedDependency[StatementService], data: JSONBody[ComputeInput]
    ) -> Page[StatementRecord]:
        """Compute (or refresh) the open statements of a period in the caller's scope."""
        return await service.compute(data.period, data.rep_id)

    @get("/{statement_id:uuid}")
    async def get_statement(
        self, service: NamedDependency[StatementService], statement_id: FromPath[uuid.UUID]
    ) -> StatementRecord:
        """One statement."""
        return await service.get_statement(statement_id)

    @post("/{statement_id:uuid}/approve", guards=[managers_only], status_code=200)
    async def approve(
        self, service: NamedDependency[StatementService], statement_id: FromPath[uuid.UUID]
    ) -> StatementRecord:
        """Approve a closed statement."""
        return await service.approve(statement_id)


def provide_dispute_service(state: State, principal: NamedDependency[Principal]) -> DisputeService:
    """The dispute service for one request."""
    return DisputeService(state.db, state.writer, principal, state.settings)


class DisputeController(Controller):
    """Disputes of statement lines and their resolution."""

    path = "/commissions"
    tags = ["commissions"]
    dependencies = {"service": Provide(provide_dispute_service, sync_to_thread=False)}

    @post("/statements/{statement_id:uuid}/disputes")
    async def open_dispute(
        self,
        service: NamedDependency[DisputeService],
        statement_id: FromPath[uuid.UUID],
        data: JSONBody[DisputeInput],
    ) -> DisputeRecord:
        """The rep disputes one line of their closed statement."""
        return await service.open_dispute(statement_id, data)

    @get("/disputes")
    async def list_disputes(
        self,
        service: NamedDependency[DisputeService],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DisputeRecord]:
        """The disputes the caller may see, keyset-paginated by id."""
        return await service.list_disputes(status, cursor=cursor, limit=limit)

    @get("/disputes/{dispute_id:uuid}")
    async def get_dispute(
        self, service: NamedDependency[DisputeService], dispute_id: FromPath[uuid.UUID]
    ) -> DisputeRecord:
        """One dispute with its resolution."""
        return await service.get_dispute(dispute_id)

    @post("/disputes/{dispute_id:uuid}/accept", guards=[managers_only], status_code=200)
    async def accept(
        self,
        service: NamedDependency[DisputeService],
        dispute_id: FromPath[uuid.UUID],
        data: JSONBody[DisputeAccept],
    ) -> DisputeRecord:
        """Accept, posting the adjustment to the rep's current period."""
        return await service.accept(dispute_id, data)

    @post("/disputes/{dispute_id:uuid}/refuse", guards=[managers_only], status_code=200)
    async def refuse(
        self,
        service: NamedDependency[DisputeService],
        dispute_id: FromPath[uuid.UUID],
        data: JSONBody[DisputeRefuse],
    ) -> DisputeRecord:
        """Refuse with a reason."""
        return await service.refuse(dispute_id, data)
