"""Pick the codec a page body should be decoded with."""

from __future__ import annotations

import codecs
import re
from email.message import Message

from charset_normalizer import from_bytes

from records.charsets import text_codec

_META_SCAN_BYTES = 4096
# Matches both <meta charset="x"> and <meta http-equiv="Content-Type" content="...; charset=x">.
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),  # -sig so decoding drops the BOM
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(body: bytes, content_type_header: str | None) -> str:
    """A Python codec name for `body`; `body.decode(name, errors="replace")` always works.

    Order: the charset of the Content-Type header, a <meta> charset in the first 4 KB,
    a byte-order mark, charset-normalizer's guess, and finally utf-8. Only WHATWG text
    encodings count (records/charsets.py): "charset=zlib" or "utf-7" is no charset at all. A declared UTF-8
    that the body plainly is not (more invalid sequences than valid multi-byte ones: a
    cp1252 page served as utf-8) is passed over; a UTF-8 page with a few stray bytes keeps
    UTF-8, and decoding replaces the strays.
    """
    header, meta = text_codec(_header_charset(content_type_header)), _meta_charset(body)
    declared = [c for c in (header, meta) if c]
    if "utf-8" in declared and _not_utf8(body):
        declared = [c for c in declared if c != "utf-8"]
    chosen = declared[0] if declared else None
    if chosen is None:
        chosen = _bom_charset(body) or _guess(body) or "utf-8"
    if chosen == "utf-8" and body.startswith(codecs.BOM_UTF8):
        chosen = "utf-8-sig"
    return chosen


def _header_charset(content_type_header: str | None) -> str | None:
    if not content_type_header:
        return None
    if not any(c in content_type_header for c in '"\\*('):
        # The common header ("text/html; charset=utf-8"): no quoting, no RFC 2231, no
        # comments, so splitting gives what email.message would, at a tenth of the cost.
        for param in content_type_header.split(";")[1:]:
            name, equals, value = param.partition("=")
            if equals and name.strip().lower() == "charset":
                return value.strip()
        return None
    message = Message()
    message["content-type"] = content_type_header
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) else None


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    if match is None:
        return None
    codec = text_codec(match.group(1).decode("ascii"))
    # A <meta> we could read as ASCII cannot be UTF-16/32; the HTML spec says use UTF-8.
    if codec and codec.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return codec


# A valid UTF-8 sequence of two to four bytes (RFC 3629, without overlong forms).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xef][\x80-\xbf]{2}"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf4][\x80-\xbf]{3}"
)


def _not_utf8(body: bytes) -> bool:
    """True when `body` has more invalid UTF-8 sequences than valid multi-byte ones."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return False
    invalid = body.decode("utf-8", errors="replace").count("\ufffd") - body.count(b"\xef\xbf\xbd")
    return invalid > len(_UTF8_MULTIBYTE.findall(body))


def _bom_charset(body: bytes) -> str | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    return None


def _guess(body: bytes) -> str | None:
    # Valid UTF-8 is all but never another encoding, and the detector can misread short pages.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    for match in from_bytes(body):  # best first; a guess that is no WHATWG encoding is skipped
        codec = text_codec(match.encoding)
        if codec is not None:
            return codec
    return None
