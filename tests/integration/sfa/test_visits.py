"""Visits: validation, scope, and the check-in / check-out / cancel actions with GPS distance."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from rules.geo import DEFAULT_CHECKIN_RADIUS_M
from server.errors import DomainError, NotFound, ValidationFailed
from server.sync.registry import Policy
from tests.builders import make_user
from tests.synctools import act_as, create_as, device_for, insert_account, registry, writer

SHANGHAI = (31.2304, 121.4737)
# check-in times are never ahead of the server's clock (beyond the skew), nor entered an hour
# after the fact (a make-up): the visits of these tests start 50 minutes ago
NOON = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=50)


@pytest.fixture(autouse=True)
def _visits_start_50_minutes_ago() -> None:
    global NOON
    NOON = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=50)


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def check(at: dt.datetime, lat_offset: float = 0.0, **extra: object) -> dict[str, object]:
    return {
        "at": iso(at),
        "latitude": SHANGHAI[0] + lat_offset,
        "longitude": SHANGHAI[1],
        "accuracy_m": 12.5,
        **extra,
    }


def far_away(at: dt.datetime, lat_offset: float) -> dict[str, object]:
    """A check-in outside the radius: a make-up, with its reason."""
    return check(at, lat_offset, makeup_reason="geo_anomaly", makeup_note="GPS drifts here")


async def planned_visit(db, rep, **account_overrides):
    values = {"owner_id": rep.id, "latitude": SHANGHAI[0], "longitude": SHANGHAI[1]}
    account_id = await insert_account(db, **(values | account_overrides))
    return await create_as(
        db, rep, "visit", {"account_id": str(account_id), "planned_at": iso(NOON)}
    )


async def test_a_new_visit_is_planned_for_the_pusher_in_the_accounts_scope(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    assert visit["status"] == "planned"
    assert visit["rep_id"] == str(rep.id)
    assert visit["version"] == 1
    async with db.transaction() as session:
        spec = registry().entities["visit"]
        assert await spec.scope(session, visit) == f"u:{rep.id}"


async def test_check_in_near_the_account_computes_the_distance_and_is_not_flagged(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    # 0.001 degree of latitude north: 111.2 m
    done = await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON, 0.001))
    assert done["status"] == "checked_in"
    assert done["check_in_distance_m"] == pytest.approx(111.2, abs=0.1)
    assert done["check_in_flagged"] is False
    assert (done["check_in_verdict"], done["check_in_radius_m"]) == ("inside", 200.0)
    assert done["check_in_accuracy_m"] == 12.5
    assert done["check_in_at"] == iso(NOON)
    assert done["version"] == 2


async def test_a_far_check_in_is_flagged(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    done = await act_as(db, rep, "visit", visit["id"], "check_in", far_away(NOON, 0.02))  # 2.2 km
    assert done["check_in_distance_m"] > DEFAULT_CHECKIN_RADIUS_M
    assert done["check_in_distance_m"] == pytest.approx(2223.9, abs=1)
    assert done["check_in_flagged"] is True
    assert done["check_in_verdict"] == "outside"
    assert done["status"] == "checked_in"  # flagged, not refused: the manager decides


async def test_a_check_in_whose_accuracy_straddles_the_radius_is_uncertain(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    # 0.0017 degree north: 189 m, inside 200 m, but the phone is only sure to 30 m
    done = await act_as(
        db, rep, "visit", visit["id"], "check_in", check(NOON, 0.0017, accuracy_m=30)
    )
    assert done["check_in_distance_m"] == pytest.approx(189.0, abs=0.1)
    assert (done["check_in_verdict"], done["check_in_flagged"]) == ("uncertain", True)


async def test_the_radius_is_a_setting_per_account_segment(db) -> None:
    from server.app import build_registry
    from server.settings import Settings
    from server.sync.writer import ChangeWriter

    rules = Settings(visit_checkin_radius_m=100.0, visit_checkin_radius_by_segment="government=500")
    w = ChangeWriter(build_registry(rules))
    rep = await make_user(db, "rep")
    ministry = await planned_visit(db, rep, segment="government")
    shop = await planned_visit(db, rep, segment="small_business")
    here = far_away(NOON, 0.0027)  # 300 m north
    far_ministry = await act_as(db, rep, "visit", ministry["id"], "check_in", here, w=w)
    far_shop = await act_as(db, rep, "visit", shop["id"], "check_in", here, w=w)
    assert (far_ministry["check_in_verdict"], far_ministry["check_in_radius_m"]) == ("inside", 500)
    assert (far_shop["check_in_verdict"], far_shop["check_in_radius_m"]) == ("outside", 100)


async def test_an_account_without_coordinates_gives_no_distance(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep, latitude=None, longitude=None)
    done = await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON, 1.0))
    assert done["check_in_distance_m"] is None
    assert done["check_in_flagged"] is False
    assert done["check_in_verdict"] is None


async def test_check_out_completes_the_visit_and_appends_notes(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON))
    done = await act_as(
        db,
        rep,
        "visit",
        visit["id"],
        "check_out",
        check(
            NOON + dt.timedelta(minutes=40),
            0.01,
            outcome="order taken",
            notes="Buyer wants samples",
            next_follow_up_on="2030-05-20",
        ),
    )
    assert done["status"] == "completed"
    assert done["outcome"] == "order taken"
    assert done["notes"] == "Buyer wants samples"
    assert done["next_follow_up_on"] == "2030-05-20"
    assert done["check_out_flagged"] is True
    assert done["check_in_distance_m"] == 0.0


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        ([], "check_out"),
        (["check_in"], "check_in"),
        (["cancel"], "check_in"),
        (["check_in", "check_out"], "cancel"),
        (["cancel"], "cancel"),
    ],
)
async def test_actions_from_a_wrong_state_are_refused_and_write_nothing(
    db, steps: list[str], action: str
) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    at = NOON
    for step in steps:
        at += dt.timedelta(minutes=10)
        await act_as(db, rep, "visit", visit["id"], step, {} if step == "cancel" else check(at))
    async with db.transaction() as session:
        before = await writer().load(session, "visit", uuid.UUID(visit["id"]))
    params = {} if action == "cancel" else check(at + dt.timedelta(minutes=5))
    with pytest.raises(DomainError) as caught:
        await act_as(db, rep, "visit", visit["id"], action, params)
    assert caught.value.code == "invalid_state"
    assert caught.value.status == 409
    assert caught.value.data is not None and caught.value.data["status"] == before["status"]
    async with db.transaction() as session:
        assert await writer().load(session, "visit", uuid.UUID(visit["id"])) == before


async def test_check_out_before_check_in_is_refused(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON))
    with pytest.raises(ValidationFailed) as caught:
        await act_as(
            db, rep, "visit", visit["id"], "check_out", check(NOON - dt.timedelta(seconds=1))
        )
    assert caught.value.field == "at"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**check(NOON), "latitude": 91.0}, "latitude"),
        ({**check(NOON), "longitude": "east"}, "longitude"),
        ({**check(NOON), "accuracy_m": -1}, "accuracy_m"),
        ({**check(NOON), "at": "2030-05-06T12:00:00"}, "at"),  # naive: no offset
        ({k: v for k, v in check(NOON).items() if k != "at"}, None),
        ({**check(NOON), "altitude": 30}, None),
    ],
)
async def test_bad_check_in_params_are_refused_with_the_field(db, params, field) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "visit", visit["id"], "check_in", params)
    if field is not None:
        assert caught.value.field == field
    async with db.transaction() as session:
        assert (await writer().load(session, "visit", uuid.UUID(visit["id"])))[
            "status"
        ] == "planned"


async def test_cancel_with_a_reason_appends_it(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    done = await act_as(db, rep, "visit", visit["id"], "cancel", {"reason": "shop closed"})
    assert (done["status"], done["notes"]) == ("cancelled", "shop closed")


async def test_a_visit_needs_an_existing_account_and_a_planned_time(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    with pytest.raises(ValidationFailed) as caught:
        await create_as(db, rep, "visit", {"account_id": str(account_id)})
    assert caught.value.field == "planned_at"
    with pytest.raises(ValidationFailed) as caught:
        await create_as(db, rep, "visit", {"planned_at": iso(NOON)})
    assert caught.value.field == "account_id"
    spec = registry().entities["visit"]
    async with db.transaction() as session:
        with pytest.raises((NotFound, ValidationFailed)) as missing:
            await spec.scope(session, {"account_id": "0190a000-0000-7000-8000-000000000000"})
    assert missing.value.field == "account_id"


def test_the_visit_spec_declares_server_owned_fields_and_policies() -> None:
    spec = registry().entities["visit"]
    assert spec.parent == ("account", "account_id")
    assert {
        "status",
        "check_in_distance_m",
        "check_in_flagged",
        "check_out_at",
    } <= spec.server_fields
    assert "notes" not in spec.server_fields and "outcome" not in spec.server_fields
    assert spec.policy("notes") is Policy.APPEND
    assert spec.policy("outcome") is Policy.LWW
    assert set(spec.actions) == {"check_in", "check_out", "cancel"}


# --- the managers' read-only list (visit compliance) -------------------------------------


async def test_managers_list_the_visits_of_their_reps_and_filter_far_check_ins(client, db) -> None:
    from tests.builders import auth_headers

    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    stranger = await make_user(db, "rep")
    near = await planned_visit(db, rep)
    far = await planned_visit(db, rep)
    hidden = await planned_visit(db, stranger)
    await act_as(db, rep, "visit", far["id"], "check_in", far_away(NOON, 0.05))
    headers = await auth_headers(db, manager)

    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/visits", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([near["id"], far["id"]])  # no gaps, no duplicates, no stranger

    flagged = await client.get("/visits", params={"flagged": "true"}, headers=headers)
    assert [item["id"] for item in flagged.json()["items"]] == [far["id"]]
    assert flagged.json()["items"][0]["check_in_distance_m"] > DEFAULT_CHECKIN_RADIUS_M
    one = await client.get(f"/visits/{near['id']}", headers=headers)
    assert one.status_code == 200 and one.json()["status"] == "planned"
    outside = await client.get(f"/visits/{hidden['id']}", headers=headers)
    assert (outside.status_code, outside.json()["code"]) == (404, "not_found")


async def test_the_visit_list_refuses_reps_and_bad_queries(client, db) -> None:
    from tests.builders import auth_headers

    rep = await make_user(db, "rep")
    manager = await make_user(db, "manager")
    assert (await client.get("/visits", headers=await auth_headers(db, rep))).status_code == 403
    headers = await auth_headers(db, manager)
    bad_cursor = await client.get("/visits", params={"cursor": "!!"}, headers=headers)
    assert bad_cursor.status_code in (400, 422) and bad_cursor.json()["code"] == "invalid_cursor"
    too_many = await client.get("/visits", params={"limit": 100000}, headers=headers)
    assert too_many.status_code in (400, 422) and too_many.json()["field"] == "limit"
    bad_status = await client.get("/visits", params={"status": "wandering"}, headers=headers)
    assert bad_status.status_code == 422
    backwards = await client.get(
        "/visits",
        params={"planned_from": "2030-01-02T00:00:00Z", "planned_to": "2030-01-01T00:00:00Z"},
        headers=headers,
    )
    assert (backwards.status_code, backwards.json()["field"]) == (422, "planned_to")


# --- through POST /sync/push -------------------------------------------------------------


async def test_check_in_pushed_offline_is_measured_by_the_server(client, db) -> None:
    from protocol.ids import uuid7
    from tests.synctools import device_for

    rep = await make_user(db, "rep")
    account_id = await insert_account(
        db, owner_id=rep.id, latitude=SHANGHAI[0], longitude=SHANGHAI[1]
    )
    phone = await device_for(client, db, rep)
    visit_id = uuid7()
    planned = {"account_id": str(account_id), "rep_id": str(rep.id), "planned_at": iso(NOON)}
    results = await phone.push(
        phone.mutation("visit", visit_id, "upsert", planned),
        phone.mutation("visit", visit_id, "visit.check_out", check(NOON)),  # wrong state
        phone.mutation("visit", visit_id, "visit.check_in", far_away(NOON, 0.02)),  # 2.2 km
        phone.mutation("visit", visit_id, "upsert", {"check_in_flagged": False}, base_version=1),
        phone.mutation("visit", visit_id, "upsert", {"notes": "met the buyer"}, base_version=1),
    )
    assert [r["status"] for r in results] == [
        "applied",
        "rejected",
        "applied",
        "rejected",
        "applied",  # the intervening check-in was this device's own write: nothing concurrent
    ]
    assert results[1]["error"]["code"] == "invalid_state"  # and it did not block the rest
    assert results[2]["record"]["check_in_flagged"] is True
    assert results[2]["record"]["check_in_distance_m"] == pytest.approx(2223.9, abs=1)
    assert (results[3]["error"]["code"], results[3]["error"]["field"]) == (
        "server_owned_field",
        "check_in_flagged",
    )
    snapshot, _ = await phone.snapshot()
    held = snapshot[("visit", str(visit_id))]
    assert (held["status"], held["check_in_flagged"], held["notes"]) == (
        "checked_in",
        True,
        "met the buyer",
    )


async def test_a_follow_up_moved_on_two_devices_at_once_keeps_the_earlier_date(client, db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    phone, tablet = await device_for(client, db, rep), await device_for(client, db, rep)
    version = int(visit["version"])
    sooner = await phone.push_one(
        "visit", visit["id"], "upsert", {"next_follow_up_on": "2030-06-01"}, base_version=version
    )
    assert sooner["status"] == "applied", sooner
    later = await tablet.push_one(
        "visit", visit["id"], "upsert", {"next_follow_up_on": "2030-07-01"}, base_version=version
    )
    assert later["status"] == "conflict", later
    [conflict] = later["conflicts"]
    assert (conflict["kept"], conflict["rule"]) == ("theirs", "earliest_follow_up")
    held, _ = await tablet.snapshot()
    assert held[("visit", visit["id"])]["next_follow_up_on"] == "2030-06-01"


# --- visits are dated when they happened -------------------------------------------------


async def test_a_check_in_time_beyond_the_clock_skew_is_refused_with_code_and_field(db) -> None:
    from server.settings import Settings

    skew = dt.timedelta(seconds=Settings().sync_max_clock_skew_seconds)
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    ahead = dt.datetime.now(dt.UTC) + skew + dt.timedelta(minutes=1)
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "visit", visit["id"], "check_in", check(ahead))
    assert (caught.value.code, caught.value.field) == ("time_in_future", "at")
    async with db.transaction() as session:
        stored = await writer().load(session, "visit", uuid.UUID(visit["id"]))
    assert (stored["status"], stored["check_in_at"]) == ("planned", None)
    # a phone clock a little ahead, within the skew, is believed
    within = dt.datetime.now(dt.UTC).replace(microsecond=0) + skew - dt.timedelta(minutes=1)
    done = await act_as(db, rep, "visit", visit["id"], "check_in", check(within))
    assert done["check_in_at"] == iso(within)


async def test_a_check_out_time_beyond_the_clock_skew_is_refused(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON))
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "visit", visit["id"], "check_out", check(NOON + dt.timedelta(days=1)))
    assert (caught.value.code, caught.value.field) == ("time_in_future", "at")


async def test_a_check_in_long_before_the_planned_time_is_refused(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(
        db, owner_id=rep.id, latitude=SHANGHAI[0], longitude=SHANGHAI[1]
    )
    tomorrow = NOON + dt.timedelta(days=1)
    visit = await create_as(
        db, rep, "visit", {"account_id": str(account_id), "planned_at": iso(tomorrow)}
    )
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON))  # 24 h early
    assert (caught.value.code, caught.value.field) == ("before_plan", "at")
    # arriving early within the window (12 h by default) is a check-in of that visit
    early = await planned_visit(db, rep)
    async with db.transaction() as session:
        await writer().update(
            session,
            "visit",
            uuid.UUID(early["id"]),
            {"planned_at": NOON + dt.timedelta(hours=11)},
            principal=None,
        )
    done = await act_as(db, rep, "visit", early["id"], "check_in", check(NOON))
    assert done["status"] == "checked_in"


async def test_a_check_in_synced_later_is_dated_when_it_happened(client, db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    phone = await device_for(client, db, rep)
    happened = NOON + dt.timedelta(minutes=20)  # 30 minutes ago, offline until now
    [result] = await phone.push(
        phone.mutation("visit", visit["id"], "visit.check_in", check(happened), base_version=1)
    )
    assert result["status"] == "applied", result
    assert result["record"]["check_in_at"] == iso(happened)
    synced = dt.datetime.fromisoformat(result["record"]["updated_at"].replace("Z", "+00:00"))
    assert synced - happened > dt.timedelta(minutes=29)  # the sync time is not the visit's


# --- make-up check-ins (补签) and the manager's decision -------------------------------


async def test_a_check_in_outside_the_radius_needs_a_reason_and_waits_for_approval(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON, 0.02))
    assert (caught.value.code, caught.value.field) == ("makeup_reason_required", "makeup_reason")
    async with db.transaction() as session:
        stored = await writer().load(session, "visit", uuid.UUID(visit["id"]))
    assert (stored["status"], stored["approval"]) == ("planned", "none")  # nothing written
    done = await act_as(db, rep, "visit", visit["id"], "check_in", far_away(NOON, 0.02))
    assert (done["status"], done["check_in_verdict"]) == ("checked_in", "outside")
    assert (done["approval"], done["makeup_reason"], done["makeup_note"]) == (
        "pending",
        "geo_anomaly",
        "GPS drifts here",
    )


async def test_a_check_in_entered_after_the_fact_is_a_make_up(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    two_hours_ago = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    async with db.transaction() as session:  # planned for then, entered now
        await writer().update(
            session, "visit", uuid.UUID(visit["id"]), {"planned_at": two_hours_ago}, principal=None
        )
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "visit", visit["id"], "check_in", check(two_hours_ago))
    assert caught.value.code == "makeup_reason_required"
    late = check(two_hours_ago, makeup_reason="missed_time")
    done = await act_as(db, rep, "visit", visit["id"], "check_in", late)
    assert (done["check_in_verdict"], done["approval"], done["makeup_reason"]) == (
        "inside",
        "pending",
        "missed_time",
    )
    assert done["check_in_at"] == iso(two_hours_ago)  # dated when it happened


async def test_an_on_time_check_in_inside_is_no_make_up(db) -> None:
    rep = await make_user(db, "rep")
    visit = await planned_visit(db, rep)
    done = await act_as(db, rep, "visit", visit["id"], "check_in", check(NOON))
    assert (done["approval"], done["makeup_reason"]) == ("none", None)
    other = await planned_visit(db, rep)
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "visit", other["id"], "check_in", check(NOON, makeup_reason="lazy"))
    assert caught.value.field == "makeup_reason"


async def test_a_manager_approves_or_refuses_a_make_up_and_the_decision_syncs_back(
    client, db
) -> None:
    from tests.builders import auth_headers

    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    phone = await device_for(client, db, rep)
    approved, refused, normal = [await planned_visit(db, rep) for _ in range(3)]
    await phone.snapshot()
    for visit in (approved, refused):
        await act_as(db, rep, "visit", visit["id"], "check_in", far_away(NOON, 0.02))
    await act_as(db, rep, "visit", normal["id"], "check_in", check(NOON))
    headers = await auth_headers(db, manager)

    pending = await client.get("/visits", params={"approval": "pending"}, headers=headers)
    assert sorted(i["id"] for i in pending.json()["items"]) == sorted(
        [approved["id"], refused["id"]]
    )
    yes = await client.post(
        f"/visits/{approved['id']}/approve", json={"note": "known dead zone"}, headers=headers
    )
    assert yes.status_code == 200, yes.text
    assert (yes.json()["approval"], yes.json()["approval_note"]) == ("approved", "known dead zone")
    assert yes.json()["decided_by"] == str(manager.id) and yes.json()["decided_at"]
    no = await client.post(f"/visits/{refused['id']}/refuse", json={}, headers=headers)
    assert (no.status_code, no.json()["approval"]) == (200, "refused")

    again = await client.post(f"/visits/{approved['id']}/refuse", json={}, headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")
    assert again.json()["data"] == {"approval": "approved"}
    not_makeup = await client.post(f"/visits/{normal['id']}/approve", json={}, headers=headers)
    assert (not_makeup.status_code, not_makeup.json()["data"]) == (409, {"approval": "none"})

    held, _ = await phone.snapshot()
    assert held[("visit", approved["id"])]["approval"] == "approved"
    assert held[("visit", approved["id"])]["approval_note"] == "known dead zone"
    assert held[("visit", refused["id"])]["approval"] == "refused"


async def test_only_managers_who_see_the_visit_decide_and_devices_cannot(client, db) -> None:
    from tests.builders import auth_headers

    manager = await make_user(db, "manager")
    other_manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    visit = await planned_visit(db, rep)
    await act_as(db, rep, "visit", visit["id"], "check_in", far_away(NOON, 0.02))
    as_rep = await client.post(
        f"/visits/{visit['id']}/approve", json={}, headers=await auth_headers(db, rep)
    )
    assert as_rep.status_code == 403
    stranger = await client.post(
        f"/visits/{visit['id']}/approve", json={}, headers=await auth_headers(db, other_manager)
    )
    assert (stranger.status_code, stranger.json()["code"]) == (404, "not_found")
    long_note = await client.post(
        f"/visits/{visit['id']}/approve",
        json={"note": "x" * 501},
        headers=await auth_headers(db, manager),
    )
    assert (long_note.status_code, long_note.json()["field"]) == (422, "note")
    phone = await device_for(client, db, rep)
    await phone.snapshot()
    [own] = await phone.push(
        phone.mutation("visit", visit["id"], "upsert", {"approval": "approved"}, base_version=2)
    )
    assert (own["status"], own["error"]["code"]) == ("rejected", "server_owned_field")
