"""Product categories and products: anyone signed in reads, admins write."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.catalog.repository import CatalogRepository, categories, products
from server.sfa.catalog.schemas import (
    CategoryCreate,
    CategoryPatch,
    CategoryRecord,
    ProductCreate,
    ProductFilters,
    ProductPatch,
    ProductRecord,
)
from server.sfa.inputs import check_decimal, record_of, sent_fields


def _duplicate_sku(sku: object) -> Conflict:
    return Conflict(f"sku {sku!s} is already used", field="sku", code="duplicate_sku")


class ProductService(AreaService):
    """The product catalog."""

    async def list_categories(
        self, parent_id: uuid.UUID | None, q: str | None, *, cursor: str | None, limit: int | None
    ) -> Page[CategoryRecord]:
        """One page of categories."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            statement = CatalogRepository(session).categories_statement(parent_id, q)
            rows, nxt = await fetch_page(
                session, statement, categories.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(CategoryRecord, r) for r in rows], next_cursor=nxt)

    async def get_category(self, category_id: uuid.UUID) -> CategoryRecord:
        """One category."""
        async with self.db.reading() as session:
            row = await CatalogRepository(session).get_category(category_id)
        if row is None:
            raise NotFound(f"category {category_id} not found", field="id")
        return record_of(CategoryRecord, row)

    async def create_category(self, data: CategoryCreate) -> CategoryRecord:
        """Add a category (under an existing parent, if one is given)."""
        async with self.db.transaction() as session:
            if data.parent_id is not None:
                await self._check_parent(session, None, data.parent_id)
            record = await self.writer.create(
                session, "product_category", sent_fields(data), principal=self.principal
            )
        return record_of(CategoryRecord, record)

    async def update_category(
        self, category_id: uuid.UUID, data: CategoryPatch, *, expected: frozenset[int] | None = None
    ) -> CategoryRecord:
        """Rename or move a category; a move that would make a cycle is refused."""
        changes = sent_fields(data)
        async with self.db.transaction() as session:
            if await CatalogRepository(session).get_category(category_id) is None:
                raise NotFound(f"category {category_id} not found", field="id")
            await self.writer.check_version(session, "product_category", category_id, expected)
            if changes.get("parent_id") is not None:
                await self._check_parent(session, category_id, changes["parent_id"])
            record = await self._update(session, "product_category", category_id, changes)
        return record_of(CategoryRecord, record)

    async def delete_category(
        self, category_id: uuid.UUID, *, expected: frozenset[int] | None = None
    ) -> None:
        """Delete an empty category (no subcategories, no products)."""
        async with self.db.transaction() as session:
            repo = CatalogRepository(session)
            if await repo.get_category(category_id) is None:
                raise NotFound(f"category {category_id} not found", field="id")
            await self.writer.check_version(session, "product_category", category_id, expected)
            if await repo.category_in_use(category_id):
                raise Conflict("category has subcategories or products", field="id", code="in_use")
            await self.writer.delete(
                session, "product_category", category_id, principal=self.principal
            )

    async def list_products(
        self, filters: ProductFilters, *, cursor: str | None, limit: int | None
    ) -> Page[ProductRecord]:
        """One page of products matching ``filters``."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            statement = CatalogRepository(session).products_statement(filters)
            rows, nxt = await fetch_page(
                session, statement, products.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(ProductRecord, r) for r in rows], next_cursor=nxt)

    async def get_product(self, product_id: uuid.UUID) -> ProductRecord:
        """One product."""
        async with self.db.reading() as session:
            row = await CatalogRepository(session).get_product(product_id)
        if row is None:
            raise NotFound(f"product {product_id} not found", field="id")
        return record_of(ProductRecord, row)

    async def create_product(self, data: ProductCreate) -> ProductRecord:
        """Add a product; ``duplicate_sku`` (409) when the sku is taken."""
        values = sent_fields(data)
        try:
            async with self.db.transaction() as session:
                await self._check_product(session, None, values)
                record = await self.writer.create(
                    session, "product", values, principal=self.principal
                )
        except sa.exc.IntegrityError as exc:  # a concurrent create took the sku first
            raise _duplicate_sku(data.sku) from exc
        return record_of(ProductRecord, record)

    async def update_product(
        self, product_id: uuid.UUID, data: ProductPatch, *, expected: frozenset[int] | None = None
    ) -> ProductRecord:
        """Change some fields of a product."""
        changes = sent_fields(data)
        try:
            async with self.db.transaction() as session:
                if await CatalogRepository(session).get_product(product_id) is None:
                    raise NotFound(f"product {product_id} not found", field="id")
                await self.writer.check_version(session, "product", product_id, expected)
                await self._check_product(session, product_id, changes)
                record = await self._update(session, "product", product_id, changes)
        except sa.exc.IntegrityError as exc:
            raise _duplicate_sku(changes.get("sku")) from exc
        return record_of(ProductRecord, record)

    async def delete_product(
        self, product_id: uuid.UUID, *, expected: frozenset[int] | None = None
    ) -> None:
        """Delete a product nothing refers to (deactivate it otherwise)."""
        try:
            async with self.db.transaction() as session:
                if await CatalogRepository(session).get_product(product_id) is None:
                    raise NotFound(f"product {product_id} not found", field="id")
                await self.writer.check_version(session, "product", product_id, expected)
                await self.writer.delete(session, "product", product_id, principal=self.principal)
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "product is referenced by price lists, stock or orders; deactivate it instead",
                field="id",
                code="in_use",
            ) from exc

    async def _update(
        self, session: AsyncSession, entity: str, record_id: uuid.UUID, changes: dict[str, Any]
    ) -> dict[str, Any]:
        if not changes:
            return await self.writer.load(session, entity, record_id)
        return await self.writer.update(
            session, entity, record_id, changes, principal=self.principal
        )

    async def _check_parent(
        self, session: AsyncSession, category_id: uuid.UUID | None, parent_id: uuid.UUID
    ) -> None:
        repo = CatalogRepository(session)
        node: uuid.UUID | None = parent_id
        while node is not None:
            if node == category_id:
                raise ValidationFailed("a category cannot be its own ancestor", field="parent_id")
            exists, node_parent = await repo.category_parent(node)
            if not exists:
                raise ValidationFailed(f"category {node} does not exist", field="parent_id")
            node = node_parent

    async def _check_product(
        self, session: AsyncSession, product_id: uuid.UUID | None, values: dict[str, Any]
    ) -> None:
        check_decimal(values.get("tax_rate"), "tax_rate", ge=0, le=1)
        check_decimal(values.get("list_price"), "list_price", ge=0)
        repo = CatalogRepository(session)
        category_id = values.get("category_id")
        if category_id is not None and await repo.get_category(category_id) is None:
            raise ValidationFailed(f"category {category_id} does not exist", field="category_id")
        if "sku" in values:
            holder = await repo.product_id_by_sku(values["sku"])
            if holder is not None and holder != product_id:
                raise _duplicate_sku(values["sku"])
