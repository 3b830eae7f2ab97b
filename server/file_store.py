"""Where uploaded files live: a small ``FileStore`` protocol and its local-directory store.

A store keeps opaque bytes under a key it chooses. An upload is written to a temporary file
first (``begin``), hashed and counted while it streams, flushed to disk, and only becomes a
stored file when it is committed (``StagedFile.commit``, an atomic rename); ``discard`` removes
it. So a caller writes the database row and commits the file in one unit: an upload that is
interrupted, too large or refused leaves no file and no row behind. An S3-compatible store can
implement the same protocol later (a multipart upload completed on ``commit``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol

import anyio

from server.errors import NotFound, PayloadTooLarge

CHUNK = 64 * 1024


class StagedFile(Protocol):
    """An upload written but not yet stored."""

    key: str
    size: int
    sha256: str  # hex digest of the bytes

    def commit(self) -> None:
        """Make the file readable under ``key`` (atomic)."""

    def discard(self) -> None:
        """Forget the upload (also after ``commit``: removes the stored file)."""


class FileStore(Protocol):
    """Stores uploads and reads them back by key."""

    async def begin(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StagedFile:
        """Write ``chunks`` to a staging area; ``PayloadTooLarge`` past ``max_bytes`` (nothing
        is left behind then, nor when ``chunks`` raises)."""
        ...

    def open(self, key: str) -> Iterator[bytes]:
        """The bytes stored under ``key``, in chunks; ``NotFound`` when there are none."""
        ...

    def remove(self, key: str) -> None:
        """Forget the file under ``key`` (stored or still staged); nothing when there is none."""
        ...

    def stored_keys(self) -> Iterator[tuple[str, dt.datetime]]:
        """Every file kept (stored or staged) with when it was last written (UTC), for the
        orphan sweep."""
        ...


class _LocalStaged:
    def __init__(self, temp: Path, final: Path, key: str, size: int, sha256: str) -> None:
        self._temp, self._final = temp, final
        self.key, self.size, self.sha256 = key, size, sha256

    def commit(self) -> None:
        self._final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, self._final)
        _fsync_dir(self._final.parent)

    def discard(self) -> None:
        for path in (self._temp, self._final):
            path.unlink(missing_ok=True)


class LocalFileStore:
    """Files under one directory: ``<root>/<2 hex>/<key>``, staged in ``<root>/.staging``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    async def begin(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> _LocalStaged:
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        key = uuid.uuid4().hex
        temp = staging / key
        digest, size = hashlib.sha256(), 0
        try:
            with temp.open("xb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(
                            f"the file is larger than {max_bytes} bytes", field="file"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                # on disk before any row points at it (off the event loop: it may take a while)
                await anyio.to_thread.run_sync(os.fsync, out.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return _LocalStaged(temp, self._path(key), key, size, digest.hexdigest())

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise NotFound("the file is missing from the store", field="id")
        return _read(path)

    def remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        (self.root / ".staging" / key).unlink(missing_ok=True)

    def stored_keys(self) -> Iterator[tuple[str, dt.datetime]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*"):
            if path.is_file() and path.name.isalnum():
                yield path.name, dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)

    def _path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours (hex); never a path from outside
            raise NotFound("no such file", field="id")
        return self.root / key[:2] / key


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _fsync_dir(directory: Path) -> None:
    # the rename itself survives a crash only once the directory entry is on disk
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
