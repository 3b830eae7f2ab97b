"""The served OpenAPI document declares the error shape, every error status, and sync bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings
from tests.builders import auth_headers, make_user


@pytest.fixture
async def document(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", secret_key="k")
    async with AsyncTestClient(app=create_app(settings, check_schema=False)) as client:
        yield (await client.get("/schema/openapi.json")).json()


def test_sync_push_and_pull_document_their_bodies_in_json_and_msgpack(document) -> None:
    schemas = document["components"]["schemas"]
    for path, request, response in (
        ("/sync/push", "PushRequest", "PushResponse"),
        ("/sync/pull", "PullRequest", "PullResponse"),
    ):
        operation = document["paths"][path]["post"]
        body = operation["requestBody"]
        assert body["required"] is True
        ok = operation["responses"]["200"]["content"]
        for media in ("application/json", "application/msgpack"):
            assert body["content"][media]["schema"] == {"$ref": f"#/components/schemas/{request}"}
            assert ok[media]["schema"] == {"$ref": f"#/components/schemas/{response}"}
    assert {"device_id", "schema_version", "mutations"} <= set(schemas["PushRequest"]["required"])
    mutation = schemas["Mutation"]["properties"]
    assert {"mid", "entity", "id", "op", "hlc", "changes"} <= set(mutation)
    assert "426" in document["paths"]["/sync/push"]["post"]["responses"]


def test_every_error_answer_is_declared_in_the_one_error_shape(document) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    assert set(error["properties"]) == {"code", "message", "field", "data"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation["responses"]
            errors = {int(s) for s in responses if s.startswith("4")}
            assert {400, 404, 422, 429} <= errors, (method, path)
            for status in errors:
                content = responses[str(status)]["content"]
                assert content == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                }, (method, path, status)
            if operation.get("security") != [{}]:
                assert {401, 403} <= errors, (method, path)
            if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
                assert 412 in errors, (method, path)
            if method in ("post", "put", "patch"):
                assert {409, 413} <= errors, (method, path)
    patch = document["paths"]["/accounts/{account_id}"]["patch"]
    assert patch["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert document["paths"]["/health"]["get"]["security"] == [{}]
    assert document["paths"]["/auth/login"]["post"]["security"] == [{}]


async def test_an_undeclared_query_parameter_is_422_naming_it(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    response = await client.get("/accounts?segmnt=consumer", headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unknown_field" and response.json()["field"] == "segmnt"
    empty = await client.get("/accounts?=x", headers=headers)
    assert empty.status_code == 422 and empty.json()["field"] == ""
    declared = await client.get("/accounts?segment=consumer&limit=5", headers=headers)
    assert declared.status_code == 200


def test_creates_link_to_the_operations_on_what_they_made(document) -> None:
    links = document["paths"]["/accounts"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in links.values()}
    item = document["paths"]["/accounts/{account_id}"]
    assert targets == {item[m]["operationId"] for m in ("get", "patch", "delete")}
    assert all(
        link["parameters"] == {"account_id": "$response.body#/id"} for link in links.values()
    )
    nested = document["paths"]["/price-lists/{price_list_id}/entries"]["post"]["responses"]
    for link in nested["201"]["links"].values():
        assert link["parameters"] == {
            "price_list_id": "$request.path.price_list_id",
            "entry_id": "$response.body#/id",
        }
