"""The catalog as read-only syncable entities (every device holds it, except per-account prices)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities import EntityDef
from protocol.entities.catalog import PRICE_LIST, PRICE_LIST_ENTRY, PRODUCT, PRODUCT_CATEGORY
from server.sfa.accounts.models import Account
from server.sfa.catalog.models import PriceList, PriceListEntry, Product, ProductCategory
from server.sfa.scopes import account_key
from server.sync.registry import GLOBAL_KEY, EntitySpec

_accounts = cast(sa.Table, Account.__table__)
_price_lists = cast(sa.Table, PriceList.__table__)


async def global_scope(_: AsyncSession, __: Mapping[str, Any]) -> str:
    """Shared reference data: every user holds it."""
    return GLOBAL_KEY


def reference_spec(definition: EntityDef, model: type[Any]) -> EntitySpec:
    """A read-only entity every device holds (catalog, warehouses, stock)."""
    return EntitySpec.of(definition, table=cast(sa.Table, model.__table__), scope=global_scope)


async def _account_list_key(session: AsyncSession, account_id: Any) -> str:
    row = (
        await session.execute(
            sa.select(_accounts.c.territory_id, _accounts.c.owner_id).where(
                _accounts.c.id == uuid.UUID(str(account_id))
            )
        )
    ).first()
    # The account is gone only while its delete cascades; treat the list as unassigned then.
    return account_key(None, None) if row is None else account_key(row.territory_id, row.owner_id)


async def price_list_scope(session: AsyncSession, record: Mapping[str, Any]) -> str:
    """Global, or the account's key for a price list negotiated with one account."""
    account_id = record.get("account_id")
    return GLOBAL_KEY if account_id is None else await _account_list_key(session, account_id)


async def price_list_entry_scope(session: AsyncSession, record: Mapping[str, Any]) -> str:
    """Entries go wherever their price list goes (one join, one query)."""
    statement = (
        sa.select(_price_lists.c.account_id, _accounts.c.territory_id, _accounts.c.owner_id)
        .outerjoin(_accounts, _accounts.c.id == _price_lists.c.account_id)
        .where(_price_lists.c.id == uuid.UUID(str(record["price_list_id"])))
    )
    row = (await session.execute(statement)).first()
    if row is None or row.account_id is None:
        return GLOBAL_KEY
    return account_key(row.territory_id, row.owner_id)


def catalog_specs() -> list[EntitySpec]:
    """``product_category``, ``product``, ``price_list`` and ``price_list_entry``."""
    return [
        reference_spec(PRODUCT_CATEGORY, ProductCategory),
        reference_spec(PRODUCT, Product),
        EntitySpec.of(
            PRICE_LIST,
            table=_price_lists,
            scope=price_list_scope,
            parent=("account", "account_id"),
            cascade_delete=True,  # an account's own contract price list goes with it
        ),
        EntitySpec.of(
            PRICE_LIST_ENTRY,
            table=cast(sa.Table, PriceListEntry.__table__),
            scope=price_list_entry_scope,
            parent=("price_list", "price_list_id"),
            cascade_delete=True,  # entries are part of their price list
        ),
    ]
