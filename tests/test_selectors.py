"""Per-source CSS selectors (cleaner/selectors.py): content_selector and drop_selectors, in
the cleaner, the sources file (`scrape batch`, `--check`), the ingest/clean options and
`scrape reclean`."""

from __future__ import annotations

import json
import pickle

import pytest
import sqlite_utils

from cleaner import CleanConfig, Cleaner, SelectorError, Selectors
from pipeline.cli import main
from pipeline.sources_file import SourcesError, load_sources
from records import Page
from tests.test_cli import LOCAL

STORY = [
    "The river authority opened the new flood gates on Tuesday after three years of work, "
    "and engineers said the structure had passed every load test they ran in the storms.",
    "Residents of the lower town, who lost furniture and cars in the floods of the last "
    "decade, gathered on the embankment to watch the first gate swing shut against the tide.",
    "The project cost more than its planners first estimated, largely because the riverbed "
    "was softer than the surveys suggested, and the foundations had to be driven deeper.",
    "Council members who had opposed the budget said they were relieved to see it finished, "
    "though several asked for an independent review of how the overruns were approved.",
    "The authority will publish the full test results next month, together with a plan "
    "that sets out who pays for repairs once the builder's warranty ends.",
]
OTHER = [
    "The orchestra's new conductor chose a programme of music written within a mile of the "
    "hall, most of it never performed since the composers themselves put down their pens.",
    "Rehearsals ran late into the night for a fortnight, the players said, because several "
    "scores survived only as pencil drafts that had to be copied out again by hand.",
    "The opening concert sold out within an hour, and the hall has added a matinee on "
    "Sunday for the families who queued in the rain and went home without tickets.",
    "Critics from the regional papers praised the string section in particular, though one "
    "thought the second half too long for an audience that had come straight from work.",
    "The conductor says the next season will follow the same idea with music from the "
    "villages up the valley, if the archive there lets the players borrow its manuscripts.",
]
# Boxes inside the article's container that the generic rules keep (checked below).
RELATED = ("Also worth your time: how a small bakery on the quay kept its ovens running "
           "through the winter power cuts, and what its owners learned from the neighbours.")
LETTER = ("Our weekday morning letter brings the five local stories that matter before your "
          "first coffee, written by the people who report them, and it costs nothing at all.")
DROP = (".box-a", ".box-b")


def boxed(title: str, paragraphs: list[str]) -> str:
    """An article page with a related-story box and a newsletter box inside its container."""
    first = "".join(f"<p>{p}</p>" for p in paragraphs[:3])
    rest = "".join(f"<p>{p}</p>" for p in paragraphs[3:])
    return (f"<html><head><title>{title}</title></head><body><div class='wrap'>"
            f"<h1>{title}</h1><div class='story'>{first}<div class='box-a'><p>{RELATED} "
            f"<a href='/bakery'>Bakery story</a></p></div>{rest}<div class='box-b'>"
            f"<p>{LETTER}</p></div></div></div></body></html>")


BRIEF = OTHER[:2]


def two_stories() -> str:
    """Two article-like containers: the page's own story (a brief, second) and a longer one
    beside it. Its date is declared in a JSON-LD block outside both."""
    one = "".join(f"<p>{p}</p>" for p in STORY)
    two = "".join(f"<p>{p}</p>" for p in BRIEF)
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": "A season of local music", "datePublished": "2024-03-05"})
    return (f"<html lang='en'><head><title>A season of local music</title></head><body>"
            f"<div class='col'><div class='entry teaser'><h2>Flood gates open</h2>{one}</div>"
            f"</div><div class='col'><div class='entry main'><h1>A season of local music</h1>"
            f"{two}</div></div><script type='application/ld+json'>{ld}</script>"
            f"</body></html>")


def clean(html: str, config: CleanConfig | None = None, source: str = "cli"):
    page = Page(url="https://news.example/story", final_url="https://news.example/story",
                status=200, content_type="text/html", body=html.encode(), encoding="utf-8",
                source=source)
    return Cleaner(config).clean(page)


# -- the cleaner ----------------------------------------------------------------------------


def test_drop_selectors_remove_boxes_the_generic_rules_keep():
    html = boxed("Flood gates open", STORY)
    plain = clean(html)
    assert RELATED in plain.article.text and LETTER in plain.article.text  # kept today
    result = clean(html, CleanConfig(selectors=Selectors(drop=DROP)))
    assert result.outcome == "cleaned"
    assert result.article.text == "\n".join(STORY)
    assert result.drops["selector.drop"] == 2
    assert result.article.title == "Flood gates open"


