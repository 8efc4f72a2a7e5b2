"""The `markdown` field: an article's kept lines, each with the block it came from
(cleaner.blocks), as CommonMark with GFM tables.

The blocks are written out as plain semantic HTML (text escaped) and markdownify renders it:
heading markers, list nesting, quotes, tables and the escaping of Markdown's special
characters in text are the library's. The headline is "# "; the article's own headings keep
their order of rank from "##" down.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from itertools import groupby

from markdownify import MarkdownConverter

from .blocks import HEADING, ITEM, PRE, QUOTE, ROW, RULE, Block
from .media import Image, Media
from .text import fold, split_paragraphs

_BACKTICKS = re.compile(r"`+")
# Characters that are markup wherever they stand: code spans, links, raw HTML and entities,
# strikethrough, table cells, the escape itself (emphasis is markdownify's own option).
_INLINE = re.compile(r"([\\`\[\]<&~|])")
# Markup only at the start of a line: a list marker, a heading's "#", a quote's ">", a
# setext underline. Every line starts a text node here (a block or a <br> before it).
_LINE_START = re.compile(r"^(\s*)(?:(#{1,6})(?=\s|$)|([-+>=])|(\d{1,9})([.)])(?=\s|$))")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# A heading's closing "#"s, which CommonMark strips.
_CLOSING_HASHES = re.compile(r"(\s)(#+)(\s*)$")


def _escape_start(m: re.Match[str]) -> str:
    lead, hashes, other, number, dot = m.groups()
    if number is not None:
        return f"{lead}{number}\\{dot}"
    return f"{lead}\\{hashes or other}"


class _Converter(MarkdownConverter):
    def escape(self, text, parent_tags):  # type: ignore[no-untyped-def]
        """markdownify's escaping of emphasis, and of the rest only where it is markup: its
        own escape_misc also escapes a "1." or a "-" after any space ("in 2019\\. The")."""
        if not text:
            return ""
        text = _INLINE.sub(r"\\\1", text)
        text = super().escape(text, parent_tags)
        if parent_tags & _HEADINGS:
            text = _CLOSING_HASHES.sub(r"\1\\\2\3", text)
        return _LINE_START.sub(_escape_start, text)

    def convert_pre(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        """A fence longer than any run of backticks in the code (markdownify's is always
        three, which a code block holding ``` would close)."""
        rendered = super().convert_pre(el, text, parent_tags)
        longest = max((len(m) for m in _BACKTICKS.findall(text or "")), default=0)
        if longest < 3:
            return rendered
        fence = "`" * (longest + 1)
        return rendered.replace("```", fence, 1)[::-1].replace("```", fence, 1)[::-1]


_CONVERTER = _Converter(heading_style="ATX", bullets="-", escape_misc=False,
                        escape_asterisks=True, escape_underscores=True)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def render(title: str | None, lines: Iterable[tuple[str, Block]], media: Media | None = None,
           lead: Image | None = None) -> str:
    """Markdown of an article: `title` as "# ", then `lines` (text lines with their blocks).

    With `media` (cleaner.media), a line's links become Markdown links and the page's images
    between the first and the last line are put at the start of the block they precede;
    `lead`, the article's own image, goes under the headline unless it is one of them."""
    return _convert(_Document(media).html(title, list(lines), lead))


def from_text(title: str | None, text: str) -> str:
    """Markdown of a plain-text body: the title as "# ", each line a paragraph, escaped."""
    parts = [f"<h1>{_esc(title)}</h1>"] if title else []
    parts += [f"<p>{_esc(line)}</p>" for line in text.splitlines() if line.strip()]
    return _convert("".join(parts))


def _convert(document: str) -> str:
    out = _CONVERTER.convert(document).strip()
    return out + "\n" if out else ""


class _Document:
    """The article as HTML for markdownify."""

    def __init__(self, media: Media | None) -> None:
        self.media = media

    def text(self, line: str) -> str:
        """A line escaped, with its links when asked for."""
        links = self.media.links.get(fold(line)) if self.media is not None else None
        if not links:
            return _esc(line)
        out, done = [], 0  # the line up to `done` is written
        for anchor, url, earlier in links:
            at = -1
            for _ in range(earlier + 1):  # its own occurrence, not an earlier one
                at = line.find(anchor, at + 1)
            if at < done:
                continue
            out.append(_esc(line[done:at]))
            out.append(f'<a href="{html.escape(url)}">{_esc(anchor)}</a>')
            done = at + len(anchor)
        return "".join(out) + _esc(line[done:])

    def html(self, title: str | None, lines: list[tuple[str, Block]],
             lead: Image | None) -> str:
        ranks = sorted({b.level for _, b in lines if b.kind == HEADING})
        levels = {level: min(6, 2 + i) for i, level in enumerate(ranks)}
        parts = [f"<h1>{_esc(title)}</h1>"] if title else []
        images = self._images(lines, title)
        if lead is not None and all(lead.src != image.src for _, image in images):
            parts.append(_figure(lead))
        # Runs of lines of one container (a list, a table, a quote), then of one block.
        for (kind, _), run in groupby(lines, key=_container):
            blocks = [list(u) for _, u in groupby(run, key=lambda lb: lb[1].unit)]
            place = self._place(blocks[0][0][0])
            while images and place is not None and images[0][0] < place:
                parts.append(_figure(images.pop(0)[1]))
            if kind == ITEM:
                parts.append(self._list(blocks))
            elif kind == ROW:
                parts.append(_table([b for b in blocks if b[0][1].kind == ROW]))
            elif kind == QUOTE:
                parts.append("<blockquote>" + "".join(self._paragraph(b) for b in blocks)
                             + "</blockquote>")
            else:
                parts.extend(self._single(b, levels) for b in blocks)
        return "".join(parts)

    def _place(self, line: str) -> int | None:
        return self.media.order.get(fold(line)) if self.media is not None else None

    def _images(self, lines: list[tuple[str, Block]],
                title: str | None) -> list[tuple[int, Image]]:
        """The page's images from the headline (or the first line) to the last line."""
        if self.media is None or not self.media.images:
            return []
        places = [p for p in (self._place(t) for t, _ in lines) if p is not None]
        if not places:
            return []
        first, last = min(places), max(places)
        headline = self._place(title) if title else None
        if headline is not None and headline < first:
            first = headline
        return [(i, image) for i, image in self.media.images if first < i < last]

    def _single(self, block: list[tuple[str, Block]], levels: dict[int, int]) -> str:
        first = block[0][1]
        if first.kind == HEADING:
            level = levels[first.level]
            return f"<h{level}>{self.text(' '.join(t for t, _ in block))}</h{level}>"
        if first.kind == PRE:  # the code as written when all of it is kept
            lines = [t for t, _ in block]
            code = first.raw if split_paragraphs(first.raw) == lines else "\n".join(lines)
            return f"<pre><code>{_esc(code.strip(chr(10)))}</code></pre>"
        if first.kind == QUOTE:  # a quote element with text of its own
            return f"<blockquote>{self._paragraph(block)}</blockquote>"
        return self._paragraph(block)

    def _paragraph(self, block: list[tuple[str, Block]]) -> str:
        return "<p>" + "<br>".join(self.text(t) for t, _ in block) + "</p>"

    def _item_text(self, block: list[tuple[str, Block]]) -> str:
        texts = [t for t, _ in block]
        texts[0] = texts[0].removeprefix("- ")  # trafilatura's marker, not the item's text
        return "<br>".join(self.text(t) for t in texts)

    def _list(self, blocks: list[list[tuple[str, Block]]]) -> str:
        """Nested <ul>/<ol> from items with their depths; a depth with no parent item kept
        (the post-pass dropped it) hangs from the item above."""
        out: list[str] = []
        stack: list[str] = []  # open list tags, one per depth
        for block in blocks:
            item = block[0][1]
            depth = min(item.level, len(stack))  # never more than one level below the last
            tag = "ol" if item.ordered else "ul"
            if len(stack) == depth + 1 and stack[-1] != tag:  # another kind of list here
                out.append(f"</li></{stack.pop()}>")
            while len(stack) > depth + 1:
                out.append(f"</li></{stack.pop()}>")
            if len(stack) == depth + 1:
                out.append("</li>")
            else:
                out.append(f"<{tag}>")
                stack.append(tag)
            out.append(f"<li>{self._item_text(block)}")
        while stack:
            out.append(f"</li></{stack.pop()}>")
        return "".join(out)


def _figure(image: Image) -> str:
    out = f'<p><img src="{html.escape(image.src)}" alt="{html.escape(image.alt)}"></p>'
    return out + (f"<p><em>{_esc(image.caption)}</em></p>" if image.caption else "")


def _container(line: tuple[str, Block]) -> tuple[str, int]:
    block = line[1]
    kind = ROW if block.kind == RULE else block.kind
    if kind in (ITEM, ROW, QUOTE) and block.group >= 0:
        return kind, block.group
    return "", block.unit  # a block on its own


def _table(rows: list[list[tuple[str, Block]]]) -> str:
    """A table padded to its widest row (GFM drops cells beyond the header's)."""
    blocks = [r[0][1] for r in rows]
    width = max((len(b.cells) for b in blocks), default=0)
    if not width:
        return ""
    out = ["<table>"]
    for b in blocks:
        tag = "th" if b.head else "td"
        cells = list(b.cells) + [""] * (width - len(b.cells))
        out.append("<tr>" + "".join(f"<{tag}>{_esc(c)}</{tag}>" for c in cells) + "</tr>")
    return "".join(out) + "</table>"
