"""Small builders for tests: users with tokens, ready-made auth headers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from server.auth.models import AccessToken, Device, Role, User
from server.auth.passwords import hash_password
from server.auth.tokens import format_token, hash_secret, new_secret
from server.db import Database, new_id, utcnow

TEST_PASSWORD = "correct horse battery staple"
TEST_SECRET_KEY = "test-secret"


async def make_user(db: Database, role: Role | str = Role.REP, **overrides: Any) -> User:
    """Insert a user (password ``TEST_PASSWORD``) and return it."""
    uid = overrides.pop("id", None) or new_id()
    values: dict[str, Any] = {
        "id": uid,
        "email": f"{role}-{uid.hex[:8]}@example.com",
        "name": f"Test {role}",
        "role": Role(role),
        "password_hash": hash_password(TEST_PASSWORD, n=2**10),
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
    """A bearer token for ``user`` on a (new) device; returns (token, device id)."""
    device_id = device_id or uuid.uuid4()
    secret = new_secret()
    token_id = new_id()
    async with db.transaction() as session:
        if await session.get(Device, device_id) is None:
            session.add(Device(id=device_id, user_id=user.id, name="test device"))
            await session.flush()
        session.add(
            AccessToken(
                id=token_id,
                user_id=user.id,
                device_id=device_id,
                secret_hash=hash_secret(secret, secret_key),
                expires_at=utcnow() + ttl,
            )
        )
    return format_token(token_id, secret), device_id


async def auth_headers(db: Database, user: User, **kwargs: Any) -> dict[str, str]:
    """``Authorization`` headers for ``user`` on a fresh device."""
    token, _ = await issue_token(db, user, **kwargs)
    return {"Authorization": f"Bearer {token}"}
