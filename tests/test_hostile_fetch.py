"""Hostile servers: stacked content encodings and bombs, codec names as charsets, IP
addresses in odd forms, redirects to what is no web page. Real servers on 127.0.0.1 (the
`site` fixture); where a whole run is the point, `scrape ingest` runs in a subprocess and
the run must go on, record every input and leave a sound database.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import aiohttp.connector
import httpx
import pytest

from pipeline.reclean import stored_pages
from records import FetchTask
from records.charsets import decode_text, text_codec
from scraper import FetchConfig, Fetcher, detect_encoding
from scraper.addresses import PrivateAddress, ip_of_host, refused_kind
from scraper.content import BadEncoding, ContentDecoder, LayerTooLarge, content_codings
from scraper.transports import network_transport
from tests.test_batch import page as story
from tests.test_cli import LOCAL, SCRAPE

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

STEP = 64 * 1024
MIB = 1 << 20


def gzip_bomb(mebibytes: int) -> bytes:
    """One gzip member of `mebibytes` MiB of zeros, cheaply: one MiB compressed after a full
    flush gives the same bytes every time, so it is repeated (no trailer: a bomb is never
    read to its end)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * MIB
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + block * (mebibytes - 1)


def local_config(**overrides: object) -> FetchConfig:
    settings: dict[str, object] = {"allow_private": True, "delay": 0.0, "obey_robots": False,
                                   "retry_backoff": 0.01}
    return FetchConfig(**{**settings, **overrides})  # type: ignore[arg-type]


def decoded(header: str | None, data: bytes, limit: int = 10 * MIB, size: int = 1000) -> bytes:
    decoder = ContentDecoder(header, limit)
    parts = list(decoder.decode(data[i:i + size] for i in range(0, len(data), size)))
    assert all(len(part) <= STEP for part in parts)
    return b"".join(parts)


