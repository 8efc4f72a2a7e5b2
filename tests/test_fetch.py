"""scraper/: fetching over HTTP (a real server on 127.0.0.1), local files, charsets, URLs."""

from __future__ import annotations

import asyncio
import codecs
import gzip
import socket
import struct
import threading
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records import FetchTask, Page
from records.urls import is_local
from scraper import FetchConfig, Fetcher, canonicalize, detect_encoding, same_site
from scraper.client import Client
from scraper.content import inflate

HTML = (
    "<!DOCTYPE html><html><head><title>Café news</title></head>"
    "<body><p>Le café était très animé — “quoted”.</p></body></html>"
)
FRENCH = (
    "Le gouvernement français a annoncé mercredi une série de mesures destinées à réduire "
    "la dépense publique, notamment dans les collectivités locales. Le ministre de "
    "l'Économie a précisé que ces économies seraient réparties sur trois ans, et que les "
    "élus seraient consultés avant l'été."
)
# First calls load codec tables and the public suffix list: no per-example deadline.
no_deadline = settings(deadline=None)
RUSSIAN = (
    "Правительство объявило в среду о новых мерах по сокращению государственных расходов, "
    "в том числе в регионах."
)


def to_file_url(path: str | Path) -> str:
    """The file:// URL of `path`, made absolute."""
    return Path(path).expanduser().resolve().as_uri()


def local_config(**overrides: object) -> FetchConfig:
    """For the `site` fixture on 127.0.0.1: private addresses allowed, no pacing, no
    robots.txt (tests/test_politeness.py tests those), quick retries."""
    settings: dict[str, object] = {
        "allow_private": True, "delay": 0.0, "obey_robots": False, "retry_backoff": 0.01,
    }
    return FetchConfig(**{**settings, **overrides})  # type: ignore[arg-type]


def fetch(url: str, config: FetchConfig | None = None, **task: str) -> Page:
    with Fetcher(config or local_config()) as fetcher:
        return fetcher.fetch(FetchTask(url, **task))


def refused_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_failed(page: Page, outcome: str, *words: str) -> None:
    assert page.outcome == outcome, page.error
    assert page.error and not page.ok
    assert page.body == b"" and page.encoding is None
    for word in words:
        assert word in page.error


# -- HTTP ----------------------------------------------------------------------------------


def test_html_page(site):
    url = site.add("/article", HTML)
    page = fetch(url, source="test", origin_url="https://example.com/a")

    assert page.ok and page.outcome == "fetched" and page.error is None
    assert page.url == url and page.final_url == url
    assert page.status == 200
    assert page.content_type == "text/html"
    assert page.body == HTML.encode("utf-8") and page.bytes == len(page.body)
    assert page.encoding == "utf-8"
    assert page.body.decode(page.encoding) == HTML
    assert isinstance(page.elapsed_ms, int) and 0 <= page.elapsed_ms < 5000
    assert datetime.fromisoformat(page.fetched_at).utcoffset() == timedelta(0)
    assert (page.source, page.origin_url) == ("test", "https://example.com/a")
    assert site.requests == ["/article"]


def test_elapsed_ms_measures_the_request(site):
    page = fetch(site.add("/slow", HTML, delay=0.2))
    assert page.ok and page.elapsed_ms >= 200


@pytest.mark.parametrize(
    ("status", "reason", "attempts"),
    [(404, "Not Found", 1), (410, "Gone", 1), (503, "Service Unavailable", 3)],
)
def test_http_error_status(site, status, reason, attempts):
    page = fetch(site.add("/gone", "<p>sorry</p>", status=status))
    assert_failed(page, f"fetch.http_{status}", str(status), reason)
    tried = "" if attempts == 1 else f" ({attempts} attempts)"  # 503 is retried, 4xx not
    assert page.error == f"HTTP {status} {reason}{tried}"
    assert page.status == status
    assert site.requests == ["/gone"] * attempts


def test_unknown_path_is_404(site):
    page = fetch(site.url("/nowhere"))
    assert_failed(page, "fetch.http_404", "404")


