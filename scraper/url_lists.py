"""Reading a list of URLs (a `.urls` file, `--urls FILE`, a source of kind "urls") in
bounded memory: one URL a line, whatever the file holds.

A line longer than any URL is refused rather than held whole (the file is read in pieces of
at most MAX_URL_LINE bytes), and binary content (a NUL or another control byte, as from
/dev/zero or an image) ends the reading with one refusal naming the file. What the lines
say is decided by the caller (scraper/sources.py): a list's lines are data.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from typing import NamedTuple

from .content import GZIP_MAGIC

# The longest line of a URL list read as a URL (no real URL comes close); a longer line is
# refused, and never held whole: the list is read in pieces of at most this size.
MAX_URL_LINE = 8 * 1024
_PREVIEW = 200  # characters of a refused line kept as its fetches.url
# Bytes no text list holds: C0 controls but tab, newline, vertical tab, form feed, return.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f]")


class UrlLine(NamedTuple):
    """One line of a list of URLs: its number, its text, and why it is refused (or None)."""

    number: int
    text: str
    refused: str | None = None


def read_url_file(path: str | os.PathLike[str]) -> Iterator[UrlLine]:
    """The URLs of a text file, one per line, lazily; gzip is read transparently.

    Blank lines and lines starting with "#" are skipped, surrounding whitespace stripped.
    Memory stays bounded whatever the file: a line longer than MAX_URL_LINE bytes comes as
    a refused UrlLine (its text cut short), and binary content (a NUL or another control
    byte, as in /dev/zero or an image) ends the reading with one refused UrlLine naming the
    file. Raises OSError (or gzip.BadGzipFile, an OSError) when the file cannot be read.
    """
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC  # sniff rather than trust the ".gz" suffix
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        number = 0
        while line := fh.readline(MAX_URL_LINE + 1):
            number += 1
            if _BINARY_BYTES.search(line):
                yield _binary(path, number)
                return
            if len(line) > MAX_URL_LINE and not line.endswith(b"\n"):
                head = line[:_PREVIEW * 4].decode("utf-8", errors="replace").strip()
                while line and not line.endswith(b"\n"):  # the rest of it, piece by piece
                    line = fh.readline(MAX_URL_LINE)
                    if _BINARY_BYTES.search(line):
                        yield _binary(path, number)
                        return
                yield UrlLine(number, head[:_PREVIEW] + "…",
                              f"line {number} of {path} is longer than {MAX_URL_LINE} bytes: "
                              f"not a URL")
                continue
            # utf-8-sig: files saved by Windows editors start with a BOM.
            text = line.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace")
            text = text.strip()
            if text and not text.startswith("#"):
                yield UrlLine(number, text)


def _binary(path: str | os.PathLike[str], number: int) -> UrlLine:
    return UrlLine(number, str(path), f"{path}: binary data at line {number}: not a list "
                                      f"of URLs")
