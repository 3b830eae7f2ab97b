"""rules.document_pricing: lines priced from the book, discounts, tax, rounding, reprice_diff."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

import pytest

from rules.document_pricing import (
    LineRequest,
    PricedDocument,
    ProductInfo,
    effective_discount_pct,
    price_document,
    reprice_diff,
    totals_of_lines,
)
from rules.price_resolution import ListKind, PriceBook, PricingError
from rules.pricing import MAX_LINES, document_totals
from tests.unit.pricing_builders import (
    ACCOUNT,
    NOW,
    SEGMENT,
    D,
    make_entry,
    make_list,
    make_product,
    make_request,
)

PEN = make_product("0.13")
BOOK_ITEM = make_product("0.09")
STANDARD = make_list()
SEGMENT_LIST = make_list(segment=SEGMENT)
PEN_ENTRY = make_entry(STANDARD, PEN.id, "4.99")
PEN_BREAK = make_entry(STANDARD, PEN.id, "4.50", "10")
BOOK_ENTRY = make_entry(SEGMENT_LIST, BOOK_ITEM.id, "19.90", "0.1")  # sold by the tenth
BOOK = PriceBook([STANDARD, SEGMENT_LIST], [PEN_ENTRY, PEN_BREAK, BOOK_ENTRY])
PRODUCTS = {p.id: p for p in (PEN, BOOK_ITEM)}


def price(
    lines: Sequence[LineRequest],
    order_discount: str = "0",
    book: PriceBook = BOOK,
    products: dict[uuid.UUID, ProductInfo] = PRODUCTS,
    **overrides: object,
) -> PricedDocument:
    values: dict[str, object] = {
        "book": book,
        "products": products,
        "account_id": ACCOUNT,
        "segment": SEGMENT,
        "currency": "CNY",
        "at": NOW,
        "order_discount_pct": D(order_discount),
        **overrides,
    }
    return price_document(lines, **values)  # type: ignore[arg-type]


def refused(lines: Sequence[LineRequest], order_discount: str = "0", **overrides: object) -> str:
    with pytest.raises(PricingError) as caught:
        price(lines, order_discount, **overrides)
    return f"{caught.value.code} {caught.value.field}"


def test_lines_take_the_resolved_price_and_the_products_tax() -> None:
    doc = price([make_request(PEN.id, "12", "5"), make_request(BOOK_ITEM.id, "0.5")])
    pen, book = doc.lines
    # 12 x 4.50 (the 10+ break) = 54.00, less 5 % = 51.30; tax 13 % = 6.669 -> 6.67
    assert (pen.unit_price, pen.entry_id, pen.gross, pen.net, pen.tax) == (
        D("4.50"),
        PEN_BREAK.id,
        D("54.00"),
        D("51.30"),
        D("6.67"),
    )
    # 0.5 x 19.90 = 9.95 from the segment list; tax 9 % = 0.8955 -> 0.90
    assert (book.unit_price, book.list_kind, book.net, book.tax) == (
        D("19.90"),
        ListKind.SEGMENT,
        D("9.95"),
        D("0.90"),
    )
    assert (doc.subtotal, doc.tax_total, doc.total) == (D("61.25"), D("7.57"), D("68.82"))
    assert (doc.gross_total, doc.discount_total) == (D("63.95"), D("2.70"))


def test_the_order_discount_applies_after_the_line_discount_on_each_line() -> None:
    doc = price([make_request(PEN.id, "3", "10")], order_discount="5")
    # 3 x 4.99 = 14.97; x 0.90 x 0.95 = 12.79935 -> 12.80 (one rounding, not two)
    assert doc.lines[0].net == D("12.80")
    assert doc.lines[0].tax == D("1.66")  # 1.664 -> 1.66
    assert effective_discount_pct(D("10"), D("5")) == D("14.5")


def test_rounding_is_half_up_per_line_and_tax_per_line() -> None:
    cheap = make_product("0.1")
    standard = make_list()
    book = PriceBook([standard], [make_entry(standard, cheap.id, "0.05")])
    doc = price(
        [make_request(cheap.id, "1"), make_request(cheap.id, "1")],
        book=book,
        products={cheap.id: cheap},
    )
    # each line's tax is 0.005 -> 0.01; taxing the subtotal once would give 0.01
    assert [line.tax for line in doc.lines] == [D("0.01"), D("0.01")]
    assert (doc.subtotal, doc.tax_total, doc.total) == (D("0.10"), D("0.02"), D("0.12"))


def test_a_full_discount_is_zero_never_negative() -> None:
    doc = price([make_request(PEN.id, "7", "100")], order_discount="100")
    assert (doc.subtotal, doc.tax_total, doc.total) == (D("0.00"),) * 3


def test_totals_match_rules_pricing_when_there_is_no_order_discount() -> None:
    doc = price([make_request(PEN.id, "12", "5"), make_request(BOOK_ITEM.id, "0.5", "12.5")])
    wire = document_totals(line.to_line() for line in doc.lines)
    assert (wire.subtotal, wire.tax_total, wire.total) == (doc.subtotal, doc.tax_total, doc.total)


def test_stored_lines_give_the_same_totals_with_the_order_discount() -> None:
    doc = price([make_request(PEN.id, "3", "10"), make_request(BOOK_ITEM.id, "1.5")], "5")
    stored = totals_of_lines([line.to_line() for line in doc.lines], D("5"))
    assert (stored.subtotal, stored.tax_total, stored.total) == (
        doc.subtotal,
        doc.tax_total,
        doc.total,
    )
    # 12.80 + 1.66 (above) and 1.5 x 19.90 x 0.95 = 28.3575 -> 28.36, tax 2.5524 -> 2.55
    assert (stored.subtotal, stored.tax_total) == (D("41.16"), D("4.21"))


def test_no_lines_is_zero_to_the_cent() -> None:
    doc = price([])
    assert (str(doc.subtotal), str(doc.tax_total), str(doc.total)) == ("0.00",) * 3


@pytest.mark.parametrize(
    ("quantity", "discount", "order_discount", "expected"),
    [
        ("0", "0", "0", "validation_error lines[1].quantity"),
        ("-2", "0", "0", "validation_error lines[1].quantity"),
        ("NaN", "0", "0", "validation_error lines[1].quantity"),
        ("Infinity", "0", "0", "validation_error lines[1].quantity"),
        ("1", "-1", "0", "validation_error lines[1].discount_pct"),
        ("1", "100.01", "0", "validation_error lines[1].discount_pct"),
        ("1", "0", "101", "validation_error order_discount_pct"),
        ("1", "0", "-0.5", "validation_error order_discount_pct"),
    ],
)
def test_bad_quantities_and_discounts_are_refused_with_the_field(
    quantity: str, discount: str, order_discount: str, expected: str
) -> None:
    lines = [make_request(PEN.id, "1"), make_request(PEN.id, quantity, discount)]
    assert refused(lines, order_discount) == expected


def test_unknown_and_inactive_products_are_refused() -> None:
    retired = make_product(active=False)
    products = {**PRODUCTS, retired.id: retired}
    assert refused([make_request(uuid.uuid4(), "1")]) == "unknown_product lines[0].product_id"
    lines = [make_request(PEN.id, "1"), make_request(retired.id, "1")]
    assert refused(lines, products=products) == "inactive_product lines[1].product_id"


def test_a_line_without_price_is_refused_no_price() -> None:
    unpriced = make_product()
    lines = [make_request(PEN.id, "1"), make_request(unpriced.id, "1")]
    assert refused(lines, products={**PRODUCTS, unpriced.id: unpriced}) == (
        "no_price lines[1].product_id"
    )
    # the segment list does not apply to an account of another segment
    assert refused([make_request(BOOK_ITEM.id, "1")], segment="government") == (
        "no_price lines[0].product_id"
    )


def test_currency_is_one_per_document() -> None:
    assert refused([make_request(PEN.id, "1")], currency="USD") == "currency_mismatch currency"
    assert refused([], currency="usd") == "validation_error currency"


def test_duplicate_ids_and_oversized_documents_are_refused() -> None:
    first = make_request(PEN.id, "1")
    assert refused([first, first]) == "validation_error lines[1].id"
    many = [make_request(PEN.id, "1") for _ in range(MAX_LINES + 1)]
    assert refused(many) == "validation_error lines"


def test_reprice_diff_reports_each_line_whose_figures_differ() -> None:
    requests = [make_request(PEN.id, "12"), make_request(BOOK_ITEM.id, "1")]
    # the device priced before the 10+ break existed and before the book's tax changed
    stale_book = PriceBook([STANDARD, SEGMENT_LIST], [PEN_ENTRY, BOOK_ENTRY])
    old_tax = ProductInfo(id=BOOK_ITEM.id, tax_rate=D("0.06"))
    device = price(requests, book=stale_book, products={PEN.id: PEN, BOOK_ITEM.id: old_tax})
    server = price(requests)
    diff = reprice_diff(device.lines, server.lines)
    assert [(d.field, d.reason) for d in diff] == [
        ("lines[0].unit_price", "price_list_changed"),
        ("lines[1].tax_rate", "tax_rate_changed"),
    ]
    pen = diff[0]
    assert (pen.device_unit_price, pen.server_unit_price, pen.entry_id) == (
        D("4.99"),
        D("4.50"),
        PEN_BREAK.id,
    )
    assert (diff[1].device_tax_rate, diff[1].server_tax_rate) == (D("0.06"), D("0.09"))


def test_reprice_diff_of_a_wire_line_says_price_changed() -> None:
    server = price([make_request(PEN.id, "1")])
    sent = server.lines[0].to_line()
    assert reprice_diff([sent], server.lines) == []
    edited = type(sent)(
        id=sent.id, product_id=sent.product_id, quantity=sent.quantity, unit_price=D("5.10")
    )
    [only] = reprice_diff([edited], server.lines)
    assert (only.reason, only.device_unit_price, only.server_unit_price) == (
        "price_changed",
        D("5.10"),
        D("4.99"),
    )


def test_reprice_diff_ignores_the_scale_of_equal_figures() -> None:
    server = price([make_request(PEN.id, "1")])
    line = server.lines[0].to_line()
    same = type(line)(
        id=line.id,
        product_id=line.product_id,
        quantity=line.quantity,
        unit_price=Decimal("4.9900"),
        tax_rate=Decimal("0.1300"),
    )
    assert reprice_diff([same], server.lines) == []


def test_reprice_diff_refuses_lines_that_do_not_correspond() -> None:
    server = price([make_request(PEN.id, "1")])
    other = price([make_request(PEN.id, "1")])
    with pytest.raises(ValueError):
        reprice_diff(other.lines, server.lines)