def test_redirect_records_final_url(site):
    site.add("/new", HTML)
    url = site.redirect("/old", "/new", status=301)
    page = fetch(url)
    assert page.ok
    assert page.url == url and page.final_url == site.url("/new")
    assert page.body == HTML.encode()
    assert site.requests == ["/old", "/new"]


def test_redirect_chain_up_to_the_limit_is_followed(site):
    site.add("/3", HTML)
    for i in range(3):
        site.redirect(f"/{i}", site.url(f"/{i + 1}"))  # absolute Location this time
    page = fetch(site.url("/0"), local_config(max_redirects=3))
    assert page.ok and page.final_url == site.url("/3")


def test_redirect_loop(site):
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    page = fetch(site.url("/a"), local_config(max_redirects=3))
    assert_failed(page, "fetch.too_many_redirects", "more than 3 redirects")
    assert len(site.requests) == 4  # the first request and 3 redirects, then it gave up


def test_redirect_to_unsupported_scheme(site):
    page = fetch(site.redirect("/r", "ftp://files.example.com/a.html"))
    assert_failed(page, "fetch.bad_url", "ftp://files.example.com/a.html")


@pytest.mark.parametrize("content_type", ["application/json", "image/png", "application/pdf"])
def test_unsupported_content_type(site, content_type):
    page = fetch(site.add("/data", b'{"a": 1}', content_type=content_type))
    assert_failed(page, "fetch.content_type", f"unsupported content type {content_type}")
    assert page.content_type == content_type and page.status == 200


@pytest.mark.parametrize(
    ("header", "media"),
    [
        ("application/xhtml+xml", "application/xhtml+xml"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("Text/HTML;Charset=UTF-8", "text/html"),
    ],
)
def test_accepted_content_types(site, header, media):
    page = fetch(site.add("/ok", "hello", content_type=header))
    assert page.ok and page.content_type == media and page.body == b"hello"


def test_missing_content_type_sniffed_as_html(site):
    page = fetch(site.add("/bare", HTML, content_type=None))
    assert page.ok and page.content_type == "text/html"


def test_missing_content_type_not_html(site):
    page = fetch(site.add("/bare", b"\x00\x01binary", content_type=None))
    assert_failed(page, "fetch.content_type", "no content type")


def test_slow_response_times_out(site):
    url = site.add("/slow", HTML, delay=2.0)
    config = local_config(connect_timeout=0.5, read_timeout=0.5, total_timeout=0.5,
                          max_attempts=1)
    started = time.monotonic()
    page = fetch(url, config)
    assert time.monotonic() - started < 1.8  # gave up long before the server answered
    assert_failed(page, "fetch.timeout", "timed out after 0.5 s")
    assert page.final_url is None and page.status is None


def test_total_timeout_spans_redirects(site):
    # Each hop is within the read timeout; together they exceed the total budget.
    site.add("/end", HTML, delay=0.3)
    site.add("/1", b"", status=302, headers={"Location": "/2"}, content_type=None, delay=0.3)
    site.add("/2", b"", status=302, headers={"Location": "/end"}, content_type=None, delay=0.3)
    started = time.monotonic()
    page = fetch(site.url("/1"), local_config(read_timeout=5.0, total_timeout=0.5,
                                              max_attempts=1))
    assert time.monotonic() - started < 1.5
    assert_failed(page, "fetch.timeout", "0.5 s in total")


def test_total_timeout_while_streaming_the_body():
    # A body that keeps trickling: no single read is slow, the whole is.
    def trickle():
        for _ in range(50):
            time.sleep(0.05)
            yield b"<p>more</p>"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=trickle())

    config = local_config(read_timeout=5.0, total_timeout=0.3, max_attempts=1)
    started = time.monotonic()
    with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
        page = fetcher.fetch(FetchTask("http://slow.test/"))
    assert time.monotonic() - started < 1.0
    assert_failed(page, "fetch.timeout", "0.3 s in total")


def test_body_larger_than_max_bytes(site):
    page = fetch(site.add("/big", b"x" * 5000), local_config(max_bytes=1000))
    assert_failed(page, "fetch.too_large", "larger than 1000 bytes")


