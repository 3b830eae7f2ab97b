"""The ``opportunity`` record (a deal in the sales funnel)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

import msgspec

from protocol.entities.definition import EntityDef
from protocol.entities.fields import AwareDateTime, Reason, Title

CENT = Decimal("0.01")


class Stage(enum.StrEnum):
    INITIAL_CONTACT = "initial_contact"
    INTENT = "intent"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"


class OpportunityRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An opportunity on the wire."""

    id: uuid.UUID
    version: int = 1
    account_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    name: Title = ""
    stage: Stage = Stage.INITIAL_CONTACT
    amount: Decimal = Decimal(0)
    probability: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    expected_close: dt.date | None = None
    lost_reason: Reason = ""
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None

    def __post_init__(self) -> None:
        # an amount of money in cents, the same string on SQLite and PostgreSQL (NUMERIC(18, 4))
        if self.amount.is_finite():
            self.amount = self.amount.quantize(CENT, rounding=ROUND_HALF_UP)


OPPORTUNITY = EntityDef(name="opportunity", record=OpportunityRecord)
