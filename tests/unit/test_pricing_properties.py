"""Property tests of the pricing engine: random price books, lines and discounts (hypothesis).

Each property states a rule of docs/pricing.md over every generated case: the most specific
valid list decides, the highest break not above the quantity wins, totals are sums of rounded
lines, the order discount never makes a total negative, nothing depends on input order, and a
device pricing from the same lists (after a trip over the wire) is never repriced.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.discount_authority import (
    DiscountPolicy,
    approval_fingerprint,
    check_discount_authority,
)
from rules.document_pricing import (
    LineRequest,
    PricedDocument,
    ProductInfo,
    effective_discount_pct,
    price_document,
    reprice_diff,
    totals_of_lines,
)
from rules.price_resolution import (
    PRECEDENCE,
    PriceBook,
    PriceEntry,
    PriceList,
    PricingError,
)
from rules.pricing import document_totals

# Bounded and without a database: the whole file runs in a few seconds.
FAST = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

NOW = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ACCOUNTS = [uuid.UUID(int=0xA0 + i) for i in range(2)]
SEGMENTS = ["education", "government"]
PRODUCTS = [uuid.UUID(int=0xB0 + i) for i in range(3)]
BREAKS = [Decimal(b) for b in ("0.5", "1", "5", "10", "100")]

money = st.decimals(min_value=0, max_value=10_000, places=2)
percent = st.decimals(min_value=0, max_value=100, places=2)
quantity = st.decimals(min_value=Decimal("0.5"), max_value=500, places=3)
tax_rate = st.sampled_from([Decimal(r) for r in ("0", "0.06", "0.09", "0.13", "0.2")])
offset = st.none() | st.integers(min_value=-3, max_value=3)
moment = st.integers(min_value=-3, max_value=3).map(lambda days: NOW + days * DAY)


@st.composite
def price_lists(draw: st.DrawFn) -> PriceList:
    kind = draw(st.sampled_from(["account", "segment", "standard"]))
    start, end = draw(offset), draw(offset)
    if start is not None and end is not None and start >= end:
        start, end = end - 1 if start == end else end, start
    return PriceList(
        id=draw(st.uuids()),
        currency=draw(st.sampled_from(["CNY", "CNY", "CNY", "USD"])),
        account_id=draw(st.sampled_from(ACCOUNTS)) if kind == "account" else None,
        segment=draw(st.sampled_from(SEGMENTS)) if kind == "segment" else None,
        valid_from=None if start is None else NOW + start * DAY,
        valid_to=None if end is None else NOW + end * DAY,
        active=draw(st.booleans() | st.just(True)),
    )


@st.composite
def entries_of(draw: st.DrawFn, price_list: PriceList) -> list[PriceEntry]:
    entries = []
    for product in draw(st.lists(st.sampled_from(PRODUCTS), unique=True, min_size=1, max_size=3)):
        for minimum in draw(st.lists(st.sampled_from(BREAKS), unique=True, min_size=1, max_size=3)):
            entries.append(
                PriceEntry(
                    id=draw(st.uuids()),
                    price_list_id=price_list.id,
                    product_id=product,
                    unit_price=draw(money),
                    min_quantity=minimum,
                )
            )
    return entries


@dataclass
class Book:
    lists: list[PriceList]
    entries: list[PriceEntry]

    def build(self) -> PriceBook:
        return PriceBook(self.lists, self.entries)


@st.composite
def books(draw: st.DrawFn) -> Book:
    lists = draw(st.lists(price_lists(), max_size=8, unique_by=lambda pl: pl.id))
    entries = [entry for pl in lists for entry in draw(entries_of(pl))]
    if draw(st.sampled_from([True, True, True, False])):
        # mostly, a standard list prices every product from the smallest quantity sold, so that
        # most documents price and the properties say something about their figures
        base = PriceList(id=draw(st.uuids()), currency="CNY")
        lists.append(base)
        entries.extend(
            PriceEntry(
                id=draw(st.uuids()),
                price_list_id=base.id,
                product_id=product,
                unit_price=draw(money),
                min_quantity=BREAKS[0],
            )
            for product in PRODUCTS
        )
    return Book(lists, entries)


@st.composite
def customers(draw: st.DrawFn) -> tuple[uuid.UUID, str | None]:
    return draw(st.sampled_from(ACCOUNTS)), draw(st.none() | st.sampled_from(SEGMENTS))


products_info = st.builds(
    lambda rates: {p: ProductInfo(id=p, tax_rate=r) for p, r in zip(PRODUCTS, rates, strict=True)},
    st.lists(tax_rate, min_size=len(PRODUCTS), max_size=len(PRODUCTS)),
)
line_requests = st.lists(
    st.builds(
        LineRequest,
        id=st.uuids(),
        product_id=st.sampled_from(PRODUCTS),
        quantity=quantity,
        discount_pct=percent,
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda line: line.id,
)


def candidates(
    book: Book,
    account: uuid.UUID,
    segment: str | None,
    product: uuid.UUID,
    qty: Decimal,
    at: dt.datetime,
    currency: str,
) -> list[tuple[PriceList, PriceEntry]]:
    """Every (list, entry) that may price the line, by the definitions, not the engine's code."""
    by_id = {pl.id: pl for pl in book.lists}
    found = []
    for entry in book.entries:
        pl = by_id[entry.price_list_id]
        applies = (
            (pl.account_id is not None and pl.account_id == account)
            or (pl.segment is not None and pl.segment == segment)
            or (pl.account_id is None and pl.segment is None)
        )
        valid = (
            pl.active
            and (pl.valid_from is None or pl.valid_from <= at)
            and (pl.valid_to is None or at < pl.valid_to)
        )
        if (
            applies
            and valid
            and entry.product_id == product
            and entry.min_quantity <= qty
            and pl.currency == currency
        ):
            found.append((pl, entry))
    return found


