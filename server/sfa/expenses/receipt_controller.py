"""``/expense-receipts``: a user uploads their own receipts (the raw body, streamed), and they,
their managers and admins read and download them; the owner (or an admin) deletes one."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from server.file_store import FileStore
from server.http.uploads import file_download, upload_body
from server.pagination import Page
from server.sfa.expenses.receipts import ReceiptService
from server.sfa.expenses.schemas import ReceiptRecord
from server.sync.registry import Principal


def provide_receipt_service(state: State, principal: NamedDependency[Principal]) -> ReceiptService:
    """The receipt service for one request, with the app's file store."""
    store: FileStore = state.files
    return ReceiptService(state.db, state.writer, principal, state.settings, store)


class ReceiptController(Controller):
    """Receipt files of expense lines."""

    path = "/expense-receipts"
    tags = ["expenses"]
    dependencies = {"service": Provide(provide_receipt_service, sync_to_thread=False)}

    @post(
        "/",
        request_max_body_size=None,  # the service enforces OUTPOST_ATTACHMENT_MAX_BYTES itself
        description="The request body is the file itself (not multipart), its type in "
        "Content-Type; OUTPOST_ATTACHMENT_MAX_BYTES and OUTPOST_ATTACHMENT_CONTENT_TYPES bound "
        "it. `id`: a UUIDv7 the client made (lines written offline may name it already). "
        "Answers the stored record with the file's SHA-256.",
    )
    async def upload_receipt(
        self,
        request: Request[Any, Any, Any],
        service: NamedDependency[ReceiptService],
        filename: Annotated[str, QueryParameter(min_length=1, max_length=200)],
        id: FromQuery[uuid.UUID | None] = None,  # noqa: A002  (the record's id, as elsewhere)
    ) -> ReceiptRecord:
        """Upload one of the caller's receipts."""
        return await service.upload(
            filename,
            request.headers.get("content-type", ""),
            upload_body(request),
            announced_size=request.content_length,
            receipt_id=id,
        )

    @get("/")
    async def list_receipts(
        self,
        service: NamedDependency[ReceiptService],
        owner_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[ReceiptRecord]:
        """The receipts the caller may see, keyset-paginated by id."""
        return await service.list_receipts(owner_id, cursor=cursor, limit=limit)

    @get("/{receipt_id:uuid}")
    async def get_receipt(
        self, service: NamedDependency[ReceiptService], receipt_id: FromPath[uuid.UUID]
    ) -> ReceiptRecord:
        """One receipt's record."""
        return await service.get(receipt_id)

    @get("/{receipt_id:uuid}/content")
    async def download_receipt(
        self, service: NamedDependency[ReceiptService], receipt_id: FromPath[uuid.UUID]
    ) -> Stream:
        """The receipt's bytes, with its content type and name."""
        record, chunks = await service.download(receipt_id)
        return file_download(
            chunks, content_type=record.content_type, filename=record.filename, size=record.size
        )

    @delete("/{receipt_id:uuid}", status_code=204)
    async def delete_receipt(
        self, service: NamedDependency[ReceiptService], receipt_id: FromPath[uuid.UUID]
    ) -> None:
        """Delete a receipt no expense report names (the row stays, marked deleted)."""
        await service.delete(receipt_id)