def test_content_selector_picks_the_right_one_of_two_containers_and_keeps_the_metadata():
    plain = clean(two_stories())
    assert OTHER[0] not in plain.article.text  # the generic rules take the longer story
    result = clean(two_stories(), CleanConfig(selectors=Selectors(content="div.entry.main")))
    assert result.article.text == "\n".join(BRIEF)
    assert result.drops["selector.content"] == 1
    # Declared outside the container: the head's title, <html lang>, the body's JSON-LD.
    assert result.article.title == "A season of local music"
    assert result.article.date == "2024-03-05"
    assert result.article.language == "en"


def test_a_content_selector_matching_nothing_cleans_the_whole_page_and_says_so():
    html = boxed("Flood gates open", STORY)
    plain = clean(html)
    for stale in ("div.article-body", "div.box-c"):  # missing, or an empty shell
        result = clean(html.replace("</h1>", "</h1><div class='box-c'> </div>"),
                       CleanConfig(selectors=Selectors(content=stale)))
        assert result.outcome == "cleaned"
        assert result.article.text == plain.article.text
        assert result.drops["selector.no_match"] == 1 and "selector.content" not in result.drops


def test_drops_never_remove_the_content_or_the_page_and_count_nested_matches_once():
    html = boxed("Flood gates open", STORY)
    selectors = Selectors(content="div.story", drop=("div.wrap", "body", "div", "div.box-a p"))
    result = clean(html, CleanConfig(selectors=selectors))
    # "div" matches the wrapper (holds the content: kept), the story (kept) and both boxes;
    # "div.box-a p" then finds its paragraph already gone with its box.
    assert result.article.text == "\n".join(STORY)
    assert result.drops["selector.drop"] == 2


def test_a_source_s_selectors_win_for_its_pages_only_and_pickle():
    html = boxed("Flood gates open", STORY)
    config = CleanConfig(selectors=Selectors(content="div.nothing-here"),
                         source_selectors={"boxed": Selectors(drop=DROP)})
    config = pickle.loads(pickle.dumps(config))  # as the executors ship it to workers
    assert clean(html, config, source="boxed").article.text == "\n".join(STORY)
    other = clean(html, config, source="plain")
    assert RELATED in other.article.text and other.drops["selector.no_match"] == 1


@pytest.mark.parametrize("content, drop, field, reason", [
    ("div[", (), "content_selector", "is not a CSS selector lexbor can parse: 'div['"),
    ("p::before", (), "content_selector", "is not a CSS selector lexbor can parse"),
    (7, (), "content_selector", "must be a CSS selector (a string), not 7"),
    ("  ", (), "content_selector", "must be a CSS selector, not an empty string"),
    ("p" + " p" * 500, (), "content_selector", "must be at most 1000 characters, not 1001"),
    ("p\x00", (), "content_selector", "holds a control character"),
    (None, ".a", "drop_selectors", "must be a list of CSS selectors, not '.a'"),
    (None, (".a", "> >"), "drop_selectors", "is not a CSS selector lexbor can parse"),
    (None, (".a",) * 51, "drop_selectors", "must be at most 50 selectors, not 51"),
])
def test_a_bad_selector_is_a_value_error_naming_the_field(content, drop, field, reason):
    with pytest.raises(ValueError) as caught:
        Selectors(content=content, drop=drop)
    assert isinstance(caught.value, SelectorError) and caught.value.field == field
    assert str(caught.value).startswith(f"{field} {reason}")


# -- the sources file and the options -------------------------------------------------------


