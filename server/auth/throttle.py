"""Login throttling: failed attempts per account and per client address, over a window.

Failures are rows of ``login_failures`` (so every server process on the database counts the
same ones). An attempt is recorded *before* its password check and forgotten when it
succeeds, so concurrent guesses count too. Past ``login_max_failures_per_account`` failures of
one email, or ``login_max_failures_per_address`` of one client address, within
``login_failure_window_seconds``, login answers 429 ``too_many_attempts`` with ``Retry-After``
(the seconds until the oldest counted failure leaves the window), without checking the password.
"""

from __future__ import annotations

import datetime as dt
import math

from protocol import errors as codes
from server.auth.repository import AuthRepository
from server.errors import DomainError
from server.settings import Settings


class TooManyAttempts(DomainError):
    """Login refused for now; ``retry_after`` seconds until the next attempt is considered."""

    code = codes.TOO_MANY_ATTEMPTS
    status = 429

    def __init__(self, retry_after: int, field: str | None) -> None:
        super().__init__(
            f"too many failed logins; retry in {retry_after} s",
            field=field,
            data={"retry_after": retry_after},
        )
        self.retry_after = retry_after


async def check_login_allowed(
    repo: AuthRepository, settings: Settings, email: str, address: str, now: dt.datetime
) -> None:
    """Raise ``TooManyAttempts`` when the account or the address is over its limit."""
    window = dt.timedelta(seconds=settings.login_failure_window_seconds)
    since = now - window
    limits = (
        ("email", settings.login_max_failures_per_account),
        ("address", settings.login_max_failures_per_address),
    )
    for key, limit in limits:
        if limit <= 0:
            continue
        if key == "email":
            nth = await repo.nth_recent_failure(email=email, since=since, nth=limit)
        else:
            nth = await repo.nth_recent_failure(address=address, since=since, nth=limit)
        if nth is not None:
            wait = (nth + window - now).total_seconds()
            raise TooManyAttempts(max(1, math.ceil(wait)), field=key if key == "email" else None)
