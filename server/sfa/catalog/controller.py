"""``/product-categories`` and ``/products``: reads for everyone signed in, writes for admins."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.catalog.product_service import ProductService
from server.sfa.catalog.schemas import (
    CategoryCreate,
    CategoryPatch,
    CategoryRecord,
    ProductCreate,
    ProductFilters,
    ProductPatch,
    ProductRecord,
)
from server.sync.registry import Principal


def provide_product_service(state: State, principal: NamedDependency[Principal]) -> ProductService:
    """The service for one request, wired from the app state."""
    return ProductService(state.db, state.writer, principal, state.settings)


class CategoryController(Controller):
    """Product categories (a tree through ``parent_id``)."""

    path = "/product-categories"
    tags = ["catalog"]
    dependencies = {"service": Provide(provide_product_service, sync_to_thread=False)}

    @get("/")
    async def list_categories(
        self,
        service: NamedDependency[ProductService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        parent_id: FromQuery[uuid.UUID | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[CategoryRecord]:
        """Categories, keyset-paginated by id."""
        return await service.list_categories(parent_id, q, cursor=cursor, limit=limit)

    @get("/{category_id:uuid}")
    async def get_category(
        self, service: NamedDependency[ProductService], category_id: FromPath[uuid.UUID]
    ) -> CategoryRecord:
        """One category."""
        return await service.get_category(category_id)

    @post("/", guards=[admins_only])
    async def create_category(
        self, service: NamedDependency[ProductService], data: JSONBody[CategoryCreate]
    ) -> CategoryRecord:
        """Add a category."""
        return await service.create_category(data)

    @patch("/{category_id:uuid}", guards=[admins_only])
    async def update_category(
        self,
        service: NamedDependency[ProductService],
        category_id: FromPath[uuid.UUID],
        data: JSONBody[CategoryPatch],
        if_match: IfMatch = None,
    ) -> CategoryRecord:
        """Rename or move a category."""
        return await service.update_category(
            category_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{category_id:uuid}", guards=[admins_only])
    async def delete_category(
        self,
        service: NamedDependency[ProductService],
        category_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete an empty category."""
        await service.delete_category(category_id, expected=expected_version(if_match))


class ProductController(Controller):
    """Products."""

    path = "/products"
    tags = ["catalog"]
    dependencies = {"service": Provide(provide_product_service, sync_to_thread=False)}

    @get("/")
    async def list_products(
        self,
        service: NamedDependency[ProductService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        category_id: FromQuery[uuid.UUID | None] = None,
        active: FromQuery[bool | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[ProductRecord]:
        """Products, keyset-paginated by id."""
        filters = ProductFilters(category_id=category_id, active=active, q=q)
        return await service.list_products(filters, cursor=cursor, limit=limit)

    @get("/{product_id:uuid}")
    async def get_product(
        self, service: NamedDependency[ProductService], product_id: FromPath[uuid.UUID]
    ) -> ProductRecord:
        """One product."""
        return await service.get_product(product_id)

    @post("/", guards=[admins_only])
    async def create_product(
        self, service: NamedDependency[ProductService], data: JSONBody[ProductCreate]
    ) -> ProductRecord:
        """Add a product (sku unique)."""
        return await service.create_product(data)

    @patch("/{product_id:uuid}", guards=[admins_only])
    async def update_product(
        self,
        service: NamedDependency[ProductService],
        product_id: FromPath[uuid.UUID],
        data: JSONBody[ProductPatch],
        if_match: IfMatch = None,
    ) -> ProductRecord:
        """Change some fields of a product."""
        return await service.update_product(
            product_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{product_id:uuid}", guards=[admins_only])
    async def delete_product(
        self,
        service: NamedDependency[ProductService],
        product_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete a product nothing refers to."""
        await service.delete_product(product_id, expected=expected_version(if_match))
