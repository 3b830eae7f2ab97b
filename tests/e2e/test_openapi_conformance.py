"""Schemathesis over the served OpenAPI document, as an admin and as a rep, on both backends.

Every operation of ``/schema/openapi.json`` gets a bounded number of generated requests, valid
(positive) and invalid (negative) ones; every answer must be no 5xx, carry ``code`` when it is a
4xx, and conform to the document: its status is declared, and so are its content type and body.
"""

from __future__ import annotations

import time
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.models import Base
from tests.builders import issue_token

EXAMPLES = 8  # per operation, mode and role: ~15 s a role and backend on this machine
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
# The docs pages and the document itself are not API answers.
SKIPPED = ("/schema",)


def _headers(world: Any, user: Any) -> dict[str, str]:
    token, _ = world.run(issue_token, world.app_client.app.state.db, user)
    return {"Authorization": f"Bearer {token}"}


async def _empty_tables(db: Any) -> None:
    async with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


def _seed(world: Any, admin: dict[str, str]) -> None:
    """A few records, so that list endpoints answer pages with items to conform."""
    client = world.app_client

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    territory = post("/territories", {"name": "North", "level": "region"})
    account = post("/accounts", {"name": "Acme", "territory_id": territory["id"]})
    post("/contacts", {"account_id": account["id"], "name": "Ann"})
    product = post("/products", {"sku": "S-1", "name": "Soap"})
    prices = post("/price-lists", {"name": "Retail", "currency": "EUR"})
    post(f"/price-lists/{prices['id']}/entries", {"product_id": product["id"], "unit_price": "1"})
    post("/warehouses", {"code": "W1", "name": "Main"})


def _send(client: Any, case: Any, headers: dict[str, str]) -> Any:
    """Send one generated case through the in-process client."""
    kwargs = case.as_transport_kwargs(headers=headers)
    assert not kwargs.get("cookies"), kwargs  # the API declares none
    return client.request(
        kwargs["method"],
        kwargs["url"].removeprefix(str(client.base_url)),
        params=kwargs.get("params"),
        headers=kwargs.get("headers"),
        content=kwargs.get("data"),
        json=kwargs.get("json"),
    )


def _exercise(client: Any, strategy: Any, headers: dict[str, str], sent: list[int]) -> None:
    """Run EXAMPLES generated cases of one operation; raises on the first nonconforming one."""

    @given(case=strategy)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def exercise(case: Any) -> None:
        response = _send(client, case, headers)
        sent.append(response.status_code)
        label = f"{case.method} {case.formatted_path} -> {response.status_code}"
        if 400 <= response.status_code < 500:
            body = response.json()
            assert isinstance(body, dict) and isinstance(body.get("code"), str), label
        case.validate_response(response, checks=CHECKS)

    exercise()


def _run(world: Any, user: Any, mode: GenerationMode, sent: list[int]) -> list[str]:
    client = world.app_client
    document = client.get("/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIPPED):
            continue
        strategy = operation.as_strategy(generation_mode=mode)
        headers = _headers(world, user)  # a fresh token: logout and revoke may end the last one
        try:
            _exercise(client, strategy, headers, sent)
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing in the operation can be invalid
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failure at once
            problems.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "rep"])
def test_every_answer_conforms_to_the_openapi_document(world, role: str) -> None:
    admin = world.user("admin")
    _seed(world, _headers(world, admin))
    user = admin if role == "admin" else world.user(role)
    started = time.monotonic()
    sent: list[int] = []
    problems = _run(world, user, GenerationMode.POSITIVE, sent)
    problems += _run(world, user, GenerationMode.NEGATIVE, sent)
    elapsed = time.monotonic() - started
    assert not problems, "\n".join(problems)
    statuses = {status // 100 for status in sent}
    assert len(sent) > 200 and {2, 4} <= statuses, sorted(set(sent))  # it did exercise the API
    assert sent.count(401) < len(sent) // 4, sorted(set(sent))  # mostly as the signed-in user
    print(f"{role}: {len(sent)} requests in {elapsed:.1f}s, statuses {sorted(set(sent))}")


@pytest.mark.slow
def test_created_records_followed_through_links_conform(world) -> None:
    """Stateful: create a record, then read, change and delete it through the document's links."""
    from schemathesis.core.transport import Response

    client = world.app_client
    headers: dict[str, str] = {}
    document = client.get("/schema/openapi.json").json()
    # the operations on records (creates and what their links lead to); not logout or revoke
    # valid requests only: the steps must make, find, change and delete records
    config = SchemathesisConfig.from_dict({"generation": {"mode": "positive"}})
    schema = schemathesis.openapi.from_dict(document, config=config).include(
        path_regex="^/(accounts|contacts|product-categories|products|price-lists|warehouses|territories)"
    )
    sent: list[tuple[str, int]] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from an empty database, so a scenario replayed by Hypothesis
            # meets the same answers (it refuses strategies that depend on outside state).
            world.run(_empty_tables, world.app_client.app.state.db)
            headers.update(_headers(world, world.user("admin")))
            _seed(world, headers)  # records for the list answers' links to lead to

        def call(self, case: Any, **kwargs: Any) -> Any:
            response = _send(client, case, headers)
            sent.append((f"{case.method} {case.path}", response.status_code))
            return Response.from_any(response)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            if 400 <= response.status_code < 500:
                assert isinstance(response.json().get("code"), str), response.text
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=hypothesis.settings(
            max_examples=40,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    followed = {step for step, status in sent if status in (200, 204) and "{" in step}
    assert followed, sorted(set(sent))  # links did lead to records that exist
    print(f"stateful: {len(sent)} requests, {len(followed)} linked operations answered 2xx")
