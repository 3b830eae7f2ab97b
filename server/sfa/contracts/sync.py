"""Contracts, instalments and receivables as read-only syncable entities.

A contract and an account's receivables live under the account (``parent``), an instalment
under its contract: each goes to the devices that hold the account, and moves with it when the
account changes territory or owner. Devices never write them (``writable=False``); managers and
the back office do over REST, through the change writer.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from protocol.entities.contracts import CONTRACT, INSTALMENT, RECEIVABLE
from server.sfa.collections.models import Receivable
from server.sfa.contracts.models import Contract, Instalment
from server.sfa.visits.account_scope import scope_of_account_child
from server.sync.registry import EntitySpec


def contract_specs() -> list[EntitySpec]:
    """``contract``, ``instalment`` and ``receivable``."""
    return [
        EntitySpec.of(
            CONTRACT,
            table=cast(sa.Table, Contract.__table__),
            scope=scope_of_account_child,
            parent=("account", "account_id"),
        ),
        EntitySpec.of(
            INSTALMENT,
            table=cast(sa.Table, Instalment.__table__),
            # the account is the instalment's too: resolved from it when the contract has no
            # engine state yet
            scope=scope_of_account_child,
            parent=("contract", "contract_id"),
        ),
        EntitySpec.of(
            RECEIVABLE,
            table=cast(sa.Table, Receivable.__table__),
            scope=scope_of_account_child,
            parent=("account", "account_id"),
        ),
    ]
