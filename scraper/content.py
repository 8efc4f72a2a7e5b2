"""What a body is: media types, HTML sniffing, and size-bounded gzip/deflate decoding."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator

ACCEPTED_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
HTML = "text/html"
PLAIN = "text/plain"
BINARY = "application/octet-stream"

_EXTENSION_TYPES = {".html": HTML, ".htm": HTML, ".xhtml": HTML, ".txt": PLAIN}
_SNIFF_BYTES = 1024
# The HTML signatures of the WHATWG MIME Sniffing Standard (section 7.1), after leading
# whitespace, a BOM and comments; each must be followed by a space or ">".
_HTML_START = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|"
    rb"b|br|p|meta|link|!--)[\s>/]",
    re.I | re.S,
)
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")
GZIP_MAGIC = b"\x1f\x8b"
_MAX_CONTROL_SHARE = 0.05  # text has tabs and newlines, almost never other control bytes
_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)  # not \t \n \v \f \r
# Decompress in steps of this many bytes, so the caller can stop a bomb after one step.
_INFLATE_STEP = 64 * 1024


def media_type(content_type_header: str | None) -> str | None:
    """The lower-cased media type of a header ("Text/HTML; charset=x" -> "text/html"), or None."""
    if not content_type_header:
        return None
    media = content_type_header.split(";", 1)[0].strip().lower()
    return media or None


def looks_like_html(body: bytes) -> bool:
    return _HTML_START.match(body[:_SNIFF_BYTES]) is not None


def sniff(body: bytes) -> str:
    """text/html, text/plain or application/octet-stream, judged from the first bytes."""
    head = body[:_SNIFF_BYTES]
    if looks_like_html(head):
        return HTML
    if b"\x00" in head or head.startswith(_BINARY_MAGIC):
        return BINARY
    return PLAIN


def looks_binary(body: bytes) -> bool:
    """True for bytes no text page starts with: a known binary signature, NULs, or many
    control characters. UTF-16 text (which has NULs) is recognised by its BOM."""
    head = body[:_SNIFF_BYTES]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > _MAX_CONTROL_SHARE * len(head)


def type_for_name(name: str, body: bytes) -> str:
    """The media type of a local file: from its extension, else sniffed from its bytes.

    `name` is the file name without any ".gz" suffix.
    """
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return _EXTENSION_TYPES.get(suffix) or sniff(body)


def inflate(chunks: Iterable[bytes], *, raw_fallback: bool = False) -> Iterator[bytes]:
    """Decompress gzip or zlib data, yielding at most 64 KiB at a time.

    Output comes in bounded steps, so a consumer that stops iterating once it has seen
    enough never inflates a gzip bomb. Concatenated gzip members are all decoded; bytes
    after the last member are ignored, like `gzip` does. `raw_fallback`: for HTTP
    "deflate", which some servers send without the zlib header. Raises zlib.error on
    corrupt data.
    """
    inflater = Inflater(raw_fallback=raw_fallback)
    for chunk in chunks:
        yield from inflater.feed(chunk)
        if inflater.finished:
            return


class Inflater:
    """`inflate` one chunk at a time, for callers that receive chunks asynchronously.

    `feed(chunk)` yields the decompressed output in steps of at most 64 KiB; stop iterating
    it (and stop feeding) as soon as you have enough. `finished` turns True once the data
    ended and only trailing junk may follow: stop reading then.
    """

    def __init__(self, *, raw_fallback: bool = False) -> None:
        self._decoder = _decoder()
        self._raw_fallback = raw_fallback
        self._leftover = b""  # bytes after a finished member: another member, or trailing junk
        self._first = True
        self.finished = False

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if self.finished:
            return
        if self._decoder.eof:
            self._leftover += chunk
            if len(self._leftover) < len(GZIP_MAGIC):
                return
            if not self._leftover.startswith(GZIP_MAGIC):
                self.finished = True
                return
            self._decoder, chunk, self._leftover = _decoder(), self._leftover, b""
        pending = chunk
        while True:
            try:
                out = self._decoder.decompress(pending, _INFLATE_STEP)
            except zlib.error:
                if not (self._raw_fallback and self._first):
                    raise
                self._first = False
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._first = False
            if out:
                yield out
            if self._decoder.eof:
                self._leftover = self._decoder.unused_data
                if len(self._leftover) < len(GZIP_MAGIC):
                    return  # the next chunk tells whether another member follows
                if not self._leftover.startswith(GZIP_MAGIC):
                    self.finished = True
                    return
                self._decoder, pending, self._leftover = _decoder(), self._leftover, b""
                continue
            pending = self._decoder.unconsumed_tail
            # A full step may leave output buffered in zlib even with no input left: drain.
            if not pending and len(out) < _INFLATE_STEP:
                return


def _decoder() -> zlib._Decompress:
    return zlib.decompressobj(zlib.MAX_WBITS | 32)  # | 32: accept a gzip or a zlib header


def collect(chunks: Iterable[bytes], max_bytes: int) -> tuple[bytes | None, int]:
    """Join `chunks` unless they add up to more than `max_bytes`.

    Returns (body, bytes received); body is None when the limit was passed, in which case
    iteration stopped right there: nothing more is read or decompressed.
    """
    parts: list[bytes] = []
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > max_bytes:
            return None, received
        parts.append(chunk)
    return b"".join(parts), received
