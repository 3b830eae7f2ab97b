"""Expense reports end to end: a rep creates one offline in the SDK, submits it, syncs; the
manager approves it over REST; the device sees the decision. Another rep never sees it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest

from client_sdk.errors import ConflictError, LocalValidationError
from protocol.ids import uuid7
from server.settings import Settings
from tests.builders import issue_token
from tests.e2e.conftest import World


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Receipts uploaded here go to the test's directory."""
    return msgspec.structs.replace(settings, files_dir=str(tmp_path / "files"))


def headers(world: World, user: object) -> dict[str, str]:
    token, _ = world.run(issue_token, world.db, user)
    return {"Authorization": f"Bearer {token}"}


def test_offline_report_approved_by_the_manager_reaches_the_device(world: World) -> None:
    manager = world.user("manager")
    rep = world.user("rep", manager=manager)
    other = world.user("rep", manager=manager)
    world.territory("Lyon", rep, manager)
    phone = world.device(rep, "phone")
    other_phone = world.device(other, "other")
    phone.sync()
    user_id = phone.user.id  # type: ignore[union-attr]
    line = {"date": "2026-03-02", "category": "lodging", "currency": "EUR", "note": "hotel"}
    report = phone.create(
        "expense",
        {
            "owner_id": user_id,
            "title": "Lyon trade fair",
            "lines": [{"id": "01950000-0000-7000-8000-000000000001", "amount": "120.50", **line}],
        },
    )
    with pytest.raises(LocalValidationError):  # refused offline, before anything is queued
        phone.create(
            "expense",
            {"owner_id": user_id, "lines": [{"id": report, "amount": "-1", **line}]},
        )
    phone.action("expense", report, "submit")
    phone.sync()  # pushed while offline work waited
    assert phone.get("expense", report)["status"] == "submitted"  # type: ignore[index]
    assert phone.rejected_mutations() == []

    boss = headers(world, manager)
    decided = world.app_client.post(
        f"/expense-reports/{report}/approve", json={"note": "approved"}, headers=boss
    )
    assert decided.status_code == 200, decided.text
    world.settle(phone, other_phone)
    seen = phone.get("expense", report)
    assert seen is not None
    assert (seen["status"], seen["decision_note"], seen["decided_by"]) == (
        "approved",
        "approved",
        str(manager.id),  # type: ignore[attr-defined]
    )
    assert other_phone.get("expense", report) is None
    assert other_phone.count("expense") == 0
    totals = world.app_client.get(
        "/expense-reports/totals?since=2026-03-01&until=2026-03-31", headers=boss
    ).json()
    assert totals["items"][0]["totals"] == [{"currency": "EUR", "amount": "120.50", "lines": 1}]


def test_a_receipt_linked_offline_is_uploaded_then_synced_and_only_its_rep_links_it(
    world: World,
) -> None:
    manager = world.user("manager")
    rep = world.user("rep", manager=manager)
    other = world.user("rep", manager=manager)
    world.territory("Lyon", rep, manager)
    phone, other_phone = world.device(rep, "phone"), world.device(other, "other")
    phone.sync()
    other_phone.sync()
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    receipt_id = str(uuid7())
    line = {"date": "2026-03-02", "category": "transport", "currency": "EUR", "amount": "18"}
    # offline: the line names the receipt the phone just took
    report = phone.create(
        "expense",
        {
            "owner_id": phone.user.id,  # type: ignore[union-attr]
            "lines": [{"id": str(uuid7()), "receipt_attachment_id": receipt_id, **line}],
        },
    )
    # online again: the receipt goes up first, then the push
    stored = phone.upload_receipt(photo, "taxi.jpg", "image/jpeg", receipt_id=receipt_id)
    assert (stored["id"], stored["sha256"]) == (receipt_id, hashlib.sha256(photo).hexdigest())
    # a retry whose answer was lost answers the same record; another file under the id is refused
    assert phone.upload_receipt(photo, "taxi.jpg", "image/jpeg", receipt_id=receipt_id) == stored
    with pytest.raises(ConflictError):
        phone.upload_receipt(photo[::-1], "taxi.jpg", "image/jpeg", receipt_id=receipt_id)
    phone.sync()
    assert phone.rejected_mutations() == []
    assert world.load("expense", report)["lines"][0]["receipt_attachment_id"] == receipt_id  # type: ignore[index]
    content = world.app_client.get(
        f"/expense-receipts/{receipt_id}/content", headers=headers(world, manager)
    )
    assert content.status_code == 200 and content.content == photo
    refused = world.app_client.get(
        f"/expense-receipts/{receipt_id}/content", headers=headers(world, other)
    )
    assert refused.status_code == 404

    # another rep's device naming that receipt is rejected, with the line's field
    stolen = other_phone.create(
        "expense",
        {
            "owner_id": other_phone.user.id,  # type: ignore[union-attr]
            "lines": [{"id": str(uuid7()), "receipt_attachment_id": receipt_id, **line}],
        },
    )
    other_phone.sync()
    [rejected] = other_phone.rejected_mutations()
    assert (rejected.record_id, rejected.code, rejected.field) == (
        stolen,
        "unknown_receipt",
        "lines.0.receipt_attachment_id",
    )
    assert world.load("expense", stolen) is None
