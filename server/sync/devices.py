"""Per-device push bookkeeping: the device row (last applied mutation) and the receipts."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.sync import Mutation, MutationResult
from server.db import utcnow
from server.sync.bulk import chunks, insert_rows
from server.sync.models import sync_devices, sync_receipts
from server.sync.sql import insert_ignore

_canonical = msgspec.json.Encoder(order="deterministic", decimal_format="string")
_result_encoder = msgspec.json.Encoder(decimal_format="string")
_result_decoder = msgspec.json.Decoder(MutationResult)


def body_hash(mutation: Mutation) -> str:
    """sha256 of the mutation's canonical JSON (sorted keys, defaults omitted)."""
    return hashlib.sha256(_canonical.encode(mutation)).hexdigest()


async def lock_device(
    session: AsyncSession, device_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[int, str | None]:
    """Lock the device row (created if new) until commit; returns (last_mid, keyset hash).

    Two pushes of one device serialize here (FOR UPDATE on PostgreSQL; SQLite writers are
    serialized already).
    """
    await insert_ignore(
        session,
        sync_devices,
        {"device_id": device_id, "user_id": user_id, "last_mid": 0, "updated_at": utcnow()},
    )
    row = (
        await session.execute(
            sa.select(sync_devices.c.last_mid, sync_devices.c.keyset_hash)
            .where(sync_devices.c.device_id == device_id)
            .with_for_update()
        )
    ).one()
    return int(row[0]), row[1]


async def set_last_mid(session: AsyncSession, device_id: uuid.UUID, last_mid: int) -> None:
    """Record the last applied mutation number of a device."""
    await session.execute(
        sa.update(sync_devices)
        .where(sync_devices.c.device_id == device_id)
        .values(last_mid=last_mid, updated_at=utcnow())
    )


async def load_receipts(
    session: AsyncSession, device_id: uuid.UUID, mids: Sequence[int]
) -> dict[int, tuple[str, bytes]]:
    """Stored (body hash, result bytes) of the device's mutations among ``mids``."""
    found: dict[int, tuple[str, bytes]] = {}
    for chunk in chunks(mids):
        rows = await session.execute(
            sa.select(sync_receipts.c.mid, sync_receipts.c.body_hash, sync_receipts.c.result)
            .where(sync_receipts.c.device_id == device_id)
            .where(sync_receipts.c.mid.in_(chunk))
        )
        for mid, digest, result in rows:
            found[int(mid)] = (digest, bytes(result))
    return found


async def records_named(
    session: AsyncSession, device_id: uuid.UUID, record_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``record_ids`` an earlier mutation of the device named (receipts kept)."""
    found: set[uuid.UUID] = set()
    for chunk in chunks(record_ids):
        rows = await session.execute(
            sa.select(sync_receipts.c.record_id)
            .where(sync_receipts.c.device_id == device_id)
            .where(sync_receipts.c.record_id.in_(chunk))
            .distinct()
        )
        found.update(rid for (rid,) in rows)
    return found


async def store_receipts(
    session: AsyncSession,
    device_id: uuid.UUID,
    receipts: list[tuple[int, str, MutationResult, uuid.UUID]],
) -> None:
    """Store the results of newly applied mutations, with the record each one named."""
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "device_id": device_id,
            "mid": mid,
            "body_hash": digest,
            "result": _result_encoder.encode(result),
            "record_id": record_id,
            "created_at": now,
        }
        for mid, digest, result, record_id in receipts
    ]
    await insert_rows(session, sync_receipts, rows)


def decode_result(raw: bytes) -> MutationResult:
    """A stored result, as it was first answered."""
    return _result_decoder.decode(raw)
