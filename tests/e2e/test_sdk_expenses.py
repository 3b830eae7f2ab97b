"""Expense reports end to end: a rep creates one offline in the SDK, submits it, syncs; the
manager approves it over REST; the device sees the decision. Another rep never sees it."""

from __future__ import annotations

import pytest

from client_sdk.errors import LocalValidationError
from tests.builders import issue_token
from tests.e2e.conftest import World


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
