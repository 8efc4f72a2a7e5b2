"""The `markdown` field: an article's kept lines, each with the block it came from
(cleaner.blocks), as CommonMark with GFM tables.

The Markdown is written straight from the blocks, and it is byte for byte what markdownify
(ATX headings, "-" bullets) made of the same blocks set out as plain HTML, which is how the
field was built before: parsing that HTML was most of the field's cost, and its vocabulary
is closed (headings, paragraphs with line breaks and links, nested lists, tables, quotes of
paragraphs, preformatted text, images with a caption). So markdownify's rules are kept here
to the letter, quirks included, for just those elements: how a text's whitespace collapses
and where it is stripped (`_text`), how the newlines around blocks meet (`_collapse`), list
bullets and indentation, table header rows, quote prefixes, fences, `[text](url)` and
`<url>` links. Escaping: `_INLINE` everywhere, `_LINE_START` at the start of each text. The
headline is "# "; the article's own headings keep their order of rank from "##" down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby

from .blocks import HEADING, ITEM, PRE, QUOTE, ROW, RULE, Block
from .media import Image, Media
from .text import fold, split_paragraphs

# A block's inline content: text, a link (anchor text, URL) or a line break (None).
_Piece = str | tuple[str, str] | None
# A top-level element's Markdown, and whether it is a list (markdownify ends a list followed
# by anything but a list with one newline more).
_Part = tuple[bool, str]

# Characters that are markup wherever they stand: emphasis, code spans, links, raw HTML and
# entities, strikethrough, table cells, the escape itself.
_INLINE = re.compile(r"([\\`\[\]<&~|*_])")
# Markup only at the start of a line: a list marker, a heading's "#", a quote's ">", a
# setext underline. Escaped at the start of every text (markdownify's text nodes), which is
# where every line starts.
_LINE_START = re.compile(r"^(\s*)(?:(#{1,6})(?=\s|$)|([-+>=])|(\d{1,9})([.)])(?=\s|$))")
# A heading's closing "#"s, which CommonMark strips.
_CLOSING_HASHES = re.compile(r"(\s)(#+)(\s*)$")
# markdownify's whitespace outside <pre>: runs with a newline become one newline, runs of
# spaces and tabs one space; a heading's text all on one line.
_NEWLINE_RUN = re.compile(r"[\t \r\n]*[\r\n][\t \r\n]*")
_SPACE_RUN = re.compile(r"[\t ]+")
_ANY_SPACE_RUN = re.compile(r"[\t \r\n]+")
_PRE_LEAD = re.compile(r"^[ \n]*\n")
_PRE_TAIL = re.compile(r"[ \n]*$")
_BACKTICKS = re.compile(r"`+")


def render(title: str | None, lines: Iterable[tuple[str, Block]], media: Media | None = None,
           lead: Image | None = None) -> str:
    """Markdown of an article: `title` as "# ", then `lines` (text lines with their blocks).

    With `media` (cleaner.media), a line's links become Markdown links and the page's images
    between the first and the last line are put at the start of the block they precede;
    `lead`, the article's own image, goes under the headline unless it is one of them."""
    return _document(_Writer(media).parts(title, list(lines), lead))


def from_text(title: str | None, text: str) -> str:
    """Markdown of a plain-text body: the title as "# ", each line a paragraph, escaped."""
    parts = [(False, _heading(1, [title]))] if title else []
    parts += [(False, _paragraph([line])) for line in text.splitlines() if line.strip()]
    return _document(parts)


def _document(parts: list[_Part]) -> str:
    strings = [md + "\n" if is_list and i + 1 < len(parts) and not parts[i + 1][0] else md
               for i, (is_list, md) in enumerate(parts)]
    out = _collapse(strings).strip()
    return out + "\n" if out else ""


# --- markdownify's rules for text and the newlines between elements ------------------------

def _escape_start(m: re.Match[str]) -> str:
    lead, hashes, other, number, dot = m.groups()
    if number is not None:
        return f"{lead}{number}\\{dot}"
    return f"{lead}\\{hashes or other}"


def _text(text: str, heading: bool = False, first: bool = False, last: bool = False) -> str:
    """A text node: whitespace collapsed, escaped, then stripped where it is the first
    (`first`) or last (`last`) child of a block; there, whitespace alone is dropped."""
    if (first or last) and not text.strip():
        return ""
    if text and not text.strip(" \n\t\f\r"):  # bs4 made ASCII whitespace one space or newline
        text = "\n" if "\n" in text else " "
    if "\n" in text or "\r" in text:  # the tests spare most texts the regexes' scans
        text = _NEWLINE_RUN.sub("\n", text)
    if "\t" in text or "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    text = _INLINE.sub(r"\\\1", text)
    if heading and "#" in text:
        text = _CLOSING_HASHES.sub(r"\1\\\2\3", text)
    start = _LINE_START.match(text)  # (sub() would try every position of the text)
    if start:
        text = _escape_start(start) + text[start.end():]
    if first:
        text = text.lstrip(" \t\r\n")
    return text.rstrip() if last else text


