"""The reader (pipeline/web) served by Datasette on an ephemeral loopback port, for tests.

    with serve(db_path) as base:    # "http://127.0.0.1:PORT"
        httpx.get(base + "/search?q=word")

Datasette opens the file as `make browse` does (mutable: read-only connections), and finds
the plugin through its entry point, as an installed package does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from datasette.app import Datasette


@contextmanager
def serve(db_path: str | Path, timeout: float = 30.0) -> Iterator[str]:
    """Serve `db_path` until the block ends; yields the base URL."""
    datasette = Datasette([str(db_path)])
    config = uvicorn.Config(datasette.app(), host="127.0.0.1", port=0, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the reader's server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
