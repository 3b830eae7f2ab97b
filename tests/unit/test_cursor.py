"""Pull cursors: opaque, signed per device, and refused with ``invalid_cursor`` when tampered."""

from __future__ import annotations

import base64
import uuid

import msgspec
import pytest

from server.errors import BadRequest
from server.sync.cursor import FORMAT, CursorState, decode_cursor, encode_cursor

DEVICE = uuid.UUID("01900000-0000-7000-8000-000000000001")
SECRET = "unit-secret"


def state() -> CursorState:
    return CursorState(FORMAT, 812, 44_000, "a" * 32, "b" * 32, "", 0, 0, 100, 40, 3, 9)


def test_round_trip_keeps_every_field() -> None:
    text = encode_cursor(state(), secret=SECRET, device_id=DEVICE)
    assert "=" not in text and "+" not in text and "/" not in text  # url-safe, opaque
    decoded = decode_cursor(text, secret=SECRET, device_id=DEVICE)
    assert decoded == state()
    assert decoded.position == (812, 44_000)
    assert decoded.seen == (812, 44_000)
    assert msgspec.structs.replace(decoded, txid=0, seq=0).seen == (3, 9)


def _refused(text: str, *, secret: str = SECRET, device: uuid.UUID = DEVICE) -> None:
    with pytest.raises(BadRequest) as info:
        decode_cursor(text, secret=secret, device_id=device)
    assert info.value.code == "invalid_cursor" and info.value.field == "cursor"
    assert info.value.status == 400


def test_garbage_tampered_foreign_and_truncated_cursors_are_invalid() -> None:
    text = encode_cursor(state(), secret=SECRET, device_id=DEVICE)
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[3] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in ("", "!!!", "abc", tampered, text[:10]):
        _refused(bad)
    _refused(text, secret="another-secret")
    _refused(text, device=uuid.uuid4())


def test_a_signed_cursor_of_an_unknown_format_is_invalid() -> None:
    future = msgspec.structs.replace(state(), format=FORMAT + 1)
    _refused(encode_cursor(future, secret=SECRET, device_id=DEVICE))
