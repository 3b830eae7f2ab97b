"""The rows pricing reads: products, the price lists pricing them, segments, discount limits."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.sfa.accounts.models import Account
from server.sfa.catalog.models import PriceList, PriceListEntry, Product
from server.sfa.pricing.models import DiscountLimit


class PricingRepository:
    """Named bulk queries: one per kind of row, for every product a push needs at once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def products(self, product_ids: Collection[uuid.UUID]) -> list[Any]:
        """``id``, ``tax_rate``, ``active`` of these products (unknown ids are absent)."""
        rows = await self.session.execute(
            sa.select(Product.id, Product.tax_rate, Product.active).where(
                Product.id.in_(list(product_ids))
            )
        )
        return list(rows)

    async def entries_with_lists(self, product_ids: Collection[uuid.UUID]) -> list[Any]:
        """Every price-list entry of these products, each with its list's columns (one query;
        applicability, validity and currency are the engine's to decide)."""
        rows = await self.session.execute(
            sa.select(
                PriceListEntry.id,
                PriceListEntry.price_list_id,
                PriceListEntry.product_id,
                PriceListEntry.unit_price,
                PriceListEntry.min_quantity,
                PriceList.currency,
                PriceList.account_id,
                PriceList.segment,
                PriceList.valid_from,
                PriceList.valid_to,
                PriceList.active,
            )
            .join(PriceList, PriceList.id == PriceListEntry.price_list_id)
            .where(PriceListEntry.product_id.in_(list(product_ids)))
        )
        return list(rows)

    async def segment_of(self, account_id: uuid.UUID) -> tuple[bool, str | None]:
        """(the account exists, its segment)."""
        row = (
            await self.session.execute(sa.select(Account.segment).where(Account.id == account_id))
        ).first()
        if row is None:
            return False, None
        segment = row.segment
        return True, None if segment is None else str(getattr(segment, "value", segment))

    async def discount_limits(self) -> list[Any]:
        """Every configured limit: ``role`` or ``user_id``, and ``max_discount_pct``."""
        rows = await self.session.execute(
            sa.select(DiscountLimit.role, DiscountLimit.user_id, DiscountLimit.max_discount_pct)
        )
        return list(rows)

    async def set_limit(
        self, *, role: str | None, user_id: uuid.UUID | None, max_discount_pct: Any
    ) -> None:
        """Insert or replace the limit of a role or a user."""
        column = DiscountLimit.role if role is not None else DiscountLimit.user_id
        key = role if role is not None else user_id
        existing = await self.session.scalar(sa.select(DiscountLimit).where(column == key))
        if existing is None:
            self.session.add(
                DiscountLimit(role=role, user_id=user_id, max_discount_pct=max_discount_pct)
            )
        else:
            existing.max_discount_pct = max_discount_pct
        await self.session.flush()

    async def user_exists(self, user_id: uuid.UUID) -> bool:
        """True when the user exists."""
        return (await self.session.scalar(sa.select(User.id).where(User.id == user_id))) is not None
