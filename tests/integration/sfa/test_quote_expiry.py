"""Quote expiry: read as expired at once, written by ``QuoteExpiryService`` / the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from rules.quotes import as_read, company_today, effective_status
from server.cli import main
from server.db import Database, create_engine
from server.errors import DomainError
from server.settings import Settings
from server.sfa.quotes.expiry import QuoteExpiryService
from tests.builders import make_user
from tests.integration.sfa.quote_builders import quote_in, set_valid_until, statuses
from tests.integration.test_cli import empty_url  # noqa: F401  (the fixture)
from tests.synctools import act_as, device_for, update_as, writer

NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def test_a_quote_reads_as_expired_from_the_day_after_its_validity() -> None:
    day = dt.date(2026, 5, 10)
    assert effective_status("sent", "2026-05-10", day) == "sent"  # valid through the day
    assert effective_status("sent", "2026-05-09", day) == "expired"
    assert effective_status("draft", dt.date(2026, 5, 1), day) == "expired"
    assert effective_status("pending_approval", "2026-05-01", day) == "expired"
    for answered in ("accepted", "rejected", "expired"):
        assert effective_status(answered, "2026-05-01", day) == answered
    assert effective_status("sent", None, day) == "sent"
    quote = {"id": "q", "status": "sent", "valid_until": "2026-05-01"}
    assert as_read(quote, day) == {**quote, "status": "expired"} and quote["status"] == "sent"


def test_the_company_day_is_the_time_zone_s() -> None:
    # 16:30 UTC on the 9th is already the 10th in Shanghai (UTC+8)
    moment = dt.datetime(2026, 5, 9, 16, 30, tzinfo=dt.UTC)
    assert company_today(moment, "UTC") == dt.date(2026, 5, 9)
    assert company_today(moment, "Asia/Shanghai") == dt.date(2026, 5, 10)


async def test_send_and_accept_of_an_expired_quote_are_refused(db) -> None:
    rep = await make_user(db, "rep")
    draft = await quote_in(db, rep, valid_until=YESTERDAY.isoformat())
    sent = await quote_in(db, rep, ("send",))
    await set_valid_until(db, sent["id"], YESTERDAY)
    for quote, action in ((draft, "send"), (sent, "accept")):
        with pytest.raises(DomainError) as caught:
            await act_as(db, rep, "quote", quote["id"], action, {})
        error = caught.value
        assert (error.code, error.status, error.field) == ("quote_expired", 409, "valid_until")
        assert error.data == {"status": "expired", "valid_until": YESTERDAY.isoformat()}
    assert await statuses(db, draft["id"], sent["id"]) == ["draft", "sent"]  # nothing written


async def test_expire_due_moves_exactly_the_waiting_quotes_past_validity(db, settings) -> None:
    rep = await make_user(db, "rep")
    due_sent = await quote_in(db, rep, ("send",))
    due_draft = await quote_in(db, rep)
    accepted = await quote_in(db, rep, ("send", "accept"))
    valid_today = await quote_in(db, rep, ("send",), valid_until=TODAY.isoformat())
    open_ended = await quote_in(db, rep, ("send",))
    for quote in (due_sent, due_draft, accepted):
        await set_valid_until(db, quote["id"], YESTERDAY)
    service = QuoteExpiryService(db, writer(), settings)
    assert await service.expire_due(NOW) == 2
    ids = [q["id"] for q in (due_sent, due_draft, accepted, valid_today, open_ended)]
    assert await statuses(db, *ids) == ["expired", "expired", "accepted", "sent", "sent"]
    assert await service.expire_due(NOW) == 0  # idempotent
    # the next day the quote valid "today" is due as well
    assert await service.expire_due(NOW + dt.timedelta(days=1)) == 1


async def test_expiry_runs_in_batches_and_reports_progress(db, settings) -> None:
    rep = await make_user(db, "rep")
    quotes = [await quote_in(db, rep, ("send",)) for _ in range(5)]
    for quote in quotes:
        await set_valid_until(db, quote["id"], YESTERDAY)
    seen: list[int] = []
    service = QuoteExpiryService(db, writer(), settings)
    assert await service.expire_due(NOW, batch_size=2, progress=seen.append) == 5
    assert seen == [2, 4, 5]
    assert set(await statuses(db, *(q["id"] for q in quotes))) == {"expired"}
    with pytest.raises(DomainError) as caught:
        await service.expire_due(NOW, batch_size=0)
    assert caught.value.field == "batch_size"


async def test_the_company_time_zone_decides_when_a_quote_is_due(db, settings) -> None:
    rep = await make_user(db, "rep")
    quote = await quote_in(db, rep, ("send",))
    await set_valid_until(db, quote["id"], dt.date(2026, 5, 9))
    moment = dt.datetime(2026, 5, 9, 16, 30, tzinfo=dt.UTC)  # the 10th in Shanghai
    in_utc = QuoteExpiryService(db, writer(), settings)
    assert await in_utc.expire_due(moment) == 0
    shanghai = Settings(database_url=settings.database_url, company_timezone="Asia/Shanghai")
    assert await QuoteExpiryService(db, writer(), shanghai).expire_due(moment) == 1


async def test_a_pulled_quote_reads_expired_before_expiry_writes_it(client, db) -> None:
    rep = await make_user(db, "rep")
    waiting = await quote_in(db, rep, ("send",))
    answered = await quote_in(db, rep, ("send", "accept"))
    for quote in (waiting, answered):  # the last valid day was yesterday, in the change log
        await update_as(db, rep, "quote", quote["id"], {"valid_until": YESTERDAY.isoformat()})
    phone = await device_for(client, db, rep)
    snapshot, _ = await phone.snapshot()
    assert snapshot[("quote", waiting["id"])]["status"] == "expired"
    assert snapshot[("quote", answered["id"])]["status"] == "accepted"
    assert await statuses(db, waiting["id"]) == ["sent"]  # stored as it was, until expiry runs


async def test_devices_receive_the_expired_status(client, db, settings) -> None:
    rep = await make_user(db, "rep")
    quote = await quote_in(db, rep, ("send",))
    phone = await device_for(client, db, rep)
    _, cursor = await phone.snapshot()
    await set_valid_until(db, quote["id"], YESTERDAY)
    await QuoteExpiryService(db, writer(), settings).expire_due(NOW)
    changes, _ = await phone.pull_all(cursor)
    [change] = [c for c in changes if c["entity"] == "quote"]
    assert (change["id"], change["record"]["status"]) == (quote["id"], "expired")


async def _due_quote(url: str) -> str:
    db = Database(create_engine(url))
    try:
        rep = await make_user(db, "rep")
        quote = await quote_in(db, rep, ("send",))
        await set_valid_until(db, quote["id"], YESTERDAY)
        return str(quote["id"])
    finally:
        await db.dispose()


async def _status_of(url: str, quote_id: str) -> str:
    db = Database(create_engine(url))
    try:
        return (await statuses(db, quote_id))[0]
    finally:
        await db.dispose()


def test_the_cli_expires_once_and_says_so(
    empty_url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate"]) == 0
    quote_id = asyncio.run(_due_quote(empty_url))
    capsys.readouterr()
    assert main(["expire-quotes", "--batch-size", "10"]) == 0
    out = capsys.readouterr().out
    assert "quotes expired: 1" in out and out.rstrip().endswith("expired 1 quotes")
    assert asyncio.run(_status_of(empty_url, quote_id)) == "expired"
    assert main(["expire-quotes"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("no quote to expire")
    with pytest.raises(SystemExit):
        main(["expire-quotes", "--batch-size", "0"])
