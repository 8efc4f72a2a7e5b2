"""scraper.sources: URL files, sitemaps, feeds, sniffing and discovery, all offline.

`discover` gets a fake `read` backed by a dict, so no test opens a socket.
"""

from __future__ import annotations

import gzip
import logging
import time
from pathlib import Path

import pytest

from records import FetchTask, Page
from scraper.sources import (
    MAX_SITEMAP_BYTES,
    SitemapContent,
    discover,
    kind_of,
    parse_feed,
    parse_sitemap,
    read_url_file,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def urlset(*locs: str, ns: str = NS) -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {ns}>{entries}</urlset>'.encode()


def index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex {NS}>{entries}</sitemapindex>'.encode()


def billion_laughs(root: str, inner: str) -> bytes:
    """Nine levels of ten-fold entities: 10**9 "lol"s (3 GB) if a parser expanded them."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    doctype = f"<!DOCTYPE {root} [{''.join(entities)}]>"
    return f'<?xml version="1.0"?>{doctype}{inner}'.encode()


class FakeWeb:
    """discover's `read` over a dict: url -> body, (body, content_type) or an exception to raise."""

    def __init__(self, routes: dict, redirects: dict[str, str] | None = None) -> None:
        self.routes = routes
        self.redirects = redirects or {}
        self.calls: list[str] = []

    def __call__(self, url: str) -> Page:
        self.calls.append(url)
        final = self.redirects.get(url, url)
        route = self.routes[final]  # KeyError for an unknown URL: a failing fetch
        if isinstance(route, Exception):
            raise route
        body, content_type = route if isinstance(route, tuple) else (route, None)
        return Page(url=url, final_url=final, status=200, content_type=content_type, body=body)


def tasks_of(found) -> list[FetchTask]:
    """The FetchTasks of discover's stream (it also passes on the Page of each read)."""
    return [item for item in found if isinstance(item, FetchTask)]


def urls(found) -> list[str]:
    return [task.url for task in tasks_of(found)]


# -- URL files ----------------------------------------------------------------------------------

URLS_TXT = ["https://example.com/a", "https://example.com/b", "https://example.org/c#not-a-comment"]


def test_url_file_skips_comments_and_blank_lines_and_strips():
    assert [line.text for line in read_url_file(FIXTURES / "urls.txt")] == URLS_TXT


def test_url_file_gzipped_is_read_transparently(tmp_path):
    data = (FIXTURES / "urls.txt").read_bytes()
    (tmp_path / "urls.txt.gz").write_bytes(gzip.compress(data))
    # Sniffed, not guessed from the name: a gzipped file without ".gz" reads the same.
    (tmp_path / "seeds.urls").write_bytes(gzip.compress(b"\xef\xbb\xbf" + data))
    for path in (tmp_path / "urls.txt.gz", str(tmp_path / "seeds.urls")):
        lines = list(read_url_file(path))
        assert [line.text for line in lines] == URLS_TXT
        assert not any(line.refused for line in lines)


# -- Sitemaps -----------------------------------------------------------------------------------


def test_urlset_locs_are_stripped_resolved_unescaped_and_filtered():
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {NS} xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>
      https://example.com/padded
  </loc><lastmod>2024-05-01</lastmod></url>
  <url><loc>/relative/page</loc><lastmod> 2024-05-02T10:30:00+02:00 </lastmod></url>
  <url><loc>https://example.com/q?a=1&amp;b=2&#38;c=3</loc><lastmod>yesterday</lastmod></url>
  <url><loc>https://example.com/img</loc>
       <image:image><image:loc>https://example.com/photo.jpg</image:loc></image:image></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>mailto:someone@example.com</loc></url>
  <url><loc>  </loc></url>
  <url><loc>https://example.com/padded</loc></url>
</urlset>""".encode()
    content = parse_sitemap(body, "https://example.com/sitemaps/sitemap.xml")
    assert content.pages == [
        "https://example.com/padded",
        "https://example.com/relative/page",
        "https://example.com/q?a=1&b=2&c=3",
        "https://example.com/img",
    ]
    assert content.sitemaps == []
    # Invalid dates are dropped rather than handed on to a "skip unchanged" check.
    assert content.lastmod == {
        "https://example.com/padded": "2024-05-01",
        "https://example.com/relative/page": "2024-05-02T10:30:00+02:00",
    }


def test_urlset_without_namespace_and_with_bare_ampersand():
    body = urlset("https://example.com/x?a=1&b=2", "https://example.com/y", ns="")
    assert parse_sitemap(body, "https://example.com/sitemap.xml").pages == [
        "https://example.com/x?a=1&b=2",  # not "?a=1=2", which libxml2's recovery alone gives
        "https://example.com/y",
    ]


def test_sitemapindex_lists_child_sitemaps_with_lastmod():
    body = f"""<sitemapindex {NS}>
  <sitemap><loc>https://example.com/sitemap-news.xml</loc><lastmod>2024-06-01</lastmod></sitemap>
  <sitemap><loc>sitemap-archive.xml.gz</loc></sitemap>
</sitemapindex>""".encode()
    content = parse_sitemap(body, "https://example.com/sitemap_index.xml")
    assert content == SitemapContent(
        pages=[],
        sitemaps=["https://example.com/sitemap-news.xml", "https://example.com/sitemap-archive.xml.gz"],
        lastmod={"https://example.com/sitemap-news.xml": "2024-06-01"},
    )


def test_gzipped_sitemap_is_sniffed_whatever_the_name():
    plain = urlset("https://example.com/1", "https://example.com/2")
    packed = gzip.compress(plain)
    expected = parse_sitemap(plain, "https://example.com/")
    assert expected.pages == ["https://example.com/1", "https://example.com/2"]
    assert parse_sitemap(packed, "https://example.com/sitemap.xml.gz") == expected
    assert parse_sitemap(packed, "https://example.com/download?id=7") == expected
    assert kind_of(packed, "application/octet-stream", "https://example.com/download?id=7") == "sitemap"
    assert kind_of(packed, "application/gzip", "https://example.com/sitemap.xml.gz") == "sitemap"
    # Undecidable content: the sitemap-ish name decides.
    assert kind_of(gzip.compress(b"\x00junk"), "application/gzip", "https://example.com/sitemap.xml.gz") == "sitemap"


def test_gzip_bomb_is_capped():
    block = gzip.compress(b" " * (1024 * 1024))  # ~1 KiB each; concatenated gzip members
    start = time.perf_counter()
    bomb = gzip.compress(b"<urlset><url><loc>https://example.com/a</loc></url>") + block * 51
    assert len(bomb) < 100_000
    assert parse_sitemap(bomb, "https://example.com/sitemap.xml.gz").pages == []  # > 50 MiB out
    assert parse_feed(bomb, "https://example.com/feed") == []
    assert time.perf_counter() - start < 1.5
    small = gzip.compress(urlset("https://example.com/a"))
    assert parse_sitemap(small, "https://example.com/", max_bytes=40).pages == []
    assert parse_sitemap(small, "https://example.com/").pages == ["https://example.com/a"]
    assert MAX_SITEMAP_BYTES == 50 * 1024 * 1024


def test_corrupt_and_truncated_gzip():
    packed = gzip.compress(urlset(*(f"https://example.com/{i}" for i in range(200))))
    assert parse_sitemap(packed[:10] + b"\xff" * 50, "https://example.com/s.xml.gz").pages == []
    # A cut-off download still gives the entries before the cut.
    partial = parse_sitemap(packed[: len(packed) // 2], "https://example.com/s.xml.gz").pages
    assert 0 < len(partial) < 200
    assert partial[0] == "https://example.com/0"


def test_text_sitemap():
    body = (
        "\ufeffhttps://example.com/one\r\n"
        "  https://example.com/two  \n"
        "\n"
        "relative/not-allowed\n"
        "Some prose with https://example.com/inside it\n"
        "ftp://example.com/file\n"
        "https://example.com/one\n"
    ).encode()
    content = parse_sitemap(body, "https://example.com/sitemap.txt")
    assert content.pages == ["https://example.com/one", "https://example.com/two"]
    assert content.sitemaps == []
    assert kind_of(body, "text/plain", "https://example.com/sitemap.txt") == "sitemap"


@pytest.mark.parametrize("body", [
    b"",
    b"<<<>>>",
    b"<?xml version='1.0'?><urlset",
    b"<urlset><url><loc>",
    b"\x00\x01\x02 not xml at all",
    b'<?xml version="1.0" encoding="bogus-enc"?><x/>',
    b"<html><body><p>Not found</p></body></html>",
    b'{"items": [',
])
def test_malformed_bodies_give_empty_results(body):
    assert parse_sitemap(body, "https://example.com/sitemap.xml") == SitemapContent()
    assert parse_feed(body, "https://example.com/feed") == []


def test_truncated_xml_keeps_what_came_before_the_cut():
    body = urlset("https://example.com/a", "https://example.com/b")[:-30]
    assert parse_sitemap(body, "https://example.com/sitemap.xml").pages == ["https://example.com/a"]


def test_billion_laughs_is_not_expanded():
    sitemap = billion_laughs(
        "urlset",
        f"<urlset {NS}><url><loc>https://example.com/ok</loc></url>"
        "<url><loc>https://example.com/&lol9;</loc></url></urlset>",
    )
    feed = billion_laughs(
        "rss",
        '<rss version="2.0"><channel><item><link>https://example.com/ok</link></item>'
        "<item><link>https://example.com/&lol9;</link></item></channel></rss>",
    )
    start = time.perf_counter()
    pages = parse_sitemap(sitemap, "https://example.com/sitemap.xml").pages
    links = parse_feed(feed, "https://example.com/feed")
    kinds = kind_of(sitemap, None, "https://example.com/x"), kind_of(feed, None, "https://example.com/x")
    assert time.perf_counter() - start < 0.5
    assert pages == ["https://example.com/ok"]
    assert links == ["https://example.com/ok"]
    assert kinds == ("sitemap", "feed")


def test_single_custom_entity_is_not_expanded_into_a_url():
    body = (
        '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY host "evil.test">]>'
        f"<urlset {NS}><url><loc>https://&host;/x</loc></url>"
        "<url><loc>https://example.com/kept</loc></url></urlset>"
    ).encode()
    assert parse_sitemap(body, "https://example.com/sitemap.xml").pages == ["https://example.com/kept"]


def test_external_entities_are_not_loaded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("https://example.com/SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        f"<urlset {NS}><url><loc>&xxe;</loc></url><url><loc>https://example.com/kept</loc></url></urlset>"
    ).encode()
    content = parse_sitemap(body, "https://example.com/sitemap.xml")
    assert content.pages == ["https://example.com/kept"]
    assert "SECRET" not in repr(content)


def test_feed_given_as_sitemap_lists_its_articles():
    body = (FIXTURES / "rss2.xml").read_bytes()
    assert parse_sitemap(body, "https://example.com/feed.xml").pages[:2] == [
        "https://example.com/news/first?a=1&b=2",
        "https://example.com/news/second",
    ]


# -- Feeds --------------------------------------------------------------------------------------


def test_rss2_links():
    body = (FIXTURES / "rss2.xml").read_bytes()
    assert parse_feed(body, "https://example.com/feed.xml") == [
        "https://example.com/news/first?a=1&b=2",  # once, though listed twice
        "https://example.com/news/second",  # relative and padded
        "https://example.com/news/third",  # permalink guid
        "https://example.org/story",  # CDATA
    ]  # not the channel link, the self link, the opaque guid, javascript: or mailto:


def test_rss1_rdf_links():
    body = (FIXTURES / "rss1.rdf").read_bytes()
    assert parse_feed(body, "https://example.com/rss1.rdf") == [
        "https://example.com/rdf/1",
        "https://example.com/rdf/2",  # from rdf:about
    ]


def test_atom_links():
    body = (FIXTURES / "atom.xml").read_bytes()
    assert parse_feed(body, "https://example.com/blog/atom.xml") == [
        "https://example.com/blog/posts/ep1",  # alternate, not the enclosure; xml:base applied
        "https://example.com/blog/posts/two",  # link without rel
        "https://example.org/mirror/three",  # text/html alternate preferred; entry xml:base
    ]


def test_atom_relative_links_without_xml_base_use_the_feed_url():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="../p/1"/></entry>'
        b'<entry><link rel="alternate" href="p/2"/></entry></feed>'
    )
    assert parse_feed(body, "https://example.com/blog/feeds/atom") == [
        "https://example.com/blog/p/1",
        "https://example.com/blog/feeds/p/2",
    ]


def test_json_feed_links():
    body = (FIXTURES / "feed.json").read_bytes()
    assert parse_feed(body, "https://example.com/feed.json") == [
        "https://example.com/json/one",
        "https://example.com/json/two",
        "https://example.org/linked",  # external_url when there is no url
        "https://example.com/json/four",  # an id that is a URL
    ]  # not the opaque id "5", the data: URL, the non-object item or the repeat of one


def test_json_feed_that_is_not_an_object():
    assert parse_feed(b'["https://example.com/a"]', "https://example.com/feed.json") == []
    assert parse_feed(b'{"items": {"url": "https://example.com/a"}}', "https://example.com/f") == []
    assert parse_feed(b"{" * 100_000, "https://example.com/feed.json") == []  # deep nesting


# -- Sniffing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "content_type", "url", "kind"), [
    (urlset("https://example.com/a"), "text/xml", "https://example.com/whatever", "sitemap"),
    (index("https://example.com/s.xml"), None, "https://example.com/x", "sitemap"),
    (b'\xef\xbb\xbf <?xml version="1.0"?>\n<!-- gen --><rss version="2.0"/>', None, "https://example.com/x", "feed"),
    ((FIXTURES / "atom.xml").read_bytes(), "application/xml", "https://example.com/x", "feed"),
    ((FIXTURES / "rss1.rdf").read_bytes(), None, "https://example.com/x", "feed"),
    ((FIXTURES / "feed.json").read_bytes(), "application/json", "https://example.com/x", "feed"),
    (b"", "application/rss+xml; charset=utf-8", "https://example.com/x", "feed"),
    (b"", "application/atom+xml", "https://example.com/x", "feed"),
    (b"", "application/feed+json", "https://example.com/x", "feed"),
    (b"", None, "https://example.com/sitemap.xml", "sitemap"),
    (b"", None, "https://example.com/post-sitemap2.xml.gz", "sitemap"),
    (b"", None, "https://example.com/news/feed/", "feed"),
    (b"", None, "https://example.com/index.php?feed=rss2", "feed"),
    (b"", None, "https://example.com/how-to-feed-a-cat", "page"),
    (b"<!DOCTYPE html><html><head><title>Sitemap</title>", "text/html", "https://example.com/sitemap.xml", "page"),
    (b"<html><body>hello</body></html>", None, "https://example.com/feed", "page"),
    (b"plain text", "text/plain", "https://example.com/notes", "page"),
    (b"<<<>>>", None, "https://example.com/x", "page"),
    (b"\x1f\x8b\x08 not really gzip", None, "https://example.com/x", "page"),
    (b'{"items": [', "application/json", "https://example.com/x", "page"),
])
def test_kind_of(body, content_type, url, kind):
    assert kind_of(body, content_type, url) == kind


# -- Discovery ----------------------------------------------------------------------------------


def test_discover_follows_a_sitemap_index_breadth_first():
    web = FakeWeb({
        "https://example.com/sitemap.xml": index(
            "https://example.com/s/a.xml", "https://example.com/s/nested.xml", "https://example.com/s/b.xml.gz"
        ),
        "https://example.com/s/a.xml": urlset("https://example.com/a1", "a2"),
        "https://example.com/s/nested.xml": index("https://example.com/s/deep.xml"),
        "https://example.com/s/b.xml.gz": (gzip.compress(urlset("https://example.com/b1")), "application/gzip"),
        "https://example.com/s/deep.xml": urlset("https://example.com/d1"),
    })
    tasks = tasks_of(discover(["https://example.com/sitemap.xml"], web))
    assert tasks == [
        FetchTask("https://example.com/a1", source="sitemap:https://example.com/s/a.xml"),
        FetchTask("https://example.com/s/a2", source="sitemap:https://example.com/s/a.xml"),
        FetchTask("https://example.com/b1", source="sitemap:https://example.com/s/b.xml.gz"),
        FetchTask("https://example.com/d1", source="sitemap:https://example.com/s/deep.xml"),
    ]
    assert web.calls == [
        "https://example.com/sitemap.xml",
        "https://example.com/s/a.xml",
        "https://example.com/s/nested.xml",
        "https://example.com/s/b.xml.gz",
        "https://example.com/s/deep.xml",
    ]


def test_discover_sitemap_loop_terminates_fetching_each_once():
    web = FakeWeb({
        "https://example.com/sitemap.xml": index(
            "https://example.com/sitemap.xml", "https://example.com/child.xml", "https://EXAMPLE.com/sitemap.xml#x"
        ),
        "https://example.com/child.xml": index("https://example.com/sitemap.xml", "https://example.com/child.xml"),
    })
    assert tasks_of(discover(["https://example.com/sitemap.xml", "https://example.com/child.xml"], web)) == []
    assert web.calls == ["https://example.com/sitemap.xml", "https://example.com/child.xml"]


def test_discover_redirected_sitemap_is_not_fetched_again_and_resolves_against_final_url():
    web = FakeWeb(
        {
            "https://www.example.com/maps/sitemap.xml": index("https://www.example.com/maps/sitemap.xml", "part.xml"),
            "https://www.example.com/maps/part.xml": urlset("page"),
        },
        redirects={"https://example.com/sitemap.xml": "https://www.example.com/maps/sitemap.xml"},
    )
    assert urls(discover(["https://example.com/sitemap.xml"], web)) == ["https://www.example.com/maps/page"]
    assert web.calls == ["https://example.com/sitemap.xml", "https://www.example.com/maps/part.xml"]


def test_discover_max_sitemaps_caps_fetches():
    children = [f"https://example.com/s{i}.xml" for i in range(5)]
    routes = {"https://example.com/sitemap_index.xml": index(*children)}
    routes |= {child: urlset(f"https://example.com/p{i}") for i, child in enumerate(children)}
    web = FakeWeb(routes)
    found = urls(discover(["https://example.com/sitemap_index.xml"], web, max_sitemaps=3))
    assert found == ["https://example.com/p0", "https://example.com/p1"]
    assert len(web.calls) == 3


def test_discover_does_not_follow_off_site_child_sitemaps(caplog):
    web = FakeWeb({
        "https://example.com/sitemap.xml": index("https://example.org/sitemap.xml", "https://news.example.com/s.xml"),
        "https://news.example.com/s.xml": urlset("https://news.example.com/story"),
        "https://example.org/sitemap.xml": urlset("https://example.org/other"),
    })
    with caplog.at_level(logging.WARNING, logger="scraper.sources"):
        assert urls(discover(["https://example.com/sitemap.xml"], web)) == ["https://news.example.com/story"]
    assert "https://example.org/sitemap.xml" not in web.calls
    assert "off-site" in caplog.text


def test_discover_goes_on_when_a_read_fails_and_passes_every_read_on(caplog):
    web = FakeWeb({
        "https://example.com/sitemap.xml": index(
            "https://example.com/one.xml", "https://example.com/broken.xml", "https://example.com/two.xml"
        ),
        "https://example.com/one.xml": urlset("https://example.com/1"),
        "https://example.com/broken.xml": ConnectionResetError("peer went away"),
        "https://example.com/two.xml": urlset("https://example.com/2"),
        "https://example.org/feed": TimeoutError("slow"),
    })
    targets = ["https://example.org/feed", "https://example.com/sitemap.xml", "https://example.test/missing.xml"]
    with caplog.at_level(logging.WARNING, logger="scraper.sources"):
        stream = list(discover(targets, web))
    assert urls(stream) == ["https://example.com/1", "https://example.com/2"]
    assert "peer went away" in caplog.text and "slow" in caplog.text
    # Every read is in the stream as a Page, a failed one with its error: the run records it.
    reads = {page.url: page.error for page in stream if isinstance(page, Page)}
    assert set(reads) == set(web.calls)
    assert "peer went away" in reads["https://example.com/broken.xml"]
    assert reads["https://example.com/one.xml"] is None
    assert "https://example.test/missing.xml" in web.calls  # its KeyError was survived too


def test_discover_feed_targets_and_plain_pages():
    web = FakeWeb({
        "https://example.com/feed.xml": ((FIXTURES / "rss2.xml").read_bytes(), "application/rss+xml"),
        "https://example.com/feed.json": (FIXTURES / "feed.json").read_bytes(),
        "https://example.com/sitemap.xml": (b"<html><body>Soft 404</body></html>", "text/html"),
    })
    tasks = tasks_of(discover([
        "https://example.com/feed.xml", "https://example.com/article", "https://example.com/feed.json",
        "https://example.com/sitemap.xml",
    ], web))
    assert tasks[0] == FetchTask("https://example.com/news/first?a=1&b=2", source="feed:https://example.com/feed.xml")
    assert FetchTask("https://example.com/article", source="cli") in tasks
    assert FetchTask("https://example.org/linked", source="feed:https://example.com/feed.json") in tasks
    # Named like a sitemap but HTML: it is a page after all.
    assert tasks[-1] == FetchTask("https://example.com/sitemap.xml", source="cli")
    assert "https://example.com/article" not in web.calls  # pages are not fetched here


def test_discover_url_files_and_local_pages(tmp_path):
    listing = tmp_path / "seeds.urls"
    listing.write_text("# seeds\nhttps://example.com/a\n\nhttps://example.com/b\n")
    dump = tmp_path / "dump.txt"  # a .txt file is a text page to clean, not a list
    dump.write_text("https://example.com/not-a-task\n")
    packed = tmp_path / "more.urls.gz"
    packed.write_bytes(gzip.compress(b"https://example.org/c\n"))
    page = tmp_path / "page.html"
    page.write_text("<p>hi</p>")
    web = FakeWeb({})
    targets = [str(listing), packed.as_uri(), str(page), str(dump), str(tmp_path / "gone.txt")]
    tasks = tasks_of(discover(targets, web))
    assert tasks == [
        FetchTask("https://example.com/a", source=f"file:{listing}"),
        FetchTask("https://example.com/b", source=f"file:{listing}"),
        FetchTask("https://example.org/c", source=f"file:{packed}"),
        FetchTask(str(page), source="cli"),
        FetchTask(str(dump), source="cli"),
        FetchTask(str(tmp_path / "gone.txt"), source="cli"),  # the fetcher reports it missing
    ]
    assert web.calls == []


def test_discover_dedupes_across_sources_on_the_canonical_url(tmp_path):
    listing = tmp_path / "seeds.urls"
    listing.write_text("https://example.com/story?utm_source=mail\nhttps://example.com/only-in-file\n")
    web = FakeWeb({
        "https://example.com/sitemap.xml": urlset("https://EXAMPLE.com:443/story#top", "https://example.com/s2"),
        "https://example.com/rss": b'<rss><channel><item><link>https://example.com/s2</link></item>'
                                   b"<item><link>https://example.com/story</link></item></channel></rss>",
    })
    targets = [str(listing), "https://example.com/sitemap.xml", "https://example.com/rss", "https://example.com/story"]
    tasks = tasks_of(discover(targets, web))
    assert tasks == [
        FetchTask("https://example.com/story?utm_source=mail", source=f"file:{listing}"),
        FetchTask("https://example.com/only-in-file", source=f"file:{listing}"),
        FetchTask("https://example.com/s2", source="sitemap:https://example.com/sitemap.xml"),
    ]


def test_discover_is_lazy_and_honours_max_urls():
    web = FakeWeb({
        "https://example.com/sitemap.xml": urlset("https://example.com/1", "https://example.com/2"),
        "https://example.org/sitemap.xml": urlset("https://example.org/3"),
    })
    tasks = discover(["https://example.com/sitemap.xml", "https://example.org/sitemap.xml"], web)
    assert web.calls == []  # a generator: nothing fetched before it is asked for
    first_task = next(item for item in tasks if isinstance(item, FetchTask))
    assert first_task.url == "https://example.com/1"
    assert web.calls == ["https://example.com/sitemap.xml"]

    web.calls.clear()
    limited = urls(discover(["https://example.com/sitemap.xml", "https://example.org/sitemap.xml"], web, max_urls=2))
    assert limited == ["https://example.com/1", "https://example.com/2"]
    assert web.calls == ["https://example.com/sitemap.xml"]
