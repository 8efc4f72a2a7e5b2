"""scraper.links: a crawled page's links in scope or skipped with a reason, feeds, next pages.

Pure unit tests on HTML strings: nothing is fetched.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.links import (
    BAD_URL,
    DENIED,
    FILE,
    FRAGMENT,
    NOT_ALLOWED,
    NOT_HTTP,
    OFF_SITE,
    REASONS,
    Link,
    LinkScope,
    page_links,
)

START = "https://www.example.com/news/"
SCOPE = LinkScope.build(START)


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def anchors(*hrefs: str) -> str:
    return "".join(f'<a href="{href}">link {i}</a>' for i, href in enumerate(hrefs))


def urls(html: str, base_url: str = START, scope: LinkScope = SCOPE) -> list[str]:
    return [link.url for link in page_links(html, base_url, scope).links]


def nexts(html: str, base_url: str = START) -> dict[str, bool]:
    return {link.url: link.next_page for link in page_links(html, base_url, SCOPE).links}


# --- scope -----------------------------------------------------------------------------------


def test_host_scope_ignores_www_and_keeps_other_hosts_out():
    assert SCOPE.refusal("https://example.com/a") is None
    assert SCOPE.refusal("http://www.example.com/a") is None  # scheme does not matter
    assert SCOPE.refusal("https://WWW.Example.COM./a") is None
    assert SCOPE.refusal("https://news.example.com/a") == OFF_SITE
    assert SCOPE.refusal("https://example.org/a") == OFF_SITE
    assert SCOPE.refusal("https://www.example.com:8443/a") == OFF_SITE  # another server
    bare = LinkScope.build("https://example.com/")
    assert bare.refusal("https://www.example.com/a") is None


def test_domain_scope_keeps_every_host_of_the_registrable_domain():
    scope = LinkScope.build("https://news.example.co.uk/", domain=True)
    assert scope.refusal("https://www.example.co.uk/a") is None
    assert scope.refusal("https://sport.example.co.uk/a") is None
    # A public suffix is no site: another registrable domain under co.uk is off site.
    assert scope.refusal("https://other.co.uk/a") == OFF_SITE
    assert LinkScope.build("https://news.example.co.uk/").refusal(
        "https://sport.example.co.uk/a") == OFF_SITE


def test_loopback_scope_with_a_port():
    scope = LinkScope.build("http://127.0.0.1:8123/")
    assert scope.refusal("http://127.0.0.1:8123/a") is None
    assert scope.refusal("http://127.0.0.1:8124/a") == OFF_SITE
    assert scope.refusal("http://localhost:8123/a") == OFF_SITE


def test_allow_and_deny_patterns_search_the_canonical_url():
    scope = LinkScope.build(START, allow=[r"/news/", r"/sport/"], deny=r"/news/live/")
    assert scope.refusal("https://www.example.com/news/a") is None
    assert scope.refusal("https://www.example.com/sport/b") is None
    assert scope.refusal("https://www.example.com/about") == NOT_ALLOWED
    assert scope.refusal("https://www.example.com/news/live/1") == DENIED  # deny wins
    # Matched on the canonical form: the tracking parameter is gone before deny sees it.
    tracked = LinkScope.build(START, deny=r"utm_")
    assert tracked.refusal("https://www.example.com/a?utm_source=x") is None


def test_a_bad_pattern_is_a_clear_value_error():
    with pytest.raises(ValueError, match=r"bad deny pattern '\(unclosed'"):
        LinkScope.build(START, deny=["/ok/", "(unclosed"])
    with pytest.raises(ValueError, match=r"bad allow pattern '\[a-'"):
        LinkScope.build(START, allow="[a-")
    with pytest.raises(ValueError, match="allow pattern 3 is not a string"):
        LinkScope.build(START, allow=[3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="not an absolute http"):
        LinkScope.build("mailto:desk@example.com")


def test_scope_compiled_patterns_are_kept():
    scope = LinkScope(START, allow=(re.compile("/a/"),))
    assert scope.refusal("https://www.example.com/a/1") is None
    assert scope.refusal("https://www.example.com/b/1") == NOT_ALLOWED


def test_refusal_reasons_of_single_urls():
    assert SCOPE.refusal("mailto:desk@example.com") == NOT_HTTP
    assert SCOPE.refusal("ftp://www.example.com/file") == NOT_HTTP
    assert SCOPE.refusal("/relative/path") == BAD_URL
    assert SCOPE.refusal("http://[::1") == BAD_URL
    assert SCOPE.refusal("https://www.example.com:99999/") == BAD_URL
    assert SCOPE.refusal("https://www.example.com:port/") == BAD_URL
    assert SCOPE.refusal("https://exa mple.com/") == BAD_URL
    assert SCOPE.refusal("https:///no-host") == BAD_URL
    assert SCOPE.refusal("https://www.example.com/" + "a" * 2100) == BAD_URL
    assert SCOPE.refusal("https://www.example.com/" + "a" * 2000) is None


@pytest.mark.parametrize("path", ["report.pdf", "Report.PDF", "photo.jpg", "pic.webp",
                                  "clip.mp4", "song.mp3", "data.zip", "dump.tar.gz",
                                  "sheet.xlsx", "slides.pptx", "site.css", "app.js",
                                  "font.woff2", "setup.exe", "a.pdf;jsessionid=1"])
def test_files_are_skipped_by_extension(path):
    assert SCOPE.refusal(f"https://www.example.com/files/{path}") == FILE


@pytest.mark.parametrize("path", ["story.html", "index.php", "article.aspx",
                                  "city/articleshow/123.cms", "2024/05/story.ghtml",
                                  "people/j.smith", "v1.2/notes", "tag/example.com", ".hidden",
                                  "files.pdf/", "report-pdf"])
def test_pages_with_dots_are_not_files(path):
    assert SCOPE.refusal(f"https://www.example.com/{path}") is None


# --- page_links: skip reasons, resolution, canonical form -------------------------------------


def test_every_skip_reason_is_counted_per_occurrence():
    scope = LinkScope.build(START, allow=[r"/news/", r"/x/"], deny=[r"/news/live/"])
    html = page(anchors(
        "#top", "#", "", START,                              # fragment x4
        "mailto:a@b.c", "javascript:void(0)", " tel:+331", "data:text/html,hi",
        "ftp://www.example.com/f",                           # not_http x5
        "https://www.example.com:99999/", "http://[::1",     # bad_url x2
        "https://other.org/news/", "https://other.org/news/",  # off_site x2 (each counted)
        "/news/doc.pdf", "/news/photo.JPG",                  # file x2
        "/news/live/1",                                      # denied
        "/about/",                                           # not_allowed
        "/news/kept",
    ))
    result = page_links(html, START, scope)
    assert [link.url for link in result.links] == ["https://www.example.com/news/kept"]
    assert result.skipped == {FRAGMENT: 4, NOT_HTTP: 5, BAD_URL: 2, OFF_SITE: 2, FILE: 2,
                              DENIED: 1, NOT_ALLOWED: 1}
    assert set(result.skipped) == set(REASONS)
    assert not result.truncated


def test_relative_urls_resolve_against_the_page():
    html = page(anchors("story-1", "../about", "/abs", "//www.example.com/proto", "?page=3"))
    assert urls(html, "https://www.example.com/news/world/") == [
        "https://www.example.com/news/world/story-1",
        "https://www.example.com/news/about",
        "https://www.example.com/abs",
        "https://www.example.com/proto",
        "https://www.example.com/news/world/?page=3",
    ]


def test_base_href_is_honoured_first_one_and_http_only():
    head = '<base href="/archive/2024/"><base href="https://www.example.com/ignored/">'
    assert urls(page(anchors("a", "b/c"), head)) == [
        "https://www.example.com/archive/2024/a", "https://www.example.com/archive/2024/b/c"]
    # A base that is not http(s) is ignored: links resolve against the page.
    for bad in ('<base href="javascript:alert(1)">', '<base href="ftp://www.example.com/x/">'):
        assert urls(page(anchors("a"), bad)) == ["https://www.example.com/news/a"]
    # A base on another site sends relative links off site.
    result = page_links(page(anchors("a"), '<base href="https://cdn.other.net/">'), START, SCOPE)
    assert result.links == [] and result.skipped == {OFF_SITE: 1}


def test_hrefs_are_cleaned_as_browsers_do():
    html = page(anchors("  \n /spaced \t", "/new\nline", "/back\\slash?q=a\\b",
                        "java\nscript:alert(1)", "\\\\other.org/x"))
    result = page_links(html, START, SCOPE)
    assert [link.url for link in result.links] == [
        "https://www.example.com/spaced", "https://www.example.com/newline",
        "https://www.example.com/back/slash?q=a%5Cb"]
    assert result.skipped == {NOT_HTTP: 1, OFF_SITE: 1}


def test_canonical_urls_without_tracking_or_fragment_each_once_first_wins():
    html = page(
        '<a href="/story?utm_source=tw&amp;id=7#comments">First text</a>'
        '<a href="/other">Other</a>'
        '<a href="/story?id=7&amp;fbclid=abc">Second text</a>'
        '<a href="https://WWW.EXAMPLE.COM:443/story?id=7">Third</a>'
    )
    result = page_links(html, START, SCOPE)
    assert result.links == [Link("https://www.example.com/story?id=7", "First text", False),
                            Link("https://www.example.com/other", "Other", False)]
    assert not result.skipped  # a repeated in-scope URL is not a skip


def test_anchor_text_is_collapsed_and_bounded_and_image_links_get_a_name():
    long_text = "word " * 100
    html = page(
        '<a href="/a">  Breaking:\n\t<b>big</b>   news </a>'
        f'<a href="/b">{long_text}</a>'
        '<a href="/c"><img src="c.jpg" alt="  Photo of the day "></a>'
        '<a href="/c">Photo headline</a>'
        '<a href="/d" aria-label="Read the story"></a>'
        '<map><area href="/e" alt="Region"></map>'
    )
    texts = {link.url.rsplit("/", 1)[1]: link.text for link in page_links(html, START, SCOPE).links}
    assert texts["a"] == "Breaking: big news"
    assert len(texts["b"]) == 200 and texts["b"].startswith("word word")
    assert texts["c"] == "Photo of the day"  # the first occurrence's text stands
    assert texts["d"] == "Read the story"
    assert texts["e"] == "Region"


def test_an_image_only_first_link_takes_the_text_of_a_later_one():
    html = page('<a href="/s"><img src="s.jpg"></a><h2><a href="/s">The headline</a></h2>')
    assert page_links(html, START, SCOPE).links == [
        Link("https://www.example.com/s", "The headline", False)]


# --- feeds -----------------------------------------------------------------------------------


def test_feeds_are_found_absolute_in_scope_or_not():
    head = (
        '<link rel="alternate" type="application/rss+xml" href="/feed/">'
        '<link rel="alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">'
        '<link rel="Alternate" type="application/feed+json" href="https://feeds.other.net/j">'
        '<link rel="alternate" type="application/rss+xml" href="/feed/">'  # again
        '<link rel="alternate" hreflang="fr" href="/fr/">'  # a translation, not a feed
        '<link rel="alternate" type="text/html" href="/m/">'
        '<link rel="stylesheet" href="/s.css"><link rel="canonical" href="/news/">'
        '<link rel="alternate" type="application/rss+xml" href="mailto:x@y.z">'
    )
    result = page_links(page("", head), START, SCOPE)
    assert result.feeds == ["https://www.example.com/feed/",
                            "https://www.example.com/news/atom.xml",
                            "https://feeds.other.net/j"]
    assert result.links == [] and not result.skipped  # <link>s other than next are no links


# --- next page -------------------------------------------------------------------------------


def test_rel_next_on_the_anchor_and_link_rel_next_in_the_head():
    head = '<link rel="next" href="/news/?page=2">'
    html = page('<a href="/a" rel="nofollow NEXT">Continue</a><a href="/b" rel="prev">b</a>',
                head)
    result = page_links(html, START, SCOPE)
    assert [(link.url, link.text, link.next_page) for link in result.links] == [
        ("https://www.example.com/news/?page=2", "", True),
        ("https://www.example.com/a", "Continue", True),
        ("https://www.example.com/b", "b", False),
    ]


@pytest.mark.parametrize("label", ["Next", "next page", "Next »", "Older posts →", "OLDER",
                                   "More", "›", "»", "→", "Suivant", "Page suivante ›",
                                   "weiter", "Nächste Seite", "Siguiente", "successivo",
                                   "Volgende", "próxima", "Next…", "next >"])
def test_next_by_anchor_text(label):
    assert nexts(page(f'<a href="/x">{label}</a><a href="/y">Politics</a>')) == {
        "https://www.example.com/x": True, "https://www.example.com/y": False}


@pytest.mark.parametrize("label", ["Read more", "Next week's schedule", "Newer posts",
                                   "« Previous", "»»", "Nextdoor app", "The next president"])
def test_text_that_only_contains_a_next_word_is_no_next_link(label):
    assert nexts(page(f'<a href="/x">{label}</a>')) == {"https://www.example.com/x": False}


def test_next_by_aria_label_and_by_class():
    html = page(
        '<a href="/a" aria-label="Next page"><svg></svg></a>'
        '<a href="/b" class="next page-numbers">3</a>'
        '<a href="/c" class="nextpostslink">go</a>'
        '<ul><li class="pager__item pager__item--next"><a href="/d">go</a></li></ul>'
        '<div class="next-stories"><a href="/e">A story</a></div>'  # only a <li> parent counts
        '<a href="/f" class="nextgen-gallery-link">x</a>'
        '<a href="/g" class="context page-numbers">4</a>'
    )
    assert nexts(html) == {
        "https://www.example.com/a": True, "https://www.example.com/b": True,
        "https://www.example.com/c": True, "https://www.example.com/d": True,
        "https://www.example.com/e": False, "https://www.example.com/f": True,
        "https://www.example.com/g": False}


def test_next_by_page_number_in_the_url():
    listing = "https://www.example.com/news/"
    html = page(anchors("/news/?page=2", "/news/?page=3", "/news/page/2/", "/sport/?page=2",
                        "/news/?p=2&sort=new", "/news/?page=1"))
    assert nexts(html, listing) == {
        "https://www.example.com/news/?page=2": True,
        "https://www.example.com/news/?page=3": False,  # not the one after this
        "https://www.example.com/news/page/2/": True,
        "https://www.example.com/sport/?page=2": False,  # another listing
        "https://www.example.com/news/?p=2&sort=new": False,  # differs by more than a number
        "https://www.example.com/news/?page=1": False,
    }
    # On page 3 the next one is 4, whichever way the number is written.
    assert nexts(page(anchors("/news/page/4", "/news/page/2/", "/news/page/3/x")),
                 "https://www.example.com/news/page/3/") == {
        "https://www.example.com/news/page/4": True,
        "https://www.example.com/news/page/2/": False,
        "https://www.example.com/news/page/3/x": False}
    assert nexts(page(anchors("/s?q=x&p=5", "/s?q=y&p=5")),
                 "https://www.example.com/s?p=4&q=x") == {
        "https://www.example.com/s?p=5&q=x": True, "https://www.example.com/s?p=5&q=y": False}


def test_next_page_is_true_if_any_occurrence_says_so():
    html = page('<a href="/news/archive">Archive</a><a href="/other">Other</a>'
                '<a href="/news/archive" rel="next">Next</a>')
    result = page_links(html, START, SCOPE)
    assert result.links == [Link("https://www.example.com/news/archive", "Archive", True),
                            Link("https://www.example.com/other", "Other", False)]


# --- limits and bad input --------------------------------------------------------------------


def test_max_links_truncates_a_page_with_50000_links():
    html = page("".join(f'<a href="/p/{i}">{i}</a>' for i in range(50_000)))
    result = page_links(html, START, SCOPE)
    assert result.truncated
    assert len(result.links) == 10_000
    assert result.links[-1].url == "https://www.example.com/p/9999"
    small = page_links(html, START, SCOPE, max_links=10)
    assert small.truncated and len(small.links) == 10


def test_exactly_max_links_is_not_truncated():
    html = page(anchors(*(f"/p/{i}" for i in range(10))) + anchors("/p/0", "mailto:x@y.z"))
    result = page_links(html, START, SCOPE, max_links=10)
    assert len(result.links) == 10 and not result.truncated
    assert result.skipped == {NOT_HTTP: 1}


def test_a_page_of_skipped_links_is_cut_short_too():
    html = page(anchors(*(f"https://spam{i}.net/" for i in range(2_000))))
    result = page_links(html, START, SCOPE, max_links=100)
    assert result.truncated and result.links == []
    assert result.skipped[OFF_SITE] == 500  # EXAMINE_FACTOR x max_links elements read


@pytest.mark.parametrize("body", [
    b"", "", b"\xff\xfe\x00\x81garbage\x00<a href='/q'>q</a>", "<a href=", "<<<>>>",
    "<a href='" + "x" * 5_000_000 + "'>huge</a>", "<a href='/" + "y" * 3000 + "'>long</a>",
    "<base href='http://[::1'><a href='x'>x</a>", "\x00" * 1000, "<svg><a href='/s'>s</a></svg>",
])
def test_bad_input_never_raises(body):
    result = page_links(body, START, SCOPE)
    assert all(link.url.startswith("https://www.example.com/") for link in result.links)


def test_garbage_bytes_are_decoded_and_links_still_found():
    html = b"\xff\xfe<p>\xe9t\xe9</p><a href='/caf\xc3\xa9'>caf\xc3\xa9</a><a href='/q'>\x81</a>"
    result = page_links(html, START, SCOPE)
    assert result.links == [Link("https://www.example.com/caf%C3%A9", "café", False),
                            Link("https://www.example.com/q", "\ufffd", False)]


def test_a_garbage_page_url_gives_no_links_and_no_error():
    result = page_links(page(anchors("/a", "https://www.example.com/b")), "not a url", SCOPE)
    assert [link.url for link in result.links] == ["https://www.example.com/b"]
    assert result.skipped == {BAD_URL: 1}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<a href='\"#/?:.\\ >=pdf\n&;") + ["\x00", "é"]),
               max_size=200))
def test_any_text_gives_a_result_in_scope(html):
    result = page_links(html, START, SCOPE)
    assert all(SCOPE.refusal(link.url) is None for link in result.links)
    assert set(result.skipped) <= set(REASONS)