def sound(db_path: Path, inputs: list[str]) -> dict[str, sqlite3.Row]:
    """Check the database after a run (integrity, a fetches row per input); the rows."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {row["url"]: row for row in conn.execute("SELECT * FROM fetches")}
    finally:
        conn.close()
    assert set(inputs) <= set(rows), set(inputs) - set(rows)
    return rows


# -- 1. stacked content encodings ----------------------------------------------------------


BODY = story("Stacked", 1)


def test_content_codings_are_a_list_in_the_order_applied():
    assert content_codings(None) == content_codings("") == content_codings("identity") == []
    assert content_codings("GZIP") == ["gzip"]
    assert content_codings(" deflate ,, Identity, gzip ") == ["deflate", "gzip"]
    for header, words in [("br", "'br'"), ("compress", "'compress'"), ("gzip, x-foo", "'x-foo'"),
                          ("gzip, gzip, gzip", "3 stacked"), ("gzip,deflate,zstd", "3 stacked")]:
        with pytest.raises(BadEncoding, match=words):
            content_codings(header)


def test_a_chain_is_undone_last_applied_first_in_bounded_steps():
    raw_deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = raw_deflate.compress(BODY) + raw_deflate.flush()
    assert decoded("deflate, gzip", gzip.compress(zlib.compress(BODY))) == BODY
    assert decoded("gzip, deflate", zlib.compress(gzip.compress(BODY))) == BODY
    assert decoded("deflate", raw) == BODY  # deflate without the zlib header
    assert decoded("zstd", zstd.compress(BODY) + zstd.compress(BODY)) == BODY * 2
    assert decoded("gzip, zstd", zstd.compress(gzip.compress(BODY))) == BODY
    assert decoded("identity", BODY) == BODY
    assert decoded("gzip", b"") == b""  # an empty body is no truncated stream


def test_corrupt_or_cut_data_is_bad_encoding():
    for header, data in [("gzip, gzip", gzip.compress(b"not gzip data")),
                         ("gzip", gzip.compress(BODY)[:-30]),
                         ("zstd", zstd.compress(BODY)[:20]),
                         ("zstd", b"\x28\xb5\x2f\xfd not zstd")]:
        with pytest.raises(BadEncoding):
            decoded(header, data)


def test_a_bomb_at_any_layer_stops_after_a_step():
    decoder = ContentDecoder("gzip, gzip", 10 * MIB)
    taken = 0
    for part in decoder.feed(gzip.compress(gzip_bomb(2048))):  # 2 GiB inside ~5 KB
        assert len(part) <= STEP
        taken += len(part)
        if taken > 10 * MIB:
            break
    assert 10 * MIB < taken <= 10 * MIB + STEP
    # An inner layer that turns a huge middle into nothing: capped at the limit too.
    empty_members = gzip.compress(gzip.compress(b"") * 100_000)
    with pytest.raises(LayerTooLarge):
        decoded("gzip, gzip", empty_members, limit=100_000, size=len(empty_members))


CHAINS = [  # (Content-Encoding, body, outcome)
    ("gzip, gzip", gzip.compress(gzip_bomb(64)), "fetch.too_large"),
    ("deflate, gzip", gzip.compress(zlib.compress(BODY)), "fetched"),
    ("gzip, zstd", zstd.compress(gzip.compress(BODY)), "fetched"),
    ("gzip, gzip, gzip", gzip.compress(gzip.compress(gzip.compress(BODY))), "fetch.bad_encoding"),
    ("br", b"\x1b\x2a\x00\xf8 brotli", "fetch.bad_encoding"),
    ("gzip, gzip", gzip.compress(b"the second layer is not gzip"), "fetch.bad_encoding"),
]


def test_the_fetcher_decodes_or_refuses_each_chain(site):
    urls = [site.add(f"/{i}", data, headers={"Content-Encoding": header})
            for i, (header, data, _) in enumerate(CHAINS)]
    with Fetcher(local_config(max_bytes=MIB)) as fetcher:
        for url, (header, _, outcome) in zip(urls, CHAINS, strict=True):
            page = fetcher.fetch(FetchTask(url))
            document = fetcher.fetch_document(url)  # sitemaps and feeds: the same decoder
            assert page.outcome == outcome, (header, page.error)
            assert document.outcome == outcome or (outcome == "fetched" and document.ok)
            if outcome == "fetched":
                assert page.body == BODY == document.body
            else:
                assert page.error and page.body == b""
            assert page.bytes <= MIB + STEP  # the bomb: stopped one step past the limit
    assert len(site.requests) == 2 * len(CHAINS)  # refused at once, never retried


# -- 2. codec names as charsets ------------------------------------------------------------


HOSTILE_CHARSETS = ["zlib", "base64", "hex", "rot13", "idna", "utf-7", "x-user-defined"]


def test_only_whatwg_text_encodings_are_charsets():
    for label in HOSTILE_CHARSETS + ["no-such-codec", "", None, "utf_7", "bz2", "uu"]:
        assert text_codec(label) is None, label
    assert text_codec("Shift_JIS") == "cp932" and text_codec("big5") == "big5hkscs"
    assert text_codec("euc-kr") == "cp949" and text_codec("ISO-8859-1") == "cp1252"
    assert text_codec("latin-1") == text_codec("ascii") == "cp1252"
    assert text_codec('"UTF-8"') == "utf-8" and text_codec("windows-1251") == "cp1251"
    for stored in ("cp932", "utf-8-sig", "utf-16", "utf-16-le", "mac-roman", "iso8859-2"):
        assert text_codec(stored) == stored  # a stored Page.encoding goes through unchanged
    assert decode_text(b"\xff<p>x", "zlib") == "\ufffd<p>x"
    assert decode_text("café".encode("cp1252"), "latin-1") == "café"


def test_a_codec_name_in_the_header_or_a_meta_is_no_charset():
    for label in HOSTILE_CHARSETS:
        body = b"<html><head><meta charset=" + label.encode() + b"><p>+ADw-script+AD4-</p>"
        assert detect_encoding(body, f"text/html; charset={label}") == "utf-8", label
        assert detect_encoding(body, "text/html") == "utf-8", label


def charset_page(seed: int, meta: str = "") -> bytes:
    html = story(f"Charset {seed}", 100 + seed)
    return html.replace(b"<head>", b"<head>" + meta.encode(), 1).replace(
        b"<p>", b"<p>Said +ADw-script+AD4-alert(1)+ADw-/script+AD4- to us. ", 1)


def test_an_ingest_run_goes_past_codec_names_and_cleans_the_pages_as_text(site, tmp_path):
    inputs = []
    for seed, label in enumerate(["zlib", "base64", "hex", "rot13", "idna", "utf-7"]):
        inputs.append(site.add(f"/header/{label}", charset_page(seed),
                               content_type=f"text/html; charset={label}"))
        inputs.append(site.add(f"/meta/{label}", charset_page(10 + seed, f'<meta charset="{label}">'),
                               content_type="text/html"))
    inputs.append(site.add("/later", story("Later", 999)))
    db_path = tmp_path / "x.db"
    proc = subprocess.run([SCRAPE, "ingest", "--db", str(db_path), "--workers", "0", *LOCAL,
                           *inputs], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = sound(db_path, inputs)
    assert {url: rows[url]["outcome"] for url in inputs} == dict.fromkeys(inputs, "new")
    conn = sqlite3.connect(db_path)
    texts = dict(conn.execute("SELECT f.url, a.text FROM fetches f "
                              "JOIN articles a ON a.id = f.article_id"))
    encodings = {e for (e,) in conn.execute("SELECT DISTINCT encoding FROM pages")}
    conn.close()
    assert set(texts) == set(inputs)
    for url in inputs[:-1]:
        assert "Said +ADw-script+AD4-alert(1)+ADw-/script+AD4- to us." in texts[url]  # text
    assert not any("<script" in text for text in texts.values())
    assert encodings == {"utf-8"}

    # A page stored before this rule (its encoding a Python codec name) is read again by
    # `scrape reclean` with its charset detected anew.
    with sqlite3.connect(db_path) as conn:
        for name, url in [("zlib_codec", "%/header/zlib"), ("utf-7", "%/meta/utf-7")]:
            changed = conn.execute("UPDATE pages SET encoding = ? WHERE url LIKE ?", [name, url])
            assert changed.rowcount == 1
    conn.close()
    assert {p.encoding for p in stored_pages(db_path)} == {"utf-8"}


# -- 3. the address guard ------------------------------------------------------------------


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("2130706433", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"), ("0X7F.0.0.1", "127.0.0.1"), ("017700000001", "127.0.0.1"),
    ("0177.0.0.01", "127.0.0.1"), ("127.0.0.1.", "127.0.0.1"), ("0", "0.0.0.0"),
    ("10.0x10203", "10.1.2.3"), ("192.168.257", "192.168.1.1"), ("0xa9fea9fe", "169.254.169.254"),
    ("[::1]", "::1"), ("fe80::1%eth0", "fe80::1"), ("[2002:7f00:1::]", "2002:7f00:1::"),
    ("134744072", "8.8.8.8"), ("0x8.0x8.0x8.0x8", "8.8.8.8"), ("010.010.010.010", "8.8.8.8"),
])
def test_ip_hosts_are_read_as_inet_aton_reads_them(host, address):
    assert str(ip_of_host(host)) == address


@pytest.mark.parametrize("host", ["1.2.3.4.5", "0x", "1.2.3.256", "08", "1..2", "256.1",
                                  "4294967296", "0x100000000", "a.0x", "1_0.1", "+1.1",
                                  "::1::", "[fe80::zz]"])
def test_hosts_that_look_numeric_but_are_no_address(host):
    with pytest.raises(ValueError):
        ip_of_host(host)


@pytest.mark.parametrize("host", ["example.com", "localhost", "1.2.3.com", "0x7f.example",
                                  "xn--caf-dma.fr", "example.com."])
def test_dns_names_are_left_to_the_resolver(host):
    assert ip_of_host(host) is None


PRIVATE_FORMS = [
    ("127.1", "loopback"), ("2130706433", "loopback"), ("0x7f.1", "loopback"),
    ("017700000001", "loopback"), ("0", "unspecified"), ("10.1", "private"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:7f00:1", "loopback"),
    ("2002:7f00:1::", "6to4 loopback"), ("2002:a00:1::5", "6to4 private"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo private"),  # client 192.0.2.45
    ("2001:0:7f00:1:8000:63bf:f7f7:f7f7", "Teredo loopback"),  # server 127.0.0.1
    ("64:ff9b::7f00:1", "NAT64 loopback"), ("64:ff9b::a9fe:a9fe", "NAT64 link-local"),
    ("64:ff9b:1::1", "non-public"), ("::7f00:1", "IPv4-compatible loopback"),
    ("::808:808", "reserved"), ("fec0::1", "site-local"), ("feff::1", "site-local"),
    ("fe80::1%eth0", "link-local"), ("fd12::1", "private"), ("ff02::1", "multicast"),
    ("::", "unspecified"), ("::1", "loopback"), ("2001:db8::1", "private"),
]
PUBLIC_FORMS = [
    "8.8.8.8", "134744072", "0x8080808", "010.010.010.010", "8.8.2056", "::ffff:8.8.8.8",
    "2002:808:808::1", "64:ff9b::808:808", "2001:0:808:808:8000:63bf:f7f7:f7f7",
    "2606:4700::1111",
]


def test_every_private_form_is_refused():
    assert {address: refused_kind(address) for address, _ in PRIVATE_FORMS} == dict(PRIVATE_FORMS)


def test_a_public_address_in_each_form_is_allowed():
    for address in PUBLIC_FORMS:  # classified only, never contacted
        assert refused_kind(address) is None, address


FORMS = ["127.1", "2130706433", "0x7f.1", "017700000001", "[2002:7f00:1::]", "[fec0::1]",
         "[::ffff:127.0.0.1]", "127.0.0.1."]


@pytest.mark.parametrize("transport", ["aiohttp", "httpcore"])
def test_the_guard_holds_without_aiohttps_own_check(site, monkeypatch, transport):
    # aiohttp >= 3.14.1 refuses "127.1"-style hosts itself; older ones connect to them.
    monkeypatch.setattr(aiohttp.connector, "is_canonical_ipv4_address", lambda host: True)
    port = int(site.url("/").rsplit(":", 1)[1].split("/")[0])
    site.add("/page", BODY)
    urls = [f"http://{form}:{port}/page" for form in FORMS]
    with Fetcher(FetchConfig(delay=0, transport=transport)) as fetcher:
        pages = {page.url: page for page in fetcher(FetchTask(url) for url in urls)}
    for url in urls:
        assert pages[url].outcome == "fetch.private_address", (url, pages[url].error)
        assert pages[url].error.startswith("refused: ")
    assert "127.1 resolves to 127.0.0.1, a loopback address" in pages[urls[0]].error
    assert "2002:7f00:1:: is a 6to4 loopback address" in pages[urls[4]].error
    assert site.requests == []  # nothing reached the server, not even robots.txt


def test_the_aiohttp_transport_checks_ip_hosts_itself(site, monkeypatch):
    import asyncio

    monkeypatch.setattr(aiohttp.connector, "is_canonical_ipv4_address", lambda host: True)
    port = int(site.url("/").rsplit(":", 1)[1].split("/")[0])
    transport = network_transport(FetchConfig())

    async def send(url: str) -> None:
        try:
            await transport.handle_async_request(httpx.Request("GET", url))
        finally:
            await transport.aclose()

    for form in ("127.1", "0x7f.1"):
        with pytest.raises(PrivateAddress):
            asyncio.run(send(f"http://{form}:{port}/"))
    assert site.requests == []


def test_junk_numeric_hosts_are_bad_urls_even_with_allow_private():
    with Fetcher(local_config()) as fetcher:
        for url in ("http://1.2.3.4.5/", "http://0x/", "http://08:1/", "http://a.0x/"):
            page = fetcher.fetch(FetchTask(url))
            assert page.outcome == "fetch.bad_url", (url, page.error)
            assert "is not an IP address" in page.error


ODD_LOCATIONS = [
    "data:text/html,<script>alert(1)</script>", "javascript:alert(1)", "JavaScript:alert(1)",
    "file:///etc/passwd", "ftp://files.example.test/a.html", "mailto:someone@example.test",
    "http://1.2.3.999/", "http://[fe80::zz]/", "http://1.2.3.4.5/",
]


def test_a_redirect_to_something_not_http_is_a_bad_url(site):
    urls = [site.redirect(f"/r{i}", location) for i, location in enumerate(ODD_LOCATIONS)]
    with Fetcher(local_config()) as fetcher:
        for url, location in zip(urls, ODD_LOCATIONS, strict=True):
            page = fetcher.fetch(FetchTask(url))
            assert page.outcome == "fetch.bad_url", (location, page.error)
            assert page.status == 302 and page.final_url == url
    assert site.requests == [f"/r{i}" for i in range(len(ODD_LOCATIONS))]  # none retried


# -- a whole run against a hostile server --------------------------------------------------


MEASURE = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
print(json.dumps({"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def test_an_ingest_run_survives_hostile_responses_in_bounded_memory(site, tmp_path):
    bomb = gzip.compress(gzip_bomb(3072))  # 3 GiB of zeros in ~7 KB: one gzip member
    site.add("/robots.txt", bomb, headers={"Content-Encoding": "gzip, gzip"},
             content_type="text/plain")
    coded = {
        "bomb": ("gzip, gzip", bomb),
        "deflate-gzip": ("deflate, gzip", gzip.compress(zlib.compress(story("Two layers", 2)))),
        "three": ("gzip, gzip, gzip", gzip.compress(gzip.compress(gzip.compress(BODY)))),
        "br": ("br", b"\x1b\x2a\x00\xf8 brotli"),
        "corrupt": ("gzip, gzip", gzip.compress(b"the second layer is not gzip")),
    }
    urls = {name: site.add(f"/{name}", data, headers={"Content-Encoding": coding})
            for name, (coding, data) in coded.items()}
    urls["sitemap"] = site.add("/sitemap.xml", bomb, content_type="application/xml",
                               headers={"Content-Encoding": "gzip, gzip"})
    urls["feed"] = site.add("/feed", gzip.compress(gzip.compress(gzip.compress(b"<rss/>"))),
                            content_type="application/rss+xml",
                            headers={"Content-Encoding": "gzip, gzip, gzip"})
    for name, location in [("to-data", "data:text/html,<script>alert(1)</script>"),
                           ("to-js", "javascript:alert(1)"), ("to-file", "file:///etc/passwd")]:
        urls[name] = site.redirect(f"/{name}", location)
    urls["good"] = site.add("/good", story("Later", 3))
    db_path = tmp_path / "x.db"
    command = [SCRAPE, "ingest", "--db", str(db_path), "--workers", "0", *LOCAL,
               *urls.values()]
    measured = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True,
                              text=True, timeout=180, check=True)
    result = json.loads(measured.stdout)
    assert result["rc"] == 0, result["err"]
    assert "Traceback" not in result["err"]
    assert result["maxrss_kib"] < 300 * 1024  # a generous bound: it used to reach GBs

    rows = sound(db_path, list(urls.values()))
    outcomes = {name: rows[url]["outcome"] for name, url in urls.items()}
    assert outcomes == {
        "bomb": "fetch.too_large", "deflate-gzip": "new", "three": "fetch.bad_encoding",
        "br": "fetch.bad_encoding", "corrupt": "fetch.bad_encoding",
        "sitemap": "fetch.too_large", "feed": "fetch.bad_encoding",
        "to-data": "fetch.bad_url", "to-js": "fetch.bad_url", "to-file": "fetch.bad_url",
        "good": "new",
    }
    assert "3 stacked content encodings" in rows[urls["three"]]["error"]
    assert "unsupported content encoding 'br'" in rows[urls["br"]]["error"]
    assert "javascript:alert(1)" in rows[urls["to-js"]]["error"]
    assert "/robots.txt" in site.requests  # read (its first 500 KiB), and it let pages by


def test_an_ingest_run_refuses_every_private_form(site, tmp_path):
    port = int(site.url("/").rsplit(":", 1)[1].split("/")[0])
    site.add("/page", BODY)
    refused = [f"http://{form}:{port}/page" for form in FORMS]
    junk = [f"http://1.2.3.4.5:{port}/page", f"http://0x:{port}/page"]
    local = tmp_path / "local.html"
    local.write_bytes(story("Local", 4))
    db_path = tmp_path / "x.db"
    proc = subprocess.run([SCRAPE, "ingest", "--db", str(db_path), "--workers", "0",
                           *refused, *junk, str(local)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = sound(db_path, refused + junk)
    assert {rows[url]["outcome"] for url in refused} == {"fetch.private_address"}
    assert {rows[url]["outcome"] for url in junk} == {"fetch.bad_url"}
    assert [row["outcome"] for url, row in rows.items() if url.endswith("local.html")] == ["new"]
    assert site.requests == []
