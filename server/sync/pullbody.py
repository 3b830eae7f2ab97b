"""A pull page as response bytes: the JSON body is spliced together from the payloads stored in
the log, with no decode or re-encode of any record."""

from __future__ import annotations

import msgspec

from server.sync.pull import PullPage
from server.sync.wire import encode_pull


class _Tail(msgspec.Struct, omit_defaults=True):
    """Everything of a ``PullResponse`` after ``changes``, in its field order."""

    cursor: str
    has_more: bool
    reset: bool = False
    progress: dict[str, int] | None = None


_encode = msgspec.json.Encoder().encode
_quoted: dict[str, str] = {}


def _quote(text: str) -> str:
    # entity names are a handful of registered identifiers: encode each once
    quoted = _quoted.get(text)
    if quoted is None:
        quoted = _quoted[text] = _encode(text).decode()
    return quoted


def pull_body(page: PullPage, msgpack: bool) -> bytes:
    """The response body of ``page`` (same structure as ``protocol.sync.PullResponse``)."""
    if msgpack:
        return encode_pull(page, True)
    parts = []
    for entity, record_id, op, version, payload in page.changes:
        head = f'{{"entity":{_quote(entity)},"id":"{record_id}","op":"{op}","version":{version}'
        parts.append(f"{head}}}" if payload is None else f'{head},"record":{payload}}}')
    tail = _encode(_Tail(page.cursor, page.has_more, page.reset, page.progress))
    return b'{"changes":[' + ",".join(parts).encode() + b"]," + tail[1:]
