"""The pull side of sync: pages fetched one ahead in a background thread, then applied in order.

While page n is written to SQLite (which releases the GIL), the fetch thread already has the
request for page n+1 on the wire (page n's cursor is in its response) and decodes it and lays
its rows out for the store. Pages are handed over through a queue of one and applied strictly in
order by the syncing thread, each with its cursor in one transaction, so a crash at any point
resumes from the last applied page.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from client_sdk import outbox
from client_sdk.models import PullPage, PullPageAny
from client_sdk.store import KeyReader, LocalStore, dumps
from client_sdk.transport import Transport
from protocol.sync import MSGPACK

_pull_json = msgspec.json.Decoder(PullPage)
_pull_msgpack = msgspec.msgpack.Decoder(PullPageAny)

_DELETE = "DELETE FROM records WHERE entity = ? AND id = ?"

# (entity, id, op, version, record JSON text or None)
Row = tuple[str, str, str, int, str | None]


class Fetched(msgspec.Struct):
    """One decoded pull page, and what the fetch thread did after it."""

    prepared: Prepared
    page: PullPage | PullPageAny  # without its changes (they live on in ``prepared``)
    count: int  # changes in the page
    restart: bool  # the next request starts over from no cursor (a bare reset)
    last: bool  # nothing more was requested

    @property
    def next_cursor(self) -> str | None:
        """The cursor the page after this one is requested with."""
        return None if self.restart else self.page.cursor


def fetch_page(
    request: Callable[[str | None], httpx.Response],
    store: LocalStore,
    cursor: str | None,
    restarted: bool,
) -> Fetched:
    """Request, decode and lay out one pull page (``restarted``: a reset was already obeyed)."""
    rows, page = _decode_page(request(cursor))
    prepared = prepare_page(rows, store.key_reader)
    count = len(page.changes)
    page.changes = []  # the raw records hold the whole response body alive
    restart = page.reset and not rows and not restarted
    last = not page.has_more and not restart
    return Fetched(prepared, page, count, restart, last)


class PageFetcher:
    """Requests pull pages in a background thread, at most ``depth`` pages ahead of the apply.

    Each request goes out as soon as the previous response is decoded, with that response's
    cursor. The stored cursor only moves when the apply commits a page, so a crash at any
    point resumes from the last applied page (a prefetched page is simply asked for again).
    """

    def __init__(
        self,
        request: Callable[[str | None], httpx.Response],
        store: LocalStore,
        cursor: str | None,
        depth: int = 1,
        restarted: bool = False,
    ) -> None:
        self.request = request
        self.store = store
        self.cursor = cursor
        self.restarted = restarted
        self.queue: queue.Queue[Fetched | BaseException] = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outpost-pull", daemon=True)

    def __enter__(self) -> PageFetcher:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        # unblock a fetch thread waiting to hand over a page nobody will apply
        with contextlib.suppress(queue.Empty):
            while True:
                self.queue.get_nowait()
        self.thread.join()

    def next(self) -> Fetched:
        """The next page in order, or the fetch thread's error (raised here)."""
        item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def _run(self) -> None:
        try:
            self._fetch_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the applying thread as is
            self._hand_over(exc)

    def _fetch_all(self) -> None:
        cursor = self.cursor
        restarted = self.restarted
        while not self.stopped.is_set():
            # the per-record work happens here, while the other thread is inside SQLite
            fetched = fetch_page(self.request, self.store, cursor, restarted)
            restarted = restarted or fetched.restart
            if not self._hand_over(fetched) or fetched.last:
                return
            cursor = fetched.next_cursor

    def _hand_over(self, item: Fetched | BaseException) -> bool:
        """Queue an item for the applying thread; False once it stopped listening."""
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False


def _decode_page(response: httpx.Response) -> tuple[list[Row], PullPage | PullPageAny]:
    """A pull page's changes as plain tuples with the record as JSON text, and the page."""
    if response.headers.get("content-type", "").startswith(MSGPACK):
        mpage = Transport.decode(response, _pull_msgpack, _pull_msgpack)
        return [
            (c.entity, c.id, c.op, c.version, dumps(c.record) if c.op == "upsert" else None)
            for c in mpage.changes
        ], mpage
    page = Transport.decode(response, _pull_json, _pull_json)
    # JSON records are stored as the server sent them: no decode and re-encode per record
    return [
        (c.entity, c.id, c.op, c.version, bytes(c.record).decode() if c.op == "upsert" else None)
        for c in page.changes
    ], page


class Prepared(msgspec.Struct):
    """A pull page made ready to write: one change per record (the last one of the page)."""

    upserts: list[tuple[Any, ...]]  # (entity, id, version, data, None, 0, *keys)
    removals: list[tuple[str, str]]
    indexed: tuple[str, ...]  # the indexed fields the keys were read for


def prepare_page(rows: list[Row], key_reader: KeyReader) -> Prepared:
    """Lay a page's changes out as the store's statements take them."""
    indexed, keys = key_reader
    latest = {(r[0], r[1]): r for r in rows}
    # the same record twice in a page (moved between two keys we hold): the last one wins
    unique = rows if len(latest) == len(rows) else list(latest.values())
    upserts = [
        (r[0], r[1], r[3], data, None, 0, *keys(data))
        for r in unique
        if r[2] == "upsert"
        for data in (r[4] or "{}",)
    ]
    removals = [(r[0], r[1]) for r in unique if r[2] != "upsert"]
    return Prepared(upserts, removals, indexed)


def apply_page(store: LocalStore, conn: sqlite3.Connection, page: Prepared) -> int:
    """Write one pull page; records with pending mutations are rebased. Returns removals."""
    upserts = page.upserts
    if page.indexed != store.indexed:
        # a field was indexed while the page was in flight: read the keys again
        keys = store.keys
        upserts = [(*p[:6], *keys(p[3])) for p in upserts]
    rebases: list[tuple[Any, ...]] = []
    dirty = outbox.pending_records(conn)
    if dirty:
        rebases = [p for p in upserts if (p[0], p[1]) in dirty]
        if rebases:
            upserts = [p for p in upserts if (p[0], p[1]) not in dirty]
    if upserts:
        store.put_server_params(conn, upserts)
    if page.removals:
        # an evicted or deleted record leaves the device; its outbox entries stay, and their
        # push results say what became of them
        conn.executemany(_DELETE, page.removals)
    if rebases:
        held = LocalStore.get_rows(conn, [(p[0], p[1]) for p in rebases])
        bases = {}
        for entity, record_id, version, record, *_ in rebases:
            current = held.get((entity, record_id))
            if current is None or version >= current[0]:
                bases[(entity, record_id)] = (version, record)
        outbox.rebase_many(store, conn, bases)
    return len(page.removals)
