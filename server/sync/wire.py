"""Request bodies in, response bytes out: JSON by default, MessagePack when asked for.

Decoders and encoders are built once here; decode errors become our typed 400/422 errors.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, cast

import msgspec

from protocol import errors as codes
from protocol.sync import MSGPACK, Change, ChangeOp, PullRequest, PullResponse, PushRequest
from server.errors import BadRequest, DomainError, ValidationFailed
from server.sync.pull import PullPage
from server.validation import field_info, readable_problem

T = TypeVar("T")
JSON = "application/json"

_DECODERS: dict[type[Any], tuple[msgspec.json.Decoder[Any], msgspec.msgpack.Decoder[Any]]] = {
    kind: (msgspec.json.Decoder(kind), msgspec.msgpack.Decoder(kind))
    for kind in (PullRequest, PushRequest)
}
_json = msgspec.json.Encoder(decimal_format="string")
_msgpack = msgspec.msgpack.Encoder(decimal_format="string")
_payload = msgspec.json.Decoder()
_PATH = re.compile(r"at `\$\.?([^`]*)`")
_NAMED = re.compile(r"(?:unknown|missing required) field `([^`]*)`")


def is_msgpack(content_type: str | None) -> bool:
    """True when a Content-Type or Accept header names MessagePack."""
    return bool(content_type) and MSGPACK in str(content_type)


def decode_request(body: bytes, content_type: str | None, kind: type[T]) -> T:
    """Decode a request body of type ``kind``; 400 ``malformed_body`` / 422 with the field."""
    json_decoder, msgpack_decoder = _DECODERS[kind]
    decoder = msgpack_decoder if is_msgpack(content_type) else json_decoder
    if not body:
        raise BadRequest(
            "a JSON or MessagePack request body is required", code=codes.MALFORMED_BODY
        )
    try:
        return decoder.decode(body)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        raise _validation_error(str(exc), kind) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(f"body is not valid: {exc}", code=codes.MALFORMED_BODY) from exc
    except RecursionError as exc:  # msgspec refuses nesting deeper than the interpreter's limit
        raise BadRequest("body is nested too deeply", code=codes.MALFORMED_BODY) from exc


def _validation_error(message: str, kind: type[Any]) -> DomainError:
    path = _PATH.search(message)
    named = _NAMED.search(message)
    parts = [p for p in ((path.group(1) if path else ""), (named.group(1) if named else "")) if p]
    field = ".".join(parts).replace("[", ".").replace("]", "") or None
    code = codes.UNKNOWN_FIELD if "unknown field" in message else codes.VALIDATION_ERROR
    problem = _PATH.sub("", message).removesuffix(" - ").strip()
    text, data = readable_problem(problem, field, field_info(kind, field))
    return ValidationFailed(text, field=field, code=code, data=data)


def encode_pull(page: PullPage, msgpack: bool) -> bytes:
    """A pull page as response bytes; JSON payloads are spliced in without re-encoding."""
    if msgpack:
        changes = [
            Change(
                entity,
                rid,
                cast(ChangeOp, op),
                version,
                None if raw is None else _payload.decode(raw),
            )
            for entity, rid, op, version, raw in page.changes
        ]
    else:
        changes = [
            Change(
                entity,
                rid,
                cast(ChangeOp, op),
                version,
                None if raw is None else msgspec.Raw(raw.encode()),
            )
            for entity, rid, op, version, raw in page.changes
        ]
    response = PullResponse(changes, page.cursor, page.has_more, page.reset, page.progress)
    return encode(response, msgpack)


def encode(value: Any, msgpack: bool) -> bytes:
    """Any response value as JSON or MessagePack bytes."""
    return _msgpack.encode(value) if msgpack else _json.encode(value)
