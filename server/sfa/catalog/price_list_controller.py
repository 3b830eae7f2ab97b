"""``/price-lists`` and their ``/entries``: reads for everyone signed in (limited to what they
may see, as on sync), writes for admins."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.accounts.models import Segment
from server.sfa.catalog.price_list_service import PriceListService
from server.sfa.catalog.schemas import (
    EntryCreate,
    EntryPatch,
    PriceListCreate,
    PriceListEntryRecord,
    PriceListFilters,
    PriceListPatch,
    PriceListRecord,
)
from server.sync.registry import Principal


def provide_price_list_service(
    state: State, principal: NamedDependency[Principal]
) -> PriceListService:
    """The service for one request, wired from the app state."""
    return PriceListService(state.db, state.writer, principal, state.settings)


class PriceListController(Controller):
    """Price lists per segment or account, and their quantity-tiered entries."""

    path = "/price-lists"
    tags = ["catalog"]
    dependencies = {"service": Provide(provide_price_list_service, sync_to_thread=False)}

    @get("/")
    async def list_price_lists(
        self,
        service: NamedDependency[PriceListService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        segment: FromQuery[Segment | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        currency: FromQuery[str | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> Page[PriceListRecord]:
        """Price lists, keyset-paginated by id."""
        filters = PriceListFilters(
            segment=segment, account_id=account_id, currency=currency, active=active
        )
        return await service.list_price_lists(filters, cursor=cursor, limit=limit)

    @get("/{price_list_id:uuid}")
    async def get_price_list(
        self, service: NamedDependency[PriceListService], price_list_id: FromPath[uuid.UUID]
    ) -> PriceListRecord:
        """One price list."""
        return await service.get_price_list(price_list_id)

    @post("/", guards=[admins_only])
    async def create_price_list(
        self, service: NamedDependency[PriceListService], data: JSONBody[PriceListCreate]
    ) -> PriceListRecord:
        """Add a price list."""
        return await service.create_price_list(data)

    @patch("/{price_list_id:uuid}", guards=[admins_only])
    async def update_price_list(
        self,
        service: NamedDependency[PriceListService],
        price_list_id: FromPath[uuid.UUID],
        data: JSONBody[PriceListPatch],
        if_match: IfMatch = None,
    ) -> PriceListRecord:
        """Change some fields of a price list."""
        return await service.update_price_list(
            price_list_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{price_list_id:uuid}", guards=[admins_only])
    async def delete_price_list(
        self,
        service: NamedDependency[PriceListService],
        price_list_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete a price list and its entries."""
        await service.delete_price_list(price_list_id, expected=expected_version(if_match))

    @get("/{price_list_id:uuid}/entries")
    async def list_entries(
        self,
        service: NamedDependency[PriceListService],
        price_list_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        product_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[PriceListEntryRecord]:
        """Entries of a price list, keyset-paginated by id."""
        return await service.list_entries(price_list_id, product_id, cursor=cursor, limit=limit)

    @post("/{price_list_id:uuid}/entries", guards=[admins_only])
    async def create_entry(
        self,
        service: NamedDependency[PriceListService],
        price_list_id: FromPath[uuid.UUID],
        data: JSONBody[EntryCreate],
    ) -> PriceListEntryRecord:
        """Add a price tier."""
        return await service.create_entry(price_list_id, data)

    @patch("/{price_list_id:uuid}/entries/{entry_id:uuid}", guards=[admins_only])
    async def update_entry(
        self,
        service: NamedDependency[PriceListService],
        price_list_id: FromPath[uuid.UUID],
        entry_id: FromPath[uuid.UUID],
        data: JSONBody[EntryPatch],
        if_match: IfMatch = None,
    ) -> PriceListEntryRecord:
        """Change a price tier."""
        return await service.update_entry(
            price_list_id, entry_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{price_list_id:uuid}/entries/{entry_id:uuid}", guards=[admins_only])
    async def delete_entry(
        self,
        service: NamedDependency[PriceListService],
        price_list_id: FromPath[uuid.UUID],
        entry_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Remove a price tier."""
        await service.delete_entry(price_list_id, entry_id, expected=expected_version(if_match))
