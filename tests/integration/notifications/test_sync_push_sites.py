"""Silent "sync now" pushes from the write paths that change what a device holds without the
device doing it: a realignment's apply (every device whose scope gained or lost accounts, one
push each however many accounts moved) and a manager's expense decision, on both backends.
(The order desk's: test_reminder_sources.py.)"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from protocol.ids import uuid7
from server.auth.models import Device
from server.db import Database, utcnow
from server.notifications.models import Notification, PushToken
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, make_tree
from tests.synctools import device_for, writer

ACCOUNTS = 5000


async def phone_of(client: Any, db: Database, user: Any, *, active: bool = True) -> uuid.UUID:
    """A device of ``user`` with a push token (deactivated unless ``active``)."""
    device = await device_for(client, db, user)
    now = utcnow()
    async with db.transaction() as session:
        session.add(
            PushToken(
                user_id=user.id,
                device_id=device.device_id,
                token=f"tok-{device.device_id}",
                platform="android",
                created_at=now,
                updated_at=now,
            )
        )
        if not active:
            await session.execute(
                sa.update(Device).where(Device.id == device.device_id).values(active=False)
            )
    return device.device_id


async def test_a_realignment_sends_one_silent_push_to_each_device_whose_scope_changed(
    client: Any, db: Database
) -> None:
    tree = await make_tree(db)
    admin = await make_user(db, "admin")
    headers = await auth_headers(db, admin)
    losing, gaining, elsewhere = [await make_user(db, "rep") for _ in range(3)]
    manager = await make_user(db, "manager")  # sees both territories: nothing changes for them
    for territory, user in (("n1a", losing), ("n1b", gaining), ("s1a", elsewhere), ("n1", manager)):
        await add_member(db, tree[territory], user.id)
    phones = {
        "losing": [await phone_of(client, db, losing), await phone_of(client, db, losing)],
        "gaining": [await phone_of(client, db, gaining)],
    }
    retired = await phone_of(client, db, gaining, active=False)
    bystanders = [await phone_of(client, db, elsewhere), await phone_of(client, db, manager)]
    for start in range(0, ACCOUNTS, 1000):
        async with db.transaction() as session:
            await writer().create_many(
                session,
                "account",
                [
                    {"name": f"A{n}", "city": "Lyon", "territory_id": tree["n1a"]}
                    for n in range(start, min(ACCOUNTS, start + 1000))
                ],
                principal=None,
            )
    rule = await client.post(
        f"/territories/{tree['n1b']}/rules", json={"kind": "city", "value": "Lyon"}, headers=headers
    )
    assert rule.status_code == 201, rule.text
    plan = (await client.post("/territories/realignments", json={}, headers=headers)).json()
    assert len(plan["moves"]) == ACCOUNTS
    applied = await client.post(f"/territories/realignments/{plan['id']}/apply", headers=headers)
    assert applied.status_code == 200, applied.text

    async with db.reading() as session:
        rows = (
            await session.execute(
                sa.select(Notification.device_id, Notification.silent).where(
                    Notification.rule == "sync_now"
                )
            )
        ).all()
    pushed = sorted(str(device) for device, silent in rows if silent)
    assert len(rows) == len(pushed)  # every one silent
    assert pushed == sorted(str(d) for d in phones["losing"] + phones["gaining"])
    assert not {str(d) for d in [retired, *bystanders]} & set(pushed)


async def test_an_expense_decision_sends_one_silent_push_to_each_of_the_reps_devices(
    client: Any, db: Database, settings: Any
) -> None:
    from server.sfa.expenses.models import ExpenseReport
    from server.sfa.expenses.schemas import ExpenseDecision
    from server.sfa.expenses.service import ExpenseService
    from server.sync.registry import Principal

    admin = await make_user(db, "admin")
    rep, other = await make_user(db, "rep"), await make_user(db, "rep")
    phones = sorted([await phone_of(client, db, rep), await phone_of(client, db, rep)])
    await phone_of(client, db, other)
    report_id = uuid7()
    async with db.transaction() as session:
        session.add(
            ExpenseReport(id=report_id, owner_id=rep.id, status="submitted", submitted_at=utcnow())
        )
    service = ExpenseService(db, writer(), Principal(user_id=admin.id, role="admin"), settings)
    await service.decide(report_id, ExpenseDecision(note="ok"), approve=True, expected=None)
    async with db.reading() as session:
        rows = (
            await session.execute(
                sa.select(Notification.device_id).where(Notification.rule == "sync_now")
            )
        ).all()
    # one push per device of the rep (coalescing: test_fatigue.py), none to the other rep
    assert sorted(device for (device,) in rows) == phones
