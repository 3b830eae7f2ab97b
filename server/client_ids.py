"""Ids a client picks for an idempotent POST (stock movements, payments, purchase receipts).

A retried request carries the id of its first attempt, so the server can answer it again
instead of writing twice; an id must be a UUIDv7 like every id Outpost makes.
"""

from __future__ import annotations

import uuid

from server.db import new_id
from server.errors import ValidationFailed


def client_chosen_id(value: uuid.UUID | None) -> uuid.UUID:
    """The client's id (a UUIDv7, else 422 ``invalid_id`` on ``id``), or a new one."""
    if value is None:
        return new_id()
    if value.version != 7:
        raise ValidationFailed("id must be a UUIDv7", field="id", code="invalid_id")
    return value
