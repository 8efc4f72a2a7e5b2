"""The reader (pipeline/web) in a real browser: Debian's headless Chromium driven by
Playwright, on an archive written by a real `scrape batch` run against pages served on
127.0.0.1. Search by a word of the body, the reading view, the health page, and a hostile
headline that must stay text.

Screenshots: `pytest tests/test_web_browser.py` writes a full-page PNG of each page it checks
(search.png, article.png, health.png, hostile.png) to $SCRAPE_SCREENSHOTS, or else to
<tmp>/scrape-reader-screenshots (/tmp/scrape-reader-screenshots on Linux), and prints each
file's path past pytest's capture. Without Chromium (`apt-get install chromium`; `.ci/run` does it as root)
the module is skipped with that reason; SCRAPE_CHROMIUM names another Chromium binary.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = shutil.which(os.environ.get("SCRAPE_CHROMIUM") or "chromium")
if CHROMIUM is None:
    pytest.skip(f"no Chromium ({os.environ.get('SCRAPE_CHROMIUM') or 'chromium'} is not on "
                "PATH): Debian's chromium package is missing; install it with "
                "`apt-get install chromium` (.ci/run does it as root) or name a Chromium "
                "binary in SCRAPE_CHROMIUM", allow_module_level=True)

from playwright.sync_api import Browser, Dialog, Page, Route, sync_playwright

from pipeline.cli import main
from tests.conftest import Site
from tests.reader import serve
from tests.test_cli import LOCAL

SOURCE = "newsroom"
WORD = "quokkapelago"  # only in the pier story's body
HOSTILE_WORD = "brackenwold"  # only in the hostile page's body
HOSTILE = ("<script>document.title='pwned'</script>"
           '<img src=x onerror="document.body.dataset.pwned=1">Hostile headline')
SHOTS = Path(os.environ.get("SCRAPE_SCREENSHOTS")
             or Path(tempfile.gettempdir()) / "scrape-reader-screenshots")


@dataclass(frozen=True)
class Story:
    path: str
    title: str
    paragraphs: tuple[str, ...]  # before the subhead
    subhead: str
    items: tuple[str, ...]  # the list after the subhead
    closing: str  # a paragraph after the list


PIER = Story(
    "/news/island-council-backs-ferry-pier", "Island council backs a new ferry pier",
    (("The island council voted on Tuesday evening to build a second ferry pier on the north "
      f"shore, ending three years of argument over how the {WORD} of small islands off the "
      "coast should be linked to the mainland during the winter storms."),
     ("Councillors heard that the existing pier, built in 1968, has been closed for eleven days "
      "since January because waves broke over its deck, leaving two hundred commuters and the "
      "school bus without a crossing for most of a week."),
     ("The harbour master told the meeting that the new pier would sit in the lee of the "
      "headland, where the swell is smaller, and that the ferry company had agreed to run an "
      "extra sailing each morning once it opens next spring."),
     ("Residents of the smaller islands said they welcomed the vote but asked the council to "
      "publish the full engineering survey before any contract is signed, so that the cost of "
      "dredging the channel can be checked by an independent adviser.")),
    "What the pier will cost",
    ("Dredging the approach channel: 1.2 million",
     "Steel piles and the deck: 3.4 million",
     "A waiting room with heating and a ticket office: 0.6 million"),
    "Work is expected to start in the autumn, after the seabird nesting season, and the "
    "council said the old pier would stay open for fishing boats and summer visitors.")
ORCHARD = Story(
    "/news/orchard-growers-report-early-blossom", "Orchard growers report an early blossom",
    (("Apple and pear growers in the valley say the blossom arrived almost three weeks early "
      "this year after the mildest February on record, and many are now worried that a single "
      "night of frost in April could wipe out most of the crop."),
     ("At the cooperative's spring meeting, members described lighting candles between the rows "
      "and hiring wind machines to keep cold air from settling on the lower slopes, where the "
      "oldest trees grow and the losses were worst two years ago."),
     ("An agronomist from the regional college said the trend was clear in twenty years of "
      "records kept by the growers themselves, and that later-flowering varieties would be one "
      "of the few defences that cost nothing to run.")),
    "How growers are preparing",
    ("Frost alarms linked to phones in every orchard",
     "Shared wind machines moved between farms",
     "Trial plots of late-flowering varieties"),
    "The cooperative will publish its first estimate of the harvest in June, once the fruit "
    "has set and the risk of frost has passed for another year.")
HOSTILE_STORY = Story(
    "/news/hostile", HOSTILE,
    ((f"This page exists to test the reader: its headline is markup. The {HOSTILE_WORD} estate "
      "announced on Friday that the footpath across the moor will be closed for repairs for six "
      "weeks while the old stone bridge over the stream is rebuilt by volunteers."),
     ("Walkers are asked to use the lower track by the reservoir instead, which adds about two "
      "miles to the circular route but passes the new visitor centre and its cafe."),
     ("The estate said the bridge had been damaged by floods last winter and that engineers had "
      "judged it unsafe after finding that two of its supporting stones had shifted.")),
    "Where to walk instead",
    ("The reservoir track, signed in blue", "The forest road, for cyclists"),
    "The footpath should reopen before the summer holidays, weather permitting.")
STORIES = (PIER, ORCHARD, HOSTILE_STORY)
MISSING = "/news/withdrawn-story"  # in the list, answered 404


def story_html(story: Story) -> str:
    """A news page: the headline in <title> and <h1>, prose, a subhead and a list."""
    title = html.escape(story.title)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
    items = "".join(f"<li>{html.escape(i)}</li>" for i in story.items)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}"
            "</title><meta property=\"og:site_name\" content=\"Harbour Gazette\">"
            "<meta property=\"article:published_time\" content=\"2026-03-02T09:00:00Z\">"
            "</head><body><header><nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>"
            f"</header><main><article><h1>{title}</h1>{paragraphs}"
            f"<h2>{html.escape(story.subhead)}</h2><ul>{items}</ul>"
            f"<p>{html.escape(story.closing)}</p></article></main>"
            "<footer><p>Harbour Gazette, 1 Quay Street</p></footer></body></html>")


@dataclass(frozen=True)
class Archive:
    db: Path
    site: Site
    ids: dict[str, int]  # article id by page path
    run_id: int


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """The pages on a live server, read by one `scrape batch` run from one urls source."""
    site = Site()
    for story in STORIES:
        site.add(story.path, story_html(story))
    site.start()
    folder = tmp_path_factory.mktemp("browser")
    try:
        urls = [site.url(s.path) for s in STORIES] + [site.url(MISSING)]
        (folder / "newsroom.urls").write_text("\n".join(urls) + "\n", encoding="utf-8")
        (folder / "sources.toml").write_text(
            f'[[source]]\nname = "{SOURCE}"\nkind = "urls"\npath = "newsroom.urls"\n',
            encoding="utf-8")
        db = folder / "archive.db"
        status = main(["batch", "--sources", str(folder / "sources.toml"), "--db", str(db),
                       *LOCAL])
        assert status == 0, f"scrape batch exited {status}"
        with closing(sqlite3.connect(db)) as conn:
            ids = {url: article_id for url, article_id in conn.execute(
                "SELECT url, id FROM articles")}
            (run_id,) = conn.execute("SELECT id FROM runs").fetchone()
        yield Archive(db, site, {s.path: ids[site.url(s.path)] for s in STORIES}, run_id)
    finally:
        site.stop()


@pytest.fixture(scope="module")
def base(archive: Archive) -> Iterator[str]:
    with serve(archive.db) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots(capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """The screenshot folder; the PNGs a test wrote there are printed after it, past the
    output capture, so that a reader of the test run finds them."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = {p: p.stat().st_mtime_ns for p in SHOTS.glob("*.png")}
    yield SHOTS
    written = sorted(p for p in SHOTS.glob("*.png") if before.get(p) != p.stat().st_mtime_ns)
    with capsys.disabled():
        for path in written:
            print(f"\nscreenshot: {path}")


