"""Charset labels as browsers read them: only the text encodings of the WHATWG Encoding
Standard (https://encoding.spec.whatwg.org/), never any other Python codec.

A page may name any charset in its Content-Type or a <meta>. Python's codec registry also
holds codecs that are not text encodings ("zlib", "base64", "hex", "rot13", "idna": decoding
with them raises or turns bytes into something else) and UTF-7, which browsers refuse
because "+ADw-script+AD4-" decodes to markup. So a label counts only if the Encoding
Standard knows it (the `webencodings` tables).

Part of the bottom package records/: the fetcher, the cleaner and `scrape reclean` read
charsets through it, and it imports nothing of ours.
"""

from __future__ import annotations

import codecs

import webencodings

# WHATWG encodings whose Python codec `bytes.decode` cannot use (custom codec_infos).
_UNUSABLE = frozenset({"x-user-defined", "replacement"})
# The Python codec of every usable WHATWG encoding ("cp1252", "cp932", "utf-16-le", ...),
# plus the byte-order-mark codecs charset detection gives: the names a Page.encoding holds.
_CODECS = frozenset(
    {webencodings.lookup(name).codec_info.name  # type: ignore[union-attr]
     for name in set(webencodings.LABELS.values()) - _UNUSABLE}
    | {"utf-8-sig", "utf-16", "utf-32"}
)
# Python's names for what WHATWG decodes as windows-1252 ("latin-1" is no WHATWG label, but
# servers say it and mean cp1252: its quotes and dashes would stay C1 controls otherwise).
_AS_CP1252 = frozenset({"latin-1", "iso8859-1", "ascii"})


def text_codec(label: str | None) -> str | None:
    """The Python codec for a charset label, or None if it names no WHATWG text encoding.

    Accepts a WHATWG label ("utf-8", "Shift_JIS", "iso-8859-1" -> "cp1252") and the Python
    codec names this function itself returns ("cp932", "utf-16-le"), so a stored
    Page.encoding goes through it unchanged. "zlib", "base64", "utf-7", ... give None.
    """
    if not label:
        return None
    label = label.strip().strip("\"'").strip()
    if label.lower() in _CODECS:  # e.g. "utf-16" from a BOM: Python's codec reads the BOM
        return label.lower()
    encoding = webencodings.lookup(label)
    if encoding is not None:
        return None if encoding.name in _UNUSABLE else encoding.codec_info.name
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None
    if name in _AS_CP1252:
        return "cp1252"
    return name if name in _CODECS else None


def decode_text(body: bytes, encoding: str | None) -> str:
    """`body` as text: with `encoding` if it is a WHATWG text encoding, else UTF-8; bytes
    that do not decode are replaced. Never raises."""
    return body.decode(text_codec(encoding) or "utf-8", errors="replace")
