"""The dispatcher: claim due notifications, apply fatigue control, send, record the results."""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from rules.fatigue import digest_text, release_time, within_budget
from rules.reminders import DIGEST, still_due
from server.db import Database, new_id
from server.notifications.clock import Clock
from server.notifications.models import NotificationStatus
from server.notifications.outbox import (
    Claimed,
    OutboxRepository,
    Rescheduled,
    backoff_seconds,
    outbox_row,
)
from server.notifications.preferences import UserPreferences, load_preferences
from server.notifications.senders import Outcome, PushMessage, PushSender, SendResult
from server.notifications.sources import Source
from server.notifications.tokens import PushTokenRepository
from server.settings import Settings

log = logging.getLogger("outpost.notifications")
S = NotificationStatus


class DispatchReport(msgspec.Struct, kw_only=True):
    """What one dispatch round did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    muted: int = 0
    suppressed: int = 0
    folded: int = 0
    held: int = 0  # quiet hours: back in the queue until they end
    pruned_tokens: int = 0


class Dispatcher:
    """Sends what is due, once, from any number of processes (claims are atomic)."""

    def __init__(
        self,
        db: Database,
        sender: PushSender,
        settings: Settings,
        clock: Clock,
        sources: dict[str, Source],
        worker: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db, self.sender, self.settings, self.clock = db, sender, settings, clock
        self.sources = sources
        self.worker = worker or f"dispatch-{new_id()}"
        self.rng = rng or random.Random()

    async def drain(self, max_rounds: int = 1000) -> DispatchReport:
        """Dispatch rounds until nothing is due (or ``max_rounds``); their sum."""
        total = DispatchReport()
        for _ in range(max_rounds):
            report = await self.dispatch_once()
            for field in total.__struct_fields__:
                setattr(total, field, getattr(total, field) + getattr(report, field))
            if report.claimed < self.settings.notify_claim_batch:
                break
        return total

    async def dispatch_once(self) -> DispatchReport:
        """Claim one batch and see every claimed row to a status or back to the queue."""
        now = self.clock.now()
        report = DispatchReport()
        lease = dt.timedelta(seconds=self.settings.notify_claim_lease_seconds)
        async with self.db.transaction() as session:
            rows = list(
                await OutboxRepository(session).claim(
                    self.worker, now, lease, self.settings.notify_claim_batch
                )
            )
        report.claimed = len(rows)
        if not rows:
            return report
        users = {r.user_id for r in rows}
        async with self.db.reading() as session:
            prefs = await load_preferences(session, users, self.settings)
            moot = await self._moot(session, rows, now)
            tokens = await PushTokenRepository(session).of_users(users)
            sent_last_hour: dict[uuid.UUID, int] = {}
            if self.settings.notify_hourly_budget > 0:  # else nobody's budget is counted
                budgeted = {r.user_id for r in rows if not r.silent and r.rule != DIGEST}
                sent_last_hour = await OutboxRepository(session).sent_since(
                    budgeted, now - dt.timedelta(hours=1)
                )
        verdicts = self._triage(rows, prefs, moot, sent_last_hour, now, report)
        to_send = verdicts.pop("send", [])
        results = await self._send(to_send, tokens)
        async with self.db.transaction() as session:
            await self._record(session, verdicts, to_send, results, tokens, now, report)
        return report

    async def _moot(
        self, session: AsyncSession, rows: Sequence[Claimed], now: dt.datetime
    ) -> set[uuid.UUID]:
        """Rows whose rule, asked again on the record as it is now, no longer calls for them."""
        by_rule: dict[str, list[Claimed]] = defaultdict(list)
        for row in rows:
            if row.rule in self.sources:
                by_rule[row.rule].append(row)
        moot: set[uuid.UUID] = set()
        for rule, chosen in by_rule.items():
            current = await self.sources[rule].current(
                session,
                [r.record_id for r in chosen],
                now,
            )
            moot |= {
                r.id for r in chosen if not still_due(current.get(r.record_id, []), r.occurrence)
            }
        return moot

    def _triage(
        self,
        rows: list[Claimed],
        prefs: dict[uuid.UUID, UserPreferences],
        moot: set[uuid.UUID],
        sent_last_hour: dict[uuid.UUID, int],
        now: dt.datetime,
        report: DispatchReport,
    ) -> dict[str, list[Claimed]]:
        """Sort claimed rows into muted, suppressed, held (quiet hours), folded and send."""
        verdicts: dict[str, list[Claimed]] = defaultdict(list)
        per_user: dict[uuid.UUID, list[Claimed]] = defaultdict(list)
        for row in rows:
            pref = prefs.get(row.user_id)
            if row.id in moot:
                verdicts["suppressed"].append(row)
            elif pref is None or not pref.active:
                verdicts["suppressed"].append(row)  # the user is gone or deactivated
            elif not row.silent and row.rule in pref.muted:
                verdicts["muted"].append(row)
            elif not row.silent and release_time(now, pref.timezone, pref.quiet) > now:
                row.due_at = release_time(now, pref.timezone, pref.quiet)
                verdicts["held"].append(row)
            elif row.silent or row.rule == DIGEST:
                verdicts["send"].append(row)
            else:
                per_user[row.user_id].append(row)
        for user_id, chosen in per_user.items():
            allowed = within_budget(
                sent_last_hour.get(user_id, 0), len(chosen), self.settings.notify_hourly_budget
            )
            chosen.sort(key=lambda r: r.due_at)
            verdicts["send"].extend(chosen[:allowed])
            verdicts["folded"].extend(chosen[allowed:])
        return verdicts

    async def _send(
        self, rows: list[Claimed], tokens: Sequence[Any]
    ) -> dict[uuid.UUID, list[tuple[Any, SendResult]]]:
        """Send each row to its user's devices (a silent push to its device only) that have
        not taken it yet; the results per row."""
        by_user: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for token in tokens:
            by_user[token.user_id].append(token)
        targets: list[tuple[Claimed, Any]] = []
        for row in rows:
            for token in by_user.get(row.user_id, []):
                if row.device_id is not None and token.device_id != row.device_id:
                    continue
                if str(token.id) not in (row.delivered_to or []):
                    targets.append((row, token))
        messages = [
            PushMessage(
                token=token.token,
                title=row.title,
                body=row.body,
                data={k: str(v) for k, v in (row.data or {}).items()},
                collapse_key=row.collapse_key,
                silent=row.silent,
            )
            for row, token in targets
        ]
        results = await self.sender.send(messages) if messages else []
        grouped: dict[uuid.UUID, list[tuple[Any, SendResult]]] = defaultdict(list)
        for (row, token), result in zip(targets, results, strict=True):
            grouped[row.id].append((token, result))
        return grouped

    async def _record(
        self,
        session: AsyncSession,
        verdicts: dict[str, list[Claimed]],
        sent_rows: list[Claimed],
        results: dict[uuid.UUID, list[tuple[Any, SendResult]]],
        tokens: Sequence[Any],
        now: dt.datetime,
        report: DispatchReport,
    ) -> None:
        outbox = OutboxRepository(session)
        worker = self.worker
        for status, key in ((S.MUTED, "muted"), (S.SUPPRESSED, "suppressed")):
            setattr(
                report,
                key,
                await outbox.finish(
                    worker, [r.id for r in verdicts.get(key, [])], status, now, add_attempt=False
                ),
            )
        later = [  # quiet hours: back in the queue until they end
            Rescheduled(
                id=row.id,
                due_at=row.due_at,
                attempts=row.attempts,
                delivered_to=list(row.delivered_to or []),
            )
            for row in verdicts.get("held", [])
        ]
        report.held = len(later)
        folded = verdicts.get("folded", [])
        report.folded = await outbox.finish(
            worker, [r.id for r in folded], S.FOLDED, now, add_attempt=False
        )
        await self._digest(outbox, folded, now)
        dead_tokens: set[uuid.UUID] = set()
        done: dict[NotificationStatus, list[uuid.UUID]] = defaultdict(list)
        for row in sent_rows:
            verdict, retry_after, error = self._verdict(row, results.get(row.id, []), dead_tokens)
            if verdict is None:  # transient: another attempt later, or dead
                attempts = row.attempts + 1
                if attempts >= self.settings.notify_max_attempts:
                    done[S.DEAD].append(row.id)
                    row.last_error = error
                    continue
                delay = backoff_seconds(
                    attempts,
                    self.settings.notify_backoff_base_seconds,
                    self.settings.notify_backoff_max_seconds,
                    self.rng,
                    retry_after,
                )
                delivered = list(row.delivered_to or []) + [
                    str(t.id) for t, r in results.get(row.id, []) if r.outcome == Outcome.SENT
                ]
                later.append(
                    Rescheduled(
                        id=row.id,
                        due_at=now + dt.timedelta(seconds=delay),
                        attempts=attempts,
                        delivered_to=delivered,
                        error=error,
                    )
                )
                report.retried += 1
            else:
                done[verdict].append(row.id)
                row.last_error = error
        await outbox.reschedule(worker, later, now)
        errors = {row.id: row.last_error for row in sent_rows}
        report.sent = await outbox.finish(worker, done[S.SENT], S.SENT, now, sent=True)
        for status, key in ((S.FAILED, "failed"), (S.DEAD, "dead")):
            by_error: dict[str, list[uuid.UUID]] = defaultdict(list)
            for row_id in done[status]:
                by_error[errors[row_id]].append(row_id)
            for error, ids in by_error.items():  # one statement per distinct error
                finished = await outbox.finish(worker, ids, status, now, error=error)
                setattr(report, key, getattr(report, key) + finished)
        report.pruned_tokens = await PushTokenRepository(session).forget_ids(dead_tokens)

    @staticmethod
    def _verdict(
        row: Claimed,
        results: list[tuple[Any, SendResult]],
        dead_tokens: set[uuid.UUID],
    ) -> tuple[NotificationStatus | None, float | None, str]:
        """The row's status from its devices' results (None: retry)."""
        outcomes = [r.outcome for _, r in results]
        for token, result in results:
            if result.outcome == Outcome.UNREGISTERED:
                dead_tokens.add(token.id)
        if Outcome.RETRY in outcomes:
            waits = [r.retry_after for _, r in results if r.retry_after is not None]
            errors = [r.error for _, r in results if r.outcome == Outcome.RETRY]
            return None, max(waits) if waits else None, errors[0][:200]
        if Outcome.SENT in outcomes or (row.delivered_to and not results):
            return S.SENT, None, ""
        if Outcome.INVALID in outcomes:
            return S.FAILED, None, "invalid_argument"
        if Outcome.UNREGISTERED in outcomes:
            return S.FAILED, None, "unregistered"
        return S.FAILED, None, "no_device"

    async def _digest(
        self, outbox: OutboxRepository, folded: list[Claimed], now: dt.datetime
    ) -> None:
        """One digest per user for the reminders folded this hour, due when the hour ends
        (the budget is spent until then)."""
        by_user: dict[uuid.UUID, list[Claimed]] = defaultdict(list)
        for row in folded:
            by_user[row.user_id].append(row)
        hour = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        for user_id, rows in by_user.items():
            existing = await outbox.queued_row(DIGEST, user_id, hour.isoformat())
            titles = [r.title for r in rows]
            if existing is not None and existing.status == S.QUEUED:
                count = int((existing.data or {}).get("count", 0)) + len(rows)
                previous = str((existing.data or {}).get("titles", "")).split("\n")
                titles = ([t for t in previous if t] + titles)[:3]
                existing.title, existing.body = digest_text(count, titles)
                existing.data = {"rule": DIGEST, "count": str(count), "titles": "\n".join(titles)}
                existing.updated_at = now
                continue
            if existing is not None:
                hour = now  # that hour's digest already went: this one goes at once
            title, body = digest_text(len(rows), titles)
            occurrence = hour.isoformat() if existing is None else f"{now.isoformat()}+{new_id()}"
            data = {"rule": DIGEST, "count": str(len(rows)), "titles": "\n".join(titles[:3])}
            await outbox.add_once(
                [
                    outbox_row(
                        user_id=user_id,
                        rule=DIGEST,
                        record_id=user_id,
                        occurrence=occurrence,
                        due_at=hour,
                        now=now,
                        title=title,
                        body=body,
                        data=data,
                        collapse_key="digest",
                    )
                ]
            )
