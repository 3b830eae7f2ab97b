"""Per-device push bookkeeping: the device row (last applied mutation) and the receipts (one
row per push)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.sync import Mutation, MutationResult
from server.db import utcnow
from server.sync.bulk import chunks
from server.sync.models import sync_devices, sync_receipts, sync_refused
from server.sync.position import is_postgres
from server.sync.sql import insert_ignore

_canonical = msgspec.json.Encoder(order="deterministic", decimal_format="string")
_results_encoder = msgspec.json.Encoder(decimal_format="string")
_results_decoder = msgspec.json.Decoder(list[MutationResult])
DIGEST = 32  # bytes of a sha256 digest


def body_hash(mutation: Mutation) -> bytes:
    """sha256 digest of the mutation's canonical JSON (sorted keys, defaults omitted)."""
    return hashlib.sha256(_canonical.encode(mutation)).digest()


async def lock_device(
    session: AsyncSession, device_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[int, str | None]:
    """Lock the device row (created if new) until commit; returns (last_mid, keyset hash).

    Two pushes of one device serialize here (FOR UPDATE on PostgreSQL; SQLite writers are
    serialized already).
    """
    locking = (
        sa.select(sync_devices.c.last_mid, sync_devices.c.keyset_hash)
        .where(sync_devices.c.device_id == device_id)
        .with_for_update()
    )
    row = (await session.execute(locking)).first()
    if row is None:  # a device's first push (or pull): one more statement, once
        await insert_ignore(
            session,
            sync_devices,
            {"device_id": device_id, "user_id": user_id, "last_mid": 0, "updated_at": utcnow()},
        )
        row = (await session.execute(locking)).one()
    return int(row[0]), row[1]


async def load_receipts(
    session: AsyncSession, device_id: uuid.UUID, mids: Sequence[int]
) -> dict[int, tuple[bytes, MutationResult]]:
    """Stored (body hash, result) of the device's mutations among ``mids``, read from the
    receipts of the pushes whose numbers overlap theirs."""
    if not mids:
        return {}
    wanted = set(mids)
    rows = await session.execute(
        sa.select(sync_receipts.c.first_mid, sync_receipts.c.hashes, sync_receipts.c.results)
        .where(sync_receipts.c.device_id == device_id)
        .where(sync_receipts.c.last_mid >= min(wanted))
        .where(sync_receipts.c.first_mid <= max(wanted))
    )
    found: dict[int, tuple[bytes, MutationResult]] = {}
    for first, hashes, results in rows:
        first, hashes = int(first), bytes(hashes)
        for offset, result in enumerate(_results_decoder.decode(results)):
            if first + offset in wanted:
                digest = hashes[offset * DIGEST : (offset + 1) * DIGEST]
                found[first + offset] = (digest, result)
    return found


async def records_named(
    session: AsyncSession, device_id: uuid.UUID, record_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``record_ids`` an earlier rejected mutation of the device named while they did
    not exist (kept as long as receipts)."""
    found: set[uuid.UUID] = set()
    for chunk in chunks(record_ids):
        rows = await session.execute(
            sa.select(sync_refused.c.record_id)
            .where(sync_refused.c.device_id == device_id)
            .where(sync_refused.c.record_id.in_(chunk))
        )
        found.update(rid for (rid,) in rows)
    return found


async def store_receipts(
    session: AsyncSession,
    device_id: uuid.UUID,
    first_mid: int,
    receipts: list[tuple[bytes, MutationResult]],
    refused: Sequence[uuid.UUID] = (),
) -> None:
    """Store the results of a push's newly applied mutations (numbered from ``first_mid``) as
    one row and move the device's last applied number past them (one statement on
    PostgreSQL); keep the missing records its rejected mutations named."""
    if not receipts:
        return
    now, last_mid = utcnow(), first_mid + len(receipts) - 1
    receipt = sa.insert(sync_receipts).values(
        device_id=device_id,
        first_mid=first_mid,
        last_mid=last_mid,
        hashes=b"".join(digest for digest, _ in receipts),
        results=_results_encoder.encode([result for _, result in receipts]),
        created_at=now,
    )
    moved = (
        sa.update(sync_devices)
        .where(sync_devices.c.device_id == device_id)
        .values(last_mid=last_mid, updated_at=now)
    )
    if is_postgres(session):  # a data-modifying WITH: both writes in one round trip
        await session.execute(moved.add_cte(receipt.cte("receipt")))
    else:
        await session.execute(receipt)
        await session.execute(moved)
    if refused:
        rows = [{"device_id": device_id, "record_id": rid, "created_at": now} for rid in refused]
        await insert_ignore(session, sync_refused, rows)
