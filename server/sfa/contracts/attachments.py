"""Contract attachments: uploads streamed into the file store, listed and downloaded.

An upload is checked (content type, announced size) before its body is read, streamed to the
store's staging area with its SHA-256 and size counted, then recorded: the row is inserted and
the staged file renamed into place in the same unit, and a failure at any point (the client
gone, the body over the limit, the database refusing the row) discards the file. Only those who
may see the contract list or download its files.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

from server.db import Database, new_id, utcnow
from server.errors import NotFound, PayloadTooLarge, ValidationFailed
from server.file_store import FileStore
from server.pagination import Page, fetch_page
from server.settings import Settings
from server.sfa.area_service import AreaService
from server.sfa.contracts.repository import ContractRepository, attachments
from server.sfa.contracts.schemas import AttachmentRecord
from server.sfa.contracts.service import visible_contract
from server.sfa.inputs import record_of
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter

FILENAME_MAX = 200


class AttachmentService(AreaService):
    """Files of the contracts the caller sees."""

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

    async def upload(
        self,
        contract_id: uuid.UUID,
        filename: str,
        content_type: str,
        body: AsyncIterator[bytes],
        *,
        announced_size: int | None,
    ) -> AttachmentRecord:
        """Store one file on a contract; nothing is left behind when it fails."""
        name = _clean_filename(filename)
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in self.settings.allowed_content_types:
            raise ValidationFailed(
                f"files of type {media or '(none)'} are not accepted",
                field="content_type",
                code="unsupported_type",
                data={"allowed": sorted(self.settings.allowed_content_types)},
            )
        limit = self.settings.attachment_max_bytes
        if announced_size is not None and announced_size > limit:
            raise PayloadTooLarge(f"the file is larger than {limit} bytes", field="file")
        async with self.db.reading() as session:  # before reading a byte of the body
            await visible_contract(session, self.principal, contract_id)
        staged = await self.store.begin(body, max_bytes=limit)
        try:
            if staged.size == 0:
                raise ValidationFailed("the file is empty", field="file", code="empty_file")
            async with self.db.transaction() as session:
                await visible_contract(session, self.principal, contract_id)
                row = await ContractRepository(session).insert_attachment(
                    {
                        "id": new_id(),
                        "contract_id": contract_id,
                        "filename": name,
                        "content_type": media,
                        "size": staged.size,
                        "sha256": staged.sha256,
                        "storage_key": staged.key,
                        "uploaded_by": self.principal.user_id,
                        "created_at": utcnow(),
                    }
                )
                staged.commit()  # renamed into place before the row commits
        except BaseException:
            staged.discard()
            raise
        return record_of(AttachmentRecord, row)

    async def list_attachments(
        self, contract_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[AttachmentRecord]:
        """A contract's attachments, oldest first."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await visible_contract(session, self.principal, contract_id)
            statement = ContractRepository(session).attachments_statement(contract_id)
            rows, next_cursor = await fetch_page(
                session, statement, attachments.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(AttachmentRecord, r) for r in rows], next_cursor=next_cursor)

    async def download(
        self, contract_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> tuple[AttachmentRecord, Iterator[bytes]]:
        """An attachment's record and its bytes."""
        async with self.db.reading() as session:
            await visible_contract(session, self.principal, contract_id)
            row = await ContractRepository(session).get_attachment(contract_id, attachment_id)
        if row is None:
            raise NotFound(f"attachment {attachment_id} not found", field="id")
        return record_of(AttachmentRecord, row), self.store.open(row.storage_key)


def _clean_filename(filename: str) -> str:
    """The file's own name (no directories), bounded; refused when nothing is left."""
    name = os.path.basename(filename.replace("\\", "/")).strip()
    if not name or len(name) > FILENAME_MAX or any(ord(c) < 32 for c in name):
        raise ValidationFailed(
            f"filename must be 1 to {FILENAME_MAX} printable characters",
            field="filename",
        )
    return name
