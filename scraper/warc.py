"""Web archives: the HTML pages of a WARC file as Pages, and the Pages of a run as a WARC file.

Reading (`WarcReader`): one Page per HTML `response` record (and per `resource`
record of an HTML type), shaped as the fetcher shapes a fetched page: lower-case headers,
the body with its transfer and content encodings undone (the content encoding by the
fetcher's bounded decoder, which refuses the same chains), the charset detected the same way,
a non-2xx status as the same outcome ("fetch.http_404"). Requests, metadata, warcinfo,
revisits, redirects (their target is a record of its own), 304s and non-HTML responses
(whatever their status) are skipped and counted (`WarcReader.skipped`). The file is streamed,
one record at a time. A record that cannot be decoded becomes a failed Page and the reading
goes on; a file that is truncated or corrupt ends with one "warc.error" Page naming the file
and the byte offset of the record that could not be read (warcio cannot resynchronise after a
broken record).

Writing (`SaveWarc`): a page stage that archives every page fetched over HTTP(S) as a WARC/1.1
`response` record with its `request` record, each gzipped on its own, after a `warcinfo`
record. Local files (file:// URLs, paths) are not archived: they are on disk already, and a
file:// URL means nothing on another machine.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx
from warcio.archiveiterator import WARCIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException
from warcio.warcwriter import WARCWriter

from records import Page
from records.outcomes import (
    FETCH_BAD_ENCODING,
    FETCH_ERROR,
    FETCH_TOO_LARGE,
    WARC_ERROR,
)
from records.urls import WEB_SCHEMES

from .charset import detect_encoding
from .config import FetchConfig
from .content import (
    ACCEPTED_TYPES,
    PLAIN,
    BadEncoding,
    ContentDecoder,
    LayerTooLarge,
    collect,
    looks_like_html,
    media_type,
)
from .errors import FetchFailure, check_status, refuse_binary

HTML_TYPES = ACCEPTED_TYPES - {PLAIN}  # plain text in an archive is robots.txt, CSS maps...
_CHUNK = 64 * 1024
_MAX_DETAIL = 200  # warcio's messages can be paragraphs; the fetches row needs a line
# The body is stored decoded: these describe an encoding the archived body no longer has.
_DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class WarcTruncated(Exception):
    """The file ended inside a record."""


class WarcReader:
    """The HTML pages of one WARC file, gzipped (per record) or not; iterate it once.

    `skipped` counts the records that are not pages, by why ("request", "image/png",
    "HTTP 301"...); `max_bytes` caps a body once decoded, as the fetcher does.
    """

    def __init__(self, path: str | Path, source: str = "warc",
                 max_bytes: int = FetchConfig.max_bytes) -> None:
        self.path = Path(path)
        self.source = source
        self.max_bytes = max_bytes
        self.skipped: Counter[str] = Counter()
        self.pages = 0  # Pages yielded, failed ones included

    def __iter__(self) -> Iterator[Page]:
        for page in self._read():
            self.pages += 1
            yield page

    def _read(self) -> Iterator[Page]:
        try:
            fh = self.path.open("rb")
        except OSError as exc:
            yield self._broken(0, f"cannot open the file: {exc.strerror or exc}")
            return
        with fh:
            yield from self._records(fh)

    def _records(self, fh: BinaryIO) -> Iterator[Page]:
        # WARC only: warcio's ARC parser would take any text file for an ARC record.
        records = WARCIterator(fh)
        try:
            for record in records:
                start = records.offset  # where this record begins in the file
                try:
                    page = self._page(record, start)
                except Exception as exc:  # one bad record: a failed Page, and on to the next
                    page = self._broken(start, _detail(exc),
                                        record.rec_headers.get_header("WARC-Target-URI"))
                _check_whole(record)  # before yielding: a cut record gives no page
                if page is not None:
                    yield page
        except Exception as exc:  # warcio raises anything (even AttributeError) on bad data
            yield self._broken(records.offset, _detail(exc))
            return
        # warcio stops quietly at data it cannot read as a record (a file cut in a header).
        if records.offset < os.fstat(fh.fileno()).st_size:
            yield self._broken(records.offset, "truncated or corrupt: what follows the last "
                                               "whole record is not a record")

    def _page(self, record: ArcWarcRecord, offset: int) -> Page | None:
        """The Page of one record, or None for a record that is not a page (counted)."""
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        if record.rec_type == "response" and record.http_headers is not None:
            return self._response(record, url, offset)
        if record.rec_type == "resource":
            return self._resource(record, url, offset)
        kind = record.rec_type or "no WARC-Type"
        self.skipped[kind if kind != "response" else "response, not HTTP"] += 1
        return None

    def _response(self, record: ArcWarcRecord, url: str, offset: int) -> Page | None:
        response = _http_response(record.http_headers)
        status = response.status_code
        page = self._new_page(record, url)
        page.status = status
        page.content_type = media_type(response.headers.get("content-type"))
        page.headers = dict(response.headers)  # as the fetcher keeps them
        page.etag = response.headers.get("etag")
        page.last_modified = response.headers.get("last-modified")
        if 300 <= status < 400:  # a redirect (its target has a record) or a 304: no page here
            self.skipped[f"HTTP {status}"] += 1
            return None
        if page.content_type is not None and page.content_type not in HTML_TYPES:
            self.skipped[page.content_type] += 1
            return None
        try:
            check_status(response)  # a 404 becomes "fetch.http_404", as when fetched
            body = self._body(record, offset, response.headers.get("content-encoding"))
            if page.content_type is None:  # undeclared: HTML only if it looks like HTML
                if not looks_like_html(body):
                    self.skipped["no type, not HTML"] += 1
                    return None
                page.content_type = "text/html"
            return _filled(page, body, response.headers.get("content-type"))
        except FetchFailure as failure:
            return _failed(page, failure)

    def _resource(self, record: ArcWarcRecord, url: str, offset: int) -> Page | None:
        """A capture with no HTTP exchange (a browser's DOM snapshot): like a local file."""
        declared = record.content_type
        content_type = media_type(declared)
        if content_type not in HTML_TYPES:
            self.skipped[f"resource {content_type or 'without type'}"] += 1
            return None
        page = self._new_page(record, url)
        page.content_type = content_type
        try:
            return _filled(page, self._body(record, offset), declared)
        except FetchFailure as failure:
            return _failed(page, failure)

    def _new_page(self, record: ArcWarcRecord, url: str) -> Page:
        return Page(url=url, final_url=url, source=self.source,
                    fetched_at=_iso(record.rec_headers.get_header("WARC-Date")))

    def _body(self, record: ArcWarcRecord, offset: int, coding: str | None = None) -> bytes:
        """The payload, its transfer encoding undone (warcio) and its content `coding`
        undone by the fetcher's decoder (same chains, same bounded steps), capped."""
        try:
            decoder = ContentDecoder(coding, self.max_bytes)
        except BadEncoding as exc:
            raise FetchFailure(FETCH_BAD_ENCODING, str(exc)) from None
        stream = _payload(record)
        try:
            body, _ = collect(decoder.decode(iter(lambda: stream.read(_CHUNK), b"")),
                              self.max_bytes)
        except BadEncoding as exc:
            raise FetchFailure(FETCH_BAD_ENCODING, f"{exc} (the record at byte {offset} of "
                                                     f"{self.path})") from None
        except LayerTooLarge:
            body = None
        except (OSError, ValueError) as exc:  # warcio could not undo the chunked encoding
            raise FetchFailure(FETCH_ERROR, f"could not read the body of the record at "
                                              f"byte {offset} of {self.path}: "
                                              f"{_detail(exc)}") from None
        if body is None:
            raise FetchFailure(FETCH_TOO_LARGE,
                               f"response larger than {self.max_bytes} bytes")
        return body

    def _broken(self, offset: int, detail: str, url: str | None = None) -> Page:
        """The failed Page of an unreadable file, or of one unreadable record (its `url`)."""
        return Page(url=url or str(self.path), fetched_at=_iso(None), source=self.source,
                    outcome=WARC_ERROR,
                    error=f"{self.path}: unreadable at byte offset {offset}: {detail}")


def _http_response(http: StatusAndHeaders) -> httpx.Response:
    """The record's HTTP head as an httpx.Response, so status and headers are read exactly as
    the fetcher reads them (lower-case names, repeated headers joined by ", ")."""
    code, _, reason = http.statusline.partition(" ")
    headers = [(name.encode("utf-8"), value.encode("utf-8")) for name, value in http.headers]
    return httpx.Response(int(code), headers=headers,
                          extensions={"reason_phrase": reason.strip().encode("utf-8")})


def _payload(record: ArcWarcRecord) -> BinaryIO:
    """The record's payload with only a chunked transfer encoding undone: warcio's
    content_stream would also inflate the content encoding, whole (br too, if brotli is
    installed), which is the fetcher's decoder's job."""
    http = record.http_headers
    if http is not None and (http.get_header("transfer-encoding") or "").lower() == "chunked":
        return ChunkedDataReader(record.raw_stream)  # type: ignore[no-any-return]
    return record.raw_stream  # type: ignore[no-any-return]


def _filled(page: Page, body: bytes, content_type_header: str | None) -> Page:
    refuse_binary(body)
    page.body, page.bytes = body, len(body)
    page.encoding = detect_encoding(body, content_type_header)
    return page


def _failed(page: Page, failure: FetchFailure) -> Page:
    page.error, page.outcome = failure.message, failure.outcome
    page.body, page.encoding = b"", None  # as the fetcher leaves a failed page
    return page


def _check_whole(record: ArcWarcRecord) -> None:
    """Read the rest of the record: raise WarcTruncated if the file ends before it does."""
    declared = record.rec_headers.get_header("Content-Length") or ""
    if not declared.strip().isdigit():  # mandatory: a header block cut short has none
        raise WarcTruncated("a record without a valid Content-Length (the file is truncated "
                            "or corrupt)")
    raw = record.raw_stream
    while raw.read(_CHUNK):
        pass
    missing = getattr(raw, "limit", 0)
    if missing > 0:
        raise WarcTruncated(f"the file ends {missing} bytes before the end of the record "
                            f"of {record.rec_headers.get_header('WARC-Target-URI') or 'no URI'}")


def _detail(exc: BaseException) -> str:
    """One line about `exc`; warcio's own errors say what is wrong, other exceptions out of
    it mean a record it could not parse."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, (ArchiveLoadFailed, StatusAndHeadersParserException, WarcTruncated)):
        text = f"not a readable record ({type(exc).__name__}: {text})"
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _iso(warc_date: str | None) -> str:
    """A WARC-Date ("2024-05-01T10:00:00Z", maybe with fractions) in the fetcher's form
    ("2024-05-01T10:00:00+00:00"); now when missing or unreadable."""
    try:
        when = datetime.fromisoformat(warc_date or "")
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _warc_date(fetched_at: str) -> str:
    """Page.fetched_at as a WARC-Date (UTC, "Z")."""
    return _iso(fetched_at).replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# Writing


class SaveWarc:
    """Page stage: writes each page fetched over HTTP(S) (a body, no error) to a WARC file and
    yields every page unchanged. Use as a context manager:

        with SaveWarc("run.warc.gz") as save:
            ingest(..., page_stages=[save])

    The file is written as PATH.part and renamed to PATH when closed, so PATH never holds a
    half-written archive. Closed after an exception too: every record written is whole, so
    what was fetched until then is kept; only a write that failed midway leaves the .part
    file behind, and no PATH. An existing PATH is replaced.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".part")
        self.written = 0  # pages archived
        self.local = 0  # local files passed through, not archived
        self._fh: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._broken = False

    def __enter__(self) -> SaveWarc:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        self._fh = self.partial.open("wb")
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        self._write(lambda w: w.write_record(w.create_warcinfo_record(self.path.name, {
            "software": f"scrape-clean/{_version()}",
            "format": "WARC File Format 1.1",
            "description": "pages fetched by scrape ingest; bodies stored decoded",
        })))

    def close(self) -> None:
        """Finish the file and give it its name (not after a failed write: see the class)."""
        if self._fh is None:
            return
        fh, self._fh, self._writer = self._fh, None, None
        fh.close()
        if not self._broken:
            os.replace(self.partial, self.path)

    def __call__(self, pages: Iterable[Page]) -> Iterator[Page]:
        for page in pages:
            if page.ok and page.body:
                self.save(page)
            yield page

    def save(self, page: Page) -> None:
        """Archive one fetched page (a local file is counted, not archived)."""
        url = page.final_url or page.url
        if urlsplit(url).scheme.lower() not in WEB_SCHEMES:
            self.local += 1
            return
        date = _warc_date(page.fetched_at)

        def write(writer: WARCWriter) -> None:
            response = writer.create_warc_record(
                url, "response", payload=io.BytesIO(page.body), length=len(page.body),
                http_headers=_http_head(page), warc_headers_dict={"WARC-Date": date})
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), length=0,
                http_headers=_request_head(url), warc_headers_dict={"WARC-Date": date})
            writer.write_request_response_pair(request, response)  # adds WARC-Concurrent-To

        self._write(write)
        self.written += 1

    def _write(self, write: Callable[[WARCWriter], None]) -> None:
        if self._writer is None:
            raise RuntimeError("SaveWarc is not open: use it as a context manager")
        try:
            write(self._writer)
        except BaseException:
            self._broken = True  # a record may be half written: PATH is not given it
            raise


def _http_head(page: Page) -> StatusAndHeaders:
    """The response's status line and headers, describing the body as stored: decoded."""
    status = page.status or 200
    reason = httpx.codes.get_reason_phrase(status)
    headers = [(name, value) for name, value in page.headers.items()
               if name.lower() not in _DROPPED_HEADERS]
    headers.append(("content-length", str(len(page.body))))
    return StatusAndHeaders(f"{status} {reason}".rstrip(), headers, protocol="HTTP/1.1")


def _request_head(url: str) -> StatusAndHeaders:
    """The request as far as a Page knows it: method, target and host (the fetcher's other
    headers are not kept)."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return StatusAndHeaders(f"GET {target} HTTP/1.1", [("Host", parts.netloc)],
                            is_http_request=True)


def _version() -> str:
    try:
        return version("scrape-clean")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"
