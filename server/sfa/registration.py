"""Registers every syncable SFA entity, and the scope provider, with the sync engine."""

from __future__ import annotations

from server.settings import Settings
from server.sync.registry import SyncRegistry


def register_entities(registry: SyncRegistry, settings: Settings | None = None) -> None:
    """Called once by ``create_app``; each area adds its entities here (``settings`` configure
    the domain rules of actions: the defaults without them)."""
    from server.sfa.accounts.sync import account_specs
    from server.sfa.catalog.sync import catalog_specs
    from server.sfa.scopes import scope_provider
    from server.sfa.stock.sync import stock_specs
    from server.sfa.territories.sync import territory_specs

    for core_spec in (*account_specs(), *catalog_specs(), *stock_specs(), *territory_specs()):
        registry.register(core_spec)
    registry.set_scope_provider(scope_provider, cacheable=True)  # server/cache_epochs.py
    from server.sfa.calendar.sync import calendar_event_spec
    from server.sfa.contracts.sync import contract_specs
    from server.sfa.expenses.sync import expense_spec
    from server.sfa.opportunities.sync import opportunity_spec
    from server.sfa.orders.statistics_keeper import follow_moved_orders, order_stats_observer
    from server.sfa.orders.sync import order_spec
    from server.sfa.quotes.sync import quote_spec
    from server.sfa.visits.sync import visit_spec

    for entity_spec in (
        calendar_event_spec(),
        visit_spec(settings or Settings()),
        opportunity_spec(),
        quote_spec(settings),
        order_spec(),
        *contract_specs(),
        expense_spec(),
    ):
        registry.register(entity_spec)
    registry.observe("order", order_stats_observer((settings or Settings()).company_timezone))
    registry.observe_moves("order", follow_moved_orders)
