"""Expense receipts: uploaded by their rep (streamed, checksummed, bounded), linked from expense
lines only by their owner, read by the rep, their managers and admins, deleted only while no
report names them, and nothing left behind by a refused or interrupted upload."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from server.app import create_app
from server.db import Database
from server.file_store import LocalFileStore
from server.sfa.contracts.models import ContractAttachment
from server.sfa.expenses.models import ExpenseReceipt
from server.uploads import sweep_orphans
from tests.builders import auth_headers, make_user
from tests.file_tools import asgi_upload, stored_files
from tests.integration.expenses.receipt_tools import JPEG, upload_receipt
from tests.integration.expenses.test_expenses import create_report, line, team
from tests.integration.sfa.core_builders import count
from tests.synctools import device_for


async def test_a_rep_uploads_a_receipt_links_it_offline_and_their_manager_reads_it(
    client, db, settings
) -> None:
    manager, stranger, rep, other = await team(db)
    mine = await auth_headers(db, rep)
    # the line is written offline first, naming the id the device made for the receipt ...
    receipt_id = str(uuid7())
    device = await device_for(client, db, rep)
    report_lines = [line(receipt_attachment_id=receipt_id)]
    # ... and the upload goes first once online, then the push
    uploaded = await upload_receipt(client, mine, receipt_id=receipt_id)
    assert uploaded.status_code == 201, uploaded.text
    record = uploaded.json()
    assert (record["id"], record["owner_id"], record["size"]) == (
        receipt_id,
        str(rep.id),
        len(JPEG),
    )
    assert record["sha256"] == hashlib.sha256(JPEG).hexdigest()
    rid, created = await create_report(device, rep, report_lines)
    assert created["status"] == "applied", created
    pulled, _ = await device.pull_all(None)
    [report] = [c["record"] for c in pulled if c["entity"] == "expense"]
    assert report["lines"][0]["receipt_attachment_id"] == receipt_id

    url = f"/expense-receipts/{receipt_id}/content"
    for reader in (rep, manager, await make_user(db, "admin")):
        got = await client.get(url, headers=await auth_headers(db, reader))
        assert got.status_code == 200 and got.content == JPEG
        assert got.headers["content-type"] == "image/jpeg"
    for outsider in (other, stranger):  # another rep, a manager of another subtree
        headers = await auth_headers(db, outsider)
        assert (await client.get(url, headers=headers)).status_code == 404
        assert (
            await client.get(f"/expense-receipts/{receipt_id}", headers=headers)
        ).status_code == 404
        listed = await client.get("/expense-receipts", headers=headers)
        assert listed.json()["items"] == []
    listed = await client.get("/expense-receipts", headers=await auth_headers(db, manager))
    assert [r["id"] for r in listed.json()["items"]] == [receipt_id]
    [stored] = stored_files(settings)
    assert stored.read_bytes() == JPEG


async def test_another_reps_receipt_or_an_unknown_id_cannot_be_linked(client, db) -> None:
    _, _, rep, other = await team(db)
    theirs = (await upload_receipt(client, await auth_headers(db, other))).json()["id"]
    mine = (await upload_receipt(client, await auth_headers(db, rep))).json()["id"]
    device = await device_for(client, db, rep)
    for bad in (theirs, str(uuid7())):
        rid, result = await create_report(device, rep, [line(), line(receipt_attachment_id=bad)])
        assert result["status"] == "rejected", result
        assert (result["error"]["code"], result["error"]["field"]) == (
            "unknown_receipt",
            "lines.1.receipt_attachment_id",
        )
    assert await count(db, "expense_reports") == 0  # nothing written
    # an edit of an existing report naming another rep's receipt is refused too, and the
    # report keeps its lines
    rid, created = await create_report(device, rep, [line(receipt_attachment_id=mine)])
    assert created["status"] == "applied"
    edit = await device.push_one(
        "expense", rid, "upsert", {"lines": [line(receipt_attachment_id=theirs)]}, base_version=1
    )
    assert edit["status"] == "rejected" and edit["error"]["code"] == "unknown_receipt"
    changes, _ = await device.pull_all(None)
    [report] = [c["record"] for c in changes if c["entity"] == "expense"]
    assert report["lines"][0]["receipt_attachment_id"] == mine


async def test_a_contract_attachment_is_not_an_expense_receipt(client, db, settings) -> None:
    from tests.integration.sfa.core_builders import make_account
    from tests.integration.sfa.finance_builders import admin_headers, new_contract

    _, _, rep, _ = await team(db)
    admin = await admin_headers(db)
    contract = await new_contract(client, admin, await make_account(db))
    attached = await client.post(
        f"/contracts/{contract['id']}/attachments?filename=c.pdf",
        content=b"%PDF-1.7 signed",
        headers={**admin, "Content-Type": "application/pdf"},
    )
    assert attached.status_code == 201, attached.text
    device = await device_for(client, db, rep)
    _, result = await create_report(
        device, rep, [line(receipt_attachment_id=attached.json()["id"])]
    )
    assert result["status"] == "rejected"
    assert result["error"]["field"] == "lines.0.receipt_attachment_id"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "field"),
    [
        (b"x" * 100_001, "image/jpeg", 413, "payload_too_large", "file"),
        (b"MZ\x90\x00", "application/x-msdownload", 422, "unsupported_type", "content_type"),
        (b"", "image/png", 422, "empty_file", "file"),
    ],
    ids=["too_large", "refused_type", "empty"],
)
async def test_refused_receipts_leave_nothing_behind(
    client, db, settings, body, content_type, status, code, field
) -> None:
    rep = await make_user(db, "rep")
    response = await upload_receipt(client, await auth_headers(db, rep), body, content_type)
    assert response.status_code == status, response.text
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await count(db, "expense_receipts") == 0
    assert stored_files(settings) == []


async def test_an_interrupted_receipt_upload_leaves_nothing_behind(client, db, settings) -> None:
    headers = await auth_headers(db, await make_user(db, "rep"))
    app = create_app(settings, check_schema=False)  # driven on this test's loop
    upload_headers = {**headers, "content-type": "image/jpeg", "content-length": "30000"}
    sent = await asgi_upload(
        app, upload_headers, "/expense-receipts?filename=half.jpg", [JPEG[:10_000], None]
    )
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    assert b"upload_interrupted" in b"".join(m.get("body", b"") for m in sent)
    assert await count(db, "expense_receipts") == 0
    assert stored_files(settings) == []
    await app.state.db.dispose()


async def test_a_receipt_id_is_a_uuidv7_used_once(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "rep"))
    receipt_id = str(uuid7())
    assert (await upload_receipt(client, headers, receipt_id=receipt_id)).status_code == 201
    again = await upload_receipt(client, headers, receipt_id=receipt_id)
    assert (again.status_code, again.json()["code"]) == (409, "id_reused")
    v4 = await upload_receipt(client, headers, receipt_id="2f1b8c3e-52a4-4d7e-9a1c-0b3d5e7f9a11")
    assert (v4.status_code, v4.json()["code"], v4.json()["field"]) == (422, "invalid_id", "id")
    assert await count(db, "expense_receipts") == 1


async def deleted_by(db: Database, receipt_id: str) -> Any:
    async with db.reading() as session:
        return (
            await session.execute(
                sa.select(ExpenseReceipt.deleted_by, ExpenseReceipt.deleted_at).where(
                    ExpenseReceipt.id == uuid.UUID(receipt_id)
                )
            )
        ).one()


async def test_deleting_a_receipt(client, db, settings) -> None:
    manager, _, rep, other = await team(db)
    mine = await auth_headers(db, rep)
    linked = (await upload_receipt(client, mine)).json()["id"]
    loose = (await upload_receipt(client, mine, JPEG[::-1])).json()["id"]
    device = await device_for(client, db, rep)
    rid, _ = await create_report(device, rep, [line(receipt_attachment_id=linked)])
    submitted = await device.push_one("expense", rid, "expense.submit", {}, base_version=1)
    assert submitted["status"] == "applied"

    # only its owner (or an admin) deletes: another rep does not see it, a manager may not
    other_headers = await auth_headers(db, other)
    assert (
        await client.delete(f"/expense-receipts/{loose}", headers=other_headers)
    ).status_code == 404
    boss = await auth_headers(db, manager)
    refused = await client.delete(f"/expense-receipts/{loose}", headers=boss)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    # a receipt a submitted report names stays
    in_use = await client.delete(f"/expense-receipts/{linked}", headers=mine)
    assert (in_use.status_code, in_use.json()["code"]) == (409, "in_use")
    assert in_use.json()["data"] == {"report_id": rid, "status": "submitted"}
    assert len(stored_files(settings)) == 2

    gone = await client.delete(f"/expense-receipts/{loose}", headers=mine)
    assert gone.status_code == 204, gone.text
    [left] = stored_files(settings)
    assert left.read_bytes() == JPEG  # the loose one's bytes left the store
    who, when = await deleted_by(db, loose)  # the row stays as the audit
    assert who == rep.id and when is not None
    assert (await client.get(f"/expense-receipts/{loose}", headers=mine)).status_code == 404
    # and a deleted receipt can no longer be linked
    _, relink = await create_report(device, rep, [line(receipt_attachment_id=loose)])
    assert relink["status"] == "rejected" and relink["error"]["code"] == "unknown_receipt"


async def test_the_orphan_sweep_removes_only_unreferenced_old_files(db, settings) -> None:
    store = LocalFileStore(settings.files_directory)

    async def chunks(data: bytes) -> Any:
        yield data

    # one a row names, an old orphan, a fresh orphan (an upload whose row may still commit)
    staged = [await store.begin(chunks(b"x" * n), max_bytes=100) for n in (1, 2, 3)]
    for item in staged:
        item.commit()
    async with db.transaction() as session:
        await session.execute(
            sa.insert(ExpenseReceipt.__table__).values(
                id=uuid7(),
                owner_id=(await make_user(db, "rep")).id,
                filename="a.jpg",
                content_type="image/jpeg",
                size=1,
                sha256="0" * 64,
                storage_key=staged[0].key,
            )
        )
    tables = [ExpenseReceipt.__table__, ContractAttachment.__table__]
    old = time.time() - 7200
    for path in stored_files(settings):
        if path.name != staged[2].key:
            os.utime(path, (old, old))
    removed = await sweep_orphans(db, store, tables, older_than=dt.timedelta(hours=1))
    assert removed == 1
    assert sorted(k for k, _ in store.stored_keys()) == sorted([staged[0].key, staged[2].key])


async def listed_receipts(client, headers) -> set[str]:
    page = await client.get("/expense-receipts?limit=100", headers=headers)
    return {r["id"] for r in page.json()["items"]}


async def test_a_deletion_racing_a_push_that_links_the_receipt_never_leaves_a_dangling_line(
    client, db, settings
) -> None:
    """Either the push links the receipt and the deletion is refused ``in_use``, or the
    deletion wins and the push is rejected ``unknown_receipt``; never both (PostgreSQL: the
    push reads the receipt FOR SHARE, the deletion locks it FOR UPDATE; SQLite: one writer)."""
    from server.errors import Conflict
    from server.sfa.expenses.receipts import ReceiptService
    from tests.synctools import principal, writer

    _, _, rep, _ = await team(db)
    headers = await auth_headers(db, rep)
    device = await device_for(client, db, rep)
    service = ReceiptService(
        db, writer(), principal(rep), settings, LocalFileStore(settings.files_directory)
    )
    for round_ in range(6):
        receipt = (await upload_receipt(client, headers, JPEG + bytes([round_]))).json()["id"]

        async def remove(receipt: str = receipt) -> str:
            try:
                await service.delete(uuid.UUID(receipt))
            except Conflict as exc:
                return exc.code
            return "deleted"

        pushed, removed = await asyncio.gather(
            create_report(device, rep, [line(receipt_attachment_id=receipt)]), remove()
        )
        result = pushed[1]
        outcome = (result["status"], removed)
        assert outcome in {("applied", "in_use"), ("rejected", "deleted")}, (outcome, result)
        if result["status"] == "rejected":
            assert result["error"]["code"] == "unknown_receipt"
    assert await count(db, "expense_receipts") == 6  # every row stays (deleted ones marked)
    # no report names a deleted receipt
    live = await listed_receipts(client, headers)
    pulled, _ = await device.pull_all(None)
    named = {
        ln["receipt_attachment_id"]
        for c in pulled
        if c["entity"] == "expense"
        for ln in c["record"]["lines"]
    }
    assert named <= live
