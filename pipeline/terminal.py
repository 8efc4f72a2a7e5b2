"""What may reach a terminal, a cron mail or a log line: the one rule every command's output
goes through. Text from pages, feeds, files and the database is untrusted: an escape sequence
in a title could rewrite the terminal, a newline could forge a line of output, a bidirectional
override could make a URL read backwards.

`printable` puts a text on one line for people; `json_line` puts a document on one line for
programs; `CONTROL` tells an input that holds control characters (a URL, a path); `oneline`
shortens a text to a column; `PrintableFilter` holds log records to `printable`'s rule.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any

# C0 and C1 controls and DEL.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides and isolates: dropped, so text reads as it is stored.
_BIDI = frozenset(map(chr, (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
                            0x2069)))
# Inside JSON strings, json leaves DEL, the C1 controls and the line separators raw; escaped,
# a line of JSON is one line for every reader (str.splitlines() also splits at U+2028/U+2029
# and at C1's NEL) and for a terminal.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), 0x2028, 0x2029)}


def printable(text: str | None) -> str:
    """`text` on one line, safe to print: every control character and line or paragraph
    separator becomes a space, bidirectional controls are dropped; the rest is kept as it is
    (runs of spaces too, so a command's columns stay aligned)."""
    if not text:
        return ""
    if text.isascii() and text.isprintable():
        return text
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp")
                   else "" if c in _BIDI else c for c in text)


def json_line(obj: Any) -> str:
    """One JSON document on one line, Unicode kept as it is (ensure_ascii=False) except for
    the control characters and line separators json leaves raw, which are escaped; values json
    cannot write (a datetime, a Path) are written as their str()."""
    return json.dumps(obj, ensure_ascii=False, default=str).translate(_JSON_ESCAPES)


def oneline(text: str | None, width: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


class PrintableFilter(logging.Filter):
    """Log records as one line without control characters (for cron mail and terminals)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = printable(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
