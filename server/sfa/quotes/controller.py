"""``/quotes``: managers (their subtree) and admins read quotes; reps work through sync. The
approval routes (``/quotes/{id}/approve|refuse``) live with pricing."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery

from protocol.entities.documents import QuoteRecord, QuoteStatus
from server.auth.guards import managers_only
from server.pagination import Page
from server.sfa.quotes.repository import QuoteFilters
from server.sfa.quotes.service import QuoteService
from server.sync.registry import Principal


def provide_quote_service(state: State, principal: NamedDependency[Principal]) -> QuoteService:
    """The service for one request, wired from the app state."""
    return QuoteService(state.db, state.writer, principal, state.settings)


class QuoteController(Controller):
    """Reading quotes."""

    path = "/quotes"
    tags = ["quotes"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_quote_service, sync_to_thread=False)}

    @get("/")
    async def list_quotes(
        self,
        service: NamedDependency[QuoteService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        status: FromQuery[QuoteStatus | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[QuoteRecord]:
        """Quotes in the caller's scope, keyset-paginated by id; ``status`` is the status a
        quote reads as today, ``territory_id`` takes the territory and everything under it."""
        filters = QuoteFilters(
            status=status.value if status is not None else None,
            rep_id=rep_id,
            territory_id=territory_id,
            account_id=account_id,
        )
        return await service.list_quotes(filters, cursor=cursor, limit=limit)

    @get("/{quote_id:uuid}")
    async def get_quote(
        self, service: NamedDependency[QuoteService], quote_id: FromPath[uuid.UUID]
    ) -> QuoteRecord:
        """One quote, as it reads today."""
        return await service.get_quote(quote_id)
