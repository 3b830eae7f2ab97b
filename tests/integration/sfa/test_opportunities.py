"""Opportunities: funnel validation and the account's scope."""

from __future__ import annotations

import pytest

from server.errors import ValidationFailed
from server.sync.registry import Policy
from tests.builders import make_user
from tests.synctools import create_as, insert_account, registry, update_as


async def opportunity(db, rep, **overrides):
    account_id = await insert_account(db, owner_id=rep.id)
    record = {"account_id": str(account_id), "name": "Spring restock", "amount": "12000.5"}
    return await create_as(db, rep, "opportunity", record | overrides)


async def test_a_new_opportunity_belongs_to_the_pusher_and_the_accounts_scope(db) -> None:
    rep = await make_user(db, "rep")
    created = await opportunity(db, rep, probability=20, expected_close="2030-06-30")
    assert created["owner_id"] == str(rep.id)
    assert created["stage"] == "initial_contact"
    assert created["amount"] == "12000.50"  # cents, identical on SQLite and PostgreSQL
    assert created["expected_close"] == "2030-06-30"
    async with db.transaction() as session:
        key = await registry().entities["opportunity"].scope(session, created)
    assert key == f"u:{rep.id}"


async def test_moving_through_the_funnel_and_losing_needs_a_reason(db) -> None:
    rep = await make_user(db, "rep")
    created = await opportunity(db, rep)
    moved = await update_as(db, rep, "opportunity", created["id"], {"stage": "negotiation"})
    assert moved["stage"] == "negotiation"
    with pytest.raises(ValidationFailed) as caught:
        await update_as(db, rep, "opportunity", created["id"], {"stage": "lost"})
    assert caught.value.field == "lost_reason"
    lost = await update_as(
        db, rep, "opportunity", created["id"], {"stage": "lost", "lost_reason": "price"}
    )
    assert (lost["stage"], lost["lost_reason"]) == ("lost", "price")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "-0.01"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"probability": 101}, "probability"),
        ({"probability": -1}, "probability"),
        ({"stage": "signed"}, "stage"),
        ({"name": ""}, "name"),
        ({"stage": "lost"}, "lost_reason"),
    ],
)
async def test_bad_opportunities_are_refused_with_the_field(db, overrides, field) -> None:
    rep = await make_user(db, "rep")
    with pytest.raises(ValidationFailed) as caught:
        await opportunity(db, rep, **overrides)
    assert caught.value.field == field


def test_every_opportunity_field_is_last_writer_wins() -> None:
    spec = registry().entities["opportunity"]
    assert spec.parent == ("account", "account_id")
    assert all(spec.policy(name) is Policy.LWW for name in ("stage", "amount", "probability"))
    assert spec.actions == {}
