"""Accounts and contacts as syncable entities: wire records, scope keys, conflict policies."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.accounts import ACCOUNT, CONTACT
from server.errors import Forbidden, ValidationFailed
from server.sfa.accounts.models import Account, Contact
from server.sfa.scopes import account_key
from server.sync.registry import ActionContext, EntitySpec, Policy

_accounts = cast(sa.Table, Account.__table__)

# Credit, blacklist and assignment are decided by managers and the back office, never a device.
ACCOUNT_SERVER_FIELDS = ACCOUNT.server_fields


async def validate_account(
    ctx: ActionContext, record: dict[str, Any], before: dict[str, Any] | None
) -> None:
    """Push-time rule: a rep creating an account offline may only make it theirs, unrated.

    A create may carry ``owner_id`` and ``territory_id`` (the engine then checks the new record's
    scope key is one of the rep's); without ``owner_id`` the rep who pushed it owns it. Credit
    fields stay at their defaults.
    """
    if before is not None or ctx.principal.role in ("manager", "admin"):
        return
    owner = record.get("owner_id")
    if owner is None:
        record["owner_id"] = str(ctx.principal.user_id)
    elif str(owner) != str(ctx.principal.user_id):
        raise Forbidden("a new account can only be owned by its creator", field="owner_id")
    for name in ("credit_limit", "arrears"):
        if decimal.Decimal(str(record.get(name) or 0)) != 0:
            raise Forbidden(f"{name} is set by managers", field=name)
    if record.get("blacklisted"):
        raise Forbidden("blacklisted is set by managers", field="blacklisted")


async def account_scope(_: AsyncSession, record: Mapping[str, Any]) -> str:
    """``t:<territory>`` / ``u:<owner>`` / ``unassigned`` from the record itself."""
    return account_key(record.get("territory_id"), record.get("owner_id"))


async def account_scope_key(session: AsyncSession, account_id: Any) -> str:
    """The current scope key of an account, read with one primary-key query.

    Records living under an account (contacts, visits, orders, ...) share this key.
    """
    account_uuid = account_id if isinstance(account_id, uuid.UUID) else uuid.UUID(str(account_id))
    row = (
        await session.execute(
            sa.select(_accounts.c.territory_id, _accounts.c.owner_id).where(
                _accounts.c.id == account_uuid
            )
        )
    ).first()
    if row is None:
        raise ValidationFailed(f"account {account_id} does not exist", field="account_id")
    return account_key(row.territory_id, row.owner_id)


async def account_scope_keys(
    session: AsyncSession, account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Scope keys of many accounts in one query (for bulk writes of child records)."""
    ids = list(set(account_ids))
    statement = sa.select(_accounts.c.id, _accounts.c.territory_id, _accounts.c.owner_id).where(
        _accounts.c.id.in_(ids)
    )
    rows = (await session.execute(statement)).all()
    return {row.id: account_key(row.territory_id, row.owner_id) for row in rows}


async def contact_scope(session: AsyncSession, record: Mapping[str, Any]) -> str:
    """A contact goes wherever its account goes."""
    return await account_scope_key(session, record["account_id"])


def account_specs() -> list[EntitySpec]:
    """The ``account`` and ``contact`` entities."""
    return [
        # not deletable from a device; create-only owner_id/territory_id: see validate_account
        EntitySpec.of(
            ACCOUNT,
            table=_accounts,
            scope=account_scope,
            scope_fields=frozenset({"territory_id", "owner_id"}),
            policies={"notes": Policy.APPEND},
            validate=validate_account,
        ),
        EntitySpec.of(
            CONTACT,
            table=cast(sa.Table, Contact.__table__),
            scope=contact_scope,
            policies={"notes": Policy.APPEND},
            parent=("account", "account_id"),
            cascade_delete=True,  # a customer's people go with it
        ),
    ]
