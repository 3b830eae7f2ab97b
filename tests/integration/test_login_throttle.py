"""Login throttling per account and per client address, stored in the database (both backends)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth import passwords as passwords_module
from server.auth.models import LoginFailure
from server.db import Database, new_id, utcnow
from server.settings import Settings
from tests.builders import TEST_PASSWORD, make_user


@asynccontextmanager
async def app_client(settings: Settings, **overrides: Any) -> AsyncIterator[Any]:
    """A client of a fresh app (its own engine: like another server process) on the test db."""
    app = create_app(msgspec.structs.replace(settings, **overrides), check_schema=False)
    async with AsyncTestClient(app=app) as client:
        yield client


async def attempt(client: Any, email: str, password: str = "wrong password") -> Any:
    return await client.post(
        "/auth/login",
        json={
            "email": email,
            "password": password,
            "device_id": str(uuid.uuid4()),
        },
    )


async def failures(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)))


async def test_wrong_passwords_are_throttled_per_account_with_retry_after(db, settings) -> None:
    rep, other = await make_user(db), await make_user(db)
    async with app_client(
        settings, login_max_failures_per_account=3, login_failure_window_seconds=600
    ) as client:
        answers = [await attempt(client, rep.email) for _ in range(3)]
        assert [a.status_code for a in answers] == [401, 401, 401]

        throttled = await attempt(client, rep.email, TEST_PASSWORD)  # even the right password

        assert throttled.status_code == 429
        body = throttled.json()
        assert body["code"] == "too_many_attempts" and body["field"] == "email"
        retry_after = int(throttled.headers["retry-after"])
        assert 590 <= retry_after <= 600 and body["data"] == {"retry_after": retry_after}
        assert (await attempt(client, other.email, TEST_PASSWORD)).status_code == 200
    assert await failures(db) == 3  # the refused attempts were not even recorded


async def test_unknown_emails_are_throttled_like_real_accounts(db, settings) -> None:
    async with app_client(settings, login_max_failures_per_account=2) as client:
        for _ in range(2):
            assert (await attempt(client, "Ghost@Example.com")).status_code == 401
        assert (await attempt(client, "ghost@example.com")).status_code == 429


async def test_logins_are_throttled_per_client_address(db, settings) -> None:
    users = [await make_user(db) for _ in range(4)]
    async with app_client(
        settings, login_max_failures_per_account=10, login_max_failures_per_address=3
    ) as client:
        for user in users[:3]:  # one wrong password on each of three accounts
            assert (await attempt(client, user.email)).status_code == 401

        throttled = await attempt(client, users[3].email, TEST_PASSWORD)

    assert throttled.status_code == 429
    assert throttled.json()["code"] == "too_many_attempts"
    assert throttled.json().get("field") is None
    assert int(throttled.headers["retry-after"]) >= 1


async def test_the_throttle_counts_across_two_server_processes(db, settings) -> None:
    rep = await make_user(db)
    limits = {"login_max_failures_per_account": 4}
    async with app_client(settings, **limits) as first, app_client(settings, **limits) as second:
        for client in (first, second, first, second):
            assert (await attempt(client, rep.email)).status_code == 401
        assert (await attempt(first, rep.email, TEST_PASSWORD)).status_code == 429
        assert (await attempt(second, rep.email, TEST_PASSWORD)).status_code == 429


async def test_a_successful_login_forgets_the_accounts_failures(db, settings) -> None:
    rep = await make_user(db)
    async with app_client(settings, login_max_failures_per_account=3) as client:
        for _ in range(2):
            assert (await attempt(client, rep.email)).status_code == 401
        assert (await attempt(client, rep.email, TEST_PASSWORD)).status_code == 200
        for _ in range(2):
            assert (await attempt(client, rep.email)).status_code == 401
        assert (await attempt(client, rep.email, TEST_PASSWORD)).status_code == 200


async def test_failures_older_than_the_window_no_longer_count(db, settings) -> None:
    rep = await make_user(db)
    now = utcnow()
    async with db.transaction() as session:
        for age in (1000, 950, 100):
            session.add(
                LoginFailure(
                    id=new_id(),
                    email=rep.email,
                    address="10.0.0.1",
                    created_at=now - dt.timedelta(seconds=age),
                )
            )
    async with app_client(
        settings, login_max_failures_per_account=2, login_failure_window_seconds=900
    ) as client:
        assert (await attempt(client, rep.email, TEST_PASSWORD)).status_code == 200
        assert (await attempt(client, rep.email)).status_code == 401
        assert (await attempt(client, rep.email)).status_code == 401
        throttled = await attempt(client, rep.email, TEST_PASSWORD)
    assert throttled.status_code == 429
    assert 895 <= int(throttled.headers["retry-after"]) <= 900


async def test_a_throttled_login_does_not_run_the_password_check(
    db, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = await make_user(db)
    calls: list[str] = []
    real = passwords_module.verify_password

    def spy(password: str, encoded: str) -> bool:
        calls.append(encoded)
        return real(password, encoded)

    monkeypatch.setattr(passwords_module, "verify_password", spy)
    async with app_client(settings, login_max_failures_per_account=2) as client:
        for _ in range(2):
            await attempt(client, rep.email)
        for _ in range(5):
            assert (await attempt(client, rep.email)).status_code == 429
    assert len(calls) == 2
