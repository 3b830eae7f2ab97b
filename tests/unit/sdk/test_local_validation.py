"""Local writes and queries are checked offline with the server's entity definitions.

Each refused write raises a typed error at once and stores and queues nothing (before, every one
of them was accepted locally and vanished at sync as ``rejected``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from client_sdk import (
    InvalidValue,
    LocalValidationError,
    NotDeletable,
    OutpostClient,
    ReadOnlyEntity,
    ServerOwnedField,
    UnknownAction,
    UnknownEntity,
    UnknownField,
)
from protocol.entities.fields import NOTES_MAX
from protocol.ids import uuid7
from server.sfa.quotes.lines import apply_totals
from tests.unit.sdk.conftest import offline_http

AT = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def device(tmp_path: Path) -> Iterator[OutpostClient]:
    client = OutpostClient(http=offline_http(), db_path=tmp_path / "device.sqlite3")
    yield client
    client.close()


def refused(
    device: OutpostClient, kind: type[LocalValidationError], code: str, field: str | None
) -> pytest.RaisesContext[LocalValidationError]:
    """Context manager: the write inside raises ``kind`` with ``code`` and ``field``."""

    class Check:
        def __enter__(self) -> None:
            self.pending = device.status().pending

        def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
            assert isinstance(exc, kind), f"expected {kind.__name__}, got {exc!r}"
            assert (exc.code, exc.field) == (code, field)
            assert isinstance(exc, ValueError)  # apps catching ValueError keep working
            assert device.status().pending == self.pending  # nothing queued
            return True

    return Check()  # type: ignore[return-value]


def account(device: OutpostClient) -> str:
    return device.create("account", {"name": "Acme"})


def test_misspelled_entity_raises_instead_of_returning_no_rows(device: OutpostClient) -> None:
    account(device)
    with refused(device, UnknownEntity, "unknown_entity", "entity"):
        device.query("acount")
    with refused(device, UnknownEntity, "unknown_entity", "entity"):
        device.count("acount")
    with refused(device, UnknownEntity, "unknown_entity", "entity"):
        device.get("acount", str(uuid7()))
    with refused(device, UnknownEntity, "unknown_entity", "entity"):
        device.create("acount", {"name": "x"})
    assert device.count("account") == 1


def test_misspelled_field_in_a_query_raises_instead_of_returning_no_rows(
    device: OutpostClient,
) -> None:
    account(device)
    with refused(device, UnknownField, "unknown_field", "citty"):
        device.query("account", {"citty": "Lyon"})
    with refused(device, UnknownField, "unknown_field", "nmae"):
        device.query("account", order_by="-nmae")
    with refused(device, UnknownField, "unknown_field", "citty"):
        device.count("account", {"citty": "Lyon"})
    assert len(device.query("account", {"id": device.query("account")[0]["id"]})) == 1


def test_unknown_field_in_a_local_write_is_refused_before_it_is_queued(
    device: OutpostClient,
) -> None:
    with refused(device, UnknownField, "unknown_field", "nmae"):
        device.create("account", {"nmae": "Acme"})
    rid = account(device)
    with refused(device, UnknownField, "unknown_field", "citty"):
        device.update("account", rid, {"citty": "Lyon"})
    assert device.get("account", rid) == {"id": rid, "version": 0, "name": "Acme"}
    assert device.count("account") == 1


def test_write_to_a_read_only_entity_is_refused_locally(device: OutpostClient) -> None:
    with refused(device, ReadOnlyEntity, "read_only_entity", "entity"):
        device.create("product", {"sku": "A-1", "name": "Widget"})
    with refused(device, ReadOnlyEntity, "read_only_entity", "entity"):
        device.update("product", str(uuid7()), {"name": "Widget"})
    with refused(device, ReadOnlyEntity, "read_only_entity", "entity"):
        device.delete("stock_balance", str(uuid7()))
    assert device.count("product") == 0


def test_delete_of_an_entity_devices_cannot_delete_is_refused_locally(
    device: OutpostClient,
) -> None:
    rid = account(device)
    with refused(device, NotDeletable, "not_deletable", "entity"):
        device.delete("account", rid)
    assert device.get("account", rid) is not None


def test_server_owned_fields_are_refused_locally(device: OutpostClient) -> None:
    with refused(device, ServerOwnedField, "server_owned_field", "credit_limit"):
        device.create("account", {"name": "Acme", "credit_limit": Decimal("10.50")})
    with refused(device, ServerOwnedField, "server_owned_field", "status"):
        device.create("visit", {"account_id": str(uuid7()), "planned_at": AT, "status": "done"})
    with refused(device, ServerOwnedField, "server_owned_field", "total"):
        device.create("quote", {"account_id": str(uuid7()), "total": "1.00"})
    with refused(device, ServerOwnedField, "server_owned_field", "version"):
        device.create("contact", {"account_id": str(uuid7()), "name": "Ann", "version": 3})


def test_create_only_fields_are_accepted_on_create_and_refused_on_edit(
    device: OutpostClient,
) -> None:
    owner = str(uuid7())
    rid = device.create("account", {"name": "Acme", "owner_id": owner})
    assert device.get("account", rid)["owner_id"] == owner  # type: ignore[index]
    with refused(device, ServerOwnedField, "server_owned_field", "owner_id"):
        device.update("account", rid, {"owner_id": str(uuid7())})


def test_naive_datetime_is_refused_locally(device: OutpostClient) -> None:
    naive = dt.datetime(2030, 1, 1, 9)
    with refused(device, InvalidValue, "validation_error", "planned_at"):
        device.create("visit", {"account_id": str(uuid7()), "planned_at": naive})
    vid = device.create("visit", {"account_id": str(uuid7()), "planned_at": AT})
    with refused(device, InvalidValue, "validation_error", "planned_at"):
        device.update("visit", vid, {"planned_at": "2030-01-02T09:00:00"})
    with refused(device, InvalidValue, "validation_error", "at"):
        device.action("visit", vid, "check_in", {"at": naive, "latitude": 1.0, "longitude": 2.0})


def test_lost_opportunity_without_a_reason_is_refused_locally(device: OutpostClient) -> None:
    fields = {"account_id": str(uuid7()), "name": "Autumn deal"}
    with refused(device, InvalidValue, "validation_error", "lost_reason"):
        device.create("opportunity", {**fields, "stage": "lost"})
    rid = device.create("opportunity", fields)
    with refused(device, InvalidValue, "validation_error", "lost_reason"):
        device.update("opportunity", rid, {"stage": "lost", "lost_reason": "  "})
    lost = device.update("opportunity", rid, {"stage": "lost", "lost_reason": "price"})
    assert lost["stage"] == "lost"


def test_shared_record_rules_run_locally(device: OutpostClient) -> None:
    with refused(device, InvalidValue, "validation_error", "account_id"):
        device.create("visit", {"planned_at": AT})
    event = {"title": "Call", "starts_at": AT, "ends_at": AT - dt.timedelta(hours=1)}
    with refused(device, InvalidValue, "validation_error", "ends_at"):
        device.create("calendar_event", event)
    with refused(device, InvalidValue, "validation_error", "amount"):
        device.create("opportunity", {"account_id": str(uuid7()), "name": "x", "amount": "-1"})


def test_text_over_its_maximum_length_is_refused_locally(device: OutpostClient) -> None:
    vid = device.create("visit", {"account_id": str(uuid7()), "planned_at": AT})
    with refused(device, InvalidValue, "validation_error", "notes"):
        device.update("visit", vid, {"notes": "x" * (NOTES_MAX + 1)})
    with refused(device, InvalidValue, "validation_error", "notes"):
        device.create("order", {"account_id": str(uuid7()), "notes": "x" * 7_000_000})
    with refused(device, InvalidValue, "validation_error", "reason"):
        device.action("visit", vid, "cancel", {"reason": "x" * 501})
    device.update("visit", vid, {"notes": "x" * NOTES_MAX})  # the limit itself is fine


def test_wrong_types_and_out_of_range_values_are_refused_locally(device: OutpostClient) -> None:
    with refused(device, InvalidValue, "validation_error", "latitude"):
        device.create("account", {"name": "Acme", "latitude": 91})
    with refused(device, InvalidValue, "validation_error", "segment"):
        device.create("account", {"name": "Acme", "segment": "huge"})
    with refused(device, InvalidValue, "validation_error", "id"):
        device.create("account", {"id": "not-a-uuid", "name": "Acme"})
    line = {"id": str(uuid7()), "product_id": str(uuid7()), "quantity": "0", "unit_price": "1"}
    with refused(device, InvalidValue, "validation_error", "lines[0].quantity"):
        device.create("quote", {"account_id": str(uuid7()), "lines": [line]})


def test_unknown_action_and_unknown_parameters_are_refused_locally(
    device: OutpostClient,
) -> None:
    vid = device.create("visit", {"account_id": str(uuid7()), "planned_at": AT})
    with refused(device, UnknownAction, "unknown_action", "op"):
        device.action("visit", vid, "teleport")
    with refused(device, UnknownField, "unknown_field", "lat"):
        device.action("visit", vid, "check_in", {"at": AT, "lat": 1.0, "longitude": 2.0})
    with refused(device, InvalidValue, "validation_error", "latitude"):
        device.action("visit", vid, "check_in", {"at": AT, "longitude": 2.0})
    device.action("visit", vid, "check_in", {"at": AT, "latitude": 1.0, "longitude": 2.0})
    assert device.pending_mutations()[-1].op == "visit.check_in"


def test_quote_and_order_totals_are_computed_offline_as_the_server_computes_them(
    device: OutpostClient,
) -> None:
    lines = [
        {
            "id": str(uuid7()),
            "product_id": str(uuid7()),
            "quantity": "3",
            "unit_price": "3.17",
            "tax_rate": "0.13",
        },
        {
            "id": str(uuid7()),
            "product_id": str(uuid7()),
            "quantity": "2.5",
            "unit_price": "19.99",
            "discount_pct": "7.5",
            "tax_rate": "0.06",
        },
    ]
    server: dict[str, Any] = {"lines": lines}
    apply_totals(server)  # what the server writes with the record
    for entity in ("quote", "order"):
        rid = device.create(entity, {"account_id": str(uuid.uuid4()), "lines": lines[:1]})
        view = device.update(entity, rid, {"lines": lines})
        totals = {k: view[k] for k in ("subtotal", "tax_total", "total")}
        assert (
            totals
            == {k: server[k] for k in totals}
            == {"subtotal": "55.74", "tax_total": "4.01", "total": "59.75"}
        )
        assert device.get(entity, rid) == view
        # the totals are shown, never sent: they are the server's to compute
        assert "total" not in device.pending_mutations()[-1].changes