def test_size_limit_stops_reading_a_stream_without_content_length():
    served = []

    def chunks():
        for _ in range(100):
            served.append(1)
            yield b"y" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=chunks())

    config = local_config(max_bytes=5000)
    with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
        page = fetcher.fetch(FetchTask("http://big.test/"))
    assert_failed(page, "fetch.too_large")
    assert len(served) <= 6  # stopped right after passing the limit


def test_gzip_content_encoding_is_decoded(site):
    body = (HTML * 50).encode()
    url = site.add("/gz", gzip.compress(body), headers={"Content-Encoding": "gzip"})
    page = fetch(url)
    assert page.ok and page.body == body and page.bytes == len(body)


def test_deflate_content_encoding_is_decoded(site):
    body = (HTML * 50).encode()
    url = site.add("/z", zlib.compress(body), headers={"Content-Encoding": "deflate"})
    assert fetch(url).body == body


def test_gzip_bomb_over_http_is_cut_off(site):
    bomb = gzip.compress(b"\0" * 20_000_000)  # ~20 KB on the wire
    url = site.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    page = fetch(url, local_config(max_bytes=100_000))
    assert_failed(page, "fetch.too_large")
    assert page.bytes <= 100_000 + 64 * 1024  # inflated one step past the limit, no more


# -- faults from a real server ---------------------------------------------------------


