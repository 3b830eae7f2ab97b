"""Document pricing: a quote's or order's lines priced from the price book, and the repricing diff.

The device asks for product, quantity and a discount per line (plus an order-level discount);
``price_document`` resolves each unit price (``rules.price_resolution``), takes the tax rate
from the product, and rounds each line half-up to the cent with its tax computed per line.
``reprice_diff`` says, per line, where the device's own figures differ from the server's.
See docs/pricing.md.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

import msgspec

from protocol import errors
from rules.price_resolution import ListKind, PriceBook, PricingError
from rules.pricing import CENT, HUNDRED, MAX_LINES, ZERO, Line, Totals

CURRENCY = re.compile(r"[A-Z]{3}")
# Enough digits that no product of line factors is ever rounded before the cent.
_PRECISION = 60


class ProductInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What pricing needs of a product: its tax rate (a fraction 0..1) and whether it is sold."""

    id: uuid.UUID
    tax_rate: Decimal
    active: bool = True

    def __post_init__(self) -> None:
        if not (self.tax_rate.is_finite() and 0 <= self.tax_rate <= 1):
            raise ValueError("tax_rate must be between 0 and 1")


class LineRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the device asks for on a line: a product, a quantity and a discount (percent)."""

    id: uuid.UUID
    product_id: uuid.UUID
    quantity: Decimal
    discount_pct: Decimal = Decimal(0)


class PricedLine(msgspec.Struct, frozen=True, kw_only=True):
    """A priced line: the request, the resolved price and tax, and its figures to the cent."""

    id: uuid.UUID
    product_id: uuid.UUID
    quantity: Decimal
    discount_pct: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    entry_id: uuid.UUID  # the price-list entry that decided the unit price
    price_list_id: uuid.UUID
    list_kind: ListKind
    gross: Decimal  # quantity x unit price, to the cent
    net: Decimal  # after the line and the order discount, to the cent
    tax: Decimal
    total: Decimal

    def to_line(self) -> Line:
        """The line as it travels on the wire today (``rules.pricing.Line``)."""
        return Line(
            id=self.id,
            product_id=self.product_id,
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount_pct=self.discount_pct,
            tax_rate=self.tax_rate,
            price_entry_id=self.entry_id,
        )


class PricedDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A priced quote or order: its lines in the order given, and totals summed from them."""

    account_id: uuid.UUID
    currency: str
    order_discount_pct: Decimal
    lines: tuple[PricedLine, ...]
    gross_total: Decimal
    discount_total: Decimal
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def round_half_up(value: Decimal) -> Decimal:
    """``value`` rounded half-up to the cent (as ``rules.pricing.round_cents``)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def effective_discount_pct(line_pct: Decimal, order_pct: Decimal) -> Decimal:
    """The one discount equal to a line discount followed by the order discount."""
    with localcontext(prec=_PRECISION):
        return HUNDRED - (HUNDRED - line_pct) * (HUNDRED - order_pct) / HUNDRED


def line_figures(
    quantity: Decimal,
    unit_price: Decimal,
    discount_pct: Decimal,
    order_discount_pct: Decimal,
    tax_rate: Decimal,
) -> tuple[Decimal, Decimal, Decimal]:
    """A line's gross, net and tax to the cent: the net rounded once, the tax on the net."""
    with localcontext(prec=_PRECISION):
        gross = quantity * unit_price
        factor = (HUNDRED - discount_pct) * (HUNDRED - order_discount_pct)
        net = round_half_up(gross * factor / (HUNDRED * HUNDRED))
        return round_half_up(gross), net, round_half_up(net * tax_rate)


def totals_of_lines(lines: Iterable[Line], order_discount_pct: Decimal = ZERO) -> Totals:
    """Totals of lines already priced (a stored record's), with the document's order discount.

    The same figures ``price_document`` gave for those lines: a record's totals stay a pure
    function of its lines and its order discount, without the price book.
    """
    subtotal = tax_total = ZERO
    for line in lines:
        _, net, tax = line_figures(
            line.quantity, line.unit_price, line.discount_pct, order_discount_pct, line.tax_rate
        )
        subtotal += net
        tax_total += tax
    return Totals(subtotal=subtotal, tax_total=tax_total, total=subtotal + tax_total)


def _percent(value: Decimal, field: str) -> None:
    if not (value.is_finite() and 0 <= value <= 100):
        raise PricingError(errors.VALIDATION_ERROR, "a discount is between 0 and 100", field)


