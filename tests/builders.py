"""Small builders for tests: users with tokens, ready-made auth headers."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from server.auth.models import Role, User
from server.auth.passwords import KdfParams, hash_password
from server.auth.service import issue_token as mint_token
from server.db import Database, new_id
from server.settings import Settings

TEST_PASSWORD = "correct horse battery staple"
TEST_SECRET_KEY = "test-secret"
TEST_KDF = KdfParams(memory_kib=8, time_cost=1)  # the cost tests/conftest.py's settings use


async def make_user(db: Database, role: Role | str = Role.REP, **overrides: Any) -> User:
    """Insert a user (password ``TEST_PASSWORD``) and return it."""
    uid = overrides.pop("id", None) or new_id()
    values: dict[str, Any] = {
        "id": uid,
        "email": f"{role}-{secrets.token_hex(6)}@example.com",  # unique, unrelated to the id
        "name": f"Test {role}",
        "role": Role(role),
        "password_hash": hash_password(TEST_PASSWORD, TEST_KDF),
        **overrides,
    }
    user = User(**values)
    async with db.transaction() as session:
        session.add(user)
    return user


async def issue_token(
    db: Database,
    user: User,
    *,
    device_id: uuid.UUID | None = None,
    ttl: dt.timedelta = dt.timedelta(hours=1),
    secret_key: str = TEST_SECRET_KEY,
) -> tuple[str, uuid.UUID]:
    """A bearer token for ``user`` on a (new) device; returns (token, device id).

    Goes through the auth service's ``issue_token`` (the same minting as login); a negative
    ``ttl`` gives an already expired token.
    """
    issued = await mint_token(
        db,
        Settings(secret_key=secret_key),
        user.id,
        device_id or uuid.uuid4(),
        ttl=ttl,
        device_name="test device",
    )
    return issued.token, issued.device_id


async def auth_headers(db: Database, user: User, **kwargs: Any) -> dict[str, str]:
    """``Authorization`` headers for ``user`` on a fresh device."""
    token, _ = await issue_token(db, user, **kwargs)
    return {"Authorization": f"Bearer {token}"}
