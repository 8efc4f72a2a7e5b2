"""What every cleaning worker needs, loaded once: imported by the worker pool's fork server
(pipeline.executors), whose forked workers then share it instead of each spawned worker
importing and warming up on its own.

Importing this module costs over a CPU second, and freezes what exists then out of the
garbage collector's view (pipeline.memory.freeze_long_lived).
"""

from __future__ import annotations

import logging

from htmldate.extractors import get_external_parser

from pipeline.executors import CleanSteps  # the cleaner, trafilatura, numpy, zstd
from pipeline.memory import freeze_long_lived
from records import Page

log = logging.getLogger(__name__)

# Enough for trafilatura, htmldate and the cleaner to build what they build on a first page.
SAMPLE = ("<html><head><title>Sample</title></head><body><article><h1>Sample</h1>"
          + "<p>Published on 3 March 2021. A paragraph of text that reads like prose.</p>" * 6
          + "</article></body></html>").encode()


def warm_up() -> None:
    # dateparser finds a date's language by trying its locales, building each one's regular
    # expressions on first use: about a second for all of them, paid by every worker that
    # meets dates written in many languages (htmldate asks it for those). A string that no
    # locale reads makes it build them all, here, once.
    get_external_parser().get_date_data("3 qqzx 2021 zzqx")
    page = Page(url="https://example.com/sample", final_url="https://example.com/sample",
                status=200, content_type="text/html", body=SAMPLE, bytes=len(SAMPLE),
                encoding="utf-8", fetched_at="2026-01-01T00:00:00+00:00")
    list(CleanSteps()([page]))


try:
    warm_up()
except Exception:  # a warm-up only: the workers do the same work on their first pages
    log.exception("warming up the cleaning workers failed")
freeze_long_lived()  # what the workers are forked from
