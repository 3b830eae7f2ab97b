"""Expense receipts: files a rep uploads for their expense lines (``receipt_attachment_id``),
streamed into the file store like contract attachments (``server.uploads``: the same size and
content-type limits, SHA-256, nothing left behind by a failed upload).

Anyone uploads their own receipts (the uploader owns them). A receipt is read and downloaded
by its owner, the managers who see the owner's expense reports, and admins (404 for everyone
else). Its owner (or an admin) deletes it, unless an expense report still names it (409
``in_use``). A line may only name a receipt of the report's owner: ``check_line_receipts`` runs
on every pushed write of an expense.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import IN_USE, UNKNOWN_RECEIPT
from server.client_ids import client_chosen_id
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.expenses.repository import ReceiptRepository, expense_receipts
from server.sfa.expenses.schemas import ReceiptRecord
from server.sfa.inputs import record_of
from server.sfa.scopes import managed_users
from server.sfa.stored_files import StoredFileService
from server.uploads import deletion, remove_stored


class ReceiptService(StoredFileService):
    """Upload, read, download and delete expense receipts."""

    async def upload(
        self,
        filename: str,
        content_type: str,
        body: AsyncIterator[bytes],
        *,
        announced_size: int | None,
        receipt_id: uuid.UUID | None,
    ) -> ReceiptRecord:
        """Store one receipt of the caller. ``receipt_id``: a UUIDv7 the client made (so a line
        written offline can name it before it is uploaded); an id already used is 409
        ``id_reused`` (``GET /expense-receipts/{id}`` tells a retry whether it was this file)."""
        chosen = client_chosen_id(receipt_id)

        async def check(session: AsyncSession) -> None:
            if await ReceiptRepository(session).exists(chosen):
                raise Conflict(f"receipt id {chosen} is already used", field="id", code="id_reused")

        async def insert(session: AsyncSession, values: dict[str, Any]) -> Any:
            try:
                async with session.begin_nested():
                    return await ReceiptRepository(session).insert(
                        {**values, "owner_id": self.principal.user_id}
                    )
            except sa.exc.IntegrityError as exc:  # the same id uploaded twice at once
                raise Conflict(
                    f"receipt id {chosen} is already used", field="id", code="id_reused"
                ) from exc

        row = await self._upload(
            filename,
            content_type,
            body,
            announced_size,
            check=check,
            insert=insert,
            record_id=chosen,
        )
        return record_of(ReceiptRecord, row)

    async def list_receipts(
        self, owner_id: uuid.UUID | None, *, cursor: str | None, limit: int | None
    ) -> Page[ReceiptRecord]:
        """The receipts the caller may see, keyset-paginated by id."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            statement = ReceiptRepository(session).live_statement(
                await managed_users(session, self.principal)
            )
            if owner_id is not None:
                statement = statement.where(expense_receipts.c.owner_id == owner_id)
            rows, nxt = await fetch_page(
                session, statement, expense_receipts.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(ReceiptRecord, r) for r in rows], next_cursor=nxt)

    async def get(self, receipt_id: uuid.UUID) -> ReceiptRecord:
        """One receipt the caller may see."""
        async with self.db.reading() as session:
            row = await self._visible(session, receipt_id)
        return record_of(ReceiptRecord, row)

    async def download(self, receipt_id: uuid.UUID) -> tuple[ReceiptRecord, Iterator[bytes]]:
        """A receipt's record and its bytes."""
        async with self.db.reading() as session:
            row = await self._visible(session, receipt_id)
        return record_of(ReceiptRecord, row), self.store.open(row.storage_key)

    async def delete(self, receipt_id: uuid.UUID) -> None:
        """Delete a receipt (its owner or an admin) that no expense report names: the row is
        marked deleted (who, when) and the bytes leave the store once that is committed."""
        async with self.db.transaction() as session:
            row = await self._visible(session, receipt_id, lock=True)
            if row.owner_id != self.principal.user_id and self.principal.role != "admin":
                raise Forbidden("only its owner deletes a receipt", field="id")
            repo = ReceiptRepository(session)
            for report in await repo.reports_of(row.owner_id):
                if str(receipt_id) in _linked(report.lines):
                    raise Conflict(
                        "an expense report names this receipt",
                        field="id",
                        code=IN_USE,
                        data={"report_id": str(report.id), "status": str(report.status)},
                    )
            await repo.mark_deleted(receipt_id, deletion(self.principal.user_id))
        remove_stored(self.store, row.storage_key)

    async def _visible(
        self, session: AsyncSession, receipt_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        row = await ReceiptRepository(session).get(receipt_id, lock=lock)
        owners = await managed_users(session, self.principal) if row is not None else None
        if row is None or (owners is not None and row.owner_id not in owners):
            raise NotFound(f"receipt {receipt_id} not found", field="id")
        return row


def _linked(lines: Sequence[Any] | None) -> set[str]:
    return {
        str(line["receipt_attachment_id"])
        for line in lines or []
        if isinstance(line, dict) and line.get("receipt_attachment_id")
    }


async def check_line_receipts(
    session: AsyncSession, owner_id: Any, lines: Sequence[Any] | None
) -> None:
    """Every ``receipt_attachment_id`` of ``lines`` names a receipt (not deleted) of
    ``owner_id``; else 422 ``unknown_receipt`` on ``lines.<i>.receipt_attachment_id`` (the same
    answer for a missing receipt and another rep's: nothing is told about the latter)."""
    named: list[tuple[int, uuid.UUID | None]] = []
    for index, line in enumerate(lines or []):
        value = line.get("receipt_attachment_id") if isinstance(line, dict) else None
        if value is None:
            continue
        try:
            named.append((index, uuid.UUID(str(value))))
        except ValueError:
            named.append((index, None))
    if not named:
        return
    owners = await ReceiptRepository(session).owners_of([rid for _, rid in named if rid])
    for index, rid in named:
        if rid is None or str(owners.get(rid)) != str(owner_id):
            raise ValidationFailed(
                "receipt_attachment_id names no receipt of the report's owner",
                field=f"lines.{index}.receipt_attachment_id",
                code=UNKNOWN_RECEIPT,
            )
