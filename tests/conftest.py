"""Shared fixtures: a real HTTP server on 127.0.0.1 (`site`), the fixtures directory, and a
new database (`fresh_db`).

The server is reachable as 127.0.0.1 and as localhost: two host names, so two hosts for
the fetcher's per-host pacing. The fetcher refuses loopback addresses by default; tests pass
FetchConfig(allow_private=True) (or --allow-private) to use it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlite_utils


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Answers the request itself instead (faults: slow bodies, resets, short bodies).
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it."""

    at: float  # time.monotonic() when it arrived
    host: str  # the Host header without the port: "127.0.0.1" or "localhost"
    path: str


class Site:
    """Routes served by a ThreadingHTTPServer on 127.0.0.1; unknown paths get a 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []  # request targets in arrival order, e.g. "/a?x=1"
        self.hits: list[Hit] = []  # the same requests, with arrival time and host name
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # Client disconnects (a test's timeout) are expected; keep them out of the output.
        self._server.handle_error = lambda *args: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def add(
        self,
        path: str,
        body: bytes | str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = "text/html; charset=utf-8",
        delay: float = 0.0,
    ) -> str:
        """Serve `body` at `path`; `delay` seconds pass before the headers are sent.

        content_type=None sends no Content-Type header. Returns the route's URL.
        """
        all_headers = {"Content-Type": content_type} if content_type is not None else {}
        all_headers.update(headers or {})
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, all_headers, delay)
        return self.url(path)

    def handle(self, path: str, handler: Callable[[BaseHTTPRequestHandler], None]) -> str:
        """Let `handler(request_handler)` answer `path` by writing to its wfile itself."""
        self.routes[path] = Route(b"", handler=handler)
        return self.url(path)

    def redirect(self, path: str, to_path: str, status: int = 302) -> str:
        """Answer `path` with a redirect to `to_path` (a path or a full URL)."""
        return self.add(path, b"", status=status, headers={"Location": to_path}, content_type=None)

    def url(self, path: str, host: str | None = None) -> str:
        """The URL of `path`; `host="localhost"` names the same server differently."""
        address, port = self._server.server_address[:2]
        return f"http://{host or address}:{port}{path}"

    def paths(self, host: str | None = None) -> list[str]:
        """Request targets in arrival order, without robots.txt; only `host`'s if given."""
        return [h.path for h in self.hits
                if h.path != "/robots.txt" and (host is None or h.host == host)]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like real servers
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            site.hits.append(Hit(time.monotonic(), host, self.path))
            site.requests.append(self.path)
            route = site.routes.get(self.path) or site.routes.get(urlsplit(self.path).path)
            if route is None:
                route = Route(b"not found", 404, {"Content-Type": "text/plain"})
            if route.handler is not None:
                route.handler(self)
                return
            if route.delay:
                time.sleep(route.delay)
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if not any(name.lower() == "content-length" for name in route.headers):
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet test output

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    """A live HTTP server on 127.0.0.1 for one test; see `Site` for the API."""
    server = Site()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    """A new database in a file (`fresh.db` in tmp_path), prepared as the scraper opens one
    (store.open_db: WAL, migrations); Store and History take it in place of a path, and
    store.db.db_file(fresh_db) is its path for a command or another connection."""
    from store import open_db

    db = open_db(tmp_path / "fresh.db")
    try:
        yield db
    finally:
        db.close()
