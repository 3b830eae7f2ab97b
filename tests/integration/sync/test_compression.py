"""Response compression: brotli or gzip as the client accepts, above the size threshold."""

from __future__ import annotations

import gzip

import brotli
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from tests.integration.sync.toy import make_folder, make_note


async def _pull(rep, encoding: str, accept: str = "application/json", *, raw: bool = False):
    """A pull from the start; ``raw``: the response unread, to stream its wire bytes."""
    body = {"device_id": str(rep.device_id), "schema_version": 1, "cursor": None, "limit": 500}
    headers = {**rep.headers, "Accept-Encoding": encoding, "Accept": accept}
    request = rep.client.build_request("POST", "/sync/pull", json=body, headers=headers)
    return await rep.client.send(request, stream=raw)


async def _notes(toy_db, writer, count: int) -> None:
    folder = await make_folder(toy_db, writer, "t:north")
    for n in range(count):
        await make_note(toy_db, writer, folder, title=f"note number {n}", body="the same text")


async def test_a_large_pull_is_compressed_as_accepted_and_decodes_to_the_same_body(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    await _notes(toy_db, writer, 40)
    plain = await _pull(rep, "identity")
    assert "content-encoding" not in plain.headers
    expected = plain.json()
    assert len(expected["changes"]) == 41 and len(plain.content) > 1024

    for accept, name, decode in (
        ("br, gzip", "br", brotli.decompress),
        ("gzip, deflate", "gzip", gzip.decompress),
    ):
        response = await _pull(rep, accept, raw=True)
        assert response.headers["content-encoding"] == name
        assert "accept-encoding" in response.headers["vary"].lower()
        wire = b"".join([chunk async for chunk in response.aiter_raw()])
        assert len(wire) < len(plain.content) / 2
        assert msgspec.json.decode(decode(wire))["changes"] == expected["changes"]

    packed = await _pull(rep, "gzip", accept="application/msgpack")
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"].startswith("application/msgpack")
    assert len(msgspec.msgpack.decode(packed.content)["changes"]) == 41


async def test_a_small_response_is_not_compressed(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    response = await _pull(rep, "br, gzip")  # nothing in scope: a few hundred bytes
    assert response.status_code == 200 and "content-encoding" not in response.headers


@pytest.fixture
async def uncompressed_client(settings, toy_db, registry):
    off = msgspec.structs.replace(settings, compress_min_bytes=0)
    async with AsyncTestClient(app=create_app(off, check_schema=False, registry=registry)) as c:
        yield c


async def test_compression_off_by_setting(toy_db, writer, make_device, uncompressed_client):
    rep = await make_device(keys={"t:north"})
    await _notes(toy_db, writer, 40)
    rep.client = uncompressed_client
    response = await _pull(rep, "br, gzip")
    assert response.status_code == 200 and "content-encoding" not in response.headers
    assert len(response.json()["changes"]) == 41