def _collapse(strings: list[str]) -> str:
    """Sibling elements' Markdown joined; where newlines end one and start the next, they
    become as many as the longer side has, at most two."""
    if len(strings) == 1:
        return strings[0]
    out = [""]
    for s in strings:
        if not s:
            continue
        body = s.lstrip("\n")
        content = body.rstrip("\n")
        lead, trail = s[: len(s) - len(body)], body[len(content):]
        if lead and out[-1]:
            lead = "\n" * min(2, max(len(out.pop()), len(lead)))
        out += (lead, content, trail)
    return "".join(out)


def _inline(pieces: list[_Piece], heading: bool = False) -> list[str]:
    """The Markdown of each of a block's inline elements."""
    pieces = [p for p in pieces if p != ""]  # an empty text is no node at all
    last = len(pieces) - 1
    out = []
    for i, piece in enumerate(pieces):
        if piece is None:
            out.append("  \n")
        elif isinstance(piece, str):
            out.append(_text(piece, heading, i == 0, i == last))
        else:
            out.append(_link(*piece, heading))
    return out


def _link(anchor: str, url: str, heading: bool) -> str:
    """[text](url); a link whose text is its URL is <url>, one with no URL its text."""
    text = _text(anchor, heading)
    before, after = " " * (text[:1] == " "), " " * (text[-1:] == " ")
    text = text.strip()
    if not text:
        return ""
    if text.replace(r"\_", "_") == url:
        return f"<{url}>"
    return f"{before}[{text}]({url}){after}" if url else text


# --- blocks ---------------------------------------------------------------------------------

def _heading(level: int, pieces: list[_Piece]) -> str:
    text = _ANY_SPACE_RUN.sub(" ", _collapse(_inline(pieces, heading=True)).strip())
    return f"\n\n{'#' * level} {text}\n\n"


def _paragraph(pieces: list[_Piece]) -> str:
    text = _collapse(_inline(pieces)).strip(" \t\r\n")
    return f"\n\n{text}\n\n" if text else ""


def _quote(paragraphs: list[str]) -> str:
    text = _collapse(paragraphs).strip(" \t\r\n")
    if not text:
        return "\n"
    return "\n" + "\n".join(f"> {ln}" if ln else ">" for ln in text.split("\n")) + "\n\n"


