"""Uploading expense receipts in tests."""

from __future__ import annotations

import os
from typing import Any

JPEG = b"\xff\xd8\xff\xe0" + os.urandom(30_000)


async def upload_receipt(
    client: Any,
    headers: dict[str, str],
    body: bytes = JPEG,
    content_type: str = "image/jpeg",
    receipt_id: str | None = None,
) -> Any:
    """``POST /expense-receipts`` of ``body`` (with the client-made id when given)."""
    query = "filename=taxi.jpg" + (f"&id={receipt_id}" if receipt_id else "")
    return await client.post(
        f"/expense-receipts?{query}",
        content=body,
        headers={**headers, "Content-Type": content_type},
    )
