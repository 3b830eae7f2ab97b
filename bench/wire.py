"""Figures of issue 17's push-and-bytes part: a one-mutation push with its SQL statements, and
the bytes an initial sync moves per record, per entity, JSON and MessagePack, compressed or not.
"""

from __future__ import annotations

import gzip
import json
import statistics
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
import httpx
import msgspec

from bench.measure import Sample
from server.settings import Settings

FORMATS = ("application/json", "application/msgpack")
ENCODINGS = ("identity", "gzip", "br")
# the peer's initial pull of 10,000 docs: 2.24 MB of bodies on the wire, both directions
# (gzip on), in ../shared/peer-bench/RESULTS.md
PEER_WIRE_BYTES_PER_DOC = 2.24e6 / 10_000
_settings = Settings()


@dataclass
class EntityBytes:
    """Average bytes per change (envelope and record) of one entity, six ways."""

    entity: str
    records: int
    sizes: dict[str, float] = field(default_factory=dict)  # "json", "json+gzip", ... per record


@dataclass
class WireBytes:
    """Per entity, and whole initial syncs as served (pages on the wire, per record)."""

    entities: list[EntityBytes] = field(default_factory=list)
    served: dict[str, float] = field(default_factory=dict)  # "json+br" -> bytes per record
    records: int = 0


@dataclass
class SinglePush:
    """Pushes of one mutation each, and the SQL statements one of them runs."""

    samples: list[Sample] = field(default_factory=list)
    statements: float = 0.0
    top: list[tuple[str, float]] = field(default_factory=list)  # (statement, calls per push)


def _compress(kind: str, body: bytes) -> bytes:
    if kind == "gzip":
        return gzip.compress(body, compresslevel=_settings.compress_gzip_level)
    return brotli.compress(body, quality=_settings.compress_brotli_quality)  # type: ignore[no-any-return]


def _pull_all(
    base_url: str, token: str, device_id: uuid.UUID, kind: str, encoding: str
) -> tuple[int, list[Any]]:
    """A whole initial sync with raw HTTP: (response bytes on the wire, changes)."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": kind,
        "Accept-Encoding": encoding,
    }
    cursor, wire, changes = None, 0, []
    with httpx.Client(base_url=base_url, timeout=120) as http:
        while True:
            body = {
                "device_id": str(device_id),
                "schema_version": 1,
                "cursor": cursor,
                "limit": 5000,
            }
            response = http.post("/sync/pull", json=body, headers=headers)
            response.raise_for_status()
            wire += response.num_bytes_downloaded
            page = (
                msgspec.msgpack.decode(response.content)
                if kind.endswith("msgpack")
                else msgspec.json.decode(response.content)
            )
            changes += page["changes"]
            cursor = page["cursor"]
            if not page["has_more"]:
                return wire, changes


def wire_bytes(base_url: str, token: str, device_id: uuid.UUID) -> WireBytes:
    """Six whole initial syncs (2 formats x 3 encodings) and the per-entity breakdown."""
    out = WireBytes()
    by_entity: dict[str, list[Any]] = {}
    for kind in FORMATS:
        short = "json" if kind.endswith("json") else "msgpack"
        for encoding in ENCODINGS:
            wire, changes = _pull_all(base_url, token, device_id, kind, encoding)
            out.records = len(changes)
            out.served[short if encoding == "identity" else f"{short}+{encoding}"] = wire / max(
                1, len(changes)
            )
            if kind.endswith("json") and encoding == "identity":
                for change in changes:
                    by_entity.setdefault(change["entity"], []).append(change)
    for entity, changes in sorted(by_entity.items(), key=lambda item: -len(item[1])):
        row = EntityBytes(entity, len(changes))
        for short, encode in (("json", msgspec.json.encode), ("msgpack", msgspec.msgpack.encode)):
            body = encode({"changes": changes})  # the entity's changes as one page
            row.sizes[short] = len(body) / len(changes)
            for kind in ("gzip", "br"):
                row.sizes[f"{short}+{kind}"] = len(_compress(kind, body)) / len(changes)
        out.entities.append(row)
    return out


def statement_counts(path: Path, label: str) -> tuple[float, list[tuple[str, float]]]:
    """SQL statements per run of ``label`` in a ``bench.server_stats`` file, and the statements
    with their calls per run."""
    runs, merged = 0, {}  # type: ignore[var-annotated]
    if not path.exists():
        return 0.0, []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if entry["label"] != label:
            continue
        runs += 1
        for st in entry["statements"]:
            merged[st["sql"]] = merged.get(st["sql"], 0) + st["calls"]
    if not runs:
        return 0.0, []
    ranked = sorted(merged.items(), key=lambda item: -item[1])
    return sum(merged.values()) / runs, [(sql, calls / runs) for sql, calls in ranked]


def single_push_lines(single: SinglePush) -> list[str]:
    """The one-mutation push paragraph."""
    if not single.samples:
        return []
    secs = sorted(s.seconds for s in single.samples)
    cpu = statistics.median(s.server_cpu for s in single.samples)
    out = [
        f"f. push of one mutation (an account edit; the SDK's push loop alone), "
        f"{len(secs)} samples: median **{statistics.median(secs) * 1000:.1f} ms** (min "
        f"{secs[0] * 1000:.1f} ms, max {secs[-1] * 1000:.1f} ms), server CPU median "
        f"{cpu * 1000:.1f} ms (`/proc` ticks of 10 ms, so a median over samples), "
        f"**{single.statements:.0f} SQL statements** per push (counted on that server by "
        "`bench/server_stats.py`, BEGIN and COMMIT included when the driver sends them):",
        "",
    ]
    out += [f"- {calls:g} x `{sql[:90]}`" for sql, calls in single.top]
    return out


def bytes_lines(wire: WireBytes | None, initial: list[Sample]) -> list[str]:
    """The bytes-per-record table."""
    if wire is None or not wire.entities:
        return []
    cols = ("json", "json+gzip", "json+br", "msgpack", "msgpack+gzip", "msgpack+br")
    out = [
        "Bytes per record of the rep's initial sync (each change: its envelope and record), "
        "per entity. The per-entity columns compress each entity's changes as one page "
        f"(gzip level {_settings.compress_gzip_level}, brotli quality "
        f"{_settings.compress_brotli_quality}, the server's defaults); the last row is six "
        "whole initial syncs as the server served them (response bytes on the wire over "
        "records):",
        "",
        "| entity | records | JSON | JSON gzip | JSON brotli | MessagePack | MessagePack gzip "
        "| MessagePack brotli |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in wire.entities:
        out.append(
            f"| {row.entity} | {row.records:,} | "
            + " | ".join(f"{row.sizes[c]:.0f}" for c in cols)
            + " |"
        )
    out.append(
        f"| **whole sync, as served** | {wire.records:,} | "
        + " | ".join(f"**{wire.served.get(c, 0):.0f}**" for c in cols)
        + " |"
    )
    if initial:
        per = statistics.median(s.bytes_in / max(1, s.records) for s in initial)
        out += [
            "",
            f"The SDK's own initial syncs (a) downloaded median **{per:.0f} B per "
            f"record** (it asks for `br, gzip`, JSON); the PouchDB peer's initial pull moved "
            f"{PEER_WIRE_BYTES_PER_DOC:.0f} B per doc on the wire (2.24 MB for 10,000 docs, "
            "gzip on, both directions; its docs are 12-field accounts, avg 371 B of JSON).",
        ]
    return out