def priced(
    book: PriceBook,
    lines: list[LineRequest],
    products: dict[uuid.UUID, ProductInfo],
    customer: tuple[uuid.UUID, str | None],
    at: dt.datetime,
    order_discount: Decimal,
) -> PricedDocument | PricingError:
    try:
        return price_document(
            lines,
            book=book,
            products=products,
            account_id=customer[0],
            segment=customer[1],
            currency="CNY",
            at=at,
            order_discount_pct=order_discount,
        )
    except PricingError as error:
        return error


@settings(FAST, max_examples=200)  # one resolution per example: cheap, so more of them
@given(books(), customers(), st.sampled_from(PRODUCTS), quantity, moment)
def test_resolution_picks_the_most_specific_valid_list_and_highest_break(
    book: Book,
    customer: tuple[uuid.UUID, str | None],
    product: uuid.UUID,
    qty: Decimal,
    at: dt.datetime,
) -> None:
    account, segment = customer
    found = candidates(book, account, segment, product, qty, at, "CNY")
    try:
        decided = book.build().resolve(
            account_id=account,
            segment=segment,
            product_id=product,
            quantity=qty,
            at=at,
            currency="CNY",
        )
    except PricingError as error:
        assert not found
        assert error.code in {"no_price", "currency_mismatch"}
        elsewhere = candidates(book, account, segment, product, qty, at, "USD")
        assert (error.code == "currency_mismatch") == bool(elsewhere)
        return
    chosen = next(pair for pair in found if pair[1].id == decided.entry_id)
    chosen_list, chosen_entry = chosen
    assert decided.unit_price == chosen_entry.unit_price
    # no more specific kind could have priced it
    assert all(PRECEDENCE[pl.kind] >= PRECEDENCE[chosen_list.kind] for pl, _ in found)
    # no list of the same kind started later
    for pl, _ in found:
        if pl.kind is chosen_list.kind and pl.valid_from is not None:
            assert chosen_list.valid_from is not None and chosen_list.valid_from >= pl.valid_from
    # the highest break not above the quantity in the deciding list
    assert chosen_entry.min_quantity == max(e.min_quantity for pl, e in found if pl is chosen_list)


