"""``/contacts``: thin HTTP handlers over ``ContactService`` (managers and admins)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.accounts.contact_service import ContactService
from server.sfa.accounts.models import ContactRole
from server.sfa.accounts.schemas import ContactCreate, ContactFilters, ContactPatch, ContactRecord
from server.sync.registry import Principal


def provide_contact_service(state: State, principal: NamedDependency[Principal]) -> ContactService:
    """The service for one request, wired from the app state."""
    return ContactService(state.db, state.writer, principal, state.settings)


class ContactController(Controller):
    """Contact persons of accounts."""

    path = "/contacts"
    tags = ["accounts"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_contact_service, sync_to_thread=False)}

    @get("/")
    async def list_contacts(
        self,
        service: NamedDependency[ContactService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        role: FromQuery[ContactRole | None] = None,
        email: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[ContactRecord]:
        """Contacts of the accounts visible to the caller, keyset-paginated by id."""
        filters = ContactFilters(account_id=account_id, role=role, email=email, q=q)
        return await service.list_contacts(filters, cursor=cursor, limit=limit)

    @get("/{contact_id:uuid}")
    async def get_contact(
        self, service: NamedDependency[ContactService], contact_id: FromPath[uuid.UUID]
    ) -> ContactRecord:
        """One contact."""
        return await service.get_contact(contact_id)

    @post("/")
    async def create_contact(
        self, service: NamedDependency[ContactService], data: JSONBody[ContactCreate]
    ) -> ContactRecord:
        """Add a contact to an account."""
        return await service.create_contact(data)

    @patch("/{contact_id:uuid}")
    async def update_contact(
        self,
        service: NamedDependency[ContactService],
        contact_id: FromPath[uuid.UUID],
        data: JSONBody[ContactPatch],
        if_match: IfMatch = None,
    ) -> ContactRecord:
        """Change some fields of a contact."""
        return await service.update_contact(
            contact_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{contact_id:uuid}")
    async def delete_contact(
        self,
        service: NamedDependency[ContactService],
        contact_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete a contact."""
        await service.delete_contact(contact_id, expected=expected_version(if_match))
