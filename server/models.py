"""Imports every model module so ``Base.metadata`` is complete (for Alembic and tests)."""

from server.auth import models as auth_models
from server.db import Base
from server.sfa.accounts import models as account_models
from server.sfa.catalog import models as catalog_models
from server.sfa.stock import models as stock_models
from server.sfa.territories import models as territory_models
from server.sync import models as sync_models

__all__ = [
    "Base",
    "account_models",
    "auth_models",
    "catalog_models",
    "stock_models",
    "sync_models",
    "territory_models",
]
