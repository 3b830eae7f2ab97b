async def test_health_is_public(client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_unknown_route_is_a_typed_404(client) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_a_valid_token_passes_the_middleware(client, db) -> None:
    from tests.builders import auth_headers, make_user

    admin = await make_user(db, "admin")
    response = await client.get("/nope", headers=await auth_headers(db, admin))
    assert response.status_code == 404
    garbage = await client.get("/nope", headers={"Authorization": "Bearer abc"})
    assert garbage.status_code == 404  # unknown routes are 404 before auth
