"""``/contracts/{id}/attachments``: upload (the raw body, streamed), list, download, delete."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from server.auth.guards import managers_only
from server.file_store import FileStore
from server.http.uploads import file_download, upload_body
from server.pagination import Page
from server.sfa.contracts.attachments import AttachmentService
from server.sfa.contracts.schemas import AttachmentRecord
from server.sync.registry import Principal


def provide_attachment_service(
    state: State, principal: NamedDependency[Principal]
) -> AttachmentService:
    """The attachment service for one request, with the app's file store."""
    store: FileStore = state.files
    return AttachmentService(state.db, state.writer, principal, state.settings, store)


class AttachmentController(Controller):
    """Files attached to contracts."""

    path = "/contracts/{contract_id:uuid}/attachments"
    tags = ["finance"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_attachment_service, sync_to_thread=False)}

    @post(
        "/",
        request_max_body_size=None,  # the service enforces OUTPOST_ATTACHMENT_MAX_BYTES itself
        description="The request body is the file itself (not multipart), its type in "
        "Content-Type; OUTPOST_ATTACHMENT_MAX_BYTES and OUTPOST_ATTACHMENT_CONTENT_TYPES bound "
        "it. Answers the stored record with the file's SHA-256.",
    )
    async def upload_attachment(
        self,
        request: Request[Any, Any, Any],
        service: NamedDependency[AttachmentService],
        contract_id: FromPath[uuid.UUID],
        filename: Annotated[str, QueryParameter(min_length=1, max_length=200)],
    ) -> AttachmentRecord:
        """Attach a file to the contract."""
        return await service.upload(
            contract_id,
            filename,
            request.headers.get("content-type", ""),
            upload_body(request),
            announced_size=request.content_length,
        )

    @get("/")
    async def list_attachments(
        self,
        service: NamedDependency[AttachmentService],
        contract_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[AttachmentRecord]:
        """The contract's files, oldest first."""
        return await service.list_attachments(contract_id, cursor=cursor, limit=limit)

    @get("/{attachment_id:uuid}/content")
    async def download_attachment(
        self,
        service: NamedDependency[AttachmentService],
        contract_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
    ) -> Stream:
        """The file's bytes, with its content type and name."""
        record, chunks = await service.download(contract_id, attachment_id)
        return file_download(
            chunks, content_type=record.content_type, filename=record.filename, size=record.size
        )

    @delete("/{attachment_id:uuid}", status_code=204)
    async def delete_attachment(
        self,
        service: NamedDependency[AttachmentService],
        contract_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
    ) -> None:
        """Delete the file (the row stays, marked deleted, as the audit)."""
        await service.delete(contract_id, attachment_id)
