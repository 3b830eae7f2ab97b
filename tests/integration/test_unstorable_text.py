"""U+0000 is refused at input with 422 naming the field, on SQLite and PostgreSQL alike.

PostgreSQL text cannot hold it (the request answered 500 there) while SQLite stored it.
"""

from __future__ import annotations

import uuid

import pytest

from server.db import Database
from server.text import unstorable_path
from tests.builders import auth_headers, issue_token, make_user
from tests.integration.sfa.core_builders import count


def assert_refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error" and body["field"] == field, body
    assert "U+0000" in body["message"]


def test_unstorable_path_names_the_first_bad_string() -> None:
    assert unstorable_path({"a": "ok", "b": [{"c": "x\x00"}]}) == "b.0.c"
    assert unstorable_path({"k\x00": 1}) == "k\x00"
    assert unstorable_path("\udc80") == "body"
    assert unstorable_path({"a": ["fine", 1, None, 2.5]}) is None


async def test_nul_in_login_email_is_422_not_500(client, db: Database) -> None:
    body = {
        "email": "a\u0000b@example.com",
        "password": "whatever pw",
        "device_id": str(uuid.uuid4()),
    }
    assert_refused(await client.post("/auth/login", json=body), "email")


async def test_nul_in_account_create_is_refused_and_nothing_is_written(
    client, db: Database
) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    response = await client.post("/accounts", json={"name": "Acme\u0000"}, headers=headers)
    assert_refused(response, "name")
    nested = await client.post("/accounts", json={"name": "ok", "city": "x\u0000"}, headers=headers)
    assert_refused(nested, "city")
    assert await count(db, "accounts") == 0


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/accounts", "q"),
        ("/accounts", "city"),
        ("/accounts", "postal_code"),
        ("/contacts", "email"),
        ("/products", "q"),
        ("/sync/conflicts", "entity"),
    ],
)
async def test_nul_in_a_list_filter_is_422_naming_the_parameter(
    client, db: Database, path: str, param: str
) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    assert_refused(await client.get(f"{path}?{param}=a%00b", headers=headers), param)


async def test_nul_in_a_pull_cursor_is_refused(client, db: Database) -> None:
    token, device_id = await issue_token(db, await make_user(db, "rep"))
    headers = {"Authorization": f"Bearer {token}"}
    body = {"device_id": str(device_id), "schema_version": 1, "cursor": "a\u0000b"}
    response = await client.post("/sync/pull", json=body, headers=headers)
    assert response.status_code == 400, response.text  # never a 500, never stored
    assert response.json()["code"] == "invalid_cursor" and response.json()["field"] == "cursor"
