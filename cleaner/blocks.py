"""What kind of block each line of trafilatura's text comes from: heading, paragraph, list
item, quote, table row, preformatted text.

trafilatura prints its tree (`doc.body`) as text, one line per block, list item and table row;
those lines are the article's paragraphs (cleaner.stage), unchanged. Here the same tree is
walked block by block, each block printed by trafilatura's own printer, so that every line
gets the block it came from. The cleaner's later steps drop lines; the kinds of the lines
they keep become the `markdown` field (cleaner.markdown).
"""

from __future__ import annotations

import difflib
from copy import deepcopy
from dataclasses import dataclass

from lxml.etree import _Element
from trafilatura.xml import xmltotxt

from .text import fold, normalize_paragraph, split_paragraphs, word_count

HEADING = "heading"
PARAGRAPH = "paragraph"
ITEM = "item"
QUOTE = "quote"
ROW = "row"  # a table row; `cells` holds its cells
RULE = "rule"  # the "|---|" line trafilatura prints under a table's header row
PRE = "pre"

LONG_HEADING_WORDS = 24  # longer than a subhead: a standfirst or a lede set as a heading
_CODE = {"code", "pre"}
_BLOCK_CHILDREN = {"p", "head", "list", "quote", "table", "code", "pre", "div", "lb"}


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    unit: int  # the element the line comes from: lines of one unit are one block
    group: int = -1  # the list, table, quote or code element around it (-1: none)
    level: int = 0  # a heading's level (1-6); a list item's nesting depth (0: top)
    ordered: bool = False  # an item of a numbered list
    head: bool = False  # a table row of header cells
    cells: tuple[str, ...] = ()  # a table row's cells
    raw: str = ""  # preformatted text as written (its lines keep their indentation)


def paragraph(unit: int) -> Block:
    return Block(PARAGRAPH, unit)


class _Walk:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.blocks: list[Block] = []
        self.count = 0

    def next_id(self) -> int:
        self.count += 1
        return self.count

    def leaf(self, element: _Element, block: Block) -> None:
        """The lines trafilatura prints for `element` (its tail aside), all of `block`."""
        tail, element.tail = element.tail, None
        try:
            lines = split_paragraphs(xmltotxt(element, False))
        finally:
            element.tail = tail
        for line in lines:
            kind = block.kind
            if kind == ROW and line.startswith("|-"):
                self.add(line, Block(RULE, block.unit, block.group))
                continue
            self.add(line, block)

    def add(self, line: str, block: Block) -> None:
        self.lines.append(line)
        self.blocks.append(block)

    def children(self, element: _Element, quote: int = -1, depth: int = 0) -> None:
        self.loose(element.text, quote)
        for child in element:
            self.element(child, quote, depth)
            self.loose(child.tail, quote)

    def loose(self, text: str | None, quote: int) -> None:
        """Text between a container's blocks, printed as a line of its own."""
        for line in split_paragraphs(text or ""):
            self.add(line, Block(QUOTE, self.next_id(), quote) if quote >= 0
                     else paragraph(self.next_id()))

    def element(self, el: _Element, quote: int = -1, depth: int = 0) -> None:
        tag = el.tag
        if tag == "list":
            group, ordered = self.next_id(), el.get("rend") == "ol"
            for item in el.iterchildren("item"):
                self.item(item, group, ordered, depth, quote)
        elif tag == "table":
            group = self.next_id()
            for row in el.iter("row"):
                cells = tuple(_text(cell) for cell in row.iterchildren("cell"))
                head = any(cell.get("role") == "head" for cell in row.iterchildren("cell"))
                self.leaf(row, Block(ROW, self.next_id(), group, head=head, cells=cells))
        elif tag in ("quote", "div") and any(c.tag in _BLOCK_CHILDREN for c in el):
            self.children(el, self.next_id() if tag == "quote" else quote, depth)
        elif tag == "head":
            self.leaf(el, Block(HEADING, self.next_id(), quote, level=_level(el)))
        elif tag in _CODE:
            self.leaf(el, Block(PRE, self.next_id(), quote, raw="".join(el.itertext())))
        elif tag == "quote":
            self.leaf(el, Block(QUOTE, self.next_id(), self.next_id()))
        elif quote >= 0:
            self.leaf(el, Block(QUOTE, self.next_id(), quote))
        else:
            self.leaf(el, Block(PARAGRAPH, self.next_id()))

    def item(self, item: _Element, group: int, ordered: bool, depth: int, quote: int) -> None:
        sublists = [c for c in item if c.tag == "list"]
        block = Block(ITEM, self.next_id(), group, level=depth, ordered=ordered)
        if not sublists:
            self.leaf(item, block)
            return
        # The item's own text, then its sublists' items one level deeper.
        own = _without(item)
        self.leaf(own, block)
        for sub in sublists:  # one list in Markdown with its sublists: the same group
            for child in sub.iterchildren("item"):
                self.item(child, group, sub.get("rend") == "ol", depth + 1, quote)


