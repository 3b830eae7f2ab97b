"""Liveness and readiness."""

from __future__ import annotations

import asyncio
import logging

import msgspec
import sqlalchemy as sa
from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from server.db import Database
from server.settings import Settings
from server.sync.logreader import pull_lag

log = logging.getLogger(__name__)

# a database that does not answer within this long is reported unavailable
READY_TIMEOUT_SECONDS = 5.0


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    """``status``: ``ready``, ``lagging`` (pulls are further behind the change log than
    ``max_pull_lag_seconds``) or ``unavailable`` (the database did not answer)."""

    status: str
    database: str
    pull_lag_seconds: float | None
    held_back_changes: int | None
    max_pull_lag_seconds: float


@get("/health", tags=["system"], exclude_from_auth=True, sync_to_thread=False)
def health() -> Health:
    """Always ``ok`` while the process serves requests."""
    return Health(status="ok")


@get(
    "/health/ready",
    tags=["system"],
    exclude_from_auth=True,
    responses={
        503: ResponseSpec(
            data_container=Readiness,
            description="The database does not answer, or pulls lag behind the change log",
        )
    },
)
async def ready(state: State) -> Response[Readiness]:
    """For load balancers: 200 when the database answers and pulls lag less than
    ``OUTPOST_READY_MAX_PULL_LAG_SECONDS`` behind the change log, else 503 with the figures."""
    settings: Settings = state.settings
    db: Database = state.db
    limit = settings.ready_max_pull_lag_seconds
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), db.reading() as session:
            lag = await pull_lag(session)
    except (OSError, TimeoutError, sa.exc.SQLAlchemyError) as exc:
        log.warning("readiness: the database did not answer: %r", exc)
        return Response(Readiness("unavailable", "unavailable", None, None, limit), status_code=503)
    lagging = lag.seconds >= limit
    return Response(
        Readiness(
            "lagging" if lagging else "ready", "ok", round(lag.seconds, 3), lag.held_back, limit
        ),
        status_code=503 if lagging else 200,
    )
