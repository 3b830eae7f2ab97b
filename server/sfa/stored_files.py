"""The base of the services whose records carry a file in the file store (contract
attachments, expense receipts): the store, and an upload by the caller (``server.uploads``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from server.db import Database
from server.file_store import FileStore
from server.settings import Settings
from server.sfa.area_service import AreaService
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter
from server.uploads import Check, Insert, store_upload


class StoredFileService(AreaService):
    """An area service with the app's file store."""

    def __init__(
        self,
        db: Database,
        writer: ChangeWriter,
        principal: Principal,
        settings: Settings,
        store: FileStore,
    ) -> None:
        super().__init__(db, writer, principal, settings)
        self.store = store

    async def _upload(
        self,
        filename: str,
        content_type: str,
        body: AsyncIterator[bytes],
        announced_size: int | None,
        *,
        check: Check,
        insert: Insert,
        record_id: uuid.UUID | None = None,
    ) -> Any:
        """``store_upload`` by the caller, within the settings' limits; the stored row."""
        return await store_upload(
            self.db,
            self.store,
            self.settings,
            filename=filename,
            content_type=content_type,
            body=body,
            announced_size=announced_size,
            uploaded_by=self.principal.user_id,
            check=check,
            insert=insert,
            record_id=record_id,
        )
