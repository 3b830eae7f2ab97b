"""The wire: MessagePack both ways, and bad request bodies on push (4xx, nothing written)."""

from __future__ import annotations

import uuid

import msgspec
import sqlalchemy as sa

from server.sync.models import sync_devices, sync_log, sync_receipts
from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder
from tests.synctools import settle

MSGPACK = "application/msgpack"


async def test_messagepack_round_trip_on_push_and_pull(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = uuid.uuid4()
    body = {
        "device_id": str(rep.device_id),
        "schema_version": 1,
        "mutations": [
            rep.mutation("note", note, folder_id=str(folder), title="packed", amount="3.25")
        ],
    }
    headers = {**rep.headers, "Content-Type": MSGPACK, "Accept": MSGPACK}
    pushed = await rep.client.post(
        "/sync/push", content=msgspec.msgpack.encode(body), headers=headers
    )
    assert pushed.status_code == 200 and pushed.headers["content-type"].startswith(MSGPACK)
    assert msgspec.msgpack.decode(pushed.content)["results"][0]["status"] == "applied"

    request = {"device_id": str(rep.device_id), "schema_version": 1, "cursor": None}
    await settle(toy_db)
    packed = await rep.client.post(
        "/sync/pull", content=msgspec.msgpack.encode(request), headers=headers
    )
    as_json = await rep.client.post("/sync/pull", json=request, headers=rep.headers)
    decoded = msgspec.msgpack.decode(packed.content)
    plain = as_json.json()
    assert [c["record"] for c in decoded["changes"]] == [c["record"] for c in plain["changes"]]
    assert {c["record"].get("title") for c in decoded["changes"]} == {None, "packed"}
    garbage = await rep.client.post("/sync/pull", content=b"\xc1\xff", headers=headers)
    assert garbage.status_code == 400 and garbage.json()["code"] == "malformed_body"


async def _nothing_written(db) -> None:
    async with db.sessions() as session:
        for table in (toy.notes, sync_receipts):
            assert (
                await session.execute(sa.select(sa.func.count()).select_from(table))
            ).scalar_one() == 0
        assert (
            await session.execute(sa.select(sa.func.count()).select_from(sync_log))
        ).scalar_one() == 1
        last = (await session.execute(sa.select(sync_devices.c.last_mid))).scalars().all()
        assert set(last) <= {0}


async def test_bad_push_bodies_get_4xx_with_code_and_field_and_write_nothing(
    toy_db, settings, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    good = rep.mutation("note", uuid.uuid4(), folder_id=str(folder), title="x")
    device = str(rep.device_id)
    cases = [
        (b'{"device_id": "' + device.encode() + b'", "mutations": [', 400, "malformed_body", None),
        (
            msgspec.json.encode(
                {"device_id": device, "schema_version": 1, "mutations": [{**good, "mid": "one"}]}
            ),
            422,
            "validation_error",
            "mutations.0.mid",
        ),
        (
            msgspec.json.encode(
                {"device_id": device, "schema_version": 1, "mutations": [{**good, "colour": "red"}]}
            ),
            422,
            "unknown_field",
            "mutations.0.colour",
        ),
        (
            msgspec.json.encode(
                {
                    "device_id": device,
                    "schema_version": 1,
                    "mutations": [{k: v for k, v in good.items() if k != "hlc"}],
                }
            ),
            422,
            "validation_error",
            "mutations.0.hlc",
        ),
        (
            msgspec.json.encode(
                {
                    "device_id": device,
                    "schema_version": 1,
                    "mutations": [{**good, "id": "not-a-uuid"}],
                }
            ),
            422,
            "validation_error",
            "mutations.0.id",
        ),
        (
            msgspec.json.encode({"device_id": device, "schema_version": 1, "mutations": {}}),
            422,
            "validation_error",
            "mutations",
        ),
        (
            msgspec.json.encode({"device_id": device, "schema_version": 2, "mutations": [good]}),
            426,
            "upgrade_required",
            "schema_version",
        ),
        (
            msgspec.json.encode(
                {"device_id": str(uuid.uuid4()), "schema_version": 1, "mutations": [good]}
            ),
            403,
            "forbidden",
            "device_id",
        ),
        (
            msgspec.json.encode(
                {
                    "device_id": device,
                    "schema_version": 1,
                    "mutations": [good] * (settings.sync_push_max_mutations + 1),
                }
            ),
            413,
            "payload_too_large",
            "mutations",
        ),
    ]
    for body, status, code, field in cases:
        response = await rep.client.post(
            "/sync/push", content=body, headers={**rep.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == status, (code, response.text)
        assert response.json()["code"] == code
        assert response.json().get("field") == field
    huge = (
        b'{"device_id": "'
        + device.encode()
        + b'", "padding": "'
        + b"x" * settings.max_body_bytes
        + b'"}'
    )
    too_big = await rep.client.post("/sync/push", content=huge, headers=rep.headers)
    assert too_big.status_code == 413 and too_big.json()["code"] == "payload_too_large"
    await _nothing_written(toy_db)


async def test_the_sync_endpoints_are_in_the_openapi_document(sync_client):
    response = await sync_client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]  # valid JSON: no example is generated from raw payloads
    assert {"/sync/pull", "/sync/push", "/sync/conflicts"} <= set(paths)
    assert "PullResponse" in response.json()["components"]["schemas"]
