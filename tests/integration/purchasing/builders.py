"""Builders of purchasing tests: an admin, a supplier, a warehouse and products, a PO."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import make_product, make_warehouse


@dataclass
class Shop:
    admin: dict[str, str]
    supplier: str
    warehouse: str
    products: list[str]


async def make_shop(client: Any, db: Any, products: int = 2, **supplier: Any) -> Shop:
    """An admin's headers, a supplier (net 30 unless told), a warehouse and products."""
    admin = await auth_headers(db, await make_user(db, "admin"))
    body = {"code": "SUP", "name": "Supplier", "currency": "EUR", **supplier}
    response = await client.post("/suppliers", json=body, headers=admin)
    assert response.status_code == 201, response.text
    warehouse = str(await make_warehouse(db))
    ids = [str(await make_product(db)) for _ in range(products)]
    return Shop(admin, response.json()["id"], warehouse, ids)


async def make_po(
    client: Any, shop: Shop, lines: list[tuple[int, str, str]], *, ordered: bool = True
) -> dict[str, Any]:
    """A purchase order of ``(product index, quantity, unit cost)`` lines, ordered unless told."""
    body = {
        "supplier_id": shop.supplier,
        "warehouse_id": shop.warehouse,
        "lines": [
            {"product_id": shop.products[i], "quantity": q, "unit_cost": c} for i, q, c in lines
        ],
    }
    response = await client.post("/purchase-orders", json=body, headers=shop.admin)
    assert response.status_code == 201, response.text
    po = response.json()
    if ordered:
        response = await client.post(f"/purchase-orders/{po['id']}/order", headers=shop.admin)
        assert response.status_code == 200, response.text
        po = response.json()
    return po  # type: ignore[no-any-return]


async def receive(client: Any, shop: Shop, po_id: str, lines: list[tuple[int, str]], **body: Any):
    """POST a receipt of ``(product index, quantity)`` lines; returns the response."""
    payload = {
        "lines": [{"product_id": shop.products[i], "quantity": q} for i, q in lines],
        **body,
    }
    return await client.post(f"/purchase-orders/{po_id}/receipts", json=payload, headers=shop.admin)
