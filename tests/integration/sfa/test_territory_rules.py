"""Assignment rules over REST: CRUD, the manager's subtree, pages, ETag/If-Match (both backends)."""

from __future__ import annotations

import uuid

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, count, make_tree, walk_pages


async def test_manager_edits_rules_of_their_subtree_only(client, db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    await add_member(db, tree["north"], manager.id)
    headers = await auth_headers(db, manager)
    url = f"/territories/{tree['n1a']}/rules"

    created = await client.post(
        url, json={"kind": "postal_prefix", "value": "75", "priority": 10}, headers=headers
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["territory_id"] == str(tree["n1a"]) and rule["version"] == 1
    assert rule["created_by"] == str(manager.id) and created.headers["etag"] == '"1"'
    assert uuid.UUID(rule["id"]).version == 7

    # the south subtree is not theirs: answered like a missing territory, nothing written
    foreign = await client.post(
        f"/territories/{tree['s1a']}/rules", json={"kind": "city", "value": "X"}, headers=headers
    )
    assert foreign.status_code == 404 and foreign.json()["field"] == "territory_id"
    listed = await client.get(f"/territories/{tree['s1a']}/rules", headers=headers)
    assert listed.status_code == 404
    assert await count(db, "territory_rules") == 1

    # a rep may not touch rules at all
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep.id)
    rep_headers = await auth_headers(db, rep)
    assert (await client.get(url, headers=rep_headers)).status_code == 403

    # If-Match: a stale version is refused with 412, the current one applies
    rule_url = f"{url}/{rule['id']}"
    stale = await client.patch(
        rule_url, json={"priority": 5}, headers={**headers, "If-Match": '"7"'}
    )
    assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
    changed = await client.patch(
        rule_url, json={"priority": 5}, headers={**headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200 and changed.json()["priority"] == 5
    assert changed.json()["version"] == 2 and changed.headers["etag"] == '"2"'

    # admins everywhere
    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    south = await client.post(
        f"/territories/{tree['s1a']}/rules",
        json={
            "kind": "radius",
            "center_latitude": 45.76,
            "center_longitude": 4.84,
            "radius_m": 5000,
        },
        headers=admin_headers,
    )
    assert south.status_code == 201, south.text

    gone = await client.delete(rule_url, headers={**headers, "If-Match": '"1"'})
    assert gone.status_code == 412
    assert (
        await client.delete(rule_url, headers={**headers, "If-Match": '"2"'})
    ).status_code == 204
    assert (await client.get(rule_url, headers=headers)).status_code == 404


async def test_rule_parameters_must_fit_the_kind(client, db) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    url = f"/territories/{tree['n1a']}/rules"
    wrong = [
        ({"kind": "city"}, "value"),
        ({"kind": "segment", "value": "retail"}, "value"),
        ({"kind": "polygon", "polygon": [[0, 0], [1, 1]]}, "polygon"),
        ({"kind": "polygon", "polygon": [[0, 0], [1, 1], [95, 1]]}, "polygon"),
        ({"kind": "radius", "center_latitude": 10, "radius_m": 100}, "center_latitude"),
        ({"kind": "radius", "center_latitude": 10, "center_longitude": 1}, "radius_m"),
        (
            {"kind": "radius", "center_latitude": 10, "center_longitude": 1, "radius_m": -1},
            "radius_m",
        ),
        ({"kind": "city", "value": "X", "owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"kind": "county", "value": "X"}, "kind"),
    ]
    for body, field in wrong:
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, (body, response.json())
    assert await count(db, "territory_rules") == 0

    ok = await client.post(url, json={"kind": "city", "value": "Paris"}, headers=headers)
    # a patch is checked against the rule as a whole: a city rule cannot become a polygon alone
    bad = await client.patch(f"{url}/{ok.json()['id']}", json={"kind": "polygon"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "polygon"


async def test_rules_page_by_id(client, db) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    url = f"/territories/{tree['n1a']}/rules"
    made = []
    for i in range(5):
        r = await client.post(url, json={"kind": "city", "value": f"C{i}"}, headers=headers)
        made.append(r.json()["id"])
    assert await walk_pages(client, url, headers, limit=2) == made
