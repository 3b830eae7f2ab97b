"""``/contracts``: thin HTTP handlers over the contract and schedule services (managers and
admins; reps see their accounts' contracts read-only on their devices)."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.contracts.models import ContractStatus
from server.sfa.contracts.schedule import ScheduleService
from server.sfa.contracts.schemas import (
    ContractCreate,
    ContractFilters,
    ContractPatch,
    ContractRecord,
    InstalmentRecord,
    NoteCreate,
    NoteRecord,
    ScheduleSet,
)
from server.sfa.contracts.service import ContractService
from server.sync.registry import Principal


def provide_contract_service(
    state: State, principal: NamedDependency[Principal]
) -> ContractService:
    """The service for one request, wired from the app state."""
    return ContractService(state.db, state.writer, principal, state.settings)


def provide_schedule_service(
    state: State, principal: NamedDependency[Principal]
) -> ScheduleService:
    """The schedule service for one request."""
    return ScheduleService(state.db, state.writer, principal, state.settings)


class ContractController(Controller):
    """Contracts, their progress notes and payment schedules."""

    path = "/contracts"
    tags = ["finance"]
    guards = [managers_only]
    dependencies = {
        "service": Provide(provide_contract_service, sync_to_thread=False),
        "schedules": Provide(provide_schedule_service, sync_to_thread=False),
    }

    @get("/")
    async def list_contracts(
        self,
        service: NamedDependency[ContractService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        owner_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[ContractStatus | None] = None,
        period_from: FromQuery[dt.date | None] = None,
        period_to: FromQuery[dt.date | None] = None,
    ) -> Page[ContractRecord]:
        """Visible contracts with value, collected and outstanding, keyset-paginated by id."""
        filters = ContractFilters(
            account_id=account_id,
            owner_id=owner_id,
            territory_id=territory_id,
            status=status,
            period_from=period_from,
            period_to=period_to,
        )
        return await service.list_contracts(filters, cursor=cursor, limit=limit)

    @post("/")
    async def create_contract(
        self, service: NamedDependency[ContractService], data: JSONBody[ContractCreate]
    ) -> ContractRecord:
        """A draft contract from an accepted quote, confirmed orders of one account, or blank."""
        return await service.create_contract(data)

    @get("/{contract_id:uuid}")
    async def get_contract(
        self, service: NamedDependency[ContractService], contract_id: FromPath[uuid.UUID]
    ) -> ContractRecord:
        """One contract."""
        return await service.get_contract(contract_id)

    @patch("/{contract_id:uuid}")
    async def update_contract(
        self,
        service: NamedDependency[ContractService],
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[ContractPatch],
        if_match: IfMatch = None,
    ) -> ContractRecord:
        """Change some fields; ``status`` moves draft -> active -> completed, or terminated."""
        return await service.update_contract(
            contract_id, data, expected=expected_version(if_match, data.version)
        )

    @get("/{contract_id:uuid}/notes")
    async def list_notes(
        self,
        service: NamedDependency[ContractService],
        contract_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[NoteRecord]:
        """The contract's progress notes, oldest first."""
        return await service.list_notes(contract_id, cursor=cursor, limit=limit)

    @post("/{contract_id:uuid}/notes")
    async def add_note(
        self,
        service: NamedDependency[ContractService],
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[NoteCreate],
    ) -> NoteRecord:
        """Add a dated progress note."""
        return await service.add_note(contract_id, data)

    @get("/{contract_id:uuid}/instalments")
    async def list_instalments(
        self,
        schedules: NamedDependency[ScheduleService],
        contract_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[InstalmentRecord]:
        """The payment schedule: each instalment with what is paid and outstanding."""
        return await schedules.list_instalments(contract_id, cursor=cursor, limit=limit)

    @put("/{contract_id:uuid}/schedule")
    async def set_schedule(
        self,
        schedules: NamedDependency[ScheduleService],
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[ScheduleSet],
    ) -> list[InstalmentRecord]:
        """Replace the schedule (before any payment); the amounts must sum to the value."""
        return await schedules.set_schedule(contract_id, data)
