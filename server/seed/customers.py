"""Demo accounts (geo-located customers) and their contacts."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from server.seed import vocabulary as words
from server.seed.places import STREETS, City, TerritoryPlan
from server.sfa.accounts.models import ContactRole, LifecycleStage, Segment, ValueTier

SEGMENT_WEIGHTS = {
    Segment.LARGE_ENTERPRISE: 8, Segment.MID_SIZE: 22, Segment.EDUCATION: 8,
    Segment.GOVERNMENT: 6, Segment.SMALL_BUSINESS: 40, Segment.CONSUMER: 16,
}
# The customer value pyramid: big organisations are more often at the top.
TIER_WEIGHTS = {
    Segment.LARGE_ENTERPRISE: (25, 45, 25, 5), Segment.MID_SIZE: (6, 24, 55, 15),
    Segment.EDUCATION: (4, 20, 56, 20), Segment.GOVERNMENT: (10, 30, 50, 10),
    Segment.SMALL_BUSINESS: (1, 9, 55, 35), Segment.CONSUMER: (0, 2, 48, 50),
}
TIERS = (ValueTier.VIP, ValueTier.KEY, ValueTier.REGULAR, ValueTier.LOW)
# (lowest, highest, step) of the credit limit in CNY
CREDIT = {
    ValueTier.VIP: (500_000, 2_000_000, 50_000), ValueTier.KEY: (100_000, 500_000, 10_000),
    ValueTier.REGULAR: (10_000, 100_000, 5_000), ValueTier.LOW: (0, 20_000, 1_000),
}
STAGE_WEIGHTS = {
    LifecycleStage.PROSPECT: 15, LifecycleStage.POTENTIAL: 15, LifecycleStage.ACTIVE: 40,
    LifecycleStage.LOYAL: 20, LifecycleStage.CHURNED: 10,
}
CENT = Decimal("0.01")


def person_name(rng: random.Random) -> tuple[str, str]:
    """(surname, given name)."""
    return rng.choice(words.SURNAMES), rng.choice(words.GIVEN_NAMES)


def account_name(rng: random.Random, segment: Segment, industry: str, city: City,
                 district: str) -> tuple[str, str]:
    """(display name, web domain) of a customer of this segment."""
    trade = rng.choice(words.TRADE_SYLLABLES) + rng.choice(words.TRADE_SYLLABLES).lower()
    domain = f"{trade.lower()}.com.cn"
    if segment is Segment.EDUCATION:
        school = rng.choice(words.SCHOOLS).format(n=rng.randint(1, 40))
        return f"{city.name} {school}", f"{city.name.lower()}-edu.cn"
    if segment is Segment.GOVERNMENT:
        return f"{city.name} {district} {rng.choice(words.AGENCIES)}", "gov.cn"
    if segment is Segment.CONSUMER:
        surname, given = person_name(rng)
        return f"{surname} {given} (household)", "163.com"
    return f"{city.name} {trade} {industry} {words.COMPANY_SUFFIX[segment]}", domain


def mobile(rng: random.Random) -> str:
    """A mainland mobile number."""
    head = f"1{rng.choice('3456789')}{rng.randint(0, 9)}"
    return f"+86 {head} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}"


def make_account(rng: random.Random, new_id: Callable[[], uuid.UUID], plan: TerritoryPlan,
                 territory_id: uuid.UUID, owner_ids: Sequence[uuid.UUID],
                 ) -> tuple[dict[str, Any], str]:
    """One customer in a territory, owned by one of its reps; returns (row, email domain)."""
    segment = rng.choices(list(SEGMENT_WEIGHTS), weights=list(SEGMENT_WEIGHTS.values()))[0]
    tier = rng.choices(TIERS, weights=TIER_WEIGHTS[segment])[0]
    stage = rng.choices(list(STAGE_WEIGHTS), weights=list(STAGE_WEIGHTS.values()))[0]
    city = rng.choice(plan.cities)
    district = rng.choice(city.districts)
    industry = rng.choice(words.INDUSTRIES[segment])
    name, domain = account_name(rng, segment, industry, city, district)
    low, high, step = CREDIT[tier]
    credit = Decimal(rng.randrange(low, high + step, step))
    owes = stage is not LifecycleStage.PROSPECT and rng.random() < 0.12
    arrears = (credit * Decimal(rng.randint(5, 60)) / 100).quantize(CENT) if owes else Decimal(0)
    blacklist_odds = 0.08 if stage is LifecycleStage.CHURNED else 0.005
    row = {
        "id": new_id(), "name": name, "segment": segment, "value_tier": tier,
        "lifecycle_stage": stage, "industry": industry, "credit_limit": credit,
        "arrears": arrears, "blacklisted": rng.random() < blacklist_odds,
        "address": f"{rng.randint(1, 999)} {rng.choice(STREETS)} "
                   f"Road, {district} District, {city.name}",
        "postal_code": f"{city.postal_prefix}{rng.randint(0, 999):03d}",
        "city": city.name, "region": city.province,
        "latitude": round(city.latitude + rng.gauss(0, 0.05), 6),
        "longitude": round(city.longitude + rng.gauss(0, 0.06), 6),
        "owner_id": rng.choice(owner_ids), "territory_id": territory_id, "notes": "",
    }
    return row, domain


def make_contacts(rng: random.Random, new_id: Callable[[], uuid.UUID],
                  account: dict[str, Any], domain: str) -> list[dict[str, Any]]:
    """One to four people at a customer, the first one the decision maker."""
    roles = [ContactRole.DECISION_MAKER] + rng.choices(list(ContactRole), k=rng.randint(0, 3))
    contacts = []
    for number, role in enumerate(roles, start=1):
        surname, given = person_name(rng)
        contacts.append({
            "id": new_id(), "account_id": account["id"], "name": f"{surname} {given}",
            "role": role, "title": rng.choice(words.CONTACT_TITLES[role.value]),
            "phone": mobile(rng),
            "email": f"{given.lower()}.{surname.lower()}{number}@{domain}", "notes": "",
        })
    return contacts
