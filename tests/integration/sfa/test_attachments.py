"""Contract attachments: checksum, limits, download scope, and no leftovers on failure."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.sfa.contracts.models import ContractAttachment
from tests.builders import auth_headers, make_user
from tests.file_tools import asgi_upload, stored_files
from tests.integration.sfa.core_builders import add_member, count, make_account, make_territory
from tests.integration.sfa.finance_builders import admin_headers, new_contract

PDF = b"%PDF-1.7\n" + os.urandom(40_000)


@pytest.fixture
def files_settings(settings, tmp_path: Path):
    import msgspec

    return msgspec.structs.replace(
        settings, files_dir=str(tmp_path / "files"), attachment_max_bytes=100_000
    )


@pytest.fixture
async def files_client(files_settings, db):
    async with AsyncTestClient(app=create_app(files_settings, check_schema=False)) as client:
        yield client


async def upload(client, headers, contract_id, body, content_type="application/pdf", **extra):
    return await client.post(
        f"/contracts/{contract_id}/attachments?filename=signed%20copy.pdf",
        content=body,
        headers={**headers, "Content-Type": content_type, **extra},
    )


async def test_an_upload_is_stored_with_its_checksum_and_downloaded(
    files_client, db, files_settings
) -> None:
    headers = await admin_headers(db)
    contract = await new_contract(files_client, headers, await make_account(db))
    response = await upload(files_client, headers, contract["id"], PDF)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (record["size"], record["filename"], record["content_type"]) == (
        len(PDF),
        "signed copy.pdf",
        "application/pdf",
    )
    listed = await files_client.get(f"/contracts/{contract['id']}/attachments", headers=headers)
    assert [a["id"] for a in listed.json()["items"]] == [record["id"]]
    content = await files_client.get(
        f"/contracts/{contract['id']}/attachments/{record['id']}/content", headers=headers
    )
    assert content.status_code == 200
    assert content.content == PDF and content.headers["content-type"] == "application/pdf"
    assert "signed%20copy.pdf" in content.headers["content-disposition"]
    [stored] = stored_files(files_settings)
    assert stored.read_bytes() == PDF and ".staging" not in stored.parts


async def test_only_those_who_see_the_contract_may_download(files_client, db) -> None:
    admin = await admin_headers(db)
    north, south = await make_territory(db), await make_territory(db)
    manager = await make_user(db, "manager")
    await add_member(db, north, manager.id)
    contract = await new_contract(files_client, admin, await make_account(db, territory_id=south))
    record = (await upload(files_client, admin, contract["id"], PDF)).json()
    url = f"/contracts/{contract['id']}/attachments/{record['id']}/content"
    outsider = await auth_headers(db, manager)
    assert (await files_client.get(url, headers=outsider)).status_code == 404
    refused = await upload(files_client, outsider, contract["id"], PDF)
    assert refused.status_code == 404
    rep = await auth_headers(db, await make_user(db, "rep"))
    assert (await files_client.get(url, headers=rep)).status_code == 403
    assert await count(db, "contract_attachments") == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "field"),
    [
        (b"x" * 100_001, "application/pdf", 413, "payload_too_large", "file"),
        (b"MZ\x90\x00", "application/x-msdownload", 422, "unsupported_type", "content_type"),
        (b"", "application/pdf", 422, "empty_file", "file"),
    ],
)
async def test_refused_uploads_leave_nothing_behind(
    files_client, db, files_settings, body, content_type, status, code, field
) -> None:
    headers = await admin_headers(db)
    contract = await new_contract(files_client, headers, await make_account(db))
    response = await upload(files_client, headers, contract["id"], body, content_type)
    assert response.status_code == status, response.text
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await count(db, "contract_attachments") == 0
    assert stored_files(files_settings) == []


async def test_a_client_leaving_mid_upload_leaves_nothing_behind(
    files_client, db, files_settings
) -> None:
    headers = await admin_headers(db)
    contract = await new_contract(files_client, headers, await make_account(db))
    # a second app, driven on this test's loop (the client's app runs on its own loop)
    app = create_app(files_settings, check_schema=False)
    path = f"/contracts/{contract['id']}/attachments?filename=half.pdf"
    upload_headers = {**headers, "content-type": "application/pdf", "content-length": "90000"}
    sent = await asgi_upload(app, upload_headers, path, [PDF[:20_000], PDF[20_000:30_000], None])
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    assert b"upload_interrupted" in b"".join(m.get("body", b"") for m in sent)
    assert await count(db, "contract_attachments") == 0
    assert stored_files(files_settings) == []
    # an unannounced body over the limit is cut off while it streams
    chunks = [b"x" * 60_000, b"x" * 60_000, b"x" * 60_000]
    unannounced = {**headers, "content-type": "application/pdf"}
    sent = await asgi_upload(app, unannounced, path, chunks)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert await count(db, "contract_attachments") == 0
    assert stored_files(files_settings) == []
    await app.state.db.dispose()


def test_the_default_files_directory_is_beside_the_sqlite_file() -> None:
    from server.settings import Settings

    here = Settings(database_url="sqlite+aiosqlite:///var/lib/outpost/outpost.db")
    assert here.files_directory == os.path.join("var/lib/outpost", "files")
    assert Settings(database_url="sqlite+aiosqlite:///outpost.db").files_directory == "files"
    assert Settings(files_dir="/srv/files").files_directory == "/srv/files"
    assert Settings(database_url="postgresql+asyncpg://h/db").files_directory == "files"


async def test_deleting_an_attachment_removes_its_file_after_the_commit(
    files_client, db, files_settings
) -> None:
    admin = await admin_headers(db)
    north, south = await make_territory(db), await make_territory(db)
    manager = await make_user(db, "manager")
    await add_member(db, north, manager.id)
    contract = await new_contract(files_client, admin, await make_account(db, territory_id=south))
    kept = (await upload(files_client, admin, contract["id"], PDF)).json()
    dropped = (await upload(files_client, admin, contract["id"], PDF[::-1])).json()
    url = f"/contracts/{contract['id']}/attachments/{dropped['id']}"
    # a rep may not, a manager outside the contract's subtree does not see it
    rep = await auth_headers(db, await make_user(db, "rep"))
    assert (await files_client.delete(url, headers=rep)).status_code == 403
    outsider = await auth_headers(db, manager)
    assert (await files_client.delete(url, headers=outsider)).status_code == 404
    assert len(stored_files(files_settings)) == 2

    assert (await files_client.delete(url, headers=admin)).status_code == 204
    [left] = stored_files(files_settings)
    assert left.read_bytes() == PDF
    listed = await files_client.get(f"/contracts/{contract['id']}/attachments", headers=admin)
    assert [a["id"] for a in listed.json()["items"]] == [kept["id"]]
    assert (await files_client.get(f"{url}/content", headers=admin)).status_code == 404
    assert (await files_client.delete(url, headers=admin)).status_code == 404  # once
    async with db.reading() as session:  # the row stays, with who deleted it
        row = (
            await session.execute(
                sa.select(ContractAttachment.deleted_by, ContractAttachment.deleted_at).where(
                    ContractAttachment.id == uuid.UUID(dropped["id"])
                )
            )
        ).one()
    assert row.deleted_at is not None and row.deleted_by is not None


async def test_a_deletion_rolled_back_keeps_the_file(files_client, db, files_settings) -> None:
    from server.file_store import LocalFileStore
    from server.sfa.contracts.attachments import AttachmentService
    from server.sync.registry import Principal
    from tests.synctools import writer

    admin_user = await make_user(db, "admin")
    admin = await auth_headers(db, admin_user)
    contract = await new_contract(files_client, admin, await make_account(db))
    record = (await upload(files_client, admin, contract["id"], PDF)).json()

    class Refusing(LocalFileStore):
        def remove(self, key: str) -> None:
            raise AssertionError("the file is removed only after the row's commit")

    service = AttachmentService(
        db,
        writer(),
        Principal(admin_user.id, "admin"),
        files_settings,
        Refusing(files_settings.files_directory),
    )

    def refuse(conn, cursor, statement, *args):
        if statement.startswith("UPDATE contract_attachments"):
            raise RuntimeError("the database went away")

    # the UPDATE fails inside the transaction: nothing commits, the file must stay
    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", refuse)
    with pytest.raises(RuntimeError):
        await service.delete(uuid.UUID(contract["id"]), uuid.UUID(record["id"]))
    sa.event.remove(db.engine.sync_engine, "before_cursor_execute", refuse)
    [stored] = stored_files(files_settings)
    assert stored.read_bytes() == PDF
    listed = await files_client.get(f"/contracts/{contract['id']}/attachments", headers=admin)
    assert [a["id"] for a in listed.json()["items"]] == [record["id"]]
