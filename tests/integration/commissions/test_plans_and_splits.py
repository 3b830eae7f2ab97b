"""Commission plans (admins; successors end their predecessor; refused plans name the field)
and credit splits of orders (managers of the owner; shares sum to 100; audited)."""

from __future__ import annotations

from decimal import Decimal

from tests.builders import auth_headers, make_user
from tests.integration.commissions.builders import (
    category_product,
    confirmed_order,
    plan_body,
    post_plan,
)
from tests.integration.sfa.core_builders import count


async def test_admin_creates_and_replaces_a_plan(client, db) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    first = await post_plan(client, admin)
    assert first["valid_to"] is None and first["definition"]["quota"] == "10000"
    second = await post_plan(client, admin, valid_from="2026-07-01", default_rate_pct="6")
    assert second["replaces"] == first["id"]
    listed = (await client.get("/commissions/plans", headers=admin)).json()
    by_id = {plan["id"]: plan for plan in listed}
    assert by_id[first["id"]]["valid_to"] == "2026-07-01"
    assert by_id[first["id"]]["definition"]["valid_to"] == "2026-07-01"
    assert by_id[second["id"]]["valid_to"] is None
    # a successor starting before its predecessor is refused
    early = await client.post(
        "/commissions/plans", json=plan_body(valid_from="2026-05-01"), headers=admin
    )
    assert early.status_code == 422 and early.json()["field"] == "valid_from"


async def test_refused_plans_name_the_field_and_write_nothing(client, db) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    cases = [
        ({"quota": "0"}, "quota"),
        ({"default_rate_pct": "120"}, "default_rate_pct"),
        ({"category_rates_pct": {"hardware": "-1"}}, "category_rates_pct.hardware"),
        (
            {
                "tiers": [
                    {"name": "base", "from_pct": "0", "multiplier": "1"},
                    {"name": "same", "from_pct": "0", "multiplier": "2"},
                ]
            },
            "tiers.1.from_pct",
        ),
        ({"rep_id": str((await make_user(db, "rep")).id)}, "role"),
        ({"cap": "-5"}, "cap"),
    ]
    for overrides, field in cases:
        response = await client.post(
            "/commissions/plans", json=plan_body(**overrides), headers=admin
        )
        assert response.status_code == 422, (overrides, response.text)
        assert response.json()["field"] == field, (overrides, response.json())
    assert await count(db, "commission_plans") == 0


async def test_only_admins_write_plans(client, db) -> None:
    for role in ("rep", "manager"):
        headers = await auth_headers(db, await make_user(db, role))
        response = await client.post("/commissions/plans", json=plan_body(), headers=headers)
        assert response.status_code == 403
    rep = await auth_headers(db, await make_user(db, "rep"))
    assert (await client.get("/commissions/plans", headers=rep)).status_code == 403


async def test_manager_splits_an_order_of_their_rep_and_it_is_audited(client, db) -> None:
    manager = await make_user(db, "manager")
    stranger = await make_user(db, "manager")
    rep, partner = await make_user(db, "rep", manager_id=manager.id), await make_user(db, "rep")
    product = await category_product(db, "hardware")
    order = await confirmed_order(db, rep.id, [(product, "1", "100")], at=None)
    boss = await auth_headers(db, manager)
    url = f"/orders/{order}/credit-splits"
    initial = (await client.get(url, headers=boss)).json()
    assert initial["shares"] == [{"rep_id": str(rep.id), "share_pct": "100"}]
    body = {
        "shares": [
            {"rep_id": str(rep.id), "share_pct": "60"},
            {"rep_id": str(partner.id), "share_pct": "40"},
        ]
    }
    response = await client.put(url, json=body, headers=boss)
    assert response.status_code == 200, response.text
    again = {"shares": [{"rep_id": str(partner.id), "share_pct": "100"}]}
    trail = (await client.put(url, json=again, headers=boss)).json()
    assert [Decimal(s["share_pct"]) for s in trail["changes"][0]["after"]] == [60, 40]
    assert trail["changes"][0]["before"] is None
    assert trail["changes"][1]["before"] == trail["changes"][0]["after"]
    assert {c["actor_id"] for c in trail["changes"]} == {str(manager.id)}
    assert trail["shares"] == [{"rep_id": str(partner.id), "share_pct": "100"}]

    bad = {
        "shares": [
            {"rep_id": str(rep.id), "share_pct": "60"},
            {"rep_id": str(partner.id), "share_pct": "30"},
        ]
    }
    refused = await client.put(url, json=bad, headers=boss)
    assert refused.status_code == 422 and refused.json()["field"] == "shares"
    twice = {
        "shares": [
            {"rep_id": str(rep.id), "share_pct": "50"},
            {"rep_id": str(rep.id), "share_pct": "50"},
        ]
    }
    assert (await client.put(url, json=twice, headers=boss)).json()["field"] == "shares.1"
    nobody = {
        "shares": [
            {"rep_id": str(manager.id), "share_pct": "50"},
            {"rep_id": "0190f0f0-0000-7000-8000-000000000000", "share_pct": "50"},
        ]
    }
    assert (await client.put(url, json=nobody, headers=boss)).json()["field"] == "shares.1.rep_id"
    assert await count(db, "credit_split_changes") == 2

    outside = await auth_headers(db, stranger)
    assert (await client.put(url, json=again, headers=outside)).status_code == 404
    as_rep = await auth_headers(db, rep)
    assert (await client.put(url, json=again, headers=as_rep)).status_code == 403
