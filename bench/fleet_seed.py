"""The fleet benchmark's company: many reps, each with a device, a token and a small territory.

Rows are written in bulk with Core (users, devices, tokens, memberships) and through the
``ChangeWriter`` (territories, accounts: syncable records need their change-log rows). Tokens are
minted here with the server's secret key, as ``outpost`` would, without a login per device.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

from bench.seed import Generator
from protocol.ids import uuid7
from server.auth.models import AccessToken, Device, User
from server.auth.passwords import KdfParams, hash_password
from server.auth.tokens import format_token, hash_secret, new_secret
from server.db import Database, utcnow
from server.sfa.territories.models import TerritoryMember
from server.sync.writer import ChangeWriter

REPS_PER_TERRITORY = 10
ACCOUNTS_PER_TERRITORY = 4


@dataclass(frozen=True)
class FleetDevice:
    """One rep's phone: its bearer token and device id."""

    token: str
    device_id: str
    territory_id: str


async def seed_fleet(
    db: Database, writer: ChangeWriter, *, devices: int, secret_key: str
) -> list[FleetDevice]:
    """``devices`` reps (one device and token each) in ``devices / 10`` territories of 4
    accounts; returns the devices."""
    now = utcnow()
    password_hash = hash_password("fleet-bench", KdfParams(memory_kib=8, time_cost=1))
    leaves = [uuid7() for _ in range(-(-devices // REPS_PER_TERRITORY))]
    generator = Generator(17, [])
    users: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    device_rows: list[dict[str, Any]] = []
    token_rows: list[dict[str, Any]] = []
    fleet: list[FleetDevice] = []
    for index in range(devices):
        user_id, device_id, token_id = uuid7(), uuid.uuid4(), uuid7()
        users.append(
            {
                "id": user_id,
                "email": f"fleet{index:05d}@outpost.example",
                "name": f"Rep {index}",
                "role": "rep",
                "manager_id": None,
                "password_hash": password_hash,
                "timezone": "UTC",
                "active": True,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        members.append(
            {
                "territory_id": leaves[index // REPS_PER_TERRITORY],
                "user_id": user_id,
                "created_at": now,
            }
        )
        device_rows.append(
            {
                "id": device_id,
                "user_id": user_id,
                "name": "fleet phone",
                "active": True,
                "created_at": now,
                "last_seen_at": None,
            }
        )
        secret = new_secret()
        token_rows.append(
            {
                "id": token_id,
                "user_id": user_id,
                "device_id": device_id,
                "secret_hash": hash_secret(secret, secret_key),
                "created_at": now,
                "expires_at": now + dt.timedelta(days=1),
                "revoked_at": None,
            }
        )
        territory = str(leaves[index // REPS_PER_TERRITORY])
        fleet.append(FleetDevice(format_token(token_id, secret), str(device_id), territory))
    async with db.transaction() as session:
        await writer.create_many(
            session,
            "territory",
            [
                {"id": leaf, "name": f"Fleet {i}", "level": "territory", "parent_id": None}
                for i, leaf in enumerate(leaves)
            ],
            principal=None,
        )
        for table, rows in (
            (User, users),
            (Device, device_rows),
            (AccessToken, token_rows),
            (TerritoryMember, members),
        ):
            await session.execute(sa.insert(cast(sa.Table, table.__table__)), rows)
        accounts = [
            generator.account(leaf, uuid.UUID(str(users[i * REPS_PER_TERRITORY]["id"])))
            for i, leaf in enumerate(leaves)
            for _ in range(ACCOUNTS_PER_TERRITORY)
        ]
        await writer.create_many(session, "account", accounts, principal=None)
    return fleet
