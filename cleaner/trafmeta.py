"""trafilatura's metadata pass without the fields the cleaner never reads.

`trafilatura.metadata.extract_metadata` is run where a page's own declarations fall short
(cleaner.extract.declared_enough): its byline search and htmldate's date search are what the
cleaner wants from it. It also searches the page for categories and a licence (never read
here), for tags and a title even where the page declares its own (which win over it,
cleaner.metadata.merge), and for a host name. This is the same sequence of trafilatura's own
functions with those steps left out, so every field the cleaner reads comes out the same.
It follows trafilatura 2.x's `extract_metadata` (pyproject.toml pins trafilatura to 2.x).
"""

from __future__ import annotations

import logging
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document

log = logging.getLogger(__name__)


def page_metadata(tree: HtmlElement, url: str | None, date_params: dict[str, Any],
                  title: bool = True, tags: bool = True) -> Document:
    """trafilatura's metadata of `tree`, as `extract_metadata(tree, url, date_params)` gives
    it for title, author, date, description, site name, image and tags; `title=False`,
    `tags=False`: the page declares its own, so trafilatura's search for one is skipped."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:  # trafilatura's own rule
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as exc:  # trafilatura guards its JSON-LD reader the same way
        log.debug("trafilatura's JSON-LD reader failed: %s", exc)
    if not metadata.title and title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    metadata.date = find_date(tree, **{**date_params, "url": metadata.url})
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename \
                and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url and (match := META_URL.match(metadata.url)):
        metadata.sitename = match[1]
    if not metadata.tags and tags:
        metadata.tags = extract_catstags("tag", tree)
    metadata.clean_and_trim()
    return metadata
