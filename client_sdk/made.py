"""Records an action makes on the server that the SDK builds locally at once (the order of a
``quote.convert``), by the action's op: given the action's parameters, their (entity, id).

When the server refuses such an action, the records it would have made never exist there: the
sync loop removes their local copies and the mutations queued for them (``client_sdk.sync``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from client_sdk.store import RecordKey


def _converted_order(params: dict[str, Any]) -> list[RecordKey]:
    order_id = params.get("order_id")
    return [("order", str(order_id))] if order_id else []


MADE_BY: dict[str, Callable[[dict[str, Any]], list[RecordKey]]] = {
    "quote.convert": _converted_order,
}


def made_by(op: str, params: dict[str, Any]) -> list[RecordKey]:
    """The local records the action ``op`` built with these parameters (none for most)."""
    made = MADE_BY.get(op)
    return made(params) if made is not None else []