@dataclass
class Tab:
    page: Page
    dialogs: list[str]  # messages of alert/confirm/prompt dialogs: script ran
    offsite: list[str]  # requests the page tried beyond 127.0.0.1 (aborted)


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    """A fresh page that records dialogs and refuses any request past 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    found = Tab(page, [], [])

    def on_dialog(dialog: Dialog) -> None:
        found.dialogs.append(dialog.message)
        dialog.dismiss()

    def guard(route: Route) -> None:
        if re.match(r"https?://127\.0\.0\.1(:\d+)?/", route.request.url):
            route.continue_()
        else:
            found.offsite.append(route.request.url)
            route.abort()

    page.on("dialog", on_dialog)
    context.route("**/*", guard)
    try:
        yield found
    finally:
        context.close()
    assert found.offsite == [], "the reader asked for something beyond 127.0.0.1"


def screenshot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(b"\x89PNG"), path
    return path


def search(page: Page, base: str, words: str) -> None:
    """Type `words` into the form on / and press its Search button, as a reader would."""
    page.goto(base + "/")
    page.locator("input[name=q]").fill("")
    page.locator("input[name=q]").press_sequentially(words)  # keystrokes
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    assert "/search?" in page.url and f"q={words}" in page.url


# -- what the batch stored -------------------------------------------------------------------


def test_the_batch_stored_the_articles_the_hostile_title_and_the_404(archive: Archive) -> None:
    with closing(sqlite3.connect(archive.db)) as conn:
        titles = dict(conn.execute("SELECT id, title FROM articles"))
        words = dict(conn.execute("SELECT id, word_count FROM articles"))
        outcomes = dict(conn.execute("SELECT url, outcome FROM fetches WHERE source = ?",
                                     [SOURCE]))
        (status,) = conn.execute("SELECT status FROM runs WHERE id = ?",
                                 [archive.run_id]).fetchone()
    assert {titles[archive.ids[s.path]] for s in STORIES} == {s.title for s in STORIES}
    assert all(words[archive.ids[s.path]] >= 150 for s in (PIER, ORCHARD))  # real-sized prose
    hostile = titles[archive.ids[HOSTILE_STORY.path]]
    assert "<script>" in hostile and 'onerror="' in hostile  # literal markup, not entities
    assert outcomes == {**{archive.site.url(s.path): "new" for s in STORIES},
                        archive.site.url(MISSING): "fetch.http_404"}
    assert status == "completed"


# -- the pages in Chromium -------------------------------------------------------------------


def test_search_finds_an_article_by_a_word_of_its_body(archive: Archive, base: str, tab: Tab,
                                                        shots: Path) -> None:
    assert WORD not in PIER.title.lower()
    page = tab.page
    search(page, base, WORD)
    hits = page.locator(".hit")
    assert hits.count() == 1
    link = hits.locator("h3 a")
    assert link.text_content() == PIER.title
    marks = hits.locator(".snippet mark")
    assert marks.count() >= 1 and marks.first.text_content().lower() == WORD
    assert "source " + SOURCE in (hits.locator(".meta").text_content() or "")
    screenshot(page, shots, "search")
    with page.expect_navigation():
        link.click()
    assert page.url == f"{base}/articles/{archive.ids[PIER.path]}"
    assert page.locator("h1").text_content() == PIER.title
    assert tab.dialogs == []


def test_the_article_page_shows_the_headline_paragraphs_subhead_and_list(
        archive: Archive, base: str, tab: Tab, shots: Path) -> None:
    page = tab.page
    response = page.goto(f"{base}/articles/{archive.ids[PIER.path]}")
    assert response is not None and response.status == 200
    assert page.locator(".reader h1").text_content() == PIER.title
    paragraphs = page.locator(".body p")
    assert paragraphs.count() >= len(PIER.paragraphs) + 1
    texts = [t.strip() for t in paragraphs.all_text_contents()]
    assert PIER.paragraphs[1] in texts and PIER.closing in texts
    assert page.locator(".body h2").all_text_contents() == [PIER.subhead]
    assert [t.strip() for t in page.locator(".body li").all_text_contents()] == list(PIER.items)
    # The list reads as a list: Datasette's stylesheet removes bullets, the reader's restores them.
    assert page.locator(".body li").first.evaluate(
        "e => getComputedStyle(e).listStyleType") == "disc"
    assert PIER.title not in page.locator(".body").text_content()  # the headline shown once
    original = page.locator("a.original")
    assert original.get_attribute("href") == archive.site.url(PIER.path)
    raw = page.get_by_role("link", name="Raw JSON")
    href = raw.get_attribute("href") or ""
    assert href.endswith(".json")
    answer = page.request.get(base + href if href.startswith("/") else href)
    assert answer.ok and json.dumps(answer.json()).count(PIER.title) >= 1
    screenshot(page, shots, "article")
    assert tab.dialogs == []


def test_the_health_page_shows_the_sources_outcomes_after_the_batch(
        archive: Archive, base: str, tab: Tab, shots: Path) -> None:
    page = tab.page
    page.goto(f"{base}/health")
    section = page.locator("section.source", has=page.get_by_role(
        "heading", name=f"Source {SOURCE}", exact=True))
    assert section.count() == 1
    rows = section.locator("table").first.locator("tr")
    assert rows.count() == 2  # the header and the one run
    header = [t.strip() for t in rows.nth(0).locator("th").all_text_contents()]
    cells = dict(zip(header, (t.strip() for t in rows.nth(1).locator("td").all_text_contents()),
                     strict=True))
    assert cells["Run"] == str(archive.run_id) and cells["Command"] == "batch"
    assert cells["Status"] == "completed"
    assert cells["Fetched"] == str(len(STORIES) + 1) and cells["New"] == str(len(STORIES))
    assert cells["Failed, by outcome"] == "fetch.http_404: 1"
    failure = section.locator("table.failures tr").nth(1).locator("td")
    assert [t.strip() for t in failure.all_text_contents()][:3] == [
        archive.site.url(MISSING), "fetch.http_404", "404"]
    runs = page.locator("table.runs tr")
    assert runs.count() == 2 and "fetch.http_404: 1" in (runs.nth(1).text_content() or "")
    screenshot(page, shots, "health")


def assert_inert(page: Page) -> None:
    """The hostile headline's markup did not run: no title change, no attribute, no image."""
    assert page.evaluate("document.title") != "pwned"
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script:has-text('pwned')").count() == 0


def test_a_hostile_title_renders_as_text(archive: Archive, base: str, tab: Tab,
                                         shots: Path) -> None:
    page = tab.page
    search(page, base, HOSTILE_WORD)
    link = page.locator(".hit h3 a")
    assert link.count() == 1 and link.text_content() == HOSTILE
    assert_inert(page)
    with page.expect_navigation():
        link.click()
    assert page.url == f"{base}/articles/{archive.ids[HOSTILE_STORY.path]}"
    headline = page.locator(".reader h1").text_content() or ""
    assert "<script>" in headline and "Hostile headline" in headline and headline == HOSTILE
    assert HOSTILE in page.evaluate("document.title")  # the tab title shows it as text too
    assert_inert(page)
    screenshot(page, shots, "hostile")
    assert tab.dialogs == []
