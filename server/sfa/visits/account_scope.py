"""The scope of records that live under an account (visits, opportunities, quotes, orders)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import ValidationFailed
from server.sfa.accounts.sync import account_scope_key
from server.sfa.calendar.wire import parse_uuid


async def scope_of_account_child(session: AsyncSession, record: Mapping[str, Any]) -> str:
    """Scope resolver of an entity declared with ``parent=("account", "account_id")``."""
    account_id = record.get("account_id")
    if account_id is None:
        raise ValidationFailed("account_id is required", field="account_id")
    return await account_scope_key(session, parse_uuid(account_id, "account_id"))
