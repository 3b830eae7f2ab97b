"""The error contract: every failure is ``{code, message, field?, data?}`` and writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from litestar.exceptions import ValidationException
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.models import AccessToken, Device, User
from server.db import Database
from server.http.errors import handle_validation
from server.settings import Settings
from tests.builders import auth_headers, make_user

ERROR_KEYS = {"code", "message", "field", "data"}


async def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table these endpoints could write."""
    counts = {}
    async with db.sessions() as session:
        for model in (User, Device, AccessToken):
            statement = sa.select(sa.func.count()).select_from(model)
            counts[model.__tablename__] = int((await session.execute(statement)).scalar())
    return counts


def new_user(**overrides: Any) -> dict[str, Any]:
    return {"email": "fresh@example.com", "name": "Fresh", "role": "rep",
            "password": "long enough pw", **overrides}


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) <= ERROR_KEYS and {"code", "message"} <= set(body)
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert body.get("field") == field, body


@pytest.fixture
async def admin(db: Database) -> dict[str, str]:
    return await auth_headers(db, await make_user(db, "admin"))


CASES = [
    # (name, method, path suffix, raw body, status, code, field)
    ("malformed json", "POST", "", b'{"email": "a@b.co", "name":', 400, "malformed_body", None),
    ("not json at all", "POST", "", b"email=a@b.co", 400, "malformed_body", None),
    ("empty body", "POST", "", b"", 400, "malformed_body", None),
    ("json array", "POST", "", b"[]", 422, "validation_error", None),
    ("wrong type", "POST", "", json.dumps(new_user(name=5)).encode(), 422,
     "validation_error", "name"),
    ("wrong enum", "POST", "", json.dumps(new_user(role="emperor")).encode(), 422,
     "validation_error", "role"),
    ("missing field", "POST", "", json.dumps({"email": "a@b.co"}).encode(), 422,
     "validation_error", "name"),
    ("unknown field", "POST", "", json.dumps(new_user(is_superuser=True)).encode(), 422,
     "unknown_field", "is_superuser"),
    ("out of range: long name", "POST", "", json.dumps(new_user(name="n" * 201)).encode(), 422,
     "validation_error", "name"),
    ("out of range: short password", "POST", "", json.dumps(new_user(password="1234567")).encode(),
     422, "validation_error", "password"),
    ("bad time zone", "POST", "", json.dumps(new_user(timezone="Atlantis/Capital")).encode(), 422,
     "validation_error", "timezone"),
    ("patch wrong type", "PATCH", "/{self}", b'{"active": "no"}', 422, "validation_error",
     "active"),
    ("patch unknown field", "PATCH", "/{self}", b'{"email": "x@y.co"}', 422, "unknown_field",
     "email"),
    ("patch malformed", "PATCH", "/{self}", b'{"name": "x"', 400, "malformed_body", None),
    ("patch unknown id", "PATCH", "/{random}", b'{"name": "x"}', 404, "not_found", "id"),
]


@pytest.mark.parametrize(
    "name, method, suffix, body, status, code, field", CASES, ids=[c[0] for c in CASES]
)
async def test_bad_writes_get_their_error_and_write_nothing(
    client, db, admin, name, method, suffix, body, status, code, field
) -> None:
    target = await make_user(db, "rep")
    path = "/users" + suffix.format(self=target.id, random=uuid.uuid4())
    before = await row_counts(db)
    response = await client.request(
        method, path, content=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert_error(response, status, code, field)
    assert await row_counts(db) == before
    async with db.sessions() as session:
        unchanged = await session.get(User, target.id)
    assert unchanged is not None and (unchanged.name, unchanged.active) == (target.name, True)


@pytest.mark.parametrize(
    "query, code, field",
    [("limit=0", "validation_error", "limit"), ("limit=501", "validation_error", "limit"),
     ("cursor=%%%", "invalid_cursor", "cursor")],
)
async def test_out_of_range_query_values_are_refused(client, db, admin, query, code, field) -> None:
    assert_error(await client.get(f"/users?{query}", headers=admin), 422, code, field)


@pytest.mark.parametrize(
    "query, field",
    [("limit=ten", "limit"), ("manager_id=not-a-uuid", "manager_id"), ("role=king", "role"),
     ("active=perhaps", "active")],
)
async def test_wrongly_typed_query_values_are_refused(client, db, admin, query, field) -> None:
    assert_error(await client.get(f"/users?{query}", headers=admin), 422, "validation_error", field)


async def test_unknown_ids_are_not_found(client, db, admin) -> None:
    assert_error(await client.get(f"/users/{uuid.uuid4()}", headers=admin), 404, "not_found", "id")
    assert_error(await client.get("/users/not-a-uuid", headers=admin), 404, "not_found")
    assert_error(await client.get("/no/such/route", headers=admin), 404, "not_found")


async def test_forbidden_access_writes_nothing(client, db) -> None:
    rep = await make_user(db, "rep")
    headers = await auth_headers(db, rep)
    before = await row_counts(db)
    assert_error(await client.get("/users", headers=headers), 403, "forbidden")
    assert_error(await client.post("/users", json=new_user(), headers=headers), 403, "forbidden")
    assert_error(
        await client.patch(f"/users/{rep.id}", json={"role": "admin"}, headers=headers),
        403, "forbidden",
    )
    assert await row_counts(db) == before
    async with db.sessions() as session:
        assert (await session.get(User, rep.id)).role.value == "rep"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer garbage"},
     {"Authorization": f"Bearer {uuid.uuid4().hex}.{'x' * 43}"},
     {"Authorization": "Token abc.def"}],
    ids=["missing", "empty", "garbage", "unknown", "wrong scheme"],
)
async def test_missing_or_garbage_tokens_are_refused_before_any_write(
    client, db, headers
) -> None:
    before = await row_counts(db)
    assert_error(await client.post("/users", json=new_user(), headers=headers), 401,
                 "not_authenticated")
    assert_error(await client.get("/users", headers=headers), 401, "not_authenticated")
    assert await row_counts(db) == before


