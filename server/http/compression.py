"""Response compression: brotli when the client accepts it, else gzip, above a size threshold.

Sync pages are JSON or MessagePack full of repeated field names and ids; at the fast settings
chosen by default (brotli quality 1, gzip level 1) they shrink to about a fifth for a few
milliseconds of CPU per megabyte (figures in docs/benchmarks.md, "Push and bytes").
"""

from __future__ import annotations

from litestar.config.compression import CompressionConfig

from server.settings import Settings


def compression_config(settings: Settings) -> CompressionConfig | None:
    """The app's compression, or None when ``compress_min_bytes`` is 0 (off)."""
    if settings.compress_min_bytes <= 0:
        return None
    return CompressionConfig(
        backend="brotli",
        minimum_size=settings.compress_min_bytes,
        brotli_quality=settings.compress_brotli_quality,
        brotli_gzip_fallback=True,
        gzip_compress_level=settings.compress_gzip_level,
    )