@FAST
@given(books(), customers(), products_info, line_requests, moment, percent, st.randoms())
def test_pricing_does_not_depend_on_input_order(
    book: Book,
    customer: tuple[uuid.UUID, str | None],
    products: dict[uuid.UUID, ProductInfo],
    lines: list[LineRequest],
    at: dt.datetime,
    order_discount: Decimal,
    rnd: random.Random,
) -> None:
    first = priced(book.build(), lines, products, customer, at, order_discount)
    shuffled = Book(
        rnd.sample(book.lists, len(book.lists)), rnd.sample(book.entries, len(book.entries))
    )
    again = priced(shuffled.build(), lines, products, customer, at, order_discount)
    if isinstance(first, PricingError):
        assert isinstance(again, PricingError)
        assert (again.code, again.field) == (first.code, first.field)
        return
    assert again == first
    reversed_doc = priced(book.build(), lines[::-1], products, customer, at, order_discount)
    assert isinstance(reversed_doc, PricedDocument)
    assert reversed_doc.lines == first.lines[::-1]
    assert (reversed_doc.subtotal, reversed_doc.tax_total) == (first.subtotal, first.tax_total)
    assert approval_fingerprint(reversed_doc) == approval_fingerprint(first)


@FAST
@given(books(), customers(), products_info, line_requests, moment, percent)
def test_totals_are_sums_of_lines_rounded_to_the_cent(
    book: Book,
    customer: tuple[uuid.UUID, str | None],
    products: dict[uuid.UUID, ProductInfo],
    lines: list[LineRequest],
    at: dt.datetime,
    order_discount: Decimal,
) -> None:
    doc = priced(book.build(), lines, products, customer, at, order_discount)
    if isinstance(doc, PricingError):
        return
    cent = Decimal("0.01")
    for line in doc.lines:
        for figure in (line.gross, line.net, line.tax, line.total):
            assert figure == figure.quantize(cent) and figure.as_tuple().exponent == -2
        exact = line.quantity * line.unit_price * (100 - line.discount_pct) * (100 - order_discount)
        # one rounding, half-up, of the exact figure; the tax on the rounded net, rounded again
        assert line.net == (exact / 10_000).quantize(cent, rounding=ROUND_HALF_UP)
        assert line.tax == (line.net * line.tax_rate).quantize(cent, rounding=ROUND_HALF_UP)
        assert Decimal(0) <= line.net <= line.gross
    assert doc.subtotal == sum((line.net for line in doc.lines), Decimal(0))
    assert doc.tax_total == sum((line.tax for line in doc.lines), Decimal(0))
    assert doc.total == doc.subtotal + doc.tax_total
    assert doc.discount_total == doc.gross_total - doc.subtotal >= 0
    # a stored record's totals, recomputed from its priced wire lines, are the same figures
    stored = totals_of_lines((line.to_line() for line in doc.lines), order_discount)
    assert (stored.subtotal, stored.tax_total, stored.total) == (
        doc.subtotal,
        doc.tax_total,
        doc.total,
    )


@FAST
@given(books(), customers(), products_info, line_requests, moment, percent, percent)
def test_the_order_discount_never_makes_a_total_negative_nor_larger(
    book: Book,
    customer: tuple[uuid.UUID, str | None],
    products: dict[uuid.UUID, ProductInfo],
    lines: list[LineRequest],
    at: dt.datetime,
    low: Decimal,
    high: Decimal,
) -> None:
    low, high = min(low, high), max(low, high)
    cheaper = priced(book.build(), lines, products, customer, at, high)
    dearer = priced(book.build(), lines, products, customer, at, low)
    if isinstance(cheaper, PricingError):
        assert isinstance(dearer, PricingError)
        return
    assert isinstance(dearer, PricedDocument)
    assert cheaper.total >= 0 and all(line.total >= 0 for line in cheaper.lines)
    assert cheaper.total <= dearer.total
    for a, b in zip(cheaper.lines, dearer.lines, strict=True):
        assert a.net <= b.net and a.tax <= b.tax


@FAST
@given(books(), customers(), products_info, line_requests, moment)
def test_without_an_order_discount_totals_equal_rules_pricing(
    book: Book,
    customer: tuple[uuid.UUID, str | None],
    products: dict[uuid.UUID, ProductInfo],
    lines: list[LineRequest],
    at: dt.datetime,
) -> None:
    doc = priced(book.build(), lines, products, customer, at, Decimal(0))
    if isinstance(doc, PricingError):
        return
    wire = document_totals(line.to_line() for line in doc.lines)
    assert (wire.subtotal, wire.tax_total, wire.total) == (doc.subtotal, doc.tax_total, doc.total)


