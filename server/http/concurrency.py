"""Optimistic concurrency over REST: an ``ETag`` on every record, ``If-Match`` on writes.

A record's ETag is its ``version`` (``"3"``). ``PATCH`` and ``DELETE`` take the version the client
last saw in ``If-Match`` (or, for clients that cannot set headers, a ``version`` field in the
PATCH body); the change writer compares it with the stored version under a row lock, and a
mismatch answers 412 ``version_mismatch`` with the current version in ``data``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response
from litestar.params import HeaderParameter

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description=(
            'The ETag (version) of the record as last read, e.g. "3": the write is refused '
            "with 412 version_mismatch when the record has changed since."
        ),
    ),
]


def etag_of(version: int) -> str:
    """The ETag of a record at ``version``."""
    return f'"{version}"'


def _tag_version(tag: str) -> int | None:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    return int(tag) if tag.isdigit() else None  # another server's tag never matches


def expected_version(
    if_match: str | None, body_version: int | msgspec.UnsetType = msgspec.UNSET
) -> frozenset[int] | None:
    """The versions a write may apply to (None: any), from ``If-Match`` and the body's ``version``.

    ``If-Match: *`` (or no header) checks nothing; a list of tags allows any of them; when both
    the header and the body name versions, the record must be at one that both allow.
    """
    allowed: frozenset[int] | None = None
    if if_match is not None and if_match.strip() not in ("", "*"):
        tags = (_tag_version(tag) for tag in if_match.split(","))
        allowed = frozenset(v for v in tags if v is not None)
    if isinstance(body_version, int):
        allowed = frozenset({body_version}) if allowed is None else allowed & {body_version}
    return allowed


async def add_etag(response: Any) -> Any:
    """``after_request``: a successful response carrying one record gets its version as ETag.

    Async so that it runs on the loop (a plain function would be sent to a thread); responses
    already encoded (the sync endpoints' ``ASGIResponse``) pass untouched.
    """
    if isinstance(response, Response):
        version = getattr(response.content, "version", None)
        status = response.status_code or 200
        if type(version) is int and 200 <= status < 300:
            response.headers["ETag"] = etag_of(version)
    return response
