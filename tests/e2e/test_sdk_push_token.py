"""The SDK registers its device's push token; logging out forgets it on the server."""

from __future__ import annotations

from tests.e2e.conftest import World

COUNT = "SELECT count(*) FROM push_tokens p JOIN users u ON u.id = p.user_id WHERE u.email = :e"
TOKEN = "SELECT p.token FROM push_tokens p JOIN users u ON u.id = p.user_id WHERE u.email = :e"


def test_the_sdk_registers_refreshes_and_logs_out_its_push_token(world: World) -> None:
    rep = world.user("rep")
    phone = world.device(rep, "phone")
    phone.register_push_token("fcm-token-1", platform="ios")
    phone.register_push_token("fcm-token-2", platform="ios")  # FCM rotated it
    assert world.scalar(COUNT, e=rep.email) == 1
    assert world.scalar(TOKEN, e=rep.email) == "fcm-token-2"
    phone.logout()
    assert world.scalar(COUNT, e=rep.email) == 0
    phone.close()


def test_the_sdk_removes_its_push_token(world: World) -> None:
    rep = world.user("rep")
    phone = world.device(rep, "phone")
    phone.register_push_token("fcm-token-3")
    phone.remove_push_token()
    phone.remove_push_token()  # none left: still fine
    assert world.scalar(COUNT, e=rep.email) == 0
    phone.close()