@FAST
@given(books(), customers(), products_info, line_requests, moment, percent)
def test_a_device_pricing_from_the_same_synced_lists_is_never_repriced(
    book: Book,
    customer: tuple[uuid.UUID, str | None],
    products: dict[uuid.UUID, ProductInfo],
    lines: list[LineRequest],
    at: dt.datetime,
    order_discount: Decimal,
) -> None:
    server = priced(book.build(), lines, products, customer, at, order_discount)
    # the device's copy travelled as JSON (decimals as strings), as the sync protocol sends it
    wire = msgspec.json.encode([book.lists, book.entries, list(products.values())])
    lists, entries, infos = msgspec.json.decode(
        wire, type=tuple[list[PriceList], list[PriceEntry], list[ProductInfo]]
    )
    device = priced(
        PriceBook(lists, entries), lines, {p.id: p for p in infos}, customer, at, order_discount
    )
    if isinstance(server, PricingError):
        assert isinstance(device, PricingError) and device.field == server.field
        return
    assert isinstance(device, PricedDocument)
    assert reprice_diff(device.lines, server.lines) == []
    assert reprice_diff([line.to_line() for line in device.lines], server.lines) == []
    assert (device.subtotal, device.tax_total, device.total) == (
        server.subtotal,
        server.tax_total,
        server.total,
    )


@FAST
@given(books(), books(), customers(), products_info, products_info, line_requests, moment)
def test_reprice_diff_lists_exactly_the_lines_whose_price_or_tax_changed(
    stale: Book,
    current: Book,
    customer: tuple[uuid.UUID, str | None],
    stale_products: dict[uuid.UUID, ProductInfo],
    products: dict[uuid.UUID, ProductInfo],
    lines: list[LineRequest],
    at: dt.datetime,
) -> None:
    # the device priced from stale lists and stale tax rates, the server from current ones
    device = priced(stale.build(), lines, stale_products, customer, at, Decimal(0))
    server = priced(current.build(), lines, products, customer, at, Decimal(0))
    if isinstance(device, PricingError) or isinstance(server, PricingError):
        return
    diff = reprice_diff(device.lines, server.lines)
    by_line = {d.line_id: d for d in diff}
    assert len(by_line) == len(diff)
    for index, (mine, theirs) in enumerate(zip(device.lines, server.lines, strict=True)):
        if mine.unit_price == theirs.unit_price and mine.tax_rate == theirs.tax_rate:
            assert mine.id not in by_line
            continue
        entry = by_line[mine.id]
        assert (entry.device_unit_price, entry.server_unit_price) == (
            mine.unit_price,
            theirs.unit_price,
        )
        assert (entry.device_tax_rate, entry.server_tax_rate) == (mine.tax_rate, theirs.tax_rate)
        assert (entry.entry_id, entry.price_list_id) == (theirs.entry_id, theirs.price_list_id)
        if mine.unit_price != theirs.unit_price:
            stale_entry = mine.entry_id != theirs.entry_id
            expected = "price_list_changed" if stale_entry else "price_changed"
            assert (entry.reason, entry.field) == (expected, f"lines[{index}].unit_price")
        else:
            assert (entry.reason, entry.field) == ("tax_rate_changed", f"lines[{index}].tax_rate")


@FAST
@given(books(), customers(), products_info, line_requests, moment, percent, percent)
def test_approval_is_needed_exactly_above_the_limit(
    book: Book,
    customer: tuple[uuid.UUID, str | None],
    products: dict[uuid.UUID, ProductInfo],
    lines: list[LineRequest],
    at: dt.datetime,
    order_discount: Decimal,
    limit: Decimal,
) -> None:
    doc = priced(book.build(), lines, products, customer, at, order_discount)
    if isinstance(doc, PricingError):
        return
    user = uuid.uuid4()
    policy = DiscountPolicy(role_max={"rep": Decimal(100)}, user_max={user: limit})
    check = check_discount_authority(doc, user_id=user, role="rep", policy=policy)
    effective = [effective_discount_pct(line.discount_pct, order_discount) for line in doc.lines]
    above = order_discount > limit or any(pct > limit for pct in effective)
    assert check.needs_approval == above
    assert (check.reason == "discount_above_authority") == above
    approved = check_discount_authority(
        doc, user_id=user, role="rep", policy=policy, approved_fingerprint=approval_fingerprint(doc)
    )
    assert not approved.needs_approval and approved.approved == above
