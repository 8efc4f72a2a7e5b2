"""Bad input gets a clear outcome, never an exception, and never stops the batch."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from cleaner import Cleaner
from cleaner.prune import prune, too_deep
from pipeline.run import ingest, tasks_for
from records import Page
from scraper import Fetcher

PROSE = ("The river rose overnight and flooded the lower town for the first time in years, "
         "officials said on Tuesday.")
OTHER = ("Schools in the valley will reopen next week after repairs to three buildings, the "
         "district announced.")


def page(body: bytes, content_type: str = "text/html", encoding: str = "utf-8") -> Page:
    return Page(url="https://example.com/x", final_url="https://example.com/x", status=200,
                content_type=content_type, body=body, encoding=encoding, bytes=len(body))


def test_empty_and_articleless_pages_are_no_content():
    for body in (b"", b"<html><body></body></html>", b"<html><body><nav><a href=/>Home</a>"
                 b"<a href=/n>News</a></nav></body></html>", b"   \n\n  "):
        result = Cleaner().clean(page(body))
        assert (result.outcome, result.article) == ("clean.no_content", None), body
        assert result.error


def test_invalid_utf8_is_replaced_not_fatal():
    body = f"<html><body><p>{PROSE} \xff\xfe caf\xe9</p></body></html>".encode("latin-1")
    result = Cleaner().clean(page(body, encoding="utf-8"))
    assert result.outcome == "cleaned"
    assert "flooded the lower town" in result.article.text


def test_unknown_or_non_text_encoding_name_is_read_as_utf8():
    # Pages stored before only WHATWG charsets counted may carry such a name.
    body = f"<html><body><article><p>{PROSE} café</p></article></body></html>".encode()
    for name in ("no-such-codec", "zlib", "base64", "rot13", "utf-7", "x-user-defined"):
        result = Cleaner().clean(page(body, encoding=name))
        assert result.outcome == "cleaned", (name, result.error)
        assert "flooded the lower town" in result.article.text and "café" in result.article.text


def test_chinese_and_arabic_pages_give_records():
    zh = ("<html lang='zh'><head><title>北京下雨</title></head><body><article>"
          "<p>北京今天下了一场大雨，很多道路被水淹没，交通受到严重影响。</p>"
          "<p>气象部门表示，明天还会有降雨，提醒市民出门注意安全。</p></article></body></html>")
    ar = ("<html lang='ar' dir='rtl'><head><title>أمطار في القاهرة</title></head><body><article>"
          "<p>هطلت أمطار غزيرة على القاهرة اليوم وأغلقت عدة طرق رئيسية في وسط المدينة.</p>"
          "<p>وقالت هيئة الأرصاد إن الأمطار ستستمر حتى نهاية الأسبوع.</p></article></body></html>")
    for html, lang, needle in ((zh, "zh", "交通受到严重影响"), (ar, "ar", "هيئة الأرصاد")):
        result = Cleaner().clean(page(html.encode("utf-8")))
        assert result.outcome == "cleaned", result.error
        assert needle in result.article.text and result.article.language == lang
    # Chinese is written without spaces: its words are counted by character.
    assert Cleaner().clean(page(zh.encode("utf-8"))).article.word_count > 40


def test_pathologically_nested_page_skips_the_pre_pass():
    html = "<html><body>" + "<div><p>text</p>" * 5000 + "</div>" * 5000 + "</body></html>"
    assert too_deep(html)
    assert not too_deep("<div>x</div>" * 5000)  # many containers, but side by side
    out, report = prune(html)
    assert out is html and report.removed == {"skipped_too_deep": 1}
    assert Cleaner().clean(page(html.encode())).outcome in ("cleaned", "clean.no_content")


def test_a_batch_of_bad_files_leaves_a_row_for_each(tmp_path):
    files = {
        "empty.html": b"",
        "noise.html": bytes((i * 7919) % 256 for i in range(4096)),
        "latin1.html": f"<p>{PROSE} caf\xe9</p>".encode("latin-1"),
        # A story of its own (a page holding latin1.html's text would be its duplicate).
        "good.html": f"<html><body><article><p>{OTHER}</p><p>{OTHER[::-1]}</p></article>"
                     f"</body></html>".encode(),
    }
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    targets = [str(tmp_path / n) for n in files] + [str(tmp_path / "missing.html")]
    db_path = tmp_path / "x.db"
    with Fetcher() as fetcher:
        summary = ingest(tasks_for(targets), db_path, fetcher, Cleaner())
    assert summary.total == 5 and summary.succeeded == 2
    rows = {Path(r["url"]).name: r for r in sqlite_utils.Database(db_path)["fetches"].rows}
    assert rows["empty.html"]["outcome"] == "clean.no_content"
    assert rows["noise.html"]["outcome"] == "fetch.binary"
    assert rows["missing.html"]["outcome"] == "fetch.not_found"
    assert rows["latin1.html"]["outcome"] == "new" and rows["good.html"]["outcome"] == "new"
    assert all(r["error"] for n, r in rows.items() if n in ("empty.html", "noise.html",
                                                           "missing.html"))


def test_a_page_that_takes_too_long_is_cut_off(monkeypatch):
    import time

    from cleaner import CleanConfig, stage

    def slow_prune(html, trace=False):
        while True:  # a runaway rule on a hostile page
            time.sleep(0.01)

    monkeypatch.setattr(stage, "prune", slow_prune)
    started = time.monotonic()
    result = Cleaner(CleanConfig(time_limit=0.3)).clean(page(b"<p>anything</p>"))
    assert result.outcome == "clean.timeout" and "0.3 s" in result.error
    assert time.monotonic() - started < 2  # a bound, not a benchmark
    # The next page is cleaned normally: the timer was disarmed.
    monkeypatch.undo()
    body = f"<html><body><article><p>{PROSE}</p></article></body></html>".encode()
    assert Cleaner(CleanConfig(time_limit=0.3)).clean(page(body)).outcome == "cleaned"


def test_twenty_megabytes_of_nested_divs_give_a_clear_result():
    import time

    html = "<html><body>" + "<div>" * 2_000_000 + "deep" + "</div>" * 2_000_000 + "</body></html>"
    started = time.monotonic()
    result = Cleaner().clean(page(html.encode()))
    assert result.outcome == "clean.no_content" and result.error
    assert time.monotonic() - started < 5  # far inside the 10 s per-page bound
