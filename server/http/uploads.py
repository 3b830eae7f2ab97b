"""HTTP sides of stored files: an upload's body streamed as it arrives, a download streamed back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.exceptions import InternalServerException
from litestar.response import Stream

from server.errors import BadRequest


async def upload_body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    """The request body in chunks; 400 ``upload_interrupted`` when the client goes away."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except InternalServerException as exc:  # Litestar's "client disconnected prematurely"
        raise BadRequest(
            "the upload was interrupted", field="file", code="upload_interrupted"
        ) from exc


def file_download(
    chunks: Iterator[bytes], *, content_type: str, filename: str, size: int
) -> Stream:
    """A stored file's bytes as an attachment download of its own type and name."""
    return Stream(
        chunks,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Content-Length": str(size),
            "X-Content-Type-Options": "nosniff",  # never rendered as another type
        },
    )