def _without(item: _Element) -> _Element:
    """A copy of a list item without its sublists."""
    own = deepcopy(item)
    for sub in list(own):
        if sub.tag == "list":
            own.remove(sub)  # lxml keeps the removed child's tail out too
    return own


def _text(element: _Element) -> str:
    return normalize_paragraph(" ".join(element.itertext()))


def _level(head: _Element) -> int:
    rend = head.get("rend") or ""
    return int(rend[1]) if len(rend) == 2 and rend[0] == "h" and rend[1] in "123456" else 2


def line_blocks(body: _Element | None, paragraphs: list[str]) -> list[Block]:
    """The block of each of `paragraphs` (trafilatura's text of `body`, split into lines).

    Lines the walk prints as trafilatura did get their block; any other line (the walk and
    trafilatura's printer disagree on a tree neither expects) is a paragraph of its own."""
    if body is None:
        return [paragraph(-i - 1) for i in range(len(paragraphs))]
    walk = _Walk()
    walk.children(body)
    if walk.lines == paragraphs:
        return walk.blocks
    out = [paragraph(-i - 1) for i in range(len(paragraphs))]
    matcher = difflib.SequenceMatcher(None, walk.lines, paragraphs, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        out[b : b + size] = walk.blocks[a : a + size]
    return out


def marked_headings(paragraphs: list[str], blocks: list[Block],
                    headings: dict[str, int]) -> list[Block]:
    """`blocks` with each paragraph line that the page marks up as a heading (`headings`:
    folded <h1>-<h6> texts and their levels) made that heading: the extractor printed some
    of a page's headings as paragraphs."""
    if not headings:
        return blocks
    out = list(blocks)
    for i, (line, block) in enumerate(zip(paragraphs, blocks, strict=True)):
        if block.kind == PARAGRAPH and (level := headings.get(fold(line))):
            out[i] = Block(HEADING, block.unit, level=level)
    return out



def subheads(lines: list[tuple[str, Block]]) -> list[tuple[str, Block]]:
    """The kept lines with the headings that head no section of the article made paragraphs.

    A subhead introduces the text after it, inside the article: so a heading before the
    article's first paragraph (a kicker, a label, the headline again), one with no text of
    its own before the next heading of its rank or the end (a label over links that went, a
    teaser's headline), and one longer than a subhead (a standfirst or a lede set as a
    heading) is printed as a paragraph."""
    out = list(lines)
    first = next((i for i, (_, b) in enumerate(out) if b.kind != HEADING), len(out))
    for i, (line, block) in enumerate(out):
        if block.kind != HEADING:
            continue
        j = i + 1
        while j < len(out) and out[j][1].unit == block.unit:
            j += 1
        sectionless = j == len(out) or (out[j][1].kind == HEADING
                                         and out[j][1].level <= block.level)
        if i < first or sectionless or word_count(line) > LONG_HEADING_WORDS:
            out[i] = (line, paragraph(block.unit))
    return out
