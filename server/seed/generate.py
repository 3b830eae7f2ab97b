"""Build the whole demo data set in memory, deterministically from a seed (no database)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from server.auth.models import Role
from server.seed import customers
from server.seed.catalog import CATEGORIES
from server.seed.ids import IdMaker
from server.seed.places import MANAGER_REGIONS, REGIONS, TERRITORIES
from server.sfa.accounts.models import Segment, ValueTier
from server.sfa.territories.models import TerritoryLevel

Row = dict[str, Any]
Staffing = tuple[uuid.UUID, list[uuid.UUID]]  # a territory's id and its reps' ids
ADMIN_EMAIL = "admin@outpost.example"
DEMO_PASSWORD = "outpost-demo"
DEMO_TIMEZONE = "Asia/Shanghai"
PRICES_FROM = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CENT = Decimal("0.01")
# Contract discounts of the per-segment price lists (consumers pay the default list).
SEGMENT_DISCOUNTS = {
    Segment.LARGE_ENTERPRISE: Decimal("0.12"), Segment.MID_SIZE: Decimal("0.08"),
    Segment.EDUCATION: Decimal("0.10"), Segment.GOVERNMENT: Decimal("0.07"),
    Segment.SMALL_BUSINESS: Decimal("0.03"),
}
BULK_UNITS = frozenset({"case", "carton", "box"})
ACCOUNT_PRICE_LISTS = 3


@dataclass
class DemoData:
    """Every demo row, by table, in insertion order (parents before children)."""

    users: list[Row] = field(default_factory=list)
    territories: list[Row] = field(default_factory=list)
    members: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    categories: list[Row] = field(default_factory=list)
    products: list[Row] = field(default_factory=list)
    price_lists: list[Row] = field(default_factory=list)
    price_list_entries: list[Row] = field(default_factory=list)
    warehouses: list[Row] = field(default_factory=list)
    stock_balances: list[Row] = field(default_factory=list)
    stock_movements: list[Row] = field(default_factory=list)  # the balances' initial stock


def discounted(price: Decimal, discount: Decimal) -> Decimal:
    """``price`` less ``discount`` (a fraction), to the cent."""
    return (price * (1 - discount)).quantize(CENT, rounding=ROUND_HALF_UP)


def build_demo(seed: int = 42, accounts: int = 2000) -> DemoData:
    """The demo data set; the same ``seed`` and ``accounts`` always give the same rows."""
    rng = random.Random(seed)
    new_id = IdMaker(rng)
    data = DemoData()
    staffing = _organisation(rng, new_id, data)
    _customers(rng, new_id, data, accounts, staffing)
    _catalog(rng, new_id, data)
    _stock(rng, new_id, data)
    return data


def _organisation(rng: random.Random, new_id: IdMaker, data: DemoData) -> list[Staffing]:
    """Territory tree, users and memberships; returns (territory id, rep ids) per territory."""
    nodes: dict[str, Any] = {}  # node names are unique across levels

    def node(name: str, level: TerritoryLevel, parent: str | None) -> None:
        if name not in nodes:
            nodes[name] = new_id()
            data.territories.append({"id": nodes[name], "name": name, "level": level,
                                     "parent_id": nodes[parent] if parent else None})

    for region in REGIONS:
        node(region, TerritoryLevel.REGION, None)
    for plan in TERRITORIES:
        node(plan.area, TerritoryLevel.AREA, plan.region)
    for plan in TERRITORIES:
        node(plan.name, TerritoryLevel.TERRITORY, plan.area)

    def user(email: str, name: str, role: Role, manager: Any = None,
             tz: str = DEMO_TIMEZONE) -> Any:
        uid = new_id()
        data.users.append({"id": uid, "email": email, "name": name, "role": role,
                           "manager_id": manager, "timezone": tz, "active": True})
        return uid

    user(ADMIN_EMAIL, "Outpost Admin", Role.ADMIN, tz="UTC")
    manager_of_region: dict[str, Any] = {}
    for number, regions in enumerate(MANAGER_REGIONS, start=1):
        surname, given = customers.person_name(rng)
        manager = user(f"manager{number}@outpost.example", f"{surname} {given}", Role.MANAGER)
        for region in regions:
            manager_of_region[region] = manager
            data.members.append({"territory_id": nodes[region], "user_id": manager})
    staffing: list[Staffing] = []
    number = 0
    for plan in TERRITORIES:
        reps = []
        for _ in range(plan.reps):
            number += 1
            surname, given = customers.person_name(rng)
            reps.append(user(f"rep{number:02d}@outpost.example", f"{surname} {given}", Role.REP,
                             manager_of_region[plan.region]))
            data.members.append({"territory_id": nodes[plan.name], "user_id": reps[-1]})
        staffing.append((nodes[plan.name], reps))
    return staffing


def _customers(rng: random.Random, new_id: IdMaker, data: DemoData, count: int,
               staffing: list[Staffing]) -> None:
    weights = [plan.weight for plan in TERRITORIES]
    for _ in range(count):
        index = rng.choices(range(len(TERRITORIES)), weights=weights)[0]
        territory_id, reps = staffing[index]
        account, domain = customers.make_account(
            rng, new_id, TERRITORIES[index], territory_id, reps
        )
        data.accounts.append(account)
        data.contacts.extend(customers.make_contacts(rng, new_id, account, domain))


def _catalog(rng: random.Random, new_id: IdMaker, data: DemoData) -> None:
    for category in CATEGORIES:
        category_id = new_id()
        data.categories.append({"id": category_id, "name": category.name, "parent_id": None})
        low, high = category.price_range
        for number, (kind, variant) in enumerate(
            ((k, v) for k in category.kinds for v in category.variants), start=1
        ):
            data.products.append({
                "id": new_id(), "sku": f"{category.prefix}-{number:03d}",
                "name": f"{kind} {variant}", "category_id": category_id, "unit": category.unit,
                "tax_rate": category.tax_rate,
                "list_price": (Decimal(rng.randint(low * 2, high * 2)) / 2).quantize(CENT),
                "active": rng.random() > 0.03,
            })

    def price_list(name: str, **scope: Any) -> Any:
        list_id = new_id()
        data.price_lists.append({"id": list_id, "name": name, "currency": "CNY",
                                 "segment": scope.get("segment"),
                                 "account_id": scope.get("account_id"),
                                 "valid_from": PRICES_FROM, "valid_to": None, "active": True})
        return list_id

    def entry(list_id: Any, product: Row, price: Decimal, min_quantity: int = 1) -> None:
        data.price_list_entries.append({"id": new_id(), "price_list_id": list_id,
                                        "product_id": product["id"],
                                        "min_quantity": Decimal(min_quantity),
                                        "unit_price": price})

    standard = price_list("Standard 2025")
    for product in data.products:
        entry(standard, product, product["list_price"])
        if product["unit"] in BULK_UNITS:  # volume break: 10 or more at 5 % off
            entry(standard, product, discounted(product["list_price"], Decimal("0.05")), 10)
    for segment, discount in SEGMENT_DISCOUNTS.items():
        segment_list = price_list(f"{segment.value.replace('_', ' ').title()} 2025",
                                  segment=segment)
        for product in data.products:
            entry(segment_list, product, discounted(product["list_price"], discount))
    # Negotiated prices for the biggest customers (VIPs first, then by credit limit).
    biggest = sorted(data.accounts, key=lambda a: (a["value_tier"] is not ValueTier.VIP,
                                                   -a["credit_limit"]))[:ACCOUNT_PRICE_LISTS]
    for account in biggest:
        account_list = price_list(f"Contract: {account['name']}", account_id=account["id"])
        for product in rng.sample(data.products, 30):
            discount = Decimal(rng.randint(15, 20)) / 100
            entry(account_list, product, discounted(product["list_price"], discount))


def _stock(rng: random.Random, new_id: IdMaker, data: DemoData) -> None:
    sites = (("SH-DC", "Shanghai Central DC", "Jiading Industrial Park, Shanghai", "Shanghai",
              31.3762, 121.2655),
             ("GZ-DC", "Guangzhou South DC", "Baiyun Logistics Park, Guangzhou", "Guangzhou",
              23.2833, 113.3000))
    for code, name, address, city, latitude, longitude in sites:
        warehouse_id = new_id()
        data.warehouses.append({"id": warehouse_id, "code": code, "name": name,
                                "address": address, "city": city, "latitude": latitude,
                                "longitude": longitude, "active": True})
        for product in data.products:
            on_hand = Decimal(rng.randint(0, 800))
            # Balances are derived from the ledger: each starts as an initial-stock movement,
            # and nothing is reserved (no order holds stock yet).
            data.stock_balances.append({
                "id": new_id(), "warehouse_id": warehouse_id, "product_id": product["id"],
                "on_hand": on_hand, "reserved": Decimal(0),
            })
            data.stock_movements.append({
                "id": new_id(), "kind": "initial", "warehouse_id": warehouse_id,
                "product_id": product["id"], "quantity": on_hand, "on_hand_after": on_hand,
                "note": "demo opening stock",
            })
