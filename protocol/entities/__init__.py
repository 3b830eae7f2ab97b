"""Every syncable entity's wire record, one definition shared by the server and the SDK.

The server's ``EntitySpec`` of each entity is built from its ``EntityDef`` (same record Struct,
same server-owned and create-only fields, same read-only flag); the SDK validates every local
write and query against ``CATALOG`` before anything is stored or queued.
"""

from __future__ import annotations

from protocol.entities.accounts import ACCOUNT, CONTACT
from protocol.entities.calendar import CALENDAR_EVENT
from protocol.entities.catalog import PRICE_LIST, PRICE_LIST_ENTRY, PRODUCT, PRODUCT_CATEGORY
from protocol.entities.contracts import CONTRACT, INSTALMENT, RECEIVABLE
from protocol.entities.definition import ENGINE_FIELDS, EntityDef, NoParams
from protocol.entities.documents import ORDER, QUOTE
from protocol.entities.expenses import EXPENSE
from protocol.entities.opportunities import OPPORTUNITY
from protocol.entities.stock import STOCK_BALANCE, WAREHOUSE
from protocol.entities.territories import TERRITORY
from protocol.entities.visits import VISIT
from protocol.sync import ConflictRecord

# The engine's own read-only entity: conflict records shown to the pusher and the new owner.
CONFLICT = EntityDef(name="conflict", record=ConflictRecord, writable=False, deletable=False)

CATALOG: dict[str, EntityDef] = {
    definition.name: definition
    for definition in (
        ACCOUNT,
        CONTACT,
        PRODUCT_CATEGORY,
        PRODUCT,
        PRICE_LIST,
        PRICE_LIST_ENTRY,
        WAREHOUSE,
        STOCK_BALANCE,
        TERRITORY,
        CALENDAR_EVENT,
        VISIT,
        OPPORTUNITY,
        QUOTE,
        ORDER,
        CONTRACT,
        INSTALMENT,
        RECEIVABLE,
        EXPENSE,
        CONFLICT,
    )
}

__all__ = ["CATALOG", "CONFLICT", "ENGINE_FIELDS", "EntityDef", "NoParams"]
