"""Raw responses as the `pages` table keeps them: compressed bodies, and the stage that
compresses them where cleaning runs (so the single writer does not).

Bodies are zstd frames (level 3: faster than zlib and smaller; README "Store throughput").
Rows written before migration 006 hold zlib streams; the two formats
are told apart by their first bytes (zstd's magic number; a zlib stream starts with 0x78),
so no column records which one a row uses.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable, Iterator

from records import Page, Result

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # the same module, backported
    from backports import zstd

LEVEL = 3
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def pack(body: bytes) -> bytes:
    """`body` compressed as the pages table stores it."""
    return zstd.compress(body, LEVEL)


def unpack(blob: bytes) -> bytes:
    """A stored body back as received (zstd, or zlib for rows written before zstd)."""
    if blob[:4] == _ZSTD_MAGIC:
        return zstd.decompress(blob)
    return zlib.decompress(blob)


def kept(page: Page) -> bool:
    """Whether the store keeps this response (a body that arrived whole)."""
    return bool(page.body) and page.error is None


class Pack:
    """Stage: sets `result.stored_body` (the page body compressed for the `pages` table) on
    every Result whose response the store keeps; runs wherever cleaning runs.
    `release_body`: then drop `page.body` (the store needs only the packed one), so a worker
    process sends the compressed bytes only back to the writer."""

    def __init__(self, release_body: bool = False) -> None:
        self.release_body = release_body

    def __call__(self, results: Iterable[Result]) -> Iterator[Result]:
        for result in results:
            page = result.page
            if result.stored_body is None and kept(page):
                result.stored_body = pack(page.body)
            if self.release_body:
                page.body = b""
            yield result