@pytest.fixture
async def small_body_client(settings: Settings, db: Database) -> AsyncIterator[Any]:
    app = create_app(msgspec.structs.replace(settings, max_body_bytes=1024), check_schema=False)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def test_an_oversize_body_is_refused(small_body_client, db, admin) -> None:
    before = await row_counts(db)
    body = json.dumps(new_user(name="n" * 2000)).encode()
    response = await small_body_client.post(
        "/users", content=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")
    assert await row_counts(db) == before
    small = await small_body_client.post("/users", json=new_user(), headers=admin)
    assert small.status_code == 201  # the same endpoint takes a body under the limit


async def test_a_wrong_method_is_a_typed_error(client, db, admin) -> None:
    response = await client.delete("/users", headers=admin)
    assert_error(response, 405, "method_not_allowed")


async def test_an_empty_body_is_a_readable_400_not_the_key_data(client, db, admin) -> None:
    for path in ("/users", "/accounts", "/auth/login", "/sync/push"):
        response = await client.post(
            path, content=b"", headers={**admin, "Content-Type": "application/json"}
        )
        assert_error(response, 400, "malformed_body")
        assert "body is required" in response.json()["message"], response.json()


async def test_a_bad_enum_is_422_in_query_and_body_with_the_allowed_values(
    client, db, admin
) -> None:
    allowed = ["rep", "manager", "admin"]
    in_query = await client.get("/users?role=king", headers=admin)
    in_body = await client.post("/users", json=new_user(role="king"), headers=admin)
    for response in (in_query, in_body):
        assert_error(response, 422, "validation_error", "role")
        assert sorted(response.json()["data"]["allowed"]) == sorted(allowed)
        assert response.json()["message"] == "role must be one of: " + ", ".join(
            response.json()["data"]["allowed"]
        )
    segment = await client.get("/accounts?segment=martians", headers=admin)
    assert_error(segment, 422, "validation_error", "segment")
    assert "consumer" in segment.json()["data"]["allowed"]


async def test_an_invalid_email_says_so_instead_of_showing_the_regex(client, db, admin) -> None:
    response = await client.post("/users", json=new_user(email="not-an-email"), headers=admin)
    assert_error(response, 422, "validation_error", "email")
    assert response.json()["message"] == "email must be an email address (name@example.com)"
    account = (await client.post("/accounts", json={"name": "A"}, headers=admin)).json()
    contact = await client.post(
        "/contacts", json={"account_id": account["id"], "name": "N", "email": "x@"}, headers=admin
    )
    assert_error(contact, 422, "validation_error", "email")
    assert "regex" not in contact.json()["message"] and "^" not in contact.json()["message"]


async def test_messages_name_the_field_in_words(client, db, admin) -> None:
    cases = [
        ("/users?limit=ten", None, "limit must be an integer, not a string"),
        ("/users", new_user(name=5), "name must be a string, not an integer"),
        ("/users", new_user(name=""), "name must have at least 1 character"),
        ("/users", {"email": "a@b.co"}, "name is required"),
        ("/accounts", {"name": "A", "latitude": 91}, "latitude must be at most 90.0"),
        ("/products", {"sku": "a b", "name": "Soap"}, "sku must be a code without spaces"),
        ("/price-lists", {"name": "P", "currency": "eu"}, "currency must be a three-letter ISO "
         "4217 code such as EUR"),
    ]
    for path, body, message in cases:
        if body is None:
            response = await client.get(path, headers=admin)
        else:
            response = await client.post(path, json=body, headers=admin)
        assert response.status_code == 422, response.text
        assert response.json()["message"] == message


def test_nested_body_errors_name_the_full_path() -> None:
    cases = [
        ({"message": "Expected `int`, got `str`", "key": "lines[2].qty", "source": "body"},
         422, "validation_error", "lines.2.qty"),
        ({"message": "Object contains unknown field `zz`", "key": "lines[0]", "source": "body"},
         422, "unknown_field", "lines.0.zz"),
        ({"message": "Object missing required field `sku`", "key": "lines[1]", "source": "body"},
         422, "validation_error", "lines.1.sku"),
    ]
    for detail, status, code, field in cases:
        exc = ValidationException(detail="Validation failed", extra=[detail])
        response = handle_validation(None, exc)  # type: ignore[arg-type]
        assert response.status_code == status
        assert (response.content.code, response.content.field) == (code, field)


async def test_openapi_is_public_and_lists_every_auth_and_user_endpoint(client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    try:
        document = json.loads(response.text)
    except json.JSONDecodeError as exc:  # e.g. an example generated for a msgspec.Raw field
        context = response.text[max(exc.pos - 120, 0):exc.pos + 40]
        pytest.fail(f"the OpenAPI document is not valid JSON near: {context}")
    paths = document["paths"]
    expected = {
        "/auth/login": {"post"}, "/auth/logout": {"post"}, "/auth/me": {"get"},
        "/auth/tokens": {"get"}, "/auth/tokens/{token_id}/revoke": {"post"},
        "/auth/devices": {"get"}, "/devices": {"get"},
        "/devices/{device_id}/deactivate": {"post"}, "/devices/{device_id}/activate": {"post"},
        "/users": {"get", "post"}, "/users/{user_id}": {"get", "patch"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert paths["/auth/login"]["post"]["security"] == [{}]  # login needs no token
