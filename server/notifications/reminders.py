"""The reminder generator: every rule's reminders due soon, written to the outbox once."""

from __future__ import annotations

import datetime as dt

import msgspec

from server.db import Database
from server.notifications.clock import Clock
from server.notifications.outbox import OutboxRepository, reminder_row
from server.notifications.sources import Source
from server.settings import Settings


class GenerateReport(msgspec.Struct, kw_only=True):
    """Reminders found due within the look-ahead, and how many were new."""

    found: int = 0
    queued: int = 0


class ReminderGenerator:
    """Runs each rule over its records; the outbox's key makes re-runs (and a second
    scheduler running it at the same time) write nothing twice."""

    def __init__(
        self, db: Database, settings: Settings, clock: Clock, sources: dict[str, Source]
    ) -> None:
        self.db, self.settings, self.clock, self.sources = db, settings, clock, sources

    async def generate(self) -> GenerateReport:
        """One pass over every rule."""
        now = self.clock.now()
        until = now + dt.timedelta(seconds=self.settings.notify_lookahead_seconds)
        report = GenerateReport()
        async with self.db.reading() as session:
            found = [
                r for source in self.sources.values() for r in await source.due(session, now, until)
            ]
        report.found = len(found)
        if found:
            async with self.db.transaction() as session:
                report.queued = await OutboxRepository(session).add_once(
                    [reminder_row(reminder, now) for reminder in found]
                )
        return report