def test_batch_check_reports_a_bad_selector_as_a_problem_of_its_source(tmp_path, capsys):
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nname = "a"\nkind = "page"\nurl = "https://x.example/1"\n'
                    'content_selector = "div["\n\n'
                    '[[source]]\nname = "b"\nkind = "page"\nurl = "https://x.example/2"\n'
                    'drop_selectors = ".related"\n\n'
                    '[[source]]\nname = "c"\nkind = "page"\nurl = "https://x.example/3"\n'
                    'content_selector = "main article"\ndrop_selectors = [".x", ".y"]\n',
                    encoding="utf-8")
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    assert caught.value.problems == [
        f"{path}:5: source 'a': content_selector is not a CSS selector lexbor can parse: "
        f"'div['",
        f"{path}:11: source 'b': drop_selectors must be a list of CSS selectors, not "
        f"'.related'"]
    assert main(["batch", "--sources", str(path), "--db", str(tmp_path / "x.db"),
                 "--check"]) == 2
    assert f"scrape batch: {path}:5: source 'a': content_selector" in capsys.readouterr().err
    path.write_text(path.read_text().replace('"div["', '"div.body"').replace(
        '".related"', '[".related"]'), encoding="utf-8")
    assert main(["batch", "--sources", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "(content_selector, drop_selectors 2)" in out and "3 source(s)" in out
    assert load_sources(path)[2].selectors == Selectors("main article", (".x", ".y"))


def test_ingest_and_clean_refuse_a_bad_selector_before_any_fetch(site, tmp_path, capsys):
    url = site.add("/story", boxed("Flood gates open", STORY))
    db = tmp_path / "x.db"
    for command in (["ingest", "--db", str(db)], ["clean"]):
        with pytest.raises(SystemExit) as caught:
            main([*command, *LOCAL, "--content-selector", "div[", url])
        assert caught.value.code == 2
        assert ("argument --content-selector: is not a CSS selector lexbor can parse: 'div['"
                in capsys.readouterr().err)
        many = [arg for _ in range(51) for arg in ("--drop-selector", ".a")]
        assert main([*command, *LOCAL, *many, url]) == 2
        assert (f"scrape {command[0]}: --drop-selector: must be at most 50 selectors, not 51"
                in capsys.readouterr().err)
    assert site.requests == [] and not db.exists()


def test_clean_and_ingest_options_apply_to_every_page(site, tmp_path, capsys):
    url = site.add("/story", boxed("Flood gates open", STORY))
    assert main(["clean", *LOCAL, "--format", "text", "--drop-selector", ".box-a",
                 "--drop-selector", ".box-b", url]) == 0
    out = capsys.readouterr().out
    assert STORY[-1] in out and RELATED not in out and LETTER not in out
    db = tmp_path / "x.db"
    assert main(["ingest", "--db", str(db), *LOCAL, "--workers", "0",
                 "--content-selector", "div.entry.main", site.add("/two", two_stories())]) == 0
    (text,) = [r["text"] for r in sqlite_utils.Database(db)["articles"].rows]
    assert text == "\n".join(BRIEF)


# -- a batch run and reclean ----------------------------------------------------------------


def test_batch_applies_a_source_s_selectors_to_its_pages_only_and_reclean_keeps_them(
        site, tmp_path, capsys):
    boxed_url = site.add("/flood", boxed("Flood gates open", STORY))
    plain_url = site.add("/music", boxed("A season of local music", OTHER))
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "boxed"\nkind = "page"\nurl = "{boxed_url}"\n'
                       f'drop_selectors = [".box-a", ".box-b"]\n\n'
                       f'[[source]]\nname = "plain"\nkind = "page"\nurl = "{plain_url}"\n',
                       encoding="utf-8")
    db_path = tmp_path / "x.db"
    assert main(["batch", "--sources", str(sources), "--db", str(db_path), *LOCAL]) == 0

    def texts() -> dict[str, str]:
        db = sqlite_utils.Database(db_path)
        return {row["source"]: row["text"] for row in db.query(
            "SELECT f.source, a.text FROM fetches f JOIN articles a ON a.id = f.article_id")}

    stored = texts()
    assert stored["boxed"] == "\n".join(STORY)
    assert RELATED in stored["plain"] and LETTER in stored["plain"]
    assert OTHER[-1] in stored["plain"]
    # reclean cleans each source's pages with the selectors its last run stored...
    assert main(["reclean", "--db", str(db_path), "--workers", "0"]) == 0
    assert "changed 0" in capsys.readouterr().out and texts() == stored
    # ... or with those of a sources file: here none, so the boxes come back.
    sources.write_text(sources.read_text().replace('drop_selectors = [".box-a", ".box-b"]\n',
                                                   ""), encoding="utf-8")
    assert main(["reclean", "--db", str(db_path), "--sources", str(sources),
                 "--workers", "0"]) == 0
    assert "updated 1" in capsys.readouterr().out
    assert RELATED in texts()["boxed"]
