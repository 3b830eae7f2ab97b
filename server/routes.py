"""Every route handler of the API, one line per area."""

from __future__ import annotations

from typing import Any


def route_handlers() -> list[Any]:
    """The controllers and routers that ``create_app`` mounts."""
    from server.http.health import health, ready

    handlers: list[Any] = [health, ready]
    from server.auth.controller import AuthController, DeviceController

    handlers += [AuthController, DeviceController]
    from server.sfa.users.controller import UserController

    handlers += [UserController]
    from server.sync.controller import SyncController

    handlers += [SyncController]
    from server.sfa.accounts.contact_controller import ContactController
    from server.sfa.accounts.controller import AccountController
    from server.sfa.catalog.controller import CategoryController, ProductController
    from server.sfa.catalog.price_list_controller import PriceListController
    from server.sfa.stock.controller import StockController, WarehouseController
    from server.sfa.territories.controller import TerritoryController
    from server.sfa.territories.realignment_controller import RealignmentController
    from server.sfa.territories.rule_controller import TerritoryRuleController

    handlers += [AccountController, ContactController, CategoryController, ProductController]
    handlers += [PriceListController, WarehouseController, StockController, TerritoryController]
    handlers += [TerritoryRuleController, RealignmentController]
    from server.sfa.visits.controller import VisitController

    handlers += [VisitController]
    from server.sfa.pricing.controller import ApprovalController

    handlers += [ApprovalController]
    from server.sfa.orders.controller import OrderDeskController
    from server.sfa.quotes.controller import QuoteController

    handlers += [OrderDeskController, QuoteController]
    from server.sfa.collections.controller import FinanceController, PaymentController
    from server.sfa.contracts.attachment_controller import AttachmentController
    from server.sfa.contracts.controller import ContractController

    handlers += [ContractController, AttachmentController, PaymentController, FinanceController]
    from server.sfa.orders.statistics_controller import OrderStatisticsController

    handlers += [OrderStatisticsController]
    from server.notifications.controller import NotificationController, PushTokenController

    handlers += [PushTokenController, NotificationController]
    from server.sfa.purchasing.order_controller import PurchaseOrderController
    from server.sfa.purchasing.payable_controller import PayableController
    from server.sfa.purchasing.supplier_controller import SupplierController

    handlers += [SupplierController, PurchaseOrderController, PayableController]
    from server.sfa.expenses.controller import ExpenseController
    from server.sfa.expenses.receipt_controller import ReceiptController

    handlers += [ExpenseController, ReceiptController]
    from server.sfa.commissions.controller import (
        CommissionPlanController,
        CreditSplitController,
        DisputeController,
        StatementController,
    )

    handlers += [CommissionPlanController, CreditSplitController, StatementController]
    handlers += [DisputeController]
    return handlers