def _pre(code: str) -> str:
    """Fenced code; the fence longer than any run of backticks in the code (markdownify's
    is always three, which a code block holding ``` would close)."""
    if not code:
        return ""
    longest = max((len(m) for m in _BACKTICKS.findall(code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"\n\n{fence}\n{_PRE_TAIL.sub('', _PRE_LEAD.sub('', code))}\n{fence}\n\n"


def _figure(image: Image) -> list[_Part]:
    """The image in a paragraph of its own, then its caption in emphasis in another."""
    out = [(False, f"\n\n![{image.alt}]({image.src})\n\n")]
    if image.caption:
        caption = _text(image.caption).strip()
        out.append((False, f"\n\n*{caption}*\n\n" if caption else ""))
    return out


def _table(rows: list[Block]) -> str | None:
    """A table padded to its widest row (GFM drops cells beyond the header's); the first
    row is the header, or an empty header goes above it. None: no table."""
    width = max((len(b.cells) for b in rows), default=0)
    if not width:
        return None
    out = []
    for b in rows:
        cells = list(b.cells) + [""] * (width - len(b.cells))
        texts = (_text(c, first=True, last=True).strip().replace("\n", " ") for c in cells)
        out.append("|" + "".join(f" {t} |" for t in texts) + "\n")
    rule = "| " + " | ".join(["---"] * width) + " |\n"
    if rows[0].head:
        out[0] += rule
    else:
        out[0] = "| " + " | ".join([""] * width) + " |\n" + rule + out[0]
    return "\n\n" + "".join(out).strip() + "\n\n"


@dataclass
class _List:
    ordered: bool
    items: list[tuple[list[_Piece], list[_List]]] = field(default_factory=list)

    def markdown(self, nested: bool = False) -> str:
        out = []
        for i, (pieces, sublists) in enumerate(self.items):
            text = _collapse(_inline(pieces) + [s.markdown(True) for s in sublists]).strip()
            if not text:
                out.append("\n")  # an empty item: no bullet
                continue
            bullet = f"{i + 1}. " if self.ordered else "- "
            first, *rest = text.split("\n")
            pad = " " * len(bullet)
            out.append(bullet + first + "".join(f"\n{pad}{ln}" if ln else "\n" for ln in rest)
                       + "\n")
        text = _collapse(out)
        return "\n" + text.rstrip() if nested else "\n\n" + text


# --- the article ----------------------------------------------------------------------------

class _Writer:
    def __init__(self, media: Media | None) -> None:
        self.media = media

    def pieces(self, line: str) -> list[_Piece]:
        """A line as text and, when asked for, its links."""
        links = self.media.links.get(fold(line)) if self.media is not None else None
        if not links:
            return [line]
        out: list[_Piece] = []
        done = 0  # the line up to `done` is written
        for anchor, url, earlier in links:
            at = -1
            for _ in range(earlier + 1):  # its own occurrence, not an earlier one
                at = line.find(anchor, at + 1)
            if at < done:
                continue
            out += (line[done:at], (anchor, url))
            done = at + len(anchor)
        return out + [line[done:]]

    def broken(self, texts: list[str]) -> list[_Piece]:
        """Lines of one block, a line break between them."""
        out: list[_Piece] = []
        for i, text in enumerate(texts):
            out += ([None] if i else []) + self.pieces(text)
        return out

    def parts(self, title: str | None, lines: list[tuple[str, Block]],
              lead: Image | None) -> list[_Part]:
        ranks = sorted({b.level for _, b in lines if b.kind == HEADING})
        levels = {level: min(6, 2 + i) for i, level in enumerate(ranks)}
        parts = [(False, _heading(1, [title]))] if title else []
        images = self._images(lines, title)
        if lead is not None and all(lead.src != image.src for _, image in images):
            parts += _figure(lead)
        # Runs of lines of one container (a list, a table, a quote), then of one block.
        for (kind, _), run in groupby(lines, key=_container):
            blocks = [list(u) for _, u in groupby(run, key=lambda lb: lb[1].unit)]
            place = self._place(blocks[0][0][0])
            while images and place is not None and images[0][0] < place:
                parts += _figure(images.pop(0)[1])
            if kind == ITEM:
                parts += [(True, lst.markdown()) for lst in self._lists(blocks)]
            elif kind == ROW:
                table = _table([b[0][1] for b in blocks if b[0][1].kind == ROW])
                parts += [(False, table)] if table is not None else []
            elif kind == QUOTE:
                parts.append((False, _quote([self._paragraph(b) for b in blocks])))
            else:
                parts += [(False, self._single(b, levels)) for b in blocks]
        return parts

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
            return _heading(levels[first.level], self.pieces(" ".join(t for t, _ in block)))
        if first.kind == PRE:  # the code as written when all of it is kept
            lines = [t for t, _ in block]
            code = first.raw if split_paragraphs(first.raw) == lines else "\n".join(lines)
            return _pre(code.strip("\n"))
        if first.kind == QUOTE:  # a quote element with text of its own
            return _quote([self._paragraph(block)])
        return self._paragraph(block)

    def _paragraph(self, block: list[tuple[str, Block]]) -> str:
        return _paragraph(self.broken([t for t, _ in block]))

    def _lists(self, blocks: list[list[tuple[str, Block]]]) -> list[_List]:
        """Nested lists from items with their depths; a depth with no parent item kept (the
        post-pass dropped it) hangs from the item above. An item of the other kind than the
        list at its depth starts a list of its own, but one right after deeper items joins
        the list at its depth (as the HTML this module once built did)."""
        roots: list[_List] = []
        stack: list[_List] = []  # the open lists, one per depth
        for block in blocks:
            item = block[0][1]
            depth = min(item.level, len(stack))  # never more than one level below the last
            if len(stack) == depth + 1 and stack[-1].ordered != item.ordered:
                stack.pop()
            del stack[depth + 1:]
            if len(stack) == depth:
                new = _List(item.ordered)
                (stack[-1].items[-1][1] if stack else roots).append(new)
                stack.append(new)
            texts = [t for t, _ in block]
            texts[0] = texts[0].removeprefix("- ")  # trafilatura's marker, not the item's text
            stack[-1].items.append((self.broken(texts), []))
        return roots


def _container(line: tuple[str, Block]) -> tuple[str, int]:
    block = line[1]
    kind = ROW if block.kind == RULE else block.kind
    if kind in (ITEM, ROW, QUOTE) and block.group >= 0:
        return kind, block.group
    return "", block.unit  # a block on its own
