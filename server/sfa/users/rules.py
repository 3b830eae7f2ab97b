"""Pure rules on user input: email normalization, password policy, time zones."""

from __future__ import annotations

import re
import zoneinfo

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_EMAIL = re.compile(EMAIL_PATTERN)


def normalize_email(email: str) -> str:
    """The canonical form of an email: trimmed and lower-case (uniqueness ignores case)."""
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why ``email`` (normalized) is not acceptable, or None."""
    if len(email) > 254 or not _EMAIL.match(email):
        return "email is not a valid address"
    return None


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"password must be at least {PASSWORD_MIN_LENGTH} characters"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"password must be at most {PASSWORD_MAX_LENGTH} characters"
    return None


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone known to this system, or None."""
    # ZoneInfo accepts paths such as "../x" on some systems only after a lookup; the explicit
    # character check keeps odd keys out before touching the tz database.
    if not name or len(name) > 64 or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name):
        return f"unknown time zone {name!r}"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}"
    return None
