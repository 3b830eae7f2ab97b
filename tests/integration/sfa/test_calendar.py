"""Calendar events: private to their owner, valid times and reminders."""

from __future__ import annotations

import pytest

from protocol.ids import uuid7
from server.errors import DomainError, NotFound, ValidationFailed
from server.sync.registry import Policy
from tests.builders import make_user
from tests.synctools import create_as, device_for, insert_account, registry, update_as

START = "2030-05-06T09:00:00Z"
END = "2030-05-06T10:00:00Z"


def event(**overrides: object) -> dict[str, object]:
    return {
        "kind": "call",
        "title": "Call the buyer",
        "starts_at": START,
        "ends_at": END,
        **overrides,
    }


async def test_the_pusher_owns_the_event_and_it_is_private_to_them(db) -> None:
    rep = await make_user(db, "rep")
    created = await create_as(db, rep, "calendar_event", event(reminder_offsets=[15, 1440]))
    assert created["owner_id"] == str(rep.id)
    assert created["status"] == "open" and created["reminder_offsets"] == [15, 1440]
    async with db.transaction() as session:
        key = await registry().entities["calendar_event"].scope(session, created)
    assert key == f"u:{rep.id}"


async def test_an_edit_keeps_the_owner_and_rechecks_times(db) -> None:
    rep = await make_user(db, "rep")
    created = await create_as(db, rep, "calendar_event", event())
    done = await update_as(db, rep, "calendar_event", created["id"], {"status": "done"})
    assert (done["status"], done["owner_id"]) == ("done", str(rep.id))
    with pytest.raises(ValidationFailed) as caught:
        await update_as(db, rep, "calendar_event", created["id"], {"ends_at": START})
    assert caught.value.field == "ends_at"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": START}, "ends_at"),
        ({"ends_at": "2030-05-06T08:59:59Z"}, "ends_at"),
        ({"starts_at": None}, "starts_at"),
        ({"title": "   "}, "title"),
        ({"kind": "party"}, "kind"),
        ({"reminder_offsets": [10081]}, "reminder_offsets[0]"),
        ({"reminder_offsets": [5, -1]}, "reminder_offsets[1]"),
        ({"starts_at": "2030-05-06T09:00:00"}, "starts_at"),  # naive
    ],
)
async def test_bad_events_are_refused_with_the_field(db, overrides, field) -> None:
    rep = await make_user(db, "rep")
    with pytest.raises(ValidationFailed) as caught:
        await create_as(db, rep, "calendar_event", event(**overrides))
    assert caught.value.field == field


async def test_an_event_may_point_at_an_existing_account_only(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    linked = await create_as(db, rep, "calendar_event", event(account_id=str(account_id)))
    assert linked["account_id"] == str(account_id)
    with pytest.raises(NotFound) as caught:
        await create_as(
            db, rep, "calendar_event", event(account_id="0190a000-0000-7000-8000-000000000000")
        )
    assert caught.value.field == "account_id"


async def test_the_owner_is_the_pusher_and_frozen_after_create(db) -> None:
    rep = await make_user(db, "rep")
    other = await make_user(db, "rep")
    with pytest.raises(DomainError) as caught:
        await create_as(db, rep, "calendar_event", event(owner_id=str(other.id)))
    assert (caught.value.code, caught.value.field) == ("forbidden", "owner_id")
    created = await create_as(db, rep, "calendar_event", event(owner_id=str(rep.id)))
    with pytest.raises(DomainError) as caught:
        await update_as(db, rep, "calendar_event", created["id"], {"owner_id": str(other.id)})
    assert (caught.value.code, caught.value.field) == ("server_owned_field", "owner_id")
    spec = registry().entities["calendar_event"]
    assert "status" not in spec.server_fields  # a rep ticks off their own task
    assert spec.policy("notes") is Policy.APPEND


# --- through POST /sync/push and /sync/pull ----------------------------------------------


async def test_an_event_pushed_by_a_device_reaches_only_its_owner(client, db) -> None:
    rep = await make_user(db, "rep")
    other = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    others_phone = await device_for(client, db, other)
    event_id = uuid7()
    result = await phone.push_one(
        "calendar_event", event_id, "upsert", event(owner_id=str(rep.id), reminder_offsets=[10])
    )
    assert result["status"] == "applied", result
    mine, _ = await phone.snapshot()
    assert mine[("calendar_event", str(event_id))]["owner_id"] == str(rep.id)
    theirs, _ = await others_phone.snapshot()
    assert ("calendar_event", str(event_id)) not in theirs
    bad = await phone.push_one(
        "calendar_event", uuid7(), "upsert", event(owner_id=str(rep.id), ends_at=START)
    )
    assert bad["status"] == "rejected" and bad["error"]["field"] == "ends_at"
    # the validator runs before the insert and makes the pusher the owner of an ownerless event
    ownerless_id = uuid7()
    ownerless = await phone.push_one("calendar_event", ownerless_id, "upsert", event())
    assert ownerless["status"] == "applied", ownerless
    after, _ = await phone.snapshot()
    assert sorted(key for key in after if key[0] == "calendar_event") == sorted(
        [("calendar_event", str(event_id)), ("calendar_event", str(ownerless_id))]
    )
    assert after[("calendar_event", str(ownerless_id))]["owner_id"] == str(rep.id)


async def test_reminders_added_on_two_devices_at_once_are_all_kept(client, db) -> None:
    rep = await make_user(db, "rep")
    phone, tablet = await device_for(client, db, rep), await device_for(client, db, rep)
    event_id = uuid7()
    created = await phone.push_one(
        "calendar_event", event_id, "upsert", event(owner_id=str(rep.id), reminder_offsets=[10])
    )
    assert created["status"] == "applied", created
    # both devices edit from version 1, offline; the phone's edit arrives first
    first = await phone.push_one(
        "calendar_event", event_id, "upsert", {"reminder_offsets": [10, 30]}, base_version=1
    )
    assert first["status"] == "applied", first
    second = await tablet.push_one(
        "calendar_event", event_id, "upsert", {"reminder_offsets": [60, 10]}, base_version=1
    )
    assert second["status"] == "conflict", second
    assert second["conflicts"] == [
        {
            "field": "reminder_offsets",
            "yours": [60, 10],
            "theirs": [10, 30],
            "kept": "both",
            "rule": "union_of_reminders",
        }
    ]
    assert second["record"]["reminder_offsets"] == [10, 30, 60]
    for device in (phone, tablet):  # and both converge on it
        held, _ = await device.snapshot()
        assert held[("calendar_event", str(event_id))]["reminder_offsets"] == [10, 30, 60]
