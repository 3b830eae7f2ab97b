"""Contract attachments: uploads streamed into the file store (``server.uploads``), listed,
downloaded and deleted, only by those who may see the contract."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.pagination import Page, fetch_page
from server.sfa.contracts.repository import ContractRepository, attachments
from server.sfa.contracts.schemas import AttachmentRecord
from server.sfa.contracts.service import visible_contract
from server.sfa.inputs import record_of
from server.sfa.stored_files import StoredFileService
from server.uploads import deletion, remove_stored


class AttachmentService(StoredFileService):
    """Files of the contracts the caller sees."""

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

        async def check(session: AsyncSession) -> None:
            await visible_contract(session, self.principal, contract_id)

        async def insert(session: AsyncSession, values: dict[str, Any]) -> Any:
            return await ContractRepository(session).insert_attachment(
                {**values, "contract_id": contract_id}
            )

        row = await self._upload(
            filename, content_type, body, announced_size, check=check, insert=insert
        )
        return record_of(AttachmentRecord, row)

    async def delete(self, contract_id: uuid.UUID, attachment_id: uuid.UUID) -> None:
        """Delete one of a contract's files: the row is marked deleted (who, when) and the bytes
        leave the store once that is committed."""
        async with self.db.transaction() as session:
            await visible_contract(session, self.principal, contract_id)
            repo = ContractRepository(session)
            row = await repo.get_attachment(contract_id, attachment_id, lock=True)
            if row is None:
                raise NotFound(f"attachment {attachment_id} not found", field="id")
            await repo.mark_attachment_deleted(attachment_id, deletion(self.principal.user_id))
        remove_stored(self.store, row.storage_key)

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
