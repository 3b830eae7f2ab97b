"""Small builders for the pricing engine's plain values (price lists, entries, products, lines)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from rules.document_pricing import LineRequest, ProductInfo
from rules.price_resolution import PriceEntry, PriceList

D = Decimal
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
ACCOUNT = uuid.UUID("00000000-0000-7000-8000-00000000aaaa")
OTHER_ACCOUNT = uuid.UUID("00000000-0000-7000-8000-00000000bbbb")
SEGMENT = "education"


def make_list(**overrides: object) -> PriceList:
    values: dict[str, object] = {"id": uuid.uuid4(), "currency": "CNY", **overrides}
    return PriceList(**values)  # type: ignore[arg-type]


def make_entry(
    price_list: PriceList,
    product_id: uuid.UUID,
    unit_price: str,
    min_quantity: str = "1",
    **overrides: object,
) -> PriceEntry:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "price_list_id": price_list.id,
        "product_id": product_id,
        "unit_price": D(unit_price),
        "min_quantity": D(min_quantity),
        **overrides,
    }
    return PriceEntry(**values)  # type: ignore[arg-type]


def make_product(tax_rate: str = "0.13", active: bool = True, **overrides: object) -> ProductInfo:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "tax_rate": D(tax_rate),
        "active": active,
        **overrides,
    }
    return ProductInfo(**values)  # type: ignore[arg-type]


def make_request(product_id: uuid.UUID, quantity: str, discount_pct: str = "0") -> LineRequest:
    return LineRequest(
        id=uuid.uuid4(), product_id=product_id, quantity=D(quantity), discount_pct=D(discount_pct)
    )
