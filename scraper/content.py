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
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
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
    decoder = _decoder()
    leftover = b""  # bytes after a finished member: another member, or trailing junk
    first = True
    for chunk in chunks:
        if decoder.eof:
            leftover += chunk
            if len(leftover) < len(GZIP_MAGIC):
                continue
            if not leftover.startswith(GZIP_MAGIC):
                return
            decoder, chunk, leftover = _decoder(), leftover, b""
        pending = chunk
        while True:
            try:
                out = decoder.decompress(pending, _INFLATE_STEP)
            except zlib.error:
                if not (raw_fallback and first):
                    raise
                first = False
                decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            first = False
            if out:
                yield out
            if decoder.eof:
                leftover = decoder.unused_data
                if len(leftover) < len(GZIP_MAGIC):
                    break  # the next chunk tells whether another member follows
                if not leftover.startswith(GZIP_MAGIC):
                    return
                decoder, pending, leftover = _decoder(), leftover, b""
                continue
            pending = decoder.unconsumed_tail
            # A full step may leave output buffered in zlib even with no input left: drain.
            if not pending and len(out) < _INFLATE_STEP:
                break


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
