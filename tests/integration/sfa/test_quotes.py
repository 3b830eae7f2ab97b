"""Quotes: server-computed totals, frozen offer after draft, send/accept/reject state checks."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from protocol.ids import uuid7
from server.errors import DomainError, ValidationFailed
from server.sync.registry import Policy
from tests.builders import make_user
from tests.pricing_tools import priced_product, without_entry
from tests.synctools import act_as, create_as, insert_account, registry, update_as, writer


async def quote_line(
    db, quantity: str, unit_price: str, discount_pct: str = "0", tax_rate: str = "0"
):
    """A line of a product of its own, which the server prices at ``unit_price``."""
    return {
        "id": str(uuid7()),
        "product_id": str(await priced_product(db, unit_price, tax_rate)),
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_pct": discount_pct,
        "tax_rate": tax_rate,
    }


async def draft_quote(db, rep, lines=None, **extra):
    account_id = await insert_account(db, owner_id=rep.id)
    record = {"account_id": str(account_id), "number": "Q-0001", "lines": lines or [], **extra}
    return await create_as(db, rep, "quote", record)


async def load(db, record_id: str):
    async with db.transaction() as session:
        return await writer().load(session, "quote", uuid.UUID(record_id))


async def test_the_server_computes_totals_to_the_cent(db) -> None:
    rep = await make_user(db, "rep")
    quote = await draft_quote(
        db,
        rep,
        [
            await quote_line(db, "12", "4.99", discount_pct="5", tax_rate="0.13"),
            await quote_line(db, "0.5", "19.90", tax_rate="0.09"),
            await quote_line(db, "1", "0.10"),
        ],
    )
    assert (quote["subtotal"], quote["tax_total"], quote["total"]) == ("66.94", "8.30", "75.24")
    assert quote["status"] == "draft" and quote["owner_id"] == str(rep.id)
    assert (await load(db, quote["id"]))["total"] == "75.24"  # stored, the same on both backends


async def test_totals_follow_every_edit_of_the_lines(db) -> None:
    rep = await make_user(db, "rep")
    quote = await draft_quote(db, rep, [await quote_line(db, "1", "10")])
    assert quote["total"] == "10.00"
    edited = await update_as(db, rep, "quote", quote["id"], {"lines": []})
    assert (edited["subtotal"], edited["tax_total"], edited["total"]) == ("0.00", "0.00", "0.00")


async def test_send_then_accept(db) -> None:
    rep = await make_user(db, "rep")
    quote = await draft_quote(db, rep, [await quote_line(db, "1", "10")])
    sent = await act_as(db, rep, "quote", quote["id"], "send", {})
    assert sent["status"] == "sent"
    accepted = await act_as(db, rep, "quote", quote["id"], "accept", {})
    assert (accepted["status"], accepted["version"]) == ("accepted", 3)


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        ([], "accept"),
        ([], "reject"),
        (["send"], "send"),
        (["send", "reject"], "accept"),
        (["send", "accept"], "reject"),
    ],
)
async def test_actions_from_a_wrong_state_are_refused(db, steps, action) -> None:
    rep = await make_user(db, "rep")
    quote = await draft_quote(db, rep, [await quote_line(db, "1", "10")])
    for step in steps:
        await act_as(db, rep, "quote", quote["id"], step, {})
    before = await load(db, quote["id"])
    with pytest.raises(DomainError) as caught:
        await act_as(db, rep, "quote", quote["id"], action, {})
    assert (caught.value.code, caught.value.status) == ("invalid_state", 409)
    assert await load(db, quote["id"]) == before


async def test_an_empty_quote_cannot_be_sent(db) -> None:
    rep = await make_user(db, "rep")
    quote = await draft_quote(db, rep)
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "quote", quote["id"], "send", {})
    assert caught.value.field == "lines"


async def test_an_expired_quote_cannot_be_accepted(db) -> None:
    rep = await make_user(db, "rep")
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()
    quote = await draft_quote(db, rep, [await quote_line(db, "1", "10")])
    await act_as(db, rep, "quote", quote["id"], "send", {})
    await update_as(db, rep, "quote", quote["id"], {"valid_until": yesterday})
    with pytest.raises(DomainError) as caught:
        await act_as(db, rep, "quote", quote["id"], "accept", {})
    assert (caught.value.code, caught.value.field) == ("quote_expired", "valid_until")
    assert (await act_as(db, rep, "quote", quote["id"], "reject", {}))["status"] == "rejected"


async def test_the_offer_is_frozen_once_sent(db) -> None:
    rep = await make_user(db, "rep")
    quote = await draft_quote(db, rep, [await quote_line(db, "1", "10")])
    await act_as(db, rep, "quote", quote["id"], "send", {})
    for changes, field in (
        ({"lines": [await quote_line(db, "2", "10")]}, "lines"),
        ({"currency": "EUR"}, "currency"),
    ):
        with pytest.raises(DomainError) as caught:
            await update_as(db, rep, "quote", quote["id"], changes)
        assert (caught.value.code, caught.value.field) == ("invalid_state", field)
    assert (await update_as(db, rep, "quote", quote["id"], {"notes": "call back"}))["notes"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"currency": "euro"}, "currency"),
        ({"lines": "a tax rate of 13"}, "lines[0].tax_rate"),
        ({"number": "Q" * 41}, "number"),
        ({"valid_until": "tomorrow"}, "valid_until"),
    ],
)
async def test_bad_quotes_are_refused_with_the_field(db, extra, field) -> None:
    rep = await make_user(db, "rep")
    if extra.get("lines") == "a tax rate of 13":  # malformed, not just stale: refused
        extra = {"lines": [{**await quote_line(db, "1", "1"), "tax_rate": "13"}]}
    with pytest.raises(ValidationFailed) as caught:
        await draft_quote(db, rep, **extra)
    assert caught.value.field == field


def test_the_quote_spec_declares_server_owned_fields_and_policies() -> None:
    spec = registry().entities["quote"]
    assert {"status", "subtotal", "tax_total", "total"} <= spec.server_fields
    assert "lines" not in spec.server_fields
    assert spec.policy("lines") is Policy.LWW
    assert spec.policy("notes") is Policy.APPEND
    assert set(spec.actions) == {"send", "accept", "reject", "convert"}


# --- through POST /sync/push -------------------------------------------------------------


async def test_the_server_prices_a_quote_pushed_from_a_device(client, db) -> None:
    from tests.synctools import device_for

    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    quote_id = uuid7()
    lines = [
        await quote_line(db, "3", "0.335", tax_rate="0.13"),
        await quote_line(db, "1", "10", discount_pct="10"),  # a rep's limit: no approval
    ]
    record = {"account_id": str(account_id), "owner_id": str(rep.id), "lines": lines}
    created, forged, sent = await phone.push(
        phone.mutation("quote", quote_id, "upsert", record),
        phone.mutation("quote", quote_id, "upsert", {"total": "1.00"}, base_version=1),
        phone.mutation("quote", quote_id, "quote.send", {}),
    )
    assert created["status"] == "applied"
    assert (forged["error"]["code"], forged["error"]["field"]) == ("server_owned_field", "total")
    assert (sent["record"]["status"], sent["record"]["total"]) == ("sent", "10.14")
    snapshot, _ = await phone.snapshot()
    held = snapshot[("quote", str(quote_id))]
    assert (held["subtotal"], held["tax_total"], held["total"]) == ("10.01", "0.13", "10.14")
    assert without_entry(held["lines"]) == without_entry(lines)