def start_html(handler, length: int | None = None, close: bool = False) -> None:
    """Send a 200 text/html status line and headers; no Content-Length if `length` is None."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    if length is not None:
        handler.send_header("Content-Length", str(length))
    if close:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()


def test_slow_body_times_out_on_a_read(site):
    def slow_body(handler):
        start_html(handler, length=200)
        handler.wfile.write(b"<p>first part</p>")
        time.sleep(1.0)  # then nothing for longer than the read timeout
        handler.wfile.write(b"<p>late</p>")

    config = local_config(read_timeout=0.3, total_timeout=5.0, max_attempts=1)
    started = time.monotonic()
    page = fetch(site.handle("/trickle", slow_body), config)
    assert time.monotonic() - started < 0.9
    assert_failed(page, "fetch.timeout", "timed out after 0.3 s reading the response")
    assert page.status == 200  # the headers came, the body did not


def test_connection_reset_mid_body_is_retried_then_reported(site):
    def reset(handler):
        start_html(handler, length=100_000)
        handler.wfile.write(b"<p>" + b"x" * 1000)
        # SO_LINGER 0: close() sends a RST instead of a FIN.
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()

    page = fetch(site.handle("/reset", reset), local_config(max_attempts=2))
    assert_failed(page, "fetch.error", "Connection reset by peer", "(2 attempts)")
    assert site.requests == ["/reset", "/reset"]


def test_body_shorter_than_content_length(site):
    def short(handler):
        start_html(handler, length=5000, close=True)
        handler.wfile.write(b"<p>only a hundred bytes</p>".ljust(100, b" "))

    page = fetch(site.handle("/short", short), local_config(max_attempts=1))
    assert_failed(page, "fetch.error", "sent an invalid response", "received 100 bytes")
    assert page.status == 200


def test_fifty_mebibytes_are_cut_at_max_bytes_and_the_connection_closed(site):
    sent = {"bytes": 0, "error": None}
    finished = threading.Event()
    chunk = b"<p>" + b"x" * (64 * 1024 - 3)

    def endless(handler):  # 50 MiB, no Content-Length: the body ends when the server closes
        start_html(handler, close=True)
        try:
            for _ in range(50 * 16):
                handler.wfile.write(chunk)
                sent["bytes"] += len(chunk)
        except OSError as exc:  # the client hung up: what we want
            sent["error"] = exc
        finally:
            finished.set()

    started = time.monotonic()
    page = fetch(site.handle("/huge", endless), local_config(max_bytes=1024 * 1024))
    assert_failed(page, "fetch.too_large", "larger than 1048576 bytes")
    assert 1024 * 1024 < page.bytes <= 1024 * 1024 + 64 * 1024  # read one chunk past, no more
    assert finished.wait(5)
    assert isinstance(sent["error"], OSError)  # the server saw the client close...
    assert sent["bytes"] < 25 * 1024 * 1024  # ...long before the end (socket buffers aside)
    assert time.monotonic() - started < 5
    assert site.requests == ["/huge"]  # too large is final: not retried


def test_connection_refused():
    url = f"http://127.0.0.1:{refused_port()}/"
    page = fetch(url)
    assert_failed(page, "fetch.connect_error", "could not connect", "(3 attempts)")
    assert page.url == url and page.status is None


def test_many_tasks_bad_ones_do_not_stop_good_ones(site, tmp_path):
    site.add("/a", HTML)
    site.add("/b", "<p>second</p>")
    tasks = [
        FetchTask(site.url("/a")),
        FetchTask(site.url("/missing")),
        FetchTask("ftp://example.com/x"),
        FetchTask(str(tmp_path / "nope.html")),
        FetchTask(f"http://127.0.0.1:{refused_port()}/"),
        FetchTask(site.url("/b")),
    ]
    with Fetcher(local_config()) as fetcher:
        pages = {p.url: p for p in fetcher(tasks)}  # in the order they completed
    assert list(pages) != [] and sorted(pages) == sorted(t.url for t in tasks)
    assert [pages[t.url].outcome for t in tasks] == [
        "fetched", "fetch.http_404", "fetch.bad_url", "fetch.not_found",
        "fetch.connect_error", "fetched",
    ]
    assert pages[site.url("/b")].body == b"<p>second</p>"


def test_fetcher_reuses_its_client_for_many_fetches(site):
    site.add("/p", HTML)
    with Fetcher(local_config()) as fetcher:
        pages = list(fetcher(FetchTask(site.url("/p")) for _ in range(5)))
    assert all(p.ok for p in pages) and site.requests == ["/p"] * 5


def test_request_headers_and_redirect_counting_with_mock_transport():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<p>x</p>")

    # The default configuration, but no pause between robots.txt and the page.
    with Fetcher(FetchConfig(delay=0), transport=httpx.MockTransport(handler)) as fetcher:
        page = fetcher.fetch(FetchTask("https://news.example.test/a"))
    assert page.ok
    # robots.txt first (an HTML "robots.txt" has no rules: everything allowed), then the page.
    assert [str(r.url) for r in seen] == [
        "https://news.example.test/robots.txt", "https://news.example.test/a",
    ]
    for request in seen:
        assert request.headers["User-Agent"] == FetchConfig().user_agent
        assert request.headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("exc", "outcome", "attempts"),
    [
        (httpx.RemoteProtocolError("bad status line"), "fetch.error", 3),
        (httpx.ReadError("reset"), "fetch.error", 3),
        (httpx.ConnectTimeout("slow"), "fetch.timeout", 3),
        (RuntimeError("transport bug"), "fetch.error", 1),
    ],
)
def test_transport_errors_become_pages(exc, outcome, attempts):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise exc

    with Fetcher(local_config(), transport=httpx.MockTransport(handler)) as fetcher:
        page = fetcher.fetch(FetchTask("https://news.example.test/a"))
    assert_failed(page, outcome)
    assert len(calls) == attempts  # network errors and timeouts are retried, bugs are not


def test_defaults():
    config = FetchConfig()
    assert config.connect_timeout == 10.0 and config.read_timeout == 20.0
    assert config.total_timeout == 30.0
    assert config.max_bytes == 10 * 1024 * 1024 and config.max_redirects == 10
    assert (config.concurrency, config.per_host, config.delay) == (16, 2, 1.0)
    assert config.obey_robots and not config.allow_private
    assert (config.max_attempts, config.max_retry_wait) == (3, 60.0)
    assert config.user_agent.startswith("scrape-clean/") and "+https://" in config.user_agent


# -- bad URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/file.html", ["'ftp'"]),
        ("mailto:someone@example.com", ["'mailto'"]),
        ("http://", ["no host"]),
        ("   ", ["empty URL"]),
        ("file://otherhost/tmp/a.html", ["another host"]),
    ],
)
def test_bad_urls(url, words):
    page = fetch(url)
    assert_failed(page, "fetch.bad_url", *words)
    assert page.url == url


# -- charsets ------------------------------------------------------------------------------


def test_charset_from_header(site):
    text = f"<p>{FRENCH}</p>"
    url = site.add("/h", text.encode("cp1252"), content_type="text/html; charset=windows-1252")
    page = fetch(url)
    assert page.encoding == "cp1252" and page.body.decode(page.encoding) == text


def test_charset_from_meta_when_header_has_none(site):
    text = f'<html><head><meta charset="windows-1252"></head><body><p>{FRENCH}</p></body></html>'
    page = fetch(site.add("/m", text.encode("cp1252"), content_type="text/html"))
    assert page.encoding == "cp1252" and page.body.decode(page.encoding) == text


def test_header_charset_beats_meta(site):
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'
    text = f"{meta}<p>{FRENCH}</p>"
    page = fetch(site.add("/hm", text, content_type="text/html; charset=utf-8"))
    assert page.encoding == "utf-8"


def test_wrong_declared_charset_utf8_for_a_cp1252_page(site):
    text = f"<p>{FRENCH} — “quoted”.</p>"
    url = site.add("/w", text.encode("cp1252"), content_type="text/html; charset=utf-8")
    page = fetch(url)
    assert page.ok and page.encoding == "cp1252"
    assert page.body.decode(page.encoding) == text


def test_utf8_page_with_a_stray_byte_keeps_utf8():
    body = f"<p>{FRENCH}</p>".encode() + b"\xe9<p>fin</p>"  # one cp1252 byte in UTF-8
    assert detect_encoding(body, "text/html; charset=utf-8") == "utf-8"


def test_wrong_meta_charset_utf8_for_a_cp1252_page():
    text = f'<html><head><meta charset="utf-8"></head><body><p>{FRENCH}</p></body></html>'
    name = detect_encoding(text.encode("cp1252"), "text/html")
    assert name == "cp1252" and text.encode("cp1252").decode(name) == text


@pytest.mark.parametrize("codec", ["cp1252", "cp1251", "utf-8"])
def test_charset_detected_without_header_or_meta(site, codec):
    text = FRENCH if codec != "cp1251" else RUSSIAN
    page = fetch(site.add("/d", f"<p>{text}</p>".encode(codec), content_type="text/html"))
    assert page.body.decode(page.encoding) == f"<p>{text}</p>"


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (b"abc", "text/html; charset=ISO-8859-1", "cp1252"),  # as browsers do
        (b"abc", 'text/html; charset="UTF-8"', "utf-8"),
        (b"<meta charset=utf-16><p>x</p>", None, "utf-8"),  # a readable meta cannot be UTF-16
        (codecs.BOM_UTF8 + b"<p>x</p>", None, "utf-8-sig"),
        (codecs.BOM_UTF8 + b"<p>x</p>", "text/html; charset=utf-8", "utf-8-sig"),
        ("<p>x</p>".encode("utf-16"), None, "utf-16"),
        (b"", None, "utf-8"),
        (b"<p>plain ascii</p>", "text/html; charset=no-such-codec", "utf-8"),
    ],
)
def test_detect_encoding(body, header, expected):
    assert detect_encoding(body, header) == expected


@no_deadline
@given(st.binary(max_size=300), st.one_of(st.none(), st.text(max_size=40)))
def test_detect_encoding_always_gives_a_usable_codec(body, header):
    name = detect_encoding(body, header)
    codecs.lookup(name)
    body.decode(name, errors="replace")


# -- local files ---------------------------------------------------------------------------


def test_local_path(fixtures_dir):
    path = fixtures_dir / "seed-same-container.html"
    page = fetch(str(path))
    assert page.ok and page.outcome == "fetched"
    assert page.url == str(path) and page.final_url == path.resolve().as_uri()
    assert page.status is None and page.content_type == "text/html"
    assert page.body == path.read_bytes() and page.bytes == path.stat().st_size
    assert page.encoding == "utf-8"


def test_relative_path(tmp_path, monkeypatch):
    (tmp_path / "page.htm").write_text(HTML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    page = fetch("page.htm")
    assert page.ok and page.url == "page.htm"
    assert page.final_url == (tmp_path / "page.htm").resolve().as_uri()


def test_file_url(tmp_path):
    path = tmp_path / "with space.html"
    path.write_text(HTML, encoding="utf-8")
    page = fetch(path.as_uri())
    assert page.ok and page.body == HTML.encode() and page.url == path.as_uri()


def test_gzipped_file(tmp_path, fixtures_dir):
    path = tmp_path / "page.html.gz"
    original = (fixtures_dir / "seed-sibling-paragraphs.html").read_bytes()
    path.write_bytes(gzip.compress(original))
    page = fetch(str(path))
    assert page.ok and page.body == original and page.content_type == "text/html"
    assert page.bytes == len(original)


def test_gzip_bomb_file_is_cut_off(tmp_path):
    path = tmp_path / "bomb.html.gz"
    path.write_bytes(gzip.compress(b"\0" * 20_000_000))
    page = fetch(str(path), FetchConfig(max_bytes=100_000))
    assert_failed(page, "fetch.too_large", "100000 bytes once decompressed")


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Just some notes.\n", encoding="utf-8")
    page = fetch(str(path))
    assert page.ok and page.content_type == "text/plain" and page.body == b"Just some notes.\n"


@pytest.mark.parametrize(
    ("content", "media", "outcome"),
    [(HTML.encode(), "text/html", "fetched"), (b"plain words", "text/plain", "fetched"),
     (b"%PDF-1.7 \x00\x01", "application/octet-stream", "fetch.content_type")],
)
def test_unknown_extension_is_sniffed(tmp_path, content, media, outcome):
    path = tmp_path / "download"
    path.write_bytes(content)
    page = fetch(str(path))
    assert page.content_type == media and page.outcome == outcome


def test_local_file_larger_than_max_bytes(tmp_path):
    path = tmp_path / "big.html"
    path.write_bytes(b"x" * 2000)
    assert_failed(fetch(str(path), FetchConfig(max_bytes=1000)), "fetch.too_large", "1000 bytes")


def test_missing_file(tmp_path):
    page = fetch(str(tmp_path / "nope.html"))
    assert_failed(page, "fetch.not_found", "no such file", "nope.html")
    page = fetch((tmp_path / "nope.html").as_uri())
    assert_failed(page, "fetch.not_found", "no such file")


def test_directory_is_not_a_page(tmp_path):
    assert_failed(fetch(str(tmp_path)), "fetch.not_found", "directory")


def test_corrupt_gzip_file(tmp_path):
    path = tmp_path / "broken.html.gz"
    path.write_bytes(b"\x1f\x8b this is not gzip")
    assert_failed(fetch(str(path)), "fetch.error", "corrupt gzip")


@no_deadline
@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700), st.integers(1, 3))
def test_inflate_round_trips_any_chunking(data, chunk_size, members):
    blob = b"".join(gzip.compress(data[i::members]) for i in range(members))
    chunks = [blob[i : i + chunk_size] for i in range(0, len(blob), chunk_size)]
    assert b"".join(inflate(chunks)) == b"".join(data[i::members] for i in range(members))


# -- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://WWW.Example.COM/a/b", "http://www.example.com/a/b"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com/a#section-2", "http://example.com/a"),
        ("http://example.com/a?b=2&a=1", "http://example.com/a?a=1&b=2"),
        (
            "http://example.com/a?utm_source=x&id=7&utm_medium=y&fbclid=z&gclid=q"
            "&mc_cid=1&mc_eid=2",
            "http://example.com/a?id=7",
        ),
        ("http://example.com/a?x=1&not=2", "http://example.com/a?not=2&x=1"),  # no unescaping
        ("http://example.com", "http://example.com/"),
        ("  http://example.com/a  ", "http://example.com/a"),
        ("file:///tmp/Page.HTML#top", "file:///tmp/Page.HTML"),
        ("http://[::1", "http://[::1"),  # unparseable: returned stripped
        ("http://example.com:99999/", "http://example.com:99999/"),
        ("not a url", "not a url"),
    ],
)
def test_canonicalize(url, expected):
    assert canonicalize(url) == expected


@no_deadline
@given(st.text(max_size=80))
def test_canonicalize_never_raises(text):
    assert isinstance(canonicalize(text), str)


@no_deadline
@given(
    st.sampled_from(["http", "HTTPS"]),
    st.sampled_from(["example.com", "WWW.Example.com", "news.example.test:8080"]),
    st.lists(st.text("abc-_.~é/", max_size=6), max_size=3),
    st.dictionaries(
        st.sampled_from(["q", "page", "utm_source", "b"]),
        st.text("xy z&=", max_size=4),
    ),
)
def test_canonicalize_is_idempotent(scheme, host, segments, query):
    url = f"{scheme}://{host}/{'/'.join(segments)}?{httpx.QueryParams(query)}#frag"
    once = canonicalize(url)
    assert canonicalize(once) == once
    assert "#" not in once and "utm_source" not in once


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://www.example.com/a", "http://news.example.com:8080/b", True),
        ("www.example.com", "news.example.com", True),
        ("https://example.com/", "https://example.org/", False),
        ("http://a.example.test/", "http://b.example.test/x", True),
        ("http://a.example.test/", "http://example.org/", False),
        ("http://one.co.uk/", "http://two.co.uk/", False),  # public suffixes are not sites
        ("http://127.0.0.1:8000/", "http://127.0.0.1:9000/", True),
        ("", "", False),
        ("http://[::1", "http://[::1", False),
    ],
)
def test_same_site(a, b, expected):
    assert same_site(a, b) is expected


def test_is_local_and_to_file_url(tmp_path):
    assert is_local("page.html") and is_local("/tmp/page.html") and is_local("file:///tmp/a")
    assert not is_local("http://example.com/") and not is_local("ftp://example.com/")
    assert to_file_url(tmp_path / "a b.html") == (tmp_path / "a b.html").resolve().as_uri()
    assert Path(to_file_url("x.html")[len("file://") :]).is_absolute()


def test_binary_served_as_html_is_refused(site, tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    noise = bytes((i * 7919) % 256 for i in range(4096))  # no signature, just bytes
    with Fetcher(local_config()) as fetcher:
        for body in (png, noise):
            page = fetcher.fetch(FetchTask(site.add("/img", body)))
            assert (page.outcome, page.body) == ("fetch.binary", b""), body[:8]
            assert "binary" in page.error
        path = tmp_path / "photo.html"
        path.write_bytes(noise)
        assert fetcher.fetch(FetchTask(str(path))).outcome == "fetch.binary"
        # UTF-16 text has NUL bytes, but it is text.
        utf16 = "<html><body><p>Grüße aus Köln</p></body></html>".encode("utf-16")
        page = fetcher.fetch(FetchTask(site.add("/utf16", utf16, content_type="text/html")))
        assert page.ok and page.body.decode(page.encoding).endswith("</html>")


def test_a_page_keeps_the_response_headers_as_httpx_joins_them():
    from scraper.fetch import headers_of

    response = httpx.Response(200, headers=[("Set-Cookie", "a=1"), ("X-Tag", "one"),
                                            ("set-cookie", "b=2"), ("Content-Type", "text/html")])
    assert headers_of(response) == dict(response.headers) == {
        "set-cookie": "a=1, b=2", "x-tag": "one", "content-type": "text/html"}


@pytest.mark.parametrize("case", ["plain", "validators", "cookie", "relative"])
def test_get_request_builds_what_build_request_builds(case):
    """Client.get_request skips httpx's merging when there is nothing to merge: the request
    it makes is the one build_request makes, whatever there is to merge."""
    async def both() -> tuple[httpx.Request, httpx.Request]:
        async with Client(headers={"User-Agent": "ua", "Accept": "text/html"},
                          timeout=httpx.Timeout(5.0, connect=2.0),
                          base_url="http://base.test/dir/" if case == "relative" else "") as c:
            if case == "cookie":
                c.cookies.set("session", "1", domain="news.test")
            url = "page?x=1" if case == "relative" else "http://news.test/a%20b?x=1&y=%C3%A9"
            headers = {"If-None-Match": '"v1"'} if case == "validators" else None
            return c.get_request(url, headers), c.build_request("GET", url, headers=headers)

    ours, theirs = asyncio.run(both())
    assert str(ours.url) == str(theirs.url)
    assert ours.headers.multi_items() == theirs.headers.multi_items()
    assert ours.extensions == theirs.extensions
    assert ours.method == theirs.method == "GET" and ours.content == theirs.content == b""
