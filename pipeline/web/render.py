"""An article's body and a hit's snippet as HTML that is safe to put in a page.

The body is the stored `markdown` rendered by markdown-it-py with raw HTML off (any `<` in
it is shown as text) and its link checks on (no `javascript:` URL); images become links, so
reading a page never loads anything from another site. Without `markdown` (articles stored
before it existed), each line of `text` is a paragraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from store.snippets import CLOSE, OPEN


# Render rules: markdown-it-py binds them to its renderer (`renderer` is its `self`).
def _image_as_link(renderer: Any, tokens: Sequence[Any], idx: int, options: Any,
                   env: Any) -> str:
    token = tokens[idx]
    src = escape(token.attrGet("src") or "")
    alt = escape("".join(child.content for child in token.children or []) or "image")
    return f'<a class="image" href="{src}" rel="nofollow noreferrer">[image: {alt}]</a>'


def _link_open(renderer: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "nofollow noreferrer")
    return str(renderer.renderToken(tokens, idx, options, env))


def markdown_parser() -> MarkdownIt:
    """CommonMark with GFM tables, raw HTML shown as text, images as links."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("image", _image_as_link)
    md.add_render_rule("link_open", _link_open)
    return md


def body_html(md: MarkdownIt, markdown: str | None, text: str | None) -> Markup:
    """The body for the reading view: `markdown` without its headline (the page shows the
    headline itself), or `text` as paragraphs."""
    if markdown:
        first, _, rest = markdown.partition("\n")
        if first.startswith("# "):  # the cleaner writes the headline as the first line
            markdown = rest
        return Markup(md.render(markdown))
    return Markup("".join(f"<p>{escape(line)}</p>\n" for line in (text or "").split("\n")
                          if line.strip()))


def snippet_html(snippet: str) -> Markup:
    """A snippet whose matches are between store.snippets' OPEN and CLOSE marks, escaped,
    the matches in <mark>."""
    return Markup(str(escape(snippet)).replace(OPEN, "<mark>").replace(CLOSE, "</mark>"))
