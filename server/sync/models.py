"""Tables owned by the sync engine: the change log, record clocks, devices, receipts, conflicts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, new_id, utcnow

# SQLite must use INTEGER PRIMARY KEY AUTOINCREMENT so a deleted row's number is never reused.
SEQ_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class SyncLog(Base):
    """The latest change of each record under each scope key, ordered by (txid, seq)."""

    __tablename__ = "sync_log"
    __table_args__ = (
        sa.UniqueConstraint("entity", "record_id", "scope_key"),
        sa.Index("ix_sync_log_scope_position", "scope_key", "txid", "seq"),
        sa.Index("ix_sync_log_position", "txid", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=True)
    txid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    entity: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[uuid.UUID] = mapped_column()
    scope_key: Mapped[str] = mapped_column(sa.String(200))
    op: Mapped[str] = mapped_column(sa.String(8))
    version: Mapped[int] = mapped_column()
    payload: Mapped[str | None] = mapped_column(sa.Text)
    origin_device: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncRecord(Base):
    """Engine state of one record: scope key, version, tombstone flag and per-field clocks."""

    __tablename__ = "sync_records"

    entity: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    scope_key: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int] = mapped_column()
    deleted: Mapped[bool] = mapped_column(default=False)
    # {field: [version when last written, hlc, device id or null]}; "*" is every unlisted field
    clocks: Mapped[str] = mapped_column(sa.Text, default="{}")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncDevice(Base):
    """Per device: the last applied mutation number and its held keyset (the keys of the cursor
    it last presented and of the answer it was given: push decides holding from it)."""

    __tablename__ = "sync_devices"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    last_mid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    keyset_hash: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncReceipt(Base):
    """The stored results of one push's applied mutations, numbers ``first_mid..last_mid``
    (a push's new numbers are consecutive), replayed when the device retries them."""

    __tablename__ = "sync_receipts"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_mid: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    first_mid: Mapped[int] = mapped_column(sa.BigInteger)
    # the sha256 digest of each mutation's canonical body, 32 bytes each, in number order
    hashes: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # the JSON array of the mutations' results, in number order
    results: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SyncRefused(Base):
    """A record named by a device's rejected mutation while it did not exist: an upsert of a
    missing record the device named before is an edit of a refused create (``not_found``), not
    a create. Pruned with the receipts."""

    __tablename__ = "sync_refused"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SyncConflict(Base):
    """Both values of a field edited on two sides, or an edit that arrived after its record left
    the pusher's scope. Synced read-only as the entity ``conflict``."""

    __tablename__ = "sync_conflicts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column()
    mid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    kind: Mapped[str] = mapped_column(sa.String(16))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    scope_key: Mapped[str] = mapped_column(sa.String(200), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column()


class SyncKeyset(Base):
    """A set of scope keys by its hash, so cursors can name the keyset they were served with."""

    __tablename__ = "sync_keysets"

    hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    keys: Mapped[str] = mapped_column(sa.Text)


class SyncState(Base):
    """Small named values of the engine (the pruning horizon)."""

    __tablename__ = "sync_state"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


sync_log: sa.Table = SyncLog.__table__  # type: ignore[assignment]
sync_records: sa.Table = SyncRecord.__table__  # type: ignore[assignment]
sync_devices: sa.Table = SyncDevice.__table__  # type: ignore[assignment]
sync_receipts: sa.Table = SyncReceipt.__table__  # type: ignore[assignment]
sync_refused: sa.Table = SyncRefused.__table__  # type: ignore[assignment]
sync_conflicts: sa.Table = SyncConflict.__table__  # type: ignore[assignment]
sync_keysets: sa.Table = SyncKeyset.__table__  # type: ignore[assignment]
sync_state: sa.Table = SyncState.__table__  # type: ignore[assignment]
