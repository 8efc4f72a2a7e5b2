"""The fetcher as the sites it visits see it: robots.txt, pacing per host, limits, retries,
and the refusal of private addresses. Real servers on 127.0.0.1 (the `site` fixture), also
reached as "localhost": a second host name, so a second host.

Timing assertions are correctness bounds (no pacing would be ~0 s), not benchmarks.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
import sqlite_utils

from pipeline.cli import build_parser, main
from pipeline.options import fetch_config
from records import FetchTask, Page
from scraper import AsyncFetcher, FetchConfig, Fetcher
from scraper.addresses import refused_kind
from scraper.hosts import backoff, parse_retry_after
from scraper.robots import agent_token
from scraper.transports import (
    GuardedAiohttpTransport,
    GuardedTransport,
    network_transport,
)

HTML = "<html><body><p>A page.</p></body></html>"
SCRAPE = str(Path(sys.executable).parent / "scrape")


def paced(delay: float) -> float:
    """The least gap the server may see between two requests paced `delay` apart. Pacing
    counts from each request's start; on a loaded machine one request's arrival can lag its
    start by a good part of a second more than the next one's (the first of a host also
    opens its connection). Unpaced requests arrive milliseconds apart, far below this."""
    return 0.75 * delay


def config(**overrides: object) -> FetchConfig:
    """The defaults (robots.txt obeyed) with 127.0.0.1 allowed, no pacing, quick retries."""
    settings: dict[str, object] = {"allow_private": True, "delay": 0.0, "retry_backoff": 0.01}
    return FetchConfig(**{**settings, **overrides})  # type: ignore[arg-type]


def fetch_all(cfg: FetchConfig, urls: list[str]) -> dict[str, Page]:
    with Fetcher(cfg) as fetcher:
        return {page.url: page for page in fetcher(FetchTask(u) for u in urls)}


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def refused_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- robots.txt ----------------------------------------------------------------------------


def test_robots_disallow_is_obeyed_and_read_once(site):
    site.add("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    site.add("/public/a", HTML)
    site.add("/private/b", HTML)
    urls = [site.url("/public/a"), site.url("/private/b"), site.url("/private/b?x=1")] * 2
    pages = fetch_all(config(), urls)
    assert pages[site.url("/public/a")].ok
    for url in (site.url("/private/b"), site.url("/private/b?x=1")):
        page = pages[url]
        assert page.outcome == "fetch.robots" and page.body == b"" and not page.ok
        assert page.error.startswith(f"robots.txt of {site.url('')} disallows /private/b")
        assert "user agent 'scrape-clean'" in page.error
        assert "--" not in page.error  # the command adds its option (pipeline/hints.py)
    assert site.requests.count("/robots.txt") == 1  # six tasks at once, one robots.txt
    assert site.paths() == ["/public/a", "/public/a"]  # the disallowed pages were never asked


def test_the_command_names_the_option_that_lifts_a_robots_refusal(site, tmp_path, capsys):
    site.add("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    site.add("/private/b", HTML)
    assert main(["clean", "--allow-private", site.url("/private/b")]) == 1
    assert "(use --no-robots to ignore robots.txt)" in capsys.readouterr().err
    db_path = tmp_path / "x.db"
    assert main(["ingest", "--allow-private", "--db", str(db_path), site.url("/private/b")]) == 1
    error = sqlite_utils.Database(db_path).execute("SELECT error FROM fetches").fetchone()[0]
    assert error.endswith("disallows /private/b for user agent 'scrape-clean' "
                          "(use --no-robots to ignore robots.txt)")


@pytest.mark.parametrize(
    ("robots", "user_agent", "allowed"),
    [
        ("User-agent: scrape-clean\nDisallow: /\n\nUser-agent: *\nDisallow:\n", None, False),
        ("User-agent: scrape-clean\nDisallow: /\n", "otherbot/2.0 (+https://x.test/)", True),
        ("User-agent: otherbot\nDisallow: /\n", "OtherBot/2.0", False),
        # "example" occurs in our contact URL, but it is not our product token.
        ("User-agent: example\nDisallow: /\n", None, True),
        ("User-agent: *\nDisallow: /\n", None, False),
    ],
)
def test_robots_groups_match_the_user_agent_token(site, robots, user_agent, allowed):
    site.add("/robots.txt", robots, content_type="text/plain")
    url = site.add("/page", HTML)
    cfg = config() if user_agent is None else config(user_agent=user_agent)
    page = fetch_all(cfg, [url])[url]
    assert (page.outcome == "fetched") is allowed, page.error


def test_agent_token():
    assert agent_token(FetchConfig().user_agent) == "scrape-clean"
    assert agent_token("  MyBot_2/1.0") == "mybot_"
    assert agent_token("/1.0") == "*"


@pytest.mark.parametrize("status", [403, 404, 410])
def test_robots_4xx_allows_everything(site, status):
    site.add("/robots.txt", "User-agent: *\nDisallow: /\n", status=status)
    url = site.add("/page", HTML)
    assert fetch_all(config(), [url])[url].ok


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_5xx_disallows_everything(site, status):
    site.add("/robots.txt", "oops", status=status)
    url = site.add("/page", HTML)
    page = fetch_all(config(), [url])[url]
    assert page.outcome == "fetch.robots" and not page.ok
    assert f"robots.txt of {site.url('')} answered HTTP {status}" in page.error
    assert "(3 attempts)" in page.error and "disallowing everything" in page.error
    assert site.requests == ["/robots.txt"] * 3  # retried like any request; the page never


def test_robots_unreachable_disallows_and_says_why():
    port = refused_port()
    url = f"http://127.0.0.1:{port}/page"
    page = fetch_all(config(max_attempts=1), [url])[url]
    assert page.outcome == "fetch.connect_error"
    assert page.error.startswith(f"robots.txt of http://127.0.0.1:{port} could not be fetched")
    assert "the page was not requested" in page.error


def test_no_robots_fetches_what_robots_disallows(site):
    site.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    url = site.add("/page", HTML)
    assert fetch_all(config(obey_robots=False), [url])[url].ok
    assert site.requests == ["/page"]


def test_robots_of_a_redirect_target_is_obeyed(site):
    # /old (allowed) redirects to /moved (disallowed) on "localhost", another host: its
    # robots.txt is read too before the hop.
    site.add("/robots.txt", "User-agent: *\nDisallow: /moved\n", content_type="text/plain")
    url = site.redirect("/old", site.url("/moved", host="localhost"))
    site.add("/moved", HTML)
    page = fetch_all(config(), [url])[url]
    assert page.outcome == "fetch.robots"
    assert page.error.startswith(f"robots.txt of {site.url('', host='localhost')} disallows")
    assert [(h.host, h.path) for h in site.hits] == [
        ("127.0.0.1", "/robots.txt"), ("127.0.0.1", "/old"), ("localhost", "/robots.txt")]


def test_reading_robots_txt_does_not_use_the_pages_time_budget(site):
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain", delay=0.2)
    url = site.add("/page", HTML, delay=0.2)
    page = fetch_all(config(total_timeout=0.3, max_attempts=1), [url])[url]
    assert page.ok, page.error  # 0.2 s for robots.txt + 0.2 s for the page, 0.3 s each


def test_crawl_delay_paces_the_host(site):
    site.add("/robots.txt", "User-agent: *\nCrawl-delay: 0.5\n", content_type="text/plain")
    urls = [site.add(f"/p{i}", HTML) for i in range(2)]
    started = time.monotonic()
    pages = fetch_all(config(delay=0.0), urls)
    assert all(p.ok for p in pages.values())
    assert site.hits[0].path == "/robots.txt"
    assert all(g >= paced(0.5) for g in gaps([h.at for h in site.hits])), site.hits
    assert time.monotonic() - started >= 0.95  # robots.txt, then 2 pages 0.5 s apart (our clock)


# -- pacing and limits ---------------------------------------------------------------------


def test_one_host_is_paced_and_two_hosts_go_in_parallel(site):
    for i in range(3):
        site.add(f"/{i}", HTML)
    hosts = ("127.0.0.1", "localhost")
    urls = [site.url(f"/{i}", host=h) for i in range(3) for h in hosts]
    started = time.monotonic()
    pages = fetch_all(config(delay=1.0, obey_robots=False), urls)
    elapsed = time.monotonic() - started
    assert sorted(pages) == sorted(urls) and all(p.ok for p in pages.values())
    for host in hosts:
        times = [h.at for h in site.hits if h.host == host]
        assert len(times) == 3
        # N requests to one host with delay=1 take at least N-1 seconds...
        assert all(g >= paced(1.0) for g in gaps(times)), (host, gaps(times))
    # ...and the two hosts were paced side by side: 2 s, not the 4 s of one after the other.
    assert elapsed < 3.0
    first = [next(h.at for h in site.hits if h.host == host) for host in hosts]
    assert abs(first[0] - first[1]) < 0.5


def test_a_slow_host_does_not_hold_back_another(site):
    site.add("/slow", HTML, delay=1.0)
    site.add("/fast", HTML)
    slow = [FetchTask(site.url("/slow") + f"?{i}") for i in range(2)]
    fast = [FetchTask(site.url("/fast", host="localhost") + f"?{i}") for i in range(3)]
    # Two global slots: the slow host takes one, and its second task waits for the slow host
    # without taking the other, which the fast host uses.
    cfg = config(concurrency=2, per_host=1, obey_robots=False)
    started = time.monotonic()
    seen = []
    with Fetcher(cfg) as fetcher:
        for page in fetcher(slow + fast):
            seen.append(page)
            if len(seen) == 3:
                break  # the rest is cancelled
        fast_done = time.monotonic() - started
    assert sorted(p.url for p in seen) == sorted(t.url for t in fast)
    assert all(p.ok for p in seen)
    assert fast_done < 0.8  # before the slow host answered even once


def test_concurrency_and_per_host_limits_hold():
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    total = {"now": 0, "peak": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        active[host] = active.get(host, 0) + 1
        total["now"] += 1
        peak[host] = max(peak.get(host, 0), active[host])
        total["peak"] = max(total["peak"], total["now"])
        await asyncio.sleep(0.03)
        active[host] -= 1
        total["now"] -= 1
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=HTML.encode())

    tasks = [FetchTask(f"http://h{h}.test/{i}") for i in range(3) for h in range(6)]
    cfg = config(concurrency=4, per_host=2, obey_robots=False)

    async def main() -> list[Page]:
        async with AsyncFetcher(cfg, transport=httpx.MockTransport(handler)) as fetcher:
            return [page async for page in fetcher.run(tasks)]

    pages = asyncio.run(main())
    assert len(pages) == 18 and all(p.ok for p in pages)
    assert total["peak"] == 4  # the global limit, reached and never passed
    assert max(peak.values()) <= 2


def test_tasks_are_read_lazily_with_a_bounded_window():
    pulled = []

    def many():  # finite, so a fetcher that reads everything ahead fails rather than hangs
        for i in range(20_000):
            pulled.append(i)
            yield FetchTask(f"http://lazy.test/{i}")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<p>x</p>")

    cfg = config(concurrency=3, obey_robots=False)
    with Fetcher(cfg, transport=httpx.MockTransport(handler)) as fetcher:
        pages = fetcher(many())
        assert next(pages).ok
        assert len(pulled) <= 2 * 3  # the window: 2 * concurrency tasks ahead
        for _ in range(20):
            assert next(pages).ok
        assert len(pulled) <= 21 + 2 * 3
        pages.close()
    assert len(pulled) <= 21 + 2 * 3  # nothing read after the consumer stopped

    async def main() -> int:
        seen = 0
        async with AsyncFetcher(cfg, transport=httpx.MockTransport(handler)) as fetcher:
            async for page in fetcher.run(many()):
                seen += page.ok
                if seen == 10:
                    break
        return seen

    pulled.clear()
    assert asyncio.run(main()) == 10
    assert len(pulled) <= 10 + 2 * 3


def test_async_fetcher_fetch_and_run_never_raise(site, tmp_path):
    site.add("/a", HTML)
    (tmp_path / "local.html").write_text(HTML, encoding="utf-8")
    tasks = [FetchTask(site.url("/a")), FetchTask(site.url("/missing")), FetchTask("ftp://x.test/"),
             FetchTask(str(tmp_path / "local.html")), FetchTask("")]

    async def main() -> tuple[Page, dict[str, str]]:
        async with AsyncFetcher(config()) as fetcher:
            one = await fetcher.fetch(tasks[0])
            outcomes = {p.url: p.outcome async for p in fetcher.run(tasks)}
        return one, outcomes

    one, outcomes = asyncio.run(main())
    assert one.ok and one.body == HTML.encode()
    assert [outcomes[t.url] for t in tasks] == [
        "fetched", "fetch.http_404", "fetch.bad_url", "fetched", "fetch.bad_url"]


# -- retries -------------------------------------------------------------------------------


def answers(*responses: tuple[int, dict[str, str]]):
    """A handler for `site.handle` giving these (status, headers) in turn, then 200 HTML."""
    remaining = list(responses)

    def handler(request_handler):
        status, headers = remaining.pop(0) if remaining else (200, {})
        body = HTML.encode() if status == 200 else b"busy"
        request_handler.send_response(status)
        for name, value in {"Content-Type": "text/html", **headers}.items():
            request_handler.send_header(name, value)
        request_handler.send_header("Content-Length", str(len(body)))
        request_handler.end_headers()
        request_handler.wfile.write(body)

    return handler


def test_503_then_200_is_one_good_page(site):
    url = site.handle("/flaky", answers((503, {})))
    page = fetch_all(config(obey_robots=False), [url])[url]
    assert page.ok and page.outcome == "fetched" and page.status == 200
    assert site.requests == ["/flaky", "/flaky"]


def test_429_with_retry_after_seconds_is_waited_for(site):
    url = site.handle("/busy", answers((429, {"Retry-After": "1"})))
    page = fetch_all(config(obey_robots=False), [url])[url]
    assert page.ok and site.requests == ["/busy", "/busy"]
    assert gaps([h.at for h in site.hits])[0] >= paced(1.0)  # not the 0.01 s backoff


def test_retry_after_longer_than_max_retry_wait_fails_at_once(site):
    url = site.handle("/later", answers((429, {"Retry-After": "120"})))
    started = time.monotonic()
    page = fetch_all(config(obey_robots=False, max_retry_wait=5.0), [url])[url]
    assert time.monotonic() - started < 1.0
    assert page.outcome == "fetch.http_429"
    assert page.error == ("HTTP 429 Too Many Requests (the server asked to retry after 120 s, "
                          "more than max_retry_wait 5 s: not retried)")
    assert site.requests == ["/later"]


def test_a_retried_failure_keeps_the_last_outcome(site):
    url = site.handle("/worse", answers((503, {}), (502, {}), (500, {})))
    page = fetch_all(config(obey_robots=False), [url])[url]
    assert page.outcome == "fetch.http_500" and page.status == 500
    assert page.error == "HTTP 500 Internal Server Error (3 attempts)"
    page = fetch_all(config(obey_robots=False, max_attempts=1),
                     [site.handle("/once", answers((503, {})))])[site.url("/once")]
    assert page.error == "HTTP 503 Service Unavailable"  # one attempt: nothing added


def test_parse_retry_after():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) is None


def test_backoff_is_exponential_with_full_jitter():
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (10, 60.0)]:
        waits = [backoff(attempt, 0.5, 60.0) for _ in range(200)]
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > cap / 2 and min(waits) < cap / 2  # spread over the whole range


# -- private addresses ---------------------------------------------------------------------


# Both network transports carry the guard: aiohttp's (the default) and httpcore's.
TRANSPORTS = ["aiohttp", "httpcore"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_loopback_is_refused_by_default(site, transport):
    url = site.add("/page", HTML)
    page = fetch_all(FetchConfig(transport=transport), [url])[url]
    assert page.outcome == "fetch.private_address" and not page.ok
    assert page.error == "refused: 127.0.0.1 is a loopback address"
    assert site.requests == []  # not even robots.txt


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_host_name_resolving_to_loopback_is_refused(site, transport):
    url = site.add("/page", HTML).replace("127.0.0.1", "localhost")
    page = fetch_all(FetchConfig(obey_robots=False, transport=transport), [url])[url]
    assert page.outcome == "fetch.private_address"
    assert page.error == "refused: localhost resolves to 127.0.0.1, a loopback address"
    assert site.requests == []


class Router(httpx.AsyncBaseTransport):
    """news.test is a public site (answered here, nothing resolved); everything else goes
    to the real network transport, the one with the address guard."""

    def __init__(self, to: str, network: httpx.AsyncBaseTransport) -> None:
        self.to, self.network = to, network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "news.test":
            return await self.network.handle_async_request(request)
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(302, headers={"Location": self.to})

    async def aclose(self) -> None:
        await self.network.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("obey_robots", [True, False])
def test_a_redirect_to_a_private_address_is_refused(site, obey_robots, transport):
    target = site.add("/internal", HTML).replace("127.0.0.1", "localhost")
    cfg = FetchConfig(delay=0, obey_robots=obey_robots, transport=transport)
    with Fetcher(cfg, transport=Router(target, network_transport(cfg))) as fetcher:
        page = fetcher.fetch(FetchTask("http://news.test/story"))
    assert page.outcome == "fetch.private_address"
    assert page.error == "refused: localhost resolves to 127.0.0.1, a loopback address"
    assert page.final_url == "http://news.test/story"  # the last response seen: the redirect
    assert site.requests == []  # checked at the hop, before anything was sent


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_allow_private_applies_to_the_guard(site, transport):
    url = site.add("/page", HTML).replace("127.0.0.1", "localhost")
    cfg = FetchConfig(delay=0, obey_robots=False, allow_private=True, transport=transport)
    with Fetcher(cfg, transport=Router(url, network_transport(cfg))) as fetcher:
        page = fetcher.fetch(FetchTask("http://news.test/story"))
    assert page.ok and page.final_url == url


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1]:9/page", "refused: ::1 is a loopback address"),
        ("http://10.1.2.3/page", "refused: 10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest", "refused: 169.254.169.254 is a link-local address"),
    ],
)
def test_ip_literals_are_refused_before_connecting(url, message, transport):
    # Nothing listens there (and 10.1.2.3 is not routed to): refused before any connection.
    page = fetch_all(FetchConfig(obey_robots=False, transport=transport), [url])[url]
    assert page.outcome == "fetch.private_address"
    assert page.error == message


def test_the_default_transport_is_aiohttp_and_httpcore_remains():
    assert FetchConfig().transport == "aiohttp"
    assert isinstance(network_transport(FetchConfig()), GuardedAiohttpTransport)
    assert isinstance(network_transport(FetchConfig(transport="httpcore")), GuardedTransport)
    with pytest.raises(ValueError, match="unknown transport"):
        network_transport(FetchConfig(transport="curl"))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_both_transports_fetch_and_keep_cookies(site, transport):
    def set_cookie(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Set-Cookie", "session=abc; Path=/")
        handler.send_header("Content-Length", str(len(HTML)))
        handler.end_headers()
        handler.wfile.write(HTML.encode())

    sent: list[str | None] = []

    def echo(handler):
        sent.append(handler.headers.get("Cookie"))
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(HTML)))
        handler.end_headers()
        handler.wfile.write(HTML.encode())

    first, second = site.handle("/login", set_cookie), site.handle("/next", echo)
    with Fetcher(config(obey_robots=False, transport=transport)) as fetcher:
        assert fetcher.fetch(FetchTask(first)).ok
        page = fetcher.fetch(FetchTask(second))
    assert page.ok and page.body == HTML.encode() and page.encoding == "utf-8"
    assert sent == ["session=abc"]  # httpx's jar, the same with either transport


def test_local_files_are_not_affected(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    page = fetch_all(FetchConfig(), [str(path)])[str(path)]
    assert page.ok and page.body == HTML.encode()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("172.16.5.4", "private"),
        ("fd00::1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"), ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"), ("not an address", "unrecognised"),
        ("1.1.1.1", None), ("2606:4700::1111", None),  # classified only, never contacted
    ],
)
def test_refused_kind(address, kind):
    assert refused_kind(address) == kind


# -- the command line ----------------------------------------------------------------------


def test_cli_fetch_options_reach_the_config():
    args = build_parser().parse_args([
        "ingest", "x.html", "--delay", "0.25", "--concurrency", "5", "--per-host", "1",
        "--retries", "4", "--user-agent", "mybot/1 (+https://bot.test/)", "--no-robots",
        "--allow-private", "--timeout", "7"])
    cfg = fetch_config(args)
    assert (cfg.delay, cfg.concurrency, cfg.per_host, cfg.max_attempts) == (0.25, 5, 1, 4)
    assert cfg.user_agent == "mybot/1 (+https://bot.test/)"
    assert not cfg.obey_robots and cfg.allow_private and cfg.total_timeout == 7
    defaults = fetch_config(build_parser().parse_args(["clean", "x.html"]))
    assert defaults == FetchConfig()
    for bad in (["--concurrency", "0"], ["--per-host", "-1"], ["--retries", "0"],
                ["--delay", "-1"], ["--delay", "nan"]):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(["ingest", "x.html", *bad])
        assert exit_info.value.code == 2


def test_cli_refuses_loopback_without_allow_private(site, tmp_path):
    url = site.add("/page", HTML)
    proc = subprocess.run([SCRAPE, "ingest", "--db", str(tmp_path / "x.db"), url],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stdout.startswith("fetch.private_address")
    assert "refused: 127.0.0.1 is a loopback address (use --allow-private to allow)" in proc.stdout
    assert site.requests == []

