"""``/expense-reports``: reps read their own; managers (for the reps they manage) and admins
read, approve and refuse them, and see approved totals per rep and period. Reps create and
submit reports offline (the ``expense`` entity), never over REST."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from protocol.entities.expenses import ExpenseStatus
from server.auth.guards import managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.expenses.schemas import ExpenseDecision, ExpenseRecord, RepTotals
from server.sfa.expenses.service import ExpenseService
from server.sync.registry import Principal


def provide_expense_service(state: State, principal: NamedDependency[Principal]) -> ExpenseService:
    """The service for one request, wired from the app state."""
    return ExpenseService(state.db, state.writer, principal, state.settings)


class ExpenseController(Controller):
    """Expense reports and the manager's decision on them."""

    path = "/expense-reports"
    tags = ["expenses"]
    dependencies = {"service": Provide(provide_expense_service, sync_to_thread=False)}

    @get("/")
    async def list_reports(
        self,
        service: NamedDependency[ExpenseService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        owner_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[ExpenseStatus | None] = None,
    ) -> Page[ExpenseRecord]:
        """The reports the caller may see, keyset-paginated by id."""
        return await service.list_reports(
            owner_id, status.value if status else None, cursor=cursor, limit=limit
        )

    @get("/totals", guards=[managers_only])
    async def approved_totals(
        self,
        service: NamedDependency[ExpenseService],
        since: FromQuery[dt.date],
        until: FromQuery[dt.date],
        owner_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[RepTotals]:
        """Approved amounts per rep and currency of expenses dated in ``since..until``."""
        return await service.approved_totals(since, until, owner_id, cursor=cursor, limit=limit)

    @get("/{report_id:uuid}")
    async def get_report(
        self, service: NamedDependency[ExpenseService], report_id: FromPath[uuid.UUID]
    ) -> ExpenseRecord:
        """One report."""
        return await service.get_report(report_id)

    @post("/{report_id:uuid}/approve", guards=[managers_only], status_code=200)
    async def approve(
        self,
        service: NamedDependency[ExpenseService],
        report_id: FromPath[uuid.UUID],
        data: JSONBody[ExpenseDecision],
        if_match: IfMatch = None,
    ) -> ExpenseRecord:
        """Approve a submitted report (syncs to the rep's device)."""
        return await service.decide(
            report_id, data, approve=True, expected=expected_version(if_match)
        )

    @post("/{report_id:uuid}/refuse", guards=[managers_only], status_code=200)
    async def refuse(
        self,
        service: NamedDependency[ExpenseService],
        report_id: FromPath[uuid.UUID],
        data: JSONBody[ExpenseDecision],
        if_match: IfMatch = None,
    ) -> ExpenseRecord:
        """Refuse a submitted report with a note; the rep may edit and submit it again."""
        return await service.decide(
            report_id, data, approve=False, expected=expected_version(if_match)
        )
