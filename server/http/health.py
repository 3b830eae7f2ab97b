"""Liveness and readiness."""

from __future__ import annotations

import msgspec
from litestar import get


class Health(msgspec.Struct):
    status: str


@get("/health", tags=["system"], exclude_from_auth=True, sync_to_thread=False)
def health() -> Health:
    """Always ``ok`` while the process serves requests."""
    return Health(status="ok")
