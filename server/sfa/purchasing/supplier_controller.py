"""``/suppliers`` and ``/suppliers/{id}/contacts``: admins write, managers and admins read."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only, managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.purchasing.schemas import (
    ContactCreate,
    ContactPatch,
    SupplierContactRecord,
    SupplierCreate,
    SupplierPatch,
    SupplierRecord,
)
from server.sfa.purchasing.supplier_service import SupplierService
from server.sync.registry import Principal


def provide_supplier_service(
    state: State, principal: NamedDependency[Principal]
) -> SupplierService:
    """The service for one request, wired from the app state."""
    return SupplierService(state.db, state.writer, principal, state.settings)


class SupplierController(Controller):
    """Suppliers (payment terms, currency) and their contact people."""

    path = "/suppliers"
    tags = ["purchasing"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_supplier_service, sync_to_thread=False)}

    @get("/")
    async def list_suppliers(
        self,
        service: NamedDependency[SupplierService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        active: FromQuery[bool | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[SupplierRecord]:
        """Suppliers, keyset-paginated by id."""
        return await service.list_suppliers(active, q, cursor=cursor, limit=limit)

    @get("/{supplier_id:uuid}")
    async def get_supplier(
        self, service: NamedDependency[SupplierService], supplier_id: FromPath[uuid.UUID]
    ) -> SupplierRecord:
        """One supplier."""
        return await service.get_supplier(supplier_id)

    @post("/", guards=[admins_only])
    async def create_supplier(
        self, service: NamedDependency[SupplierService], data: JSONBody[SupplierCreate]
    ) -> SupplierRecord:
        """Add a supplier (code unique)."""
        return await service.create_supplier(data)

    @patch("/{supplier_id:uuid}", guards=[admins_only])
    async def update_supplier(
        self,
        service: NamedDependency[SupplierService],
        supplier_id: FromPath[uuid.UUID],
        data: JSONBody[SupplierPatch],
        if_match: IfMatch = None,
    ) -> SupplierRecord:
        """Change some fields of a supplier."""
        return await service.update_supplier(
            supplier_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{supplier_id:uuid}", guards=[admins_only])
    async def delete_supplier(
        self,
        service: NamedDependency[SupplierService],
        supplier_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete a supplier no purchase order names."""
        await service.delete_supplier(supplier_id, expected=expected_version(if_match))

    @get("/{supplier_id:uuid}/contacts")
    async def list_contacts(
        self,
        service: NamedDependency[SupplierService],
        supplier_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[SupplierContactRecord]:
        """A supplier's contacts, keyset-paginated by id."""
        return await service.list_contacts(supplier_id, cursor=cursor, limit=limit)

    @get("/{supplier_id:uuid}/contacts/{contact_id:uuid}")
    async def get_contact(
        self,
        service: NamedDependency[SupplierService],
        supplier_id: FromPath[uuid.UUID],
        contact_id: FromPath[uuid.UUID],
    ) -> SupplierContactRecord:
        """One contact."""
        return await service.get_contact(supplier_id, contact_id)

    @post("/{supplier_id:uuid}/contacts", guards=[admins_only])
    async def create_contact(
        self,
        service: NamedDependency[SupplierService],
        supplier_id: FromPath[uuid.UUID],
        data: JSONBody[ContactCreate],
    ) -> SupplierContactRecord:
        """Add a contact."""
        return await service.create_contact(supplier_id, data)

    @patch("/{supplier_id:uuid}/contacts/{contact_id:uuid}", guards=[admins_only])
    async def update_contact(
        self,
        service: NamedDependency[SupplierService],
        supplier_id: FromPath[uuid.UUID],
        contact_id: FromPath[uuid.UUID],
        data: JSONBody[ContactPatch],
        if_match: IfMatch = None,
    ) -> SupplierContactRecord:
        """Change a contact."""
        return await service.update_contact(
            supplier_id, contact_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{supplier_id:uuid}/contacts/{contact_id:uuid}", guards=[admins_only])
    async def delete_contact(
        self,
        service: NamedDependency[SupplierService],
        supplier_id: FromPath[uuid.UUID],
        contact_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Remove a contact."""
        await service.delete_contact(supplier_id, contact_id, expected=expected_version(if_match))
