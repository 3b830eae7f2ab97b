"""Imports every model module so ``Base.metadata`` is complete (for Alembic and tests)."""

from server import cache_epochs
from server.auth import models as auth_models
from server.db import Base
from server.notifications import models as notification_models
from server.sfa.accounts import models as account_models
from server.sfa.calendar import models as calendar_models
from server.sfa.catalog import models as catalog_models
from server.sfa.collections import models as collection_models
from server.sfa.commissions import models as commission_models
from server.sfa.contracts import models as contract_models
from server.sfa.expenses import models as expense_models
from server.sfa.opportunities import models as opportunity_models
from server.sfa.orders import models as order_models
from server.sfa.orders import statistics_models as order_statistics_models
from server.sfa.pricing import models as pricing_models
from server.sfa.purchasing import models as purchasing_models
from server.sfa.quotes import models as quote_models
from server.sfa.stock import models as stock_models
from server.sfa.territories import models as territory_models
from server.sfa.visits import models as visit_models
from server.sync import models as sync_models

__all__ = [
    "Base",
    "account_models",
    "auth_models",
    "cache_epochs",
    "calendar_models",
    "catalog_models",
    "collection_models",
    "commission_models",
    "contract_models",
    "notification_models",
    "expense_models",
    "opportunity_models",
    "order_models",
    "order_statistics_models",
    "pricing_models",
    "purchasing_models",
    "quote_models",
    "stock_models",
    "sync_models",
    "territory_models",
    "visit_models",
]
