"""Declared dates: ISO 8601 values, and the publisher's local day.

Dates are normalised to ISO 8601 here: a date-time keeps its time and offset
("2025-09-10T05:00:00+00:00", seconds precision, never converted), a date alone is
"YYYY-MM-DD"; a value that does not parse, or falls outside 1990..tomorrow, is ignored and the
next source is tried. The Article record stores only the calendar day of each (`date`,
`date_modified`: "YYYY-MM-DD"), simple and comparable. The day of a date-time with a real
offset is the publisher's local day. A date-time in UTC (or with no offset) only pins the day
to within one either way, so:

    - when the page declares the same instant elsewhere with a real offset (JSON-LD in UTC,
      article:published_time in local time), that declaration's day is kept
      (`local_timestamp`);
    - else when trafilatura's day (read from the URL or the printed date) is one of the days
      that instant falls on somewhere on Earth, that day is kept (`local_day`): a story
      published at 20:19 in New York is dated that day, not the next UTC day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from .text import EARLIEST_DATE, printed_date

_EARLIEST = EARLIEST_DATE
_SAME_INSTANT = timedelta(minutes=5)  # CMSs round or re-save the declared times


def normalize_date(value: Any) -> str | None:
    """ISO 8601 for a declared date: 'YYYY-MM-DD', or a date-time with its time and offset.

    ISO forms first (datetime.fromisoformat after small fixes), then RFC 2822, then htmldate's
    parser for printed dates (which gives a day only). None when nothing parses or the date is
    before 1990 or after tomorrow.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    latest = datetime.combine(date.today() + timedelta(days=1), time())
    iso = text.replace("z", "Z")
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    iso = re.sub(r"\s+([+-]\d\d:?\d\d)$", r"\1", iso)  # "... 05:00:00 +0000"
    parsed: date | datetime | None = None
    try:
        parsed = date.fromisoformat(iso) if len(iso) <= 10 else datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return printed_date(text)
    naive = parsed if not isinstance(parsed, datetime) else parsed.replace(tzinfo=None)
    if isinstance(naive, datetime):
        if not _EARLIEST <= naive <= latest:
            return None
        return parsed.isoformat(timespec="seconds")
    if not _EARLIEST.date() <= naive <= latest.date():
        return None
    return naive.isoformat()


def day(value: str | None) -> str | None:
    """The calendar day ('YYYY-MM-DD') of a normalised date, as the publisher wrote it."""
    return value[:10] if value else None


def local_timestamp(declared: str | None, others: Iterable[str]) -> str | None:
    """`declared`, or the same instant as another declaration gives it with a real offset
    (JSON-LD in UTC, article:published_time in the publisher's time): that one's day is the
    publisher's. A date-time with an offset of its own, or a day, is returned as it is."""
    instant = _utc_instant(declared)
    if instant is None:
        return declared
    for other in others:
        try:
            parsed = datetime.fromisoformat(other) if len(other) > 10 else None
        except ValueError:
            continue
        if parsed is not None and parsed.utcoffset() not in (None, timedelta(0)) \
                and abs(parsed.replace(tzinfo=None) - parsed.utcoffset() - instant) \
                <= _SAME_INSTANT:
            return parsed.isoformat(timespec="seconds")
    return declared


def _utc_instant(value: str | None) -> datetime | None:
    """The naive UTC instant of a date-time in UTC or without offset; None for anything else."""
    if not value or len(value) <= 10:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) if parsed.utcoffset() in (None, timedelta(0)) else None


def local_day(declared: str | None, hint: str | None) -> str | None:
    """The day of a declared date, or `hint` (a day) when the declared date-time is in UTC or
    has no offset and `hint` is a day that instant falls on in some time zone (UTC-12..+14)."""
    if not declared or not hint or len(declared) <= 10:
        return day(declared)
    try:
        instant = datetime.fromisoformat(declared)
        hinted = date.fromisoformat(hint[:10])
    except ValueError:
        return day(declared)
    if instant.utcoffset() not in (None, timedelta(0)):
        return day(declared)
    instant = instant.replace(tzinfo=None)
    earliest = (instant - timedelta(hours=12)).date()
    latest = (instant + timedelta(hours=14)).date()
    return hinted.isoformat() if earliest <= hinted <= latest else day(declared)