def price_document(
    lines: Sequence[LineRequest],
    *,
    book: PriceBook,
    products: Mapping[uuid.UUID, ProductInfo],
    account_id: uuid.UUID,
    segment: str | None,
    currency: str,
    at: dt.datetime,
    order_discount_pct: Decimal = ZERO,
) -> PricedDocument:
    """Price every line of a document priced at ``at``; ``PricingError`` names the first bad field.

    A line's net is ``quantity x unit_price x (1 - line%) x (1 - order%)`` rounded half-up to the
    cent; its tax is ``net x tax_rate`` rounded half-up; the totals are sums of those.
    """
    if not CURRENCY.fullmatch(currency):
        raise PricingError(errors.VALIDATION_ERROR, "three capital letters", "currency")
    _percent(order_discount_pct, "order_discount_pct")
    if len(lines) > MAX_LINES:
        raise PricingError(errors.VALIDATION_ERROR, f"at most {MAX_LINES} lines", "lines")
    priced: list[PricedLine] = []
    seen: set[uuid.UUID] = set()
    for index, request in enumerate(lines):
        path = f"lines[{index}]"
        if request.id in seen:
            raise PricingError(errors.VALIDATION_ERROR, "duplicate line id", f"{path}.id")
        seen.add(request.id)
        if not (request.quantity.is_finite() and request.quantity > 0):
            raise PricingError(
                errors.VALIDATION_ERROR, "quantity must be greater than 0", f"{path}.quantity"
            )
        _percent(request.discount_pct, f"{path}.discount_pct")
        product = products.get(request.product_id)
        if product is None:
            raise PricingError(errors.UNKNOWN_PRODUCT, "unknown product", f"{path}.product_id")
        if not product.active:
            raise PricingError(
                errors.INACTIVE_PRODUCT, "the product is not sold", f"{path}.product_id"
            )
        resolution = book.resolve(
            account_id=account_id,
            segment=segment,
            product_id=request.product_id,
            quantity=request.quantity,
            at=at,
            currency=currency,
            field=path,
        )
        gross, net, tax = line_figures(
            request.quantity,
            resolution.unit_price,
            request.discount_pct,
            order_discount_pct,
            product.tax_rate,
        )
        priced.append(
            PricedLine(
                id=request.id,
                product_id=request.product_id,
                quantity=request.quantity,
                discount_pct=request.discount_pct,
                unit_price=resolution.unit_price,
                tax_rate=product.tax_rate,
                entry_id=resolution.entry_id,
                price_list_id=resolution.price_list_id,
                list_kind=resolution.list_kind,
                gross=gross,
                net=net,
                tax=tax,
                total=net + tax,
            )
        )
    gross_total = sum((line.gross for line in priced), ZERO)
    subtotal = sum((line.net for line in priced), ZERO)
    tax_total = sum((line.tax for line in priced), ZERO)
    return PricedDocument(
        account_id=account_id,
        currency=currency,
        order_discount_pct=order_discount_pct,
        lines=tuple(priced),
        gross_total=gross_total,
        discount_total=gross_total - subtotal,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
    )


# Why a line was repriced (docs/pricing.md, "Repricing").
PRICE_LIST_CHANGED = "price_list_changed"
PRICE_CHANGED = "price_changed"
TAX_RATE_CHANGED = "tax_rate_changed"


class Repriced(msgspec.Struct, frozen=True, kw_only=True):
    """One line whose device figures differ from the server's, with the deciding entry."""

    line_id: uuid.UUID
    field: str  # lines[i].unit_price, or lines[i].tax_rate when only the tax differs
    device_unit_price: Decimal
    server_unit_price: Decimal
    device_tax_rate: Decimal
    server_tax_rate: Decimal
    entry_id: uuid.UUID
    price_list_id: uuid.UUID
    list_kind: ListKind
    reason: str


def reprice_diff(
    device_lines: Sequence[Line | PricedLine], server_lines: Sequence[PricedLine]
) -> list[Repriced]:
    """Per server line (in its order) whose unit price or tax rate differ from the device's.

    Lines match by id; both sides must hold the same ids (the server prices the device's lines).
    The reason is ``price_list_changed`` when the device says it priced from another entry (a
    ``PricedLine``, or a wire ``Line`` carrying its ``price_entry_id``),
    ``price_changed`` when the unit price differs otherwise, ``tax_rate_changed`` when only the
    tax rate does.
    """
    device = {line.id: line for line in device_lines}
    if set(device) != {line.id for line in server_lines} or len(device) != len(device_lines):
        raise ValueError("the device's and the server's lines must have the same ids")
    diff: list[Repriced] = []
    for index, server in enumerate(server_lines):
        mine = device[server.id]
        price_differs = mine.unit_price != server.unit_price
        if not price_differs and mine.tax_rate == server.tax_rate:
            continue
        if price_differs:
            device_entry = mine.entry_id if isinstance(mine, PricedLine) else mine.price_entry_id
            stale_entry = device_entry is not None and device_entry != server.entry_id
            reason = PRICE_LIST_CHANGED if stale_entry else PRICE_CHANGED
        else:
            reason = TAX_RATE_CHANGED
        diff.append(
            Repriced(
                line_id=server.id,
                field=f"lines[{index}].{'unit_price' if price_differs else 'tax_rate'}",
                device_unit_price=mine.unit_price,
                server_unit_price=server.unit_price,
                device_tax_rate=mine.tax_rate,
                server_tax_rate=server.tax_rate,
                entry_id=server.entry_id,
                price_list_id=server.price_list_id,
                list_kind=server.list_kind,
                reason=reason,
            )
        )
    return diff
