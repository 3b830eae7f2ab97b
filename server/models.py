"""Imports every model module so ``Base.metadata`` is complete (for Alembic and tests)."""

from server.auth import models as auth_models
from server.db import Base
from server.sfa.accounts import models as account_models
from server.sfa.calendar import models as calendar_models
from server.sfa.catalog import models as catalog_models
from server.sfa.expenses import models as expense_models
from server.sfa.opportunities import models as opportunity_models
from server.sfa.orders import models as order_models
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
    "calendar_models",
    "catalog_models",
    "expense_models",
    "opportunity_models",
    "order_models",
    "pricing_models",
    "purchasing_models",
    "quote_models",
    "stock_models",
    "sync_models",
    "territory_models",
    "visit_models",
]
