"""rules.price_resolution: precedence of lists, quantity breaks, ties, validity and no_price."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import pytest

from rules.document_pricing import ProductInfo
from rules.price_resolution import (
    ListKind,
    PriceBook,
    PriceEntry,
    PriceList,
    PricingError,
    Resolution,
)
from tests.unit.pricing_builders import (
    ACCOUNT,
    NOW,
    OTHER_ACCOUNT,
    SEGMENT,
    D,
    make_entry,
    make_list,
)

PRODUCT = uuid.uuid4()
DAY = dt.timedelta(days=1)


def resolve(book: PriceBook, quantity: str = "1", **overrides: object) -> Resolution:
    values: dict[str, object] = {
        "account_id": ACCOUNT,
        "segment": SEGMENT,
        "product_id": PRODUCT,
        "quantity": D(quantity),
        "at": NOW,
        "currency": "CNY",
        "field": "lines[0]",
        **overrides,
    }
    return book.resolve(**values)  # type: ignore[arg-type]


def refused(book: PriceBook, quantity: str = "1", **overrides: object) -> PricingError:
    with pytest.raises(PricingError) as caught:
        resolve(book, quantity, **overrides)
    return caught.value


def three_lists() -> tuple[PriceBook, dict[ListKind, PriceList]]:
    lists = {
        ListKind.STANDARD: make_list(),
        ListKind.SEGMENT: make_list(segment=SEGMENT),
        ListKind.ACCOUNT: make_list(account_id=ACCOUNT),
    }
    prices = {ListKind.STANDARD: "10.00", ListKind.SEGMENT: "9.00", ListKind.ACCOUNT: "8.00"}
    entries = [make_entry(lists[kind], PRODUCT, prices[kind]) for kind in lists]
    return PriceBook(lists.values(), entries), lists


def test_the_accounts_own_list_wins_over_segment_and_standard() -> None:
    book, lists = three_lists()
    decided = resolve(book)
    assert (decided.unit_price, decided.list_kind) == (D("8.00"), ListKind.ACCOUNT)
    assert decided.price_list_id == lists[ListKind.ACCOUNT].id


def test_another_accounts_list_falls_back_to_the_segment_list() -> None:
    book, lists = three_lists()
    decided = resolve(book, account_id=OTHER_ACCOUNT)
    assert (decided.unit_price, decided.price_list_id) == (D("9.00"), lists[ListKind.SEGMENT].id)


def test_another_segment_falls_back_to_the_standard_list() -> None:
    book, lists = three_lists()
    decided = resolve(book, account_id=OTHER_ACCOUNT, segment="government")
    assert (decided.unit_price, decided.list_kind) == (D("10.00"), ListKind.STANDARD)
    # an account without a segment never gets a segment list
    assert resolve(book, account_id=OTHER_ACCOUNT, segment=None).list_kind is ListKind.STANDARD


def test_the_highest_break_not_above_the_quantity_wins() -> None:
    standard = make_list()
    entries = [
        make_entry(standard, PRODUCT, "10.00", "1"),
        make_entry(standard, PRODUCT, "9.00", "10"),
        make_entry(standard, PRODUCT, "8.00", "100"),
    ]
    book = PriceBook([standard], entries)
    assert resolve(book, "9.99").unit_price == D("10.00")
    assert resolve(book, "10").unit_price == D("9.00")  # a break starts at its minimum
    assert resolve(book, "99").unit_price == D("9.00")
    decided = resolve(book, "250")
    assert (decided.unit_price, decided.min_quantity, decided.entry_id) == (
        D("8.00"),
        D("100"),
        entries[2].id,
    )


def test_a_specific_list_that_does_not_price_the_quantity_falls_back() -> None:
    standard, mine = make_list(), make_list(account_id=ACCOUNT)
    book = PriceBook(
        [standard, mine],
        [make_entry(standard, PRODUCT, "10.00"), make_entry(mine, PRODUCT, "7.00", "50")],
    )
    assert resolve(book, "49").list_kind is ListKind.STANDARD
    assert resolve(book, "50").unit_price == D("7.00")


def test_inactive_and_out_of_window_lists_do_not_price() -> None:
    standard = make_list()
    inactive = make_list(account_id=ACCOUNT, active=False)
    expired = make_list(account_id=ACCOUNT, valid_to=NOW)  # the end is exclusive
    future = make_list(segment=SEGMENT, valid_from=NOW + dt.timedelta(seconds=1))
    current = make_list(segment=SEGMENT, valid_from=NOW, valid_to=NOW + DAY)  # start inclusive
    book = PriceBook(
        [standard, inactive, expired, future, current],
        [
            make_entry(standard, PRODUCT, "10.00"),
            make_entry(inactive, PRODUCT, "1.00"),
            make_entry(expired, PRODUCT, "2.00"),
            make_entry(future, PRODUCT, "3.00"),
            make_entry(current, PRODUCT, "9.50"),
        ],
    )
    assert resolve(book).price_list_id == current.id
    assert resolve(book, at=NOW + DAY).price_list_id == future.id
    assert resolve(book, at=NOW + 2 * DAY, segment=None).price_list_id == standard.id


def test_ties_between_lists_of_one_kind_go_to_the_latest_start_then_the_lower_price() -> None:
    old = make_list(valid_from=NOW - 30 * DAY)
    new = make_list(valid_from=NOW - DAY)
    open_start = make_list()  # no start: the oldest of all
    book = PriceBook(
        [old, new, open_start],
        [
            make_entry(old, PRODUCT, "9.00"),
            make_entry(new, PRODUCT, "11.00"),
            make_entry(open_start, PRODUCT, "5.00"),
        ],
    )
    assert resolve(book).price_list_id == new.id  # newer beats cheaper
    twin_a, twin_b = make_list(valid_from=NOW - DAY), make_list(valid_from=NOW - DAY)
    book = PriceBook(
        [twin_a, twin_b],
        [make_entry(twin_a, PRODUCT, "12.00"), make_entry(twin_b, PRODUCT, "11.99")],
    )
    assert resolve(book).price_list_id == twin_b.id


def test_a_full_tie_is_decided_by_the_smaller_list_id_whatever_the_input_order() -> None:
    first = make_list(id=uuid.UUID(int=1))
    second = make_list(id=uuid.UUID(int=2))
    entries = [make_entry(first, PRODUCT, "10.00"), make_entry(second, PRODUCT, "10.00")]
    for lists in ([first, second], [second, first]):
        for ordered in (entries, entries[::-1]):
            assert resolve(PriceBook(lists, ordered)).price_list_id == first.id


def test_the_list_decides_before_the_break() -> None:
    # a newer standard list with one price replaces the older list's breaks as a whole
    old, new = make_list(), make_list(valid_from=NOW - DAY)
    book = PriceBook(
        [old, new],
        [make_entry(old, PRODUCT, "8.00", "100"), make_entry(new, PRODUCT, "9.00")],
    )
    assert resolve(book, "150").price_list_id == new.id


def test_no_price_names_the_product_field() -> None:
    book = PriceBook([make_list()], [])
    error = refused(book, field="lines[3]")
    assert (error.code, error.field) == ("no_price", "lines[3].product_id")


def test_no_price_below_every_break_names_the_quantity_field() -> None:
    standard = make_list()
    book = PriceBook([standard], [make_entry(standard, PRODUCT, "8.00", "10")])
    error = refused(book, "9", field="lines[1]")
    assert (error.code, error.field) == ("no_price", "lines[1].quantity")


def test_only_lists_of_the_documents_currency_price_it() -> None:
    cny, usd = make_list(), make_list(currency="USD", account_id=ACCOUNT)
    book = PriceBook([cny, usd], [make_entry(cny, PRODUCT, "70.00"), make_entry(usd, PRODUCT, "9")])
    assert resolve(book).price_list_id == cny.id
    assert resolve(book, currency="USD").price_list_id == usd.id
    only_usd = PriceBook([usd], [make_entry(usd, PRODUCT, "9")])
    error = refused(only_usd)
    assert (error.code, error.field) == ("currency_mismatch", "currency")
    assert "USD" in str(error) and "CNY" in str(error)


def test_an_entry_of_a_list_not_held_never_prices() -> None:
    absent = make_list()
    book = PriceBook([], [make_entry(absent, PRODUCT, "1.00")])
    assert refused(book).code == "no_price"


@pytest.mark.parametrize(
    "overrides",
    [
        {"account_id": ACCOUNT, "segment": SEGMENT},
        {"valid_from": NOW, "valid_to": NOW},
        {"valid_from": dt.datetime(2026, 1, 1)},
        {"currency": "cny"},
        {"currency": "EURO"},
    ],
)
def test_malformed_price_lists_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_list(**overrides)


@pytest.mark.parametrize(("price", "minimum"), [("-0.01", "1"), ("NaN", "1"), ("1", "0")])
def test_malformed_entries_are_refused(price: str, minimum: str) -> None:
    with pytest.raises(ValueError):
        make_entry(make_list(), PRODUCT, price, minimum)


def test_a_naive_moment_is_refused() -> None:
    book, _ = three_lists()
    with pytest.raises(ValueError):
        resolve(book, at=dt.datetime(2026, 6, 15))


def test_synced_records_read_as_engine_values() -> None:
    # the records as a device holds them after a pull: four-place decimal strings, extra fields
    price_list = {
        "id": str(uuid.uuid4()),
        "version": 3,
        "name": "Education 2026",
        "currency": "CNY",
        "segment": SEGMENT,
        "account_id": None,
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_to": None,
        "active": True,
    }
    entry = {
        "id": str(uuid.uuid4()),
        "version": 1,
        "price_list_id": price_list["id"],
        "product_id": str(PRODUCT),
        "min_quantity": "10.0000",
        "unit_price": "9.5000",
    }
    product = {"id": str(PRODUCT), "sku": "PEN", "tax_rate": "0.1300", "active": True}
    book = PriceBook([msgspec.convert(price_list, PriceList)], [msgspec.convert(entry, PriceEntry)])
    decided = resolve(book, "12")
    assert (decided.unit_price, decided.list_kind) == (D("9.50"), ListKind.SEGMENT)
    assert msgspec.convert(product, ProductInfo).tax_rate == D("0.13")
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({**entry, "unit_price": "-1"}, PriceEntry)
