"""The base of the REST area services: what each holds, and the page size rule they share."""

from __future__ import annotations

from server.db import Database
from server.pagination import page_size
from server.settings import Settings
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter


class AreaService:
    """Holds the database, the change writer, the caller and the settings of one request."""

    def __init__(
        self, db: Database, writer: ChangeWriter, principal: Principal, settings: Settings
    ) -> None:
        self.db = db
        self.writer = writer
        self.principal = principal
        self.settings = settings

    def _limit(self, limit: int | None) -> int:
        """A page size within the configured bounds (out of range is refused)."""
        return page_size(limit, self.settings)
