"""The opaque pull cursor: a small MessagePack array, signed with the server's secret key.

``[format, txid, seq, held, possible, target, catch_txid, catch_seq, total, sent, floor_txid,
floor_seq]``: the stream position, the hashes of the keysets the device certainly / possibly
holds, the keyset a catch-up phase is moving it to (empty when streaming), the catch-up position,
initial-sync progress (total -1 when not in an initial sync), and the pruning horizon in force
when the stream started from the beginning. Signed together with the device id, so a cursor is only
valid for the device it was served to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid

import msgspec

from server.errors import BadRequest
from server.sync.position import Position

FORMAT = 1
_MAC_BYTES = 16


class CursorState(msgspec.Struct, array_like=True, frozen=True):
    """What a pull cursor carries."""

    format: int
    txid: int
    seq: int
    held: str
    possible: str
    target: str = ""
    catch_txid: int = 0
    catch_seq: int = 0
    total: int = -1
    sent: int = 0
    floor_txid: int = 0
    floor_seq: int = 0

    @property
    def position(self) -> Position:
        """The stream position."""
        return (self.txid, self.seq)

    @property
    def seen(self) -> Position:
        """How far the device is known to be complete: its position, or the pruning horizon
        its stream started after (nothing below it can be missing)."""
        return max(self.position, (self.floor_txid, self.floor_seq))

    @property
    def catch_position(self) -> Position:
        """The catch-up scan position."""
        return (self.catch_txid, self.catch_seq)


_decoder = msgspec.msgpack.Decoder(CursorState)
_encoder = msgspec.msgpack.Encoder()


def _mac(secret: str, device_id: uuid.UUID, body: bytes) -> bytes:
    return hmac.new(secret.encode(), device_id.bytes + body, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(state: CursorState, *, secret: str, device_id: uuid.UUID) -> str:
    """The signed opaque string for ``state``."""
    body = _encoder.encode(state)
    return base64.urlsafe_b64encode(body + _mac(secret, device_id, body)).decode().rstrip("=")


def decode_cursor(text: str, *, secret: str, device_id: uuid.UUID) -> CursorState:
    """The state of a cursor this server signed for this device; 400 ``invalid_cursor`` else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error) as exc:
        raise _invalid() from exc
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, device_id, body)):
        raise _invalid()
    try:
        state = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise _invalid() from exc
    if state.format != FORMAT:
        raise _invalid()
    return state


def _invalid() -> BadRequest:
    return BadRequest("cursor is not valid", field="cursor", code="invalid_cursor")
