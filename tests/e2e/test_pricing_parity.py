"""Parity of offline and server pricing (issue 15): the SDK prices from its synced price lists
with the server's own ``rules/`` engine, so after sync its totals are the server's to the cent;
a device with stale lists gets exactly the documented per-line diff in the push result."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client_sdk import InvalidValue
from tests.e2e.conftest import Relay, World
from tests.e2e.test_sdk_server import scope

D = Decimal
UTC = dt.UTC
HALF = D("0.5")


class Recording(Relay):
    """Delivers every request and keeps the push results the server answered."""

    def __init__(self, app_client: Any) -> None:
        super().__init__(app_client)
        self.results: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.deliver(request)
        if request.url.path == "/sync/push" and response.status_code == 200:
            response.read()
            self.results.extend(response.json()["results"])
        return response


def catalog(world: World, account_id: str) -> dict[str, Any]:
    """A standard list with a quantity break, a segment list and a deal for one account."""
    account = world.load("account", account_id)
    assert account is not None
    pen = world.create("product", sku="PEN", name="Pen", tax_rate=D("0.13"))
    book = world.create("product", sku="BOOK", name="Notebook", tax_rate=D("0.09"))
    standard = world.create("price_list", name="Standard", currency="CNY")
    segment = world.create("price_list", name="Segment", currency="CNY", segment=account["segment"])
    deal = world.create(
        "price_list",
        name="Deal",
        currency="CNY",
        account_id=uuid.UUID(account_id),
        valid_from=dt.datetime(2020, 1, 1, tzinfo=UTC),
    )

    def entry(price_list: dict, product: dict, price: str, minimum: str = "1") -> dict:
        return world.create(
            "price_list_entry",
            price_list_id=uuid.UUID(price_list["id"]),
            product_id=uuid.UUID(product["id"]),
            unit_price=D(price),
            min_quantity=D(minimum),
        )

    entries = {
        "pen_standard": entry(standard, pen, "10.00"),
        "pen_standard_10": entry(standard, pen, "9.00", "10"),
        "pen_segment": entry(segment, pen, "9.50"),
        "pen_deal_50": entry(deal, pen, "8.00", "50"),
        "book_standard": entry(standard, book, "3.35", "0.5"),
    }
    return {"pen": pen["id"], "book": book["id"], "deal": deal, "entries": entries}


def line(product_id: str, quantity: str, discount: str = "0") -> dict[str, Any]:
    from protocol.ids import uuid7

    return {
        "id": str(uuid7()),
        "product_id": product_id,
        "quantity": quantity,
        "discount_pct": discount,
    }


TOTALS = ("subtotal", "tax_total", "total")


def test_offline_totals_equal_the_servers_after_sync(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    products = catalog(world, ids[0])
    relay = Recording(world.app_client)
    device = world.device(rep, "phone", transport=relay)
    world.settle(device)
    lines = [
        line(products["pen"], "12", "5"),  # segment list: 9.50
        line(products["pen"], "60", "3"),  # the deal's 50+ break: 8.00
        line(products["book"], "2.5", "7.5"),
    ]
    order = device.create(
        "order", {"account_id": ids[0], "lines": lines, "order_discount_pct": "2"}
    )
    quote = device.create("quote", {"account_id": ids[0], "lines": lines[:2]})
    offline = {name: device.get(name, rid) for name, rid in (("order", order), ("quote", quote))}
    assert offline["order"] is not None
    assert [D(x["unit_price"]) for x in offline["order"]["lines"]] == [D("9.5"), D("8"), D("3.35")]
    world.settle(device)
    assert relay.results and all("repriced" not in r for r in relay.results)
    for name, rid in (("order", order), ("quote", quote)):
        server = world.load(name, rid)
        assert server is not None and offline[name] is not None
        assert {k: server[k] for k in TOTALS} == {k: offline[name][k] for k in TOTALS}
        assert [D(x["unit_price"]) for x in server["lines"]] == [
            D(x["unit_price"]) for x in offline[name]["lines"]
        ]
        assert device.get(name, rid) == server


def test_a_stale_device_gets_exactly_the_documented_per_line_diff(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    products = catalog(world, ids[0])
    relay = Recording(world.app_client)
    device = world.device(rep, "phone", transport=relay)
    world.settle(device)
    # the office changes the lists while the phone is offline
    entries = products["entries"]
    world.update("price_list_entry", entries["pen_segment"]["id"], unit_price=D("9.20"))
    world.update("product", products["book"], tax_rate=D("0.06"))
    order = device.create(
        "order",
        {"account_id": ids[0], "lines": [line(products["pen"], "12"), line(products["book"], "1")]},
    )
    stale = device.get("order", order)
    # offline: 12 x 9.50 = 114.00 (+14.82 tax), 1 x 3.35 = 3.35 (+0.30 at the old 9 %)
    assert stale is not None and stale["total"] == "132.47"
    report = device.sync()
    world.settle(device)
    (result,) = [r for r in relay.results if r["status"] == "applied"]
    # the app is told too: the sync report carries each repriced line with its record
    assert report.repriced == [
        {"entity": "order", "record_id": order, **line} for line in result["repriced"]
    ]
    assert result["repriced"] == [
        {
            "line_id": stale["lines"][0]["id"],
            "field": "lines[0].unit_price",
            "device_unit_price": "9.5000",
            "server_unit_price": "9.2000",
            "device_tax_rate": "0.1300",
            "server_tax_rate": "0.1300",
            "entry_id": entries["pen_segment"]["id"],
            "price_list_id": entries["pen_segment"]["price_list_id"],
            "list_kind": "segment",
            "reason": "price_changed",
        },
        {
            "line_id": stale["lines"][1]["id"],
            "field": "lines[1].tax_rate",
            "device_unit_price": "3.3500",
            "server_unit_price": "3.3500",
            "device_tax_rate": "0.0900",
            "server_tax_rate": "0.0600",
            "entry_id": entries["book_standard"]["id"],
            "price_list_id": entries["book_standard"]["price_list_id"],
            "list_kind": "standard",
            "reason": "tax_rate_changed",
        },
    ]
    held = device.get("order", order)
    assert held == world.load("order", order)  # the pulled record carries the server's figures
    assert held is not None and D(held["lines"][0]["unit_price"]) == D("9.2")


def test_an_unpriceable_line_is_refused_offline_with_the_servers_code(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    products = catalog(world, ids[0])
    usd = world.create("product", sku="USD-ONLY", name="Import", tax_rate=D("0"))
    dollars = world.create("price_list", name="Dollars", currency="USD")
    world.create(
        "price_list_entry",
        price_list_id=uuid.UUID(dollars["id"]),
        product_id=uuid.UUID(usd["id"]),
        unit_price=D("5"),
        min_quantity=D("1"),
    )
    device = world.device(rep, "phone")
    world.settle(device)
    for lines, code, field in (
        ([line(str(uuid.uuid4()), "1")], "unknown_product", "lines[0].product_id"),
        ([line(products["pen"], "0.5")], "no_price", "lines[0].quantity"),
        ([line(usd["id"], "1")], "currency_mismatch", "currency"),
        ([line(products["pen"], "1", "101")], "validation_error", "lines[0].discount_pct"),
    ):
        with pytest.raises(InvalidValue) as caught:
            device.create("order", {"account_id": ids[0], "lines": lines})
        assert (caught.value.code, caught.value.field) == (code, field)
    assert device.pending_mutations() == []


PRICES = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2)
QUANTITIES = st.decimals(min_value=D("0.5"), max_value=D("200"), places=1)
DISCOUNTS = st.decimals(min_value=D("0"), max_value=D("10"), places=2)  # within a rep's limit


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    standard=st.lists(PRICES, min_size=3, max_size=3),
    segment=st.lists(st.one_of(st.none(), PRICES), min_size=3, max_size=3),
    deal=st.lists(st.one_of(st.none(), st.tuples(PRICES, QUANTITIES)), min_size=3, max_size=3),
    taxes=st.lists(
        st.sampled_from([D("0"), D("0.06"), D("0.09"), D("0.13")]), min_size=3, max_size=3
    ),
    lines=st.lists(st.tuples(st.integers(0, 2), QUANTITIES, DISCOUNTS), min_size=1, max_size=6),
    order_discount=st.decimals(min_value=D("0"), max_value=D("5"), places=1),
)
def test_property_offline_and_server_totals_agree_to_the_cent(
    world: World,
    standard: list[Decimal],
    segment: list[Decimal | None],
    deal: list[tuple[Decimal, Decimal] | None],
    taxes: list[Decimal],
    lines: list[tuple[int, Decimal, Decimal]],
    order_discount: Decimal,
) -> None:
    # one world per test function (fixtures are not reset per example): each example uses new
    # accounts and products, so examples do not see each other's lists
    _manager, rep, ids = scope(world, accounts=1)
    account = world.load("account", ids[0])
    assert account is not None
    tag = uuid.uuid4().hex[:8]
    products = [
        world.create("product", sku=f"P{tag}{n}", name=f"P{n}", tax_rate=taxes[n]) for n in range(3)
    ]
    lists = {
        "standard": world.create("price_list", name="S", currency="CNY"),
        "segment": world.create("price_list", name="G", currency="CNY", segment=account["segment"]),
        "deal": world.create("price_list", name="D", currency="CNY", account_id=uuid.UUID(ids[0])),
    }

    def entry(kind: str, n: int, price: Decimal, minimum: Decimal = HALF) -> None:
        world.create(
            "price_list_entry",
            price_list_id=uuid.UUID(lists[kind]["id"]),
            product_id=uuid.UUID(products[n]["id"]),
            unit_price=price,
            min_quantity=minimum,
        )

    for n in range(3):
        entry("standard", n, standard[n])
        if segment[n] is not None:
            entry("segment", n, segment[n])  # type: ignore[arg-type]
        if deal[n] is not None:
            entry("deal", n, *deal[n])  # type: ignore[misc]
    device = world.device(rep, transport=(relay := Recording(world.app_client)))
    world.settle(device)
    wire = [line(products[n]["id"], str(q), str(d)) for n, q, d in lines]
    order = device.create(
        "order", {"account_id": ids[0], "lines": wire, "order_discount_pct": str(order_discount)}
    )
    offline = device.get("order", order)
    world.settle(device)
    server = world.load("order", order)
    assert offline is not None and server is not None
    assert {k: offline[k] for k in TOTALS} == {k: server[k] for k in TOTALS}
    assert all("repriced" not in r for r in relay.results)
