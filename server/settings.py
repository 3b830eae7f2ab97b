"""Runtime configuration, read from the environment once and passed to ``create_app``."""

from __future__ import annotations

import os
import secrets
import zoneinfo
from collections.abc import Mapping

import msgspec

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///outpost.db"
DEFAULT_SECRET_KEY = "dev-insecure-secret-change-me"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the server needs to know about its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEFAULT_SECRET_KEY
    access_token_ttl_seconds: int = 30 * 24 * 3600
    max_body_bytes: int = 8 * 1024 * 1024
    page_size_default: int = 50
    page_size_max: int = 500
    tombstone_retention_seconds: int = 30 * 24 * 3600
    sync_push_max_mutations: int = 2000
    sync_pull_max_limit: int = 5000
    # argon2id at OWASP's first recommendation (19 MiB, 2 passes, 1 lane); tests lower them
    password_memory_kib: int = 19 * 1024
    password_time_cost: int = 2
    password_parallelism: int = 1
    # at most this many password hashes at once per process (each holds its memory_kib)
    password_hash_concurrency: int = 2
    # login throttling: failed attempts counted over a sliding window, in the database
    login_failure_window_seconds: int = 15 * 60
    login_max_failures_per_account: int = 10
    login_max_failures_per_address: int = 50
    # `outpost serve`: worker processes; on SIGTERM, 503 to new requests for the drain, then
    # running requests get up to the timeout to finish (the process exits within 30 s)
    workers: int = 1
    shutdown_drain_seconds: float = 1.0
    shutdown_timeout_seconds: int = 20
    # serve with the default secret key anyway (development only; `serve --insecure-dev-secret`)
    allow_insecure_dev_secret: bool = False
    # a pull page stops before its records' JSON passes this many bytes (at least one record)
    sync_pull_max_bytes: int = 4 * 1024 * 1024
    # PostgreSQL ends an Outpost session idle inside a transaction this long (0: never): an
    # abandoned change-log writer would otherwise hold every pull back (docs/operations.md)
    idle_in_transaction_timeout_seconds: float = 60.0
    # GET /health/ready answers 503 when pulls lag further behind the change log than this
    ready_max_pull_lag_seconds: float = 30.0
    # a pushed hybrid logical clock more than this ahead of the server's time is clamped to it
    sync_max_clock_skew_seconds: int = 300
    # visits (docs/visits.md): a check-in within this radius of the account is at the customer;
    # per segment: "government=300,consumer=150" (an account's segment's radius, else the default)
    visit_checkin_radius_m: float = 200.0
    visit_checkin_radius_by_segment: str = ""
    # a check-in more than this before the planned time is refused (``before_plan``); its time
    # may be ahead of the server's by sync_max_clock_skew_seconds at most (``time_in_future``)
    visit_checkin_early_hours: int = 12
    # a check-in entered more than this after the time it claims is a make-up (补签): it needs a
    # reason and a manager's approval, like a check-in outside the radius
    visit_makeup_after_minutes: int = 60
    # visit rhythm by account value tier, in days (0: no planned visits); `outpost plan-visits`
    # plans visits at this hour of the rep's day (their time zone)
    visit_rhythm_vip_days: int = 7
    visit_rhythm_key_days: int = 14
    visit_rhythm_regular_days: int = 30
    visit_rhythm_low_days: int = 60
    visit_plan_hour: int = 9
    # responses of at least this many bytes are compressed, brotli when the client accepts it,
    # else gzip (0: never); the levels favour speed (docs/protocol.md, "Encoding")
    compress_min_bytes: int = 1024
    compress_brotli_quality: int = 1
    compress_gzip_level: int = 1
    # fleet scale (docs/operations.md): verified tokens and users' scope keys are cached per
    # process; every process re-reads the cache epochs at most this often, which bounds how long
    # a revoked token or a lost scope is still honoured
    cache_epoch_interval_seconds: float = 0.25
    token_cache_size: int = 100_000
    token_cache_seconds: float = 300.0
    scope_cache_size: int = 100_000
    # /sync/pull and /sync/push served in front of the router, skipping Litestar's per-request
    # work (server/http/sync_fast.py; same answers and errors); false: the regular handlers
    sync_fast_path: bool = True
    # requests served at once per process; past it, 503 ``overloaded`` with Retry-After (0: off)
    max_concurrent_requests: int = 64
    overload_retry_after_seconds: int = 1
    # PostgreSQL connections per process: kept open (pool), plus overflow opened under bursts
    db_pool_size: int = 10
    db_max_overflow: int = 5
    # uvicorn closes a connection idle this long (devices poll on kept-alive connections)
    keepalive_seconds: int = 75
    # one structured line per request ("off" to silence); 1 in N successful fast requests is
    # logged (errors, 4xx/5xx and slow requests always are)
    access_log: bool = True
    access_log_sample: int = 1
    access_log_slow_ms: float = 500.0
    # uploaded files (contract attachments): a directory; empty: ``files`` next to the SQLite
    # file (the current directory on PostgreSQL). Uploads above the size or of a content type
    # not listed (comma-separated) are refused (docs/finance.md)
    files_dir: str = ""
    attachment_max_bytes: int = 20 * 1024 * 1024
    attachment_content_types: str = (
        "application/pdf,image/jpeg,image/png,text/plain,"
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    # the company's IANA time zone: quotes are valid through their valid_until day there, and
    # order statistics bucket days, weeks and months there (docs/orders.md)
    company_timezone: str = "UTC"
    # commissions (docs/commissions.md): statements per "month" or "quarter"
    commission_period: str = "month"
    # notifications (docs/notifications.md): the scheduler inside `outpost serve` (off unless
    # set: `make run` sets it; `outpost scheduler` runs it alone), its jobs' intervals
    scheduler_enabled: bool = False
    scheduler_dispatch_seconds: float = 5.0
    scheduler_reminders_seconds: float = 60.0
    scheduler_prune_seconds: float = 24 * 3600.0
    scheduler_plan_visits_seconds: float = 24 * 3600.0
    # both are idempotent within a day, so hourly runs catch the company's midnight early
    scheduler_expire_quotes_seconds: float = 3600.0
    scheduler_age_receivables_seconds: float = 3600.0
    scheduler_close_commissions_seconds: float = 3600.0
    # reminders are written to the outbox this long before they are due
    notify_lookahead_seconds: int = 3600
    notify_visit_offsets_minutes: str = "60"
    notify_follow_up_hour: int = 9
    notify_quote_days_before: int = 2
    # quiet hours (local minutes after midnight) unless the user chose others; hourly budget
    notify_quiet_start_minute: int = 22 * 60
    notify_quiet_end_minute: int = 7 * 60
    notify_hourly_budget: int = 6
    # the outbox: attempts before dead, backoff (exponential, full jitter), claims
    notify_max_attempts: int = 8
    notify_backoff_base_seconds: float = 30.0
    notify_backoff_max_seconds: float = 3600.0
    notify_claim_batch: int = 500
    notify_claim_lease_seconds: int = 120
    # Firebase Cloud Messaging: a service-account JSON file (none: pushes are only logged),
    # the project id (default: the file's), an endpoint override (emulator, tests' stand-in)
    fcm_credentials_file: str = ""
    fcm_project_id: str = ""
    fcm_endpoint: str = ""
    fcm_timeout_seconds: float = 10.0
    fcm_concurrency: int = 8
    # the scheduler's clock: an ISO instant to freeze it at, or seconds to shift it (tests)
    clock_frozen_at: str = ""
    clock_offset_seconds: float = 0.0
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000

    def __post_init__(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.company_timezone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
            raise ValueError(f"company_timezone {self.company_timezone!r} is unknown") from exc
        if self.commission_period not in ("month", "quarter"):
            raise ValueError("commission_period must be month or quarter")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``OUTPOST_*`` environment variables."""
        env = os.environ if env is None else env
        raw: dict[str, object] = {}
        for field in cls.__struct_fields__:
            key = "OUTPOST_" + field.upper()
            if key in env:
                raw[field] = env[key]
        settings = msgspec.convert(raw, cls, strict=False)
        return settings

    @property
    def insecure_secret(self) -> bool:
        """True when tokens would be signed with the public default key."""
        return self.secret_key == DEFAULT_SECRET_KEY

    @property
    def visit_rhythms(self) -> dict[str, int]:
        """Days between visits per account value tier (``rules.rhythm``)."""
        return {
            "vip": self.visit_rhythm_vip_days,
            "key": self.visit_rhythm_key_days,
            "regular": self.visit_rhythm_regular_days,
            "low": self.visit_rhythm_low_days,
        }

    @property
    def files_directory(self) -> str:
        """Where uploaded files are stored: ``files_dir``, else ``files`` beside the database
        file (the data directory), else ``files`` in the current directory."""
        if self.files_dir:
            return self.files_dir
        if self.is_sqlite and ":///" in self.database_url:
            database = self.database_url.split(":///", 1)[1]
            if database and database != ":memory:":
                return os.path.join(os.path.dirname(database), "files")
        return "files"

    @property
    def allowed_content_types(self) -> frozenset[str]:
        """The content types an attachment may have."""
        return frozenset(
            t.strip().lower() for t in self.attachment_content_types.split(",") if t.strip()
        )

    @property
    def notify_visit_offsets(self) -> tuple[int, ...]:
        """Minutes before a planned visit its reminders are due."""
        return tuple(int(part) for part in self.notify_visit_offsets_minutes.split(",") if part)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def random_secret() -> str:
    """A fresh secret key for tests and first runs."""
    return secrets.token_urlsafe(32)
