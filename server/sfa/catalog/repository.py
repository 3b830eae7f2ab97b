"""Queries of the catalog (SQLAlchemy Core on the tables)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.sfa.accounts.models import Account
from server.sfa.catalog.models import PriceList, PriceListEntry, Product, ProductCategory
from server.sfa.catalog.schemas import PriceListFilters, ProductFilters
from server.sfa.scopes import Visibility

categories = cast(sa.Table, ProductCategory.__table__)
products = cast(sa.Table, Product.__table__)
price_lists = cast(sa.Table, PriceList.__table__)
entries = cast(sa.Table, PriceListEntry.__table__)
_accounts = cast(sa.Table, Account.__table__)


def visible_price_lists(seen: Visibility) -> sa.ColumnElement[bool]:
    """The price lists a user may read: every general or segment list, and a list negotiated
    with one account only when the user may see that account (what sync delivers too: such a
    list lives under its account's scope key)."""
    if seen.everything:
        return sa.true()
    account = _accounts.c
    visible = sa.select(account.id).where(
        seen.account_filter(account.territory_id, account.owner_id)
    )
    return sa.or_(price_lists.c.account_id.is_(None), price_lists.c.account_id.in_(visible))


class CatalogRepository:
    """Named queries over categories, products, price lists and entries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _one(self, table: sa.Table, record_id: uuid.UUID) -> sa.Row[Any] | None:
        return (await self.session.execute(sa.select(table).where(table.c.id == record_id))).first()

    async def get_category(self, category_id: uuid.UUID) -> sa.Row[Any] | None:
        """One category row, or None."""
        return await self._one(categories, category_id)

    async def category_parent(self, category_id: uuid.UUID) -> tuple[bool, uuid.UUID | None]:
        """(exists, parent id) of a category: one step of an ancestor walk."""
        row = (
            await self.session.execute(
                sa.select(categories.c.parent_id).where(categories.c.id == category_id)
            )
        ).first()
        return (False, None) if row is None else (True, row.parent_id)

    def categories_statement(self, parent_id: uuid.UUID | None, q: str | None) -> sa.Select[Any]:
        """Categories, optionally the children of one parent and/or with a name containing q."""
        statement = sa.select(categories)
        if parent_id is not None:
            statement = statement.where(categories.c.parent_id == parent_id)
        if q:
            statement = statement.where(categories.c.name.icontains(q, autoescape=True))
        return statement

    async def category_in_use(self, category_id: uuid.UUID) -> bool:
        """Does any category or product point at this category?"""
        child = sa.exists().where(categories.c.parent_id == category_id)
        product = sa.exists().where(products.c.category_id == category_id)
        return bool((await self.session.execute(sa.select(sa.or_(child, product)))).scalar())

    async def get_product(self, product_id: uuid.UUID) -> sa.Row[Any] | None:
        """One product row, or None."""
        return await self._one(products, product_id)

    async def product_id_by_sku(self, sku: str) -> uuid.UUID | None:
        """The product holding ``sku``, if any."""
        statement = sa.select(products.c.id).where(products.c.sku == sku)
        return (await self.session.execute(statement)).scalar_one_or_none()

    def products_statement(self, filters: ProductFilters) -> sa.Select[Any]:
        """Products matching ``filters``."""
        statement = sa.select(products)
        if filters.category_id is not None:
            statement = statement.where(products.c.category_id == filters.category_id)
        if filters.active is not None:
            statement = statement.where(products.c.active == filters.active)
        if filters.q:
            statement = statement.where(
                sa.or_(
                    products.c.name.icontains(filters.q, autoescape=True),
                    products.c.sku.icontains(filters.q, autoescape=True),
                )
            )
        return statement

    async def get_price_list(
        self, price_list_id: uuid.UUID, seen: Visibility
    ) -> sa.Row[Any] | None:
        """One price list row the user may read, or None."""
        statement = sa.select(price_lists).where(
            price_lists.c.id == price_list_id, visible_price_lists(seen)
        )
        return (await self.session.execute(statement)).first()

    def price_lists_statement(self, filters: PriceListFilters, seen: Visibility) -> sa.Select[Any]:
        """Price lists the user may read matching ``filters``."""
        statement = sa.select(price_lists).where(visible_price_lists(seen))
        exact = {
            "segment": filters.segment,
            "account_id": filters.account_id,
            "currency": filters.currency,
            "active": filters.active,
        }
        for name, value in exact.items():
            if value is not None:
                statement = statement.where(price_lists.c[name] == value)
        return statement

    async def get_entry(self, price_list_id: uuid.UUID, entry_id: uuid.UUID) -> sa.Row[Any] | None:
        """One entry of one price list, or None."""
        statement = sa.select(entries).where(
            entries.c.id == entry_id, entries.c.price_list_id == price_list_id
        )
        return (await self.session.execute(statement)).first()

    def entries_statement(
        self, price_list_id: uuid.UUID, product_id: uuid.UUID | None
    ) -> sa.Select[Any]:
        """Entries of a price list, optionally for one product."""
        statement = sa.select(entries).where(entries.c.price_list_id == price_list_id)
        if product_id is not None:
            statement = statement.where(entries.c.product_id == product_id)
        return statement

    async def entry_tiers(self, price_list_id: uuid.UUID, product_id: uuid.UUID) -> Sequence[Any]:
        """(id, min_quantity) rows of a product's entries in a price list.

        Compared in Python: on SQLite the quantity is text, where "1" and "1.0" differ.
        """
        statement = sa.select(entries.c.id, entries.c.min_quantity).where(
            entries.c.price_list_id == price_list_id, entries.c.product_id == product_id
        )
        return (await self.session.execute(statement)).all()
