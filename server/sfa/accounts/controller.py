"""``/accounts``: thin HTTP handlers over ``AccountService`` (managers and admins)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.accounts.models import LifecycleStage, Segment, ValueTier
from server.sfa.accounts.schemas import (
    AccountCreate,
    AccountFilters,
    AccountPatch,
    AccountRecord,
    OwnershipRecord,
)
from server.sfa.accounts.service import AccountService
from server.sync.registry import Principal


def provide_account_service(state: State, principal: NamedDependency[Principal]) -> AccountService:
    """The service for one request, wired from the app state."""
    return AccountService(state.db, state.writer, principal, state.settings)


class AccountController(Controller):
    """Customer accounts."""

    path = "/accounts"
    tags = ["accounts"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_account_service, sync_to_thread=False)}

    @get("/")
    async def list_accounts(
        self,
        service: NamedDependency[AccountService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        segment: FromQuery[Segment | None] = None,
        value_tier: FromQuery[ValueTier | None] = None,
        lifecycle_stage: FromQuery[LifecycleStage | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        owner_id: FromQuery[uuid.UUID | None] = None,
        city: FromQuery[str | None] = None,
        postal_code: FromQuery[str | None] = None,
        blacklisted: FromQuery[bool | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[AccountRecord]:
        """Accounts visible to the caller, keyset-paginated by id."""
        filters = AccountFilters(
            segment=segment,
            value_tier=value_tier,
            lifecycle_stage=lifecycle_stage,
            territory_id=territory_id,
            owner_id=owner_id,
            city=city,
            postal_code=postal_code,
            blacklisted=blacklisted,
            q=q,
        )
        return await service.list_accounts(filters, cursor=cursor, limit=limit)

    @get("/{account_id:uuid}")
    async def get_account(
        self, service: NamedDependency[AccountService], account_id: FromPath[uuid.UUID]
    ) -> AccountRecord:
        """One account."""
        return await service.get_account(account_id)

    @get("/{account_id:uuid}/ownership")
    async def get_ownership(
        self,
        service: NamedDependency[AccountService],
        account_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[OwnershipRecord]:
        """Who owned the account when, and why: its assignments, oldest first."""
        return await service.ownership(account_id, cursor=cursor, limit=limit)

    @post("/")
    async def create_account(
        self, service: NamedDependency[AccountService], data: JSONBody[AccountCreate]
    ) -> AccountRecord:
        """Create an account."""
        return await service.create_account(data)

    @patch("/{account_id:uuid}")
    async def update_account(
        self,
        service: NamedDependency[AccountService],
        account_id: FromPath[uuid.UUID],
        data: JSONBody[AccountPatch],
        if_match: IfMatch = None,
    ) -> AccountRecord:
        """Change some fields of an account."""
        return await service.update_account(
            account_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{account_id:uuid}")
    async def delete_account(
        self,
        service: NamedDependency[AccountService],
        account_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete an account with its contacts."""
        await service.delete_account(account_id, expected=expected_version(if_match))
