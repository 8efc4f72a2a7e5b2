"""What a body is: media types, HTML sniffing, and size-bounded decoding of content
encodings (gzip, deflate, zstd, up to two stacked)."""

from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # the same module, backported
    from backports import zstd

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
        self._fed = False
        self.finished = False

    @property
    def complete(self) -> bool:
        """False while a stream that began has not ended (the data so far is cut short)."""
        return self.finished or not self._fed or self._decoder.eof

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if self.finished:
            return
        self._fed = self._fed or bool(chunk)
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


# -- Content-Encoding ----------------------------------------------------------------------

# A chain longer than this is refused: nobody compresses twice but to build a bomb.
MAX_CODINGS = 2
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# RFC 9659: a zstd content coding uses a window of at most 8 MB; 2**24 also covers a
# single-segment frame of a page at the default size cap. A bigger window is refused.
_ZSTD_WINDOW_LOG_MAX = 24
_UNDECODABLE = {
    "br": "brotli cannot be decoded in bounded steps here",
    "compress": "LZW is not supported",
}


class BadEncoding(Exception):
    """A Content-Encoding we do not decode (unknown, br, more than MAX_CODINGS stacked), or
    data that does not decode as its coding says. The message is one line for people."""


class LayerTooLarge(Exception):
    """One layer of a stacked encoding decodes to more than the limit."""


class _Step(Protocol):
    finished: bool

    @property
    def complete(self) -> bool: ...

    def feed(self, chunk: bytes) -> Iterator[bytes]: ...


def content_codings(header: str | None) -> list[str]:
    """The codings of a Content-Encoding header, in the order they were applied:
    lower-cased, `identity` and empty items dropped ("gzip, , Identity" -> ["gzip"]).

    Raises BadEncoding for a coding we do not decode or more than MAX_CODINGS of them.
    """
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > MAX_CODINGS:
        raise BadEncoding(f"refused: {len(codings)} stacked content encodings ({header}); "
                          f"at most {MAX_CODINGS} are decoded")
    for coding in codings:
        if coding not in _STEPS:
            why = _UNDECODABLE.get(coding, "not a coding we decode")
            raise BadEncoding(f"unsupported content encoding {coding!r} ({why})")
    return codings


class ContentDecoder:
    """Undoes a Content-Encoding chain one received chunk at a time, in bounded steps.

    `feed(chunk)` yields the decoded body at most 64 KiB at a time: stop iterating (and
    feeding) once you have enough, and nothing more is decoded. Each layer's total output
    is capped at `limit` (LayerTooLarge past it), so a bomb at an inner layer stops after
    one step as well. Corrupt data raises BadEncoding; so does the constructor for a
    chain `content_codings` refuses. `finished` turns True once the data ended (only
    trailing junk may follow): stop reading then.
    """

    def __init__(self, header: str | None, limit: int) -> None:
        # Undone in reverse: the last coding listed was applied last.
        self._codings = content_codings(header)[::-1]
        self._steps: list[_Step] = [_STEPS[c]() for c in self._codings]
        self._out = [0] * len(self._steps)
        self._limit = limit

    @property
    def codings(self) -> int:
        """How many codings there are to undo (0: `feed` passes chunks through)."""
        return len(self._steps)

    @property
    def finished(self) -> bool:
        return any(step.finished for step in self._steps)

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if not self._steps:
            yield chunk
            return
        yield from self._through(0, chunk)

    def end(self) -> None:
        """Call when the data ran out: raises BadEncoding if a layer was cut short."""
        if self.finished:
            return
        for coding, step in zip(self._codings, self._steps, strict=True):
            if not step.complete:
                raise BadEncoding(f"the {coding} content encoding is cut short (truncated "
                                  f"or corrupt data)")

    def decode(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """`feed` over every chunk of a synchronous source, until the data ends; `end`
        is checked when it runs out."""
        for chunk in chunks:
            yield from self.feed(chunk)
            if self.finished:
                return
        self.end()

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        step = self._steps[index]
        try:
            for part in step.feed(data):
                self._out[index] += len(part)
                if index + 1 == len(self._steps):
                    yield part
                    continue
                if self._out[index] > self._limit:
                    raise LayerTooLarge(f"the {self._codings[index]} layer decodes to more "
                                        f"than {self._limit} bytes")
                yield from self._through(index + 1, part)
                if self.finished:
                    return
        except (zlib.error, zstd.ZstdError, EOFError) as exc:
            raise BadEncoding(f"could not decode the {self._codings[index]} content "
                              f"encoding: {exc}") from None


class _Unzstd:
    """zstd frames (several in a row are all decoded), like Inflater: bounded steps,
    `finished` once the data ended and only trailing junk may follow."""

    def __init__(self) -> None:
        self._decoder: zstd.ZstdDecompressor | None = self._new()
        self._leftover = b""  # bytes after a finished frame: another frame, or junk
        self._fed = False
        self.finished = False

    @property
    def complete(self) -> bool:
        return self.finished or not self._fed or self._decoder is None

    @staticmethod
    def _new() -> zstd.ZstdDecompressor:
        window = {zstd.DecompressionParameter.window_log_max: _ZSTD_WINDOW_LOG_MAX}
        return zstd.ZstdDecompressor(options=window)

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(chunk)
        pending = chunk
        while not self.finished:
            if self._decoder is None:  # between frames
                self._leftover += pending
                if len(self._leftover) < len(_ZSTD_MAGIC):
                    return  # the next chunk tells whether another frame follows
                if not self._leftover.startswith(_ZSTD_MAGIC):
                    self.finished = True
                    return
                self._decoder, pending, self._leftover = self._new(), self._leftover, b""
            out = self._decoder.decompress(pending, _INFLATE_STEP)
            pending = b""
            if out:
                yield out
            if self._decoder.eof:
                pending, self._decoder = self._decoder.unused_data, None
            elif self._decoder.needs_input:
                return


_STEPS: dict[str, Callable[[], _Step]] = {
    "gzip": Inflater,
    "x-gzip": Inflater,
    "deflate": lambda: Inflater(raw_fallback=True),  # some servers omit the zlib header
    "zstd": _Unzstd,
}
