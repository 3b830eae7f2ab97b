"""FcmSender through the real firebase-admin code path against the local FCM v1 stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.notifications.senders import Outcome, PushMessage
from tests import fcm_standin as fcm
from tests.notifications_tools import PROJECT, fcm_sender


@pytest.fixture
def standin() -> Iterator[fcm.FcmStandIn]:
    with fcm.FcmStandIn() as server:
        yield server


async def test_a_reminder_arrives_as_this_exact_v1_request(standin: fcm.FcmStandIn) -> None:
    sender = fcm_sender(standin)
    try:
        [result] = await sender.send(
            [
                PushMessage(
                    token="tok-1",
                    title="Visit ACME",
                    body="planned in 60 min",
                    data={"rule": "visit_upcoming", "record_id": "r1"},
                    collapse_key="visit:r1",
                )
            ]
        )
    finally:
        await sender.close()
    assert result.outcome == Outcome.SENT
    assert result.message_id == f"projects/{PROJECT}/messages/1"
    [received] = standin.received
    assert received.project == PROJECT
    assert received.body == {
        "message": {
            "token": "tok-1",
            "data": {"rule": "visit_upcoming", "record_id": "r1"},
            "notification": {"title": "Visit ACME", "body": "planned in 60 min"},
            "android": {"collapse_key": "visit:r1", "priority": "high"},
            "apns": {"headers": {"apns-collapse-id": "visit:r1"}},
        }
    }
    assert "authorization" not in received.headers  # anonymous credentials


async def test_a_silent_sync_push_is_data_only(standin: fcm.FcmStandIn) -> None:
    sender = fcm_sender(standin)
    try:
        [result] = await sender.send(
            [
                PushMessage(
                    token="tok-2",
                    data={"action": "sync"},
                    collapse_key="sync",
                    silent=True,
                )
            ]
        )
    finally:
        await sender.close()
    assert result.outcome == Outcome.SENT
    assert standin.bodies("tok-2") == [
        {
            "message": {
                "token": "tok-2",
                "data": {"action": "sync"},
                "android": {"collapse_key": "sync", "priority": "normal"},
                "apns": {
                    "headers": {
                        "apns-collapse-id": "sync",
                        "apns-push-type": "background",
                        "apns-priority": "5",
                    },
                    "payload": {"aps": {"content-available": 1}},
                },
            }
        }
    ]


@pytest.mark.parametrize(
    ("answer", "outcome", "retry_after"),
    [
        (fcm.UNREGISTERED, Outcome.UNREGISTERED, None),
        (fcm.INVALID_ARGUMENT, Outcome.INVALID, None),
        (fcm.quota_exceeded(42), Outcome.RETRY, 42.0),
        (fcm.UNAVAILABLE, Outcome.RETRY, None),
        (fcm.INTERNAL, Outcome.RETRY, None),
    ],
)
async def test_each_fcm_error_is_an_outcome_after_one_request(
    standin: fcm.FcmStandIn, answer: fcm.Answer, outcome: Outcome, retry_after: float | None
) -> None:
    standin.script("tok-e", answer)
    sender = fcm_sender(standin)
    try:
        [result] = await sender.send([PushMessage(token="tok-e", title="t", body="b")])
    finally:
        await sender.close()
    assert result.outcome == outcome
    assert result.retry_after == retry_after
    # firebase-admin's own retries are off: one request, no sleeping in the sender's thread
    assert len(standin.bodies("tok-e")) == 1


async def test_an_unreachable_service_is_a_transient_outcome() -> None:
    with fcm.FcmStandIn() as gone:
        url = gone.url  # closed when the block ends: nothing listens there any more
    sender = fcm_sender(url)
    try:
        [result] = await sender.send([PushMessage(token="tok", title="t")])
    finally:
        await sender.close()
    assert result.outcome == Outcome.RETRY
