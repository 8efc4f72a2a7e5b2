"""Web archives (scraper/warc.py, `scrape ingest --warc` and `--save-warc`): WARC files the
tests write themselves with warcio, and a real server on 127.0.0.1 for the round trip."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections import Counter
from pathlib import Path

import pytest
import sqlite_utils
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import main
from records import Page
from scraper.warc import SaveWarc, WarcReader
from store.pages import unpack
from tests.test_batch import page
from tests.test_cli import LOCAL

WARC_DATE = "2024-05-01T10:00:00Z"
FETCHED_AT = "2024-05-01T10:00:00+00:00"  # the same moment, as the fetcher writes it
RUSSIAN = "Городской совет одобрил строительство нового моста через гавань"
ARTICLE_FIELDS = ("canonical_url", "title", "text", "content_hash", "date")
WORKERS = ("--workers", "0")  # clean in the test's process: no pool to start per test


def read_warc(path: Path) -> list[Page]:
    """The HTML pages of a WARC file."""
    return list(WarcReader(path))


def article(title: str, seed: int, day: str = "2024-04-30") -> bytes:
    """An article page (its own story per seed) with a publication date."""
    meta = f'<meta property="article:published_time" content="{day}">'.encode()
    return page(title, seed).replace(b"</title>", b"</title>" + meta, 1)


def russian_article() -> bytes:
    """An article in windows-1251, declared only by the Content-Type header."""
    paragraphs = "".join(f"<p>{RUSSIAN}, сообщили в понедельник. Абзац номер {i} "
                         f"рассказывает о бюджете, шуме и пробках на мосту.</p>"
                         for i in range(8))
    html = (f"<html><head><title>Мост</title>"
            f'<meta property="article:published_time" content="2024-04-29"></head>'
            f"<body><article><h1>Мост через гавань</h1>"
            f"{paragraphs}</article></body></html>")
    return html.encode("cp1251")


def chunked(data: bytes, size: int = 100) -> bytes:
    """`data` in HTTP/1.1 chunked transfer coding."""
    parts = [b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
             for i in range(0, len(data), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def response(writer: WARCWriter, url: str, payload: bytes, headers: list[tuple[str, str]],
             status: str = "200 OK", date: str = WARC_DATE):
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                     length=len(payload), http_headers=http,
                                     warc_headers_dict={"WARC-Date": date})


def html_response(url: str, body: bytes):
    """A record maker for write_warc: a 200 text/html response."""
    return lambda writer: response(writer, url, body, [("Content-Type", "text/html")])


def write_warc(path: Path, records, gzipped: bool = True) -> list[int]:
    """Write `records(writer)` (record makers) to `path`; the byte offset of each record."""
    offsets = []
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gzipped, warc_version="1.1")
        for make in records:
            offsets.append(fh.tell())
            writer.write_record(make(writer))
    return offsets


BODIES = {
    "plain": article("Plain story", 1),
    "chunked": article("Chunked story", 2),
    "cyrillic": russian_article(),
}
URLS = {name: f"http://news.example.test/{name}" for name in BODIES}
GONE = "http://news.example.test/gone"


def mixed_warc(path: Path) -> None:
    """HTML responses (one chunked and gzip content-encoded, one in windows-1251), a 404, an
    image, a redirect, a request, a metadata and a warcinfo record; gzip per record."""
    request = StatusAndHeaders("GET /plain HTTP/1.1", [("Host", "news.example.test")],
                               is_http_request=True)
    write_warc(path, [
        lambda w: w.create_warcinfo_record("test.warc.gz", {"software": "test"}),
        lambda w: w.create_warc_record(URLS["plain"], "request", payload=io.BytesIO(b""),
                                       length=0, http_headers=request),
        lambda w: response(w, URLS["plain"], BODIES["plain"], [
            ("Content-Type", "text/html; charset=utf-8"), ("ETag", '"v1"'),
            ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Mixed-Case", "yes")]),
        lambda w: response(w, URLS["chunked"], chunked(gzip.compress(BODIES["chunked"])), [
            ("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"),
            ("Content-Encoding", "gzip")], date="2024-05-01T10:00:00.123456Z"),
        lambda w: response(w, URLS["cyrillic"], BODIES["cyrillic"],
                           [("Content-Type", "text/html; charset=windows-1251")]),
        lambda w: response(w, GONE, b"<html><body>no such page</body></html>",
                           [("Content-Type", "text/html")], status="404 Not Found"),
        lambda w: response(w, "http://news.example.test/logo.png", b"\x89PNG\r\n\x1a\n" * 8,
                           [("Content-Type", "image/png")]),
        lambda w: response(w, "http://news.example.test/old", b"",
                           [("Location", URLS["plain"])], status="301 Moved Permanently"),
        lambda w: w.create_warc_record(URLS["plain"], "metadata",
                                       payload=io.BytesIO(b"outlink: x"), length=10),
    ])


def test_read_warc_gives_html_responses_as_the_fetcher_shapes_them(tmp_path):
    path = tmp_path / "mixed.warc.gz"
    mixed_warc(path)
    reader = WarcReader(path)
    pages = {p.url: p for p in reader}

    assert list(pages) == [URLS["plain"], URLS["chunked"], URLS["cyrillic"], GONE]
    plain = pages[URLS["plain"]]
    assert (plain.status, plain.outcome, plain.error) == (200, "fetched", None)
    assert plain.final_url == URLS["plain"] and plain.source == "warc"
    assert plain.body == BODIES["plain"] and plain.bytes == len(BODIES["plain"])
    assert plain.content_type == "text/html" and plain.encoding == "utf-8"
    # Lower-case names, a repeated header joined by ", ", as httpx gives them to the fetcher.
    assert plain.headers == {"content-type": "text/html; charset=utf-8", "etag": '"v1"',
                             "set-cookie": "a=1, b=2", "x-mixed-case": "yes"}
    assert plain.etag == '"v1"' and plain.fetched_at == FETCHED_AT

    assert pages[URLS["chunked"]].body == BODIES["chunked"]  # de-chunked and gunzipped
    assert pages[URLS["chunked"]].fetched_at == FETCHED_AT  # fractions of a second dropped
    cyrillic = pages[URLS["cyrillic"]]
    assert cyrillic.encoding == "cp1251" and RUSSIAN in cyrillic.body.decode(cyrillic.encoding)

    gone = pages[GONE]
    assert (gone.status, gone.outcome, gone.error) == (404, "fetch.http_404", "HTTP 404 Not Found")
    assert gone.body == b"" and gone.encoding is None  # as the fetcher leaves a failed page

    assert reader.skipped == Counter({"warcinfo": 1, "request": 1, "image/png": 1,
                                      "HTTP 301": 1, "metadata": 1})
    assert reader.pages == 4
    assert [p.url for p in read_warc(path)] == list(pages)


def test_stacked_content_encodings_are_decoded_or_refused_as_the_fetcher_does(tmp_path):
    from backports import (
        zstd,  # a project dependency (stdlib compression.zstd from 3.14)
    )

    body = BODIES["plain"]
    bomb = gzip.compress(gzip.compress(b"\0" * 30_000_000))  # ~30 KB inflating to 30 MB
    path = tmp_path / "coded.warc.gz"
    codings = {
        "deflate-gzip": ("deflate, gzip", gzip.compress(zlib.compress(body))),
        "zstd": ("zstd", zstd.compress(body)),
        "three": ("gzip, gzip, gzip", gzip.compress(gzip.compress(gzip.compress(body)))),
        "corrupt": ("gzip, gzip", gzip.compress(b"this is not gzip data at all")),
        "bomb": ("gzip, gzip", bomb),
    }
    write_warc(path, [
        (lambda w, name=name, coding=coding, data=data: response(
            w, f"http://e.test/{name}", data,
            [("Content-Type", "text/html"), ("Content-Encoding", coding)]))
        for name, (coding, data) in codings.items()
    ])
    pages = {p.url.rsplit("/", 1)[1]: p for p in WarcReader(path, max_bytes=1_000_000)}
    assert pages["deflate-gzip"].ok and pages["deflate-gzip"].body == body
    assert pages["zstd"].ok and pages["zstd"].body == body
    assert pages["three"].outcome == "fetch.bad_encoding"
    assert "3 stacked content encodings" in pages["three"].error
    assert pages["corrupt"].outcome == "fetch.bad_encoding"
    assert "could not decode the gzip content encoding" in pages["corrupt"].error
    assert pages["bomb"].outcome == "fetch.too_large"


def test_a_bad_record_fails_alone_and_html_resources_are_read(tmp_path):
    path = tmp_path / "odd.warc"  # uncompressed, this time
    write_warc(path, [
        lambda w: response(w, "http://e.test/br", b"\x1b\x2a\x00\xf8...",
                           [("Content-Type", "text/html"), ("Content-Encoding", "br")]),
        lambda w: response(w, "http://e.test/binary", b"\x00\x01\x02" * 100,
                           [("Content-Type", "text/html")]),
        lambda w: response(w, "http://e.test/no-type", b"<!doctype html><p>hello</p>", []),
        lambda w: response(w, "http://e.test/no-type.js", b"var x = 1;", []),
        lambda w: w.create_warc_record("http://e.test/snapshot", "resource",
                                       payload=io.BytesIO(BODIES["plain"]),
                                       length=len(BODIES["plain"]),
                                       warc_content_type="text/html; charset=utf-8"),
        lambda w: w.create_warc_record("http://e.test/style.css", "resource",
                                       payload=io.BytesIO(b"p{}"), length=3,
                                       warc_content_type="text/css"),
    ], gzipped=False)
    reader = WarcReader(path)
    pages = {p.url: p for p in reader}

    assert pages["http://e.test/br"].outcome == "fetch.bad_encoding"
    assert "unsupported content encoding 'br'" in pages["http://e.test/br"].error
    assert pages["http://e.test/binary"].outcome == "fetch.binary"
    assert pages["http://e.test/no-type"].content_type == "text/html"  # sniffed, as fetched
    assert pages["http://e.test/no-type"].ok
    snapshot = pages["http://e.test/snapshot"]
    assert snapshot.ok and snapshot.body == BODIES["plain"] and snapshot.status is None
    assert set(pages) == {"http://e.test/br", "http://e.test/binary", "http://e.test/no-type",
                          "http://e.test/snapshot"}
    assert reader.skipped == Counter({"no type, not HTML": 1, "resource text/css": 1})


def ingest(*args: str) -> int:
    return main(["ingest", *WORKERS, *args])


def test_ingest_warc_stores_articles_and_records_every_page(tmp_path, capsys):
    path = tmp_path / "mixed.warc.gz"
    mixed_warc(path)
    db_path = tmp_path / "x.db"

    assert ingest("--warc", str(path), "--db", str(db_path)) == 0

    out = capsys.readouterr().out
    assert (f"warc: read {path}: 4 page(s), skipped 5 records that are not HTML pages "
            "(HTTP 301 1, image/png 1, metadata 1, request 1, warcinfo 1)") in out
    assert out.splitlines()[-1].startswith("run 1 completed: fetched 4, new 3, ")
    db = sqlite_utils.Database(db_path)
    articles = {row["canonical_url"]: row for row in db["articles"].rows}
    assert set(articles) == {URLS["plain"], URLS["chunked"], URLS["cyrillic"]}
    assert articles[URLS["plain"]]["title"] == "Plain story"
    assert articles[URLS["plain"]]["date"] == "2024-04-30"
    assert RUSSIAN in articles[URLS["cyrillic"]]["text"]
    fetches = {row["url"]: row for row in db["fetches"].rows}
    assert set(fetches) == {*URLS.values(), GONE}
    assert (fetches[GONE]["outcome"], fetches[GONE]["status"]) == ("fetch.http_404", 404)
    assert all(row["source"] == "warc" for row in fetches.values())
    assert fetches[URLS["plain"]]["fetched_at"] == FETCHED_AT
    pages = {row["url"]: row for row in db["pages"].rows}
    assert set(pages) == set(URLS.values())  # bodies kept for re-cleaning, not the 404
    assert unpack(pages[URLS["chunked"]]["body"]) == BODIES["chunked"]
    assert json.loads(pages[URLS["plain"]]["headers"])["set-cookie"] == "a=1, b=2"
    run = next(db["runs"].rows)
    assert (run["command"], run["status"]) == ("ingest", "completed")


def test_log_json_reports_the_warc_as_json(tmp_path, capsys):
    path = tmp_path / "mixed.warc.gz"
    mixed_warc(path)
    assert ingest("--warc", str(path), "--db", str(tmp_path / "x.db"), "--log-json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (warc,) = [o for o in lines if o["event"] == "warc"]
    assert warc == {"event": "warc", "read": str(path), "pages": 4,
                    "skipped": {"warcinfo": 1, "request": 1, "image/png": 1, "HTTP 301": 1,
                                "metadata": 1}}
    assert lines[-1]["event"] == "summary" and lines[-1]["new"] == 3


def test_save_warc_then_ingest_it_gives_the_same_articles(site, tmp_path, capsys):
    bodies = {f"story{i}": article(f"Story {i}", seed=i + 10, day=f"2024-03-0{i + 1}")
              for i in range(3)}
    urls = {name: site.add(f"/news/{name}", body) for name, body in bodies.items()}
    # Sent gzip-encoded: archived decoded, without the Content-Encoding header.
    urls["zipped"] = site.add("/news/zipped", gzip.compress(article("Zipped story", seed=99)),
                              headers={"Content-Encoding": "gzip"})
    urls["cyrillic"] = site.add("/news/cyrillic", russian_article(),
                                content_type="text/html; charset=windows-1251")
    gone = site.url("/gone")
    out, fetched_db, archived_db = (tmp_path / "run.warc.gz", tmp_path / "fetched.db",
                                    tmp_path / "archived.db")

    # The default executor: the pages go through SaveWarc here, then to the worker pool.
    assert main(["ingest", *LOCAL, "--no-robots", "--retries", "1", "--db", str(fetched_db),
                 "--save-warc", str(out), *urls.values(), gone]) == 0
    assert f"warc: saved {len(urls)} page(s) to {out}" in capsys.readouterr().out
    assert out.exists() and not Path(f"{out}.part").exists()
    assert ingest("--warc", str(out), "--db", str(archived_db)) == 0

    def rows(db_path: Path) -> list[tuple]:
        db = sqlite_utils.Database(db_path)
        return sorted(tuple(row[k] for k in ARTICLE_FIELDS) for row in db["articles"].rows)

    fetched, archived = rows(fetched_db), rows(archived_db)
    assert len(fetched) == len(urls) and all(row[4] for row in fetched)  # every one dated
    assert archived == fetched
    fetch_times = {r["url"]: r["fetched_at"] for r in sqlite_utils.Database(fetched_db)["fetches"].rows}
    warc_times = {r["url"]: r["fetched_at"] for r in sqlite_utils.Database(archived_db)["fetches"].rows}
    assert warc_times == {url: fetch_times[url] for url in urls.values()}  # not the 404

    with out.open("rb") as fh:
        records = [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
                   for r in ArchiveIterator(fh)]
    assert records[0][0] == "warcinfo"
    assert b"software: scrape-clean/" in records[0][3]
    responses = {h.get_header("WARC-Target-URI"): (h, http, body)
                 for kind, h, http, body in records if kind == "response"}
    requests = [h for kind, h, _, _ in records if kind == "request"]
    assert set(responses) == set(urls.values())
    _, http, body = responses[urls["zipped"]]
    assert body.startswith(b"<html>") and b"Zipped story" in body
    assert http.get_header("content-encoding") is None
    assert http.get_header("content-length") == str(len(body))
    assert {r.get_header("WARC-Concurrent-To") for r in requests} == {
        h.get_header("WARC-Record-ID") for h, _, _ in responses.values()}


@pytest.mark.parametrize("gzipped", [True, False])
@pytest.mark.parametrize("cut_in", ["body", "header"])
def test_a_truncated_warc_keeps_what_came_before_and_records_the_cut(tmp_path, capsys, gzipped,
                                                                      cut_in):
    path = tmp_path / ("cut.warc.gz" if gzipped else "cut.warc")
    # Bodies that do not compress to nothing, so the cut falls inside the third body.
    big = {f"http://e.test/{i}": article(f"Story {i}", i + 20).replace(
        b"</article>", f"<!-- {zlib.crc32(bytes(i)) * 10**400} -->".encode() + b"</article>")
        for i in range(3)}
    offsets = write_warc(path, [html_response(url, body) for url, body in big.items()],
                         gzipped=gzipped)
    data = path.read_bytes()
    cut = (offsets[2] + len(data)) // 2 if cut_in == "body" else offsets[2] + 10
    path.write_bytes(data[:cut])

    pages = list(read_warc(path))
    assert [p.url for p in pages[:2]] == list(big)[:2] and all(p.ok for p in pages[:2])
    assert len(pages) == 3
    error = pages[2]
    assert (error.outcome, error.url) == ("warc.error", str(path))
    assert error.error.startswith(f"{path}: unreadable at byte offset {offsets[2]}: ")

    db_path = tmp_path / "x.db"
    assert ingest("--warc", str(path), "--db", str(db_path)) == 0  # something was stored
    db = sqlite_utils.Database(db_path)
    assert sorted(r["canonical_url"] for r in db["articles"].rows) == list(big)[:2]
    errors = list(db["fetches"].rows_where("outcome = 'warc.error'"))
    assert len(errors) == 1 and f"byte offset {offsets[2]}" in errors[0]["error"]
    assert "warc.error 1" in capsys.readouterr().out


def test_a_file_that_is_not_a_warc_is_recorded_and_fails_the_run(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(BODIES["plain"])
    db_path = tmp_path / "x.db"
    assert ingest("--warc", str(path), "--db", str(db_path)) == 1  # nothing stored
    (row,) = sqlite_utils.Database(db_path)["fetches"].rows
    assert row["outcome"] == "warc.error" and "byte offset 0" in row["error"]


@pytest.mark.parametrize("args, message", [
    (["--warc", "{missing}"], "cannot read the WARC file {missing}"),
    (["--warc", "{warc}", "http://e.test/"], "not both"),
    (["--warc", "{warc}", "--max-age", "1"], "--max-age"),
    (["--save-warc", "{tmp}/out.warc.gz", "--scheduler", "tcp://127.0.0.1:1",
      "http://e.test/"], "not with --scheduler"),
    (["--save-warc", "{tmp}/no/such/folder/out.warc.gz", "http://e.test/"],
     "no writable folder"),
])
def test_usage_errors_exit_2_before_anything_runs(tmp_path, capsys, args, message):
    warc = tmp_path / "ok.warc.gz"
    mixed_warc(warc)
    names = {"missing": tmp_path / "missing.warc.gz", "warc": warc, "tmp": tmp_path}
    db_path = tmp_path / "x.db"
    assert ingest(*(a.format(**names) for a in args), "--db", str(db_path)) == 2
    assert message.format(**names) in capsys.readouterr().err
    assert not db_path.exists() and not (tmp_path / "out.warc.gz").exists()


def fetched_page(url: str, body: bytes, **fields) -> Page:
    return Page(url=url, final_url=url, status=200, content_type="text/html", body=body,
                encoding="utf-8", fetched_at=FETCHED_AT, bytes=len(body),
                headers={"content-type": "text/html", "content-encoding": "gzip",
                         "transfer-encoding": "chunked", "content-length": "12"}, **fields)


def test_save_warc_names_the_file_only_when_closed(tmp_path):
    path = tmp_path / "out.warc.gz"
    part = tmp_path / "out.warc.gz.part"
    good = fetched_page("https://e.test/a", BODIES["plain"])
    local = fetched_page((tmp_path / "a.html").as_uri(), b"<p>local</p>")
    failed = Page(url="https://e.test/gone", status=404, error="HTTP 404 Not Found",
                  outcome="fetch.http_404")
    with SaveWarc(path) as save:
        assert list(save([good, local, failed])) == [good, local, failed]  # unchanged
        assert part.exists() and not path.exists()
    assert path.exists() and not part.exists()
    assert (save.written, save.local) == (1, 1)

    (back,) = read_warc(path)
    assert back.url == good.url and back.body == good.body
    assert back.fetched_at == FETCHED_AT
    assert back.headers == {"content-type": "text/html",
                            "content-length": str(len(good.body))}


def test_save_warc_after_an_error_keeps_whole_records_only(tmp_path):
    path = tmp_path / "out.warc.gz"
    with pytest.raises(KeyboardInterrupt), SaveWarc(path) as save:
        save.save(fetched_page("https://e.test/a", BODIES["plain"]))
        raise KeyboardInterrupt  # between records: what was written is whole, and kept
    assert [p.url for p in read_warc(path)] == ["https://e.test/a"]

    broken = tmp_path / "broken.warc.gz"
    with pytest.raises(OSError), SaveWarc(broken) as save:
        def fail(*args: object) -> None:
            save._fh.write(b"half a record")
            raise OSError("disk full")
        save._writer.write_request_response_pair = fail
        save.save(fetched_page("https://e.test/b", BODIES["plain"]))
    assert not broken.exists() and (tmp_path / "broken.warc.gz.part").exists()
