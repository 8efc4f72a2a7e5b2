"""The cleaner's `markdown` field: each block kind on pages the tests write, read back with a
CommonMark parser (markdown-it-py, GFM tables on); escaping of ordinary text; `text`
unchanged; the kinds through the collapse and the post-pass; cleaner.blocks' rules on their
own; plain-text pages; links and images (CleanConfig(links=True) / CleanConfig(images=True));
the writer's exact output for each construct, and random lines, items, cells and headings
read back as themselves. The store and export side is tests/test_markdown_export.py."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.token import Token

from cleaner import CleanConfig, Cleaner
from cleaner.blocks import (
    HEADING,
    ITEM,
    LONG_HEADING_WORDS,
    PARAGRAPH,
    PRE,
    QUOTE,
    ROW,
    RULE,
    Block,
    line_blocks,
    marked_headings,
    subheads,
)
from cleaner.extract import extract
from cleaner.markdown import from_text, render
from cleaner.media import Image, Media
from cleaner.text import fold
from records import Article, Page

URL = "https://news.example.com/world/2026/03/harbour-dredging.html"
TITLE = "Harbour dredging to begin in spring"
PROSE = [
    "The harbour authority said on Monday that dredging of the main channel would begin in "
    "the spring, after years of delays caused by disputes over funding and the environmental "
    "survey that the regional government had ordered.",
    "Fishermen have complained for years that silt makes the channel unsafe at low tide, and "
    "several boats have run aground near the entrance since the last dredging was carried out "
    "more than a decade ago.",
    "Work is expected to take four months and cost about twelve million euros, paid for by the "
    "regional government, which said the money had been set aside in last year's budget for "
    "the purpose.",
    "The authority said that the dredged silt would be taken out to sea and dumped at a "
    "licensed site, a plan that environmental groups have criticised as harmful to the fish "
    "that spawn in the bay.",
    "A spokesman for the fishermen's cooperative said its members welcomed the decision but "
    "would watch closely to make sure the work was finished before the start of the summer "
    "season in June.",
    "The regional minister for transport said the harbour was vital to the local economy and "
    "that the government would consider further investment in the quay walls once the "
    "dredging had been completed.",
]
QUOTED = ("We lose two hours a day waiting for the water to rise, and in winter it is more than "
          "that, said one skipper who asked not to be named because he feared losing his berth.")

MD = MarkdownIt("commonmark").enable("table")
_WORDS = re.compile(r"\w+")


# --- building pages and cleaning them -------------------------------------------------------

def html_page(article: str, title: str = TITLE) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"</head><body><main><article><h1>{title}</h1>{article}</article></main>"
            "</body></html>")


def page_of(body: str, content_type: str = "text/html", url: str = URL) -> Page:
    data = body.encode("utf-8")
    return Page(url=url, final_url=url, content_type=content_type, body=data,
                encoding="utf-8", bytes=len(data))


def cleaned(body: str, config: CleanConfig | None = None,
            content_type: str = "text/html") -> Article:
    result = Cleaner(config).clean(page_of(body, content_type))
    assert result.outcome == "cleaned", result.error
    assert result.article is not None and result.article.markdown
    return result.article


def p(text: str) -> str:
    return f"<p>{text}</p>"


# --- reading the Markdown back --------------------------------------------------------------

def inline_text(token: Token) -> str:
    """What an inline token renders as text: escapes resolved, markup gone, breaks as "\n"."""
    out = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(inline_text(child))  # its alt text
    return "".join(out)


def markup_in(token: Token) -> set[str]:
    """The inline markup an inline token holds (emphasis, code spans, links, html...)."""
    return {c.type for c in token.children or []} - {"text", "softbreak", "hardbreak"}


def headings(md: str) -> list[tuple[str, str]]:
    tokens = MD.parse(md)
    return [(t.tag, inline_text(tokens[i + 1])) for i, t in enumerate(tokens)
            if t.type == "heading_open"]


def list_items(md: str) -> list[tuple[str, int, str]]:
    """(list kind "ul"/"ol", nesting depth, the item's own text) of every list item."""
    tokens, stack, out = MD.parse(md), [], []
    for i, t in enumerate(tokens):
        if t.type in ("bullet_list_open", "ordered_list_open"):
            stack.append(t.tag)
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            stack.pop()
        elif t.type == "list_item_open":
            assert tokens[i + 2].type == "inline", tokens[i + 1 : i + 3]
            out.append((stack[-1], len(stack) - 1, inline_text(tokens[i + 2])))
    return out


def tables(md: str) -> list[list[tuple[bool, list[str]]]]:
    """Each table as its rows: (header row?, cell texts)."""
    tokens, out = MD.parse(md), []
    row: list[str] = []
    head = False
    for i, t in enumerate(tokens):
        if t.type == "table_open":
            out.append([])
        elif t.type == "tr_open":
            row, head = [], False
        elif t.type in ("th_open", "td_open"):
            head = t.type == "th_open"
            row.append(inline_text(tokens[i + 1]))
        elif t.type == "tr_close":
            out[-1].append((head, row))
    return out


def top_paragraphs(md: str) -> list[Token]:
    """The inline tokens of the paragraphs outside lists, quotes and tables."""
    tokens = MD.parse(md)
    return [tokens[i + 1] for i, t in enumerate(tokens)
            if t.type == "paragraph_open" and t.level == 0]


def quotes(md: str) -> list[str]:
    tokens, out, depth = MD.parse(md), [], 0
    for i, t in enumerate(tokens):
        depth += t.type == "blockquote_open"
        depth -= t.type == "blockquote_close"
        if depth and t.type == "paragraph_open":
            out.append(inline_text(tokens[i + 1]))
    return out


def plain(md: str, without_title: bool = True) -> str:
    """The Markdown stripped of its markup (the "# " headline left out)."""
    tokens, out = MD.parse(md), []
    for i, t in enumerate(tokens):
        if t.type == "inline":
            if without_title and tokens[i - 1].type == "heading_open" and tokens[i - 1].tag == "h1":
                continue
            out.append(inline_text(t))
        elif t.type in ("fence", "code_block"):
            out.append(t.content)
    return "\n".join(out)


def words(text: str) -> list[str]:
    return _WORDS.findall(text)


def folded(text: str) -> str:
    return " ".join(text.split())


# --- the page with every block kind ---------------------------------------------------------

SUBHEADS = [("h2", "Years of complaints"), ("h3", "Who pays for the work"),
            ("h2", "What happens next")]
BULLETS = [("The outer channel is dredged first",
            ["Work starts at the harbour mouth", "The pilot boats keep to the east side"]),
           ("The inner basin follows in May", [])]
STEPS = [("The regional government pays for the dredging",
          ["Its budget was approved in December"]),
         ("The harbour authority pays for the survey", [])]
TABLE = [("Phase", "Start", "Cost"), ("Outer channel", "March", "7 million euros"),
         ("Inner basin", "May", "5 million euros")]


def _html_list(tag: str, items: list[tuple[str, list[str]]], sub: str) -> str:
    out = []
    for text, children in items:
        inner = "".join(f"<li>{c}</li>" for c in children)
        out.append(f"<li>{text}<{sub}>{inner}</{sub}></li>" if children else f"<li>{text}</li>")
    return f"<{tag}>{''.join(out)}</{tag}>"


def _html_table(rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STRUCTURE = html_page(
    p(PROSE[0]) + f"<h2>{SUBHEADS[0][1]}</h2>" + p(PROSE[1])
    + _html_list("ul", BULLETS, "ul") + p(PROSE[2])
    + f"<h3>{SUBHEADS[1][1]}</h3>" + p(PROSE[3])
    + _html_list("ol", STEPS, "ul")
    + f"<blockquote><p>{QUOTED}</p></blockquote>"
    + f"<h2>{SUBHEADS[2][1]}</h2>" + p(PROSE[4]) + _html_table(TABLE) + p(PROSE[5]))

# `text` as the cleaner gave it before the markdown field: trafilatura's lines, list items
# as "- ", table rows as "| a | b |" with its rule line.
STRUCTURE_TEXT = [
    PROSE[0], "Years of complaints", PROSE[1],
    "- The outer channel is dredged first", "- Work starts at the harbour mouth",
    "- The pilot boats keep to the east side", "- The inner basin follows in May",
    PROSE[2], "Who pays for the work", PROSE[3],
    "- The regional government pays for the dredging", "- Its budget was approved in December",
    "- The harbour authority pays for the survey",
    QUOTED, "What happens next", PROSE[4],
    "| Phase | Start | Cost |", "|---|---|---|", "| Outer channel | March | 7 million euros |",
    "| Inner basin | May | 5 million euros |", PROSE[5],
]


@pytest.fixture(scope="module")
def structure() -> Article:
    return cleaned(STRUCTURE)


def test_headline_and_subheads_keep_their_order_of_rank(structure):
    # h2 -> "##", h3 -> "###", the headline "#"
    assert headings(structure.markdown) == [("h1", TITLE), *SUBHEADS]
    assert structure.markdown.startswith(f"# {TITLE}\n")
    assert "\n## Years of complaints\n" in structure.markdown
    assert "\n### Who pays for the work\n" in structure.markdown


def test_subheads_in_h3_and_h4_become_second_and_third_level():
    article = cleaned(html_page(
        p(PROSE[0]) + "<h3>Years of complaints</h3>" + p(PROSE[1]) + "<h4>The money</h4>"
        + p(PROSE[2]) + "<h3>What happens next</h3>" + p(PROSE[3])))
    assert headings(article.markdown) == [("h1", TITLE), ("h2", "Years of complaints"),
                                          ("h3", "The money"), ("h2", "What happens next")]


def test_headings_that_head_no_section_are_paragraphs_in_the_markdown():
    article = cleaned(html_page(
        "<h2>Environment desk</h2>" + p(PROSE[0]) + "<h2>Background</h2>"
        + "<h2>Years of complaints</h2>" + p(PROSE[1]) + p(PROSE[2])))
    assert article.text.split("\n")[:4] == ["Environment desk", PROSE[0], "Background",
                                            "Years of complaints"]
    assert headings(article.markdown) == [("h1", TITLE), ("h2", "Years of complaints")]
    texts = [inline_text(t) for t in top_paragraphs(article.markdown)]
    assert texts == ["Environment desk", PROSE[0], "Background", PROSE[1], PROSE[2]]


def test_paragraphs_read_back_in_order(structure):
    texts = [inline_text(t) for t in top_paragraphs(structure.markdown)]
    assert texts == PROSE


def test_lists_nest_and_keep_their_kind(structure):
    expected = []
    for tag, items, sub in (("ul", BULLETS, "ul"), ("ol", STEPS, "ul")):
        for text, children in items:
            expected.append((tag, 0, text))
            expected += [(sub, 1, c) for c in children]
    assert list_items(structure.markdown) == expected
    assert "\n- The outer channel is dredged first\n  - Work starts" in structure.markdown
    assert "\n1. The regional government pays for the dredging\n" in structure.markdown


def test_blockquote(structure):
    assert quotes(structure.markdown) == [QUOTED]
    assert f"\n> {QUOTED}\n" in structure.markdown


def test_table_with_a_header_row_reads_back_cell_for_cell(structure):
    assert tables(structure.markdown) == [
        [(True, list(TABLE[0])), *((False, list(r)) for r in TABLE[1:])]]


def test_round_trip_headings_items_cells_and_words(structure):
    md = structure.markdown
    page_headings = [folded(t) for _, t in SUBHEADS]
    assert [folded(t) for tag, t in headings(md) if tag != "h1"] == page_headings
    page_items = [t for items in (BULLETS, STEPS) for text, children in items
                  for t in (text, *children)]
    assert [folded(t) for _, _, t in list_items(md)] == page_items
    assert [cells for table in tables(md) for _, cells in table] == [list(r) for r in TABLE]
    # The Markdown without its markup says what `text` says, word for word.
    assert words(plain(md)) == words(structure.text)


def test_text_is_the_lines_as_before(structure):
    assert structure.text == "\n".join(STRUCTURE_TEXT)
    # ... which is trafilatura's text less the headline the post-pass takes out
    paragraphs = extract(STRUCTURE, url=URL).paragraphs
    assert [line for line in paragraphs if line != TITLE] == STRUCTURE_TEXT
    # and it holds none of the Markdown's markup
    lines = structure.text.split("\n")
    assert not any(line.startswith(("#", ">", "1.", "```", "    ")) for line in lines)
    assert "\\" not in structure.text and "*" not in structure.text
    assert "| --- |" not in structure.text


def test_table_without_header_row_and_ragged_rows():
    # GFM needs a header row: the rows stay body rows under an empty one; a short row is
    # padded to the widest so that no cell is dropped.
    article = cleaned(html_page(
        p(PROSE[0]) + "<table><tr><td>Phase</td><td>Start</td></tr>"
        "<tr><td>Inner basin</td><td>May</td><td>revised | late</td></tr></table>"
        + p(PROSE[1]) + p(PROSE[2])))
    [table] = tables(article.markdown)
    body = [cells for head, cells in table if not head]
    assert body == [["Phase", "Start", ""], ["Inner basin", "May", "revised | late"]]
    assert all(cell == "" for head, cells in table if head for cell in cells)
    assert words(plain(article.markdown)) == words(article.text)


CODE = ['print("```")', "x = `y` + 1", "# not a heading", "- not a list"]


def test_preformatted_code_is_fenced_longer_than_its_backticks():
    article = cleaned(html_page(
        p(PROSE[0]) + "<pre><code>" + "\n".join(CODE) + "</code></pre>" + p(PROSE[1])
        + p(PROSE[2])))
    fences = [t for t in MD.parse(article.markdown) if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].markup == "````"  # longer than the ``` inside
    assert fences[0].content == "\n".join(CODE) + "\n"
    assert headings(article.markdown) == [("h1", TITLE)]
    assert list_items(article.markdown) == []


def test_preformatted_code_without_backticks_has_a_plain_fence():
    article = cleaned(html_page(
        p(PROSE[0]) + "<pre><code>x = 1\ny = x * 2</code></pre>" + p(PROSE[1]) + p(PROSE[2])))
    [fence] = [t for t in MD.parse(article.markdown) if t.type == "fence"]
    assert fence.markup == "```"
    assert fence.content == "x = 1\ny = x * 2\n"


def test_preformatted_code_keeps_its_indentation():
    """Code is whitespace-sensitive: the fenced block holds the lines as the page has them."""
    code = "def depth(tide):\n    if tide < 2:\n        return 0\n    return tide"
    article = cleaned(html_page(
        p(PROSE[0]) + f"<pre><code>{code}</code></pre>" + p(PROSE[1]) + p(PROSE[2])))
    [fence] = [t for t in MD.parse(article.markdown) if t.type == "fence"]
    assert fence.content == code + "\n"


# --- escaping -------------------------------------------------------------------------------

SPECIAL = [
    "Readers wrote *stars* around words, others used _under_ scores, a | b pipes and `ticks` "
    "in their letters to the harbour authority about the plans for the outer channel.",
    "# 3 on the council's list of priorities, the dredging of the outer channel was approved "
    "on Tuesday after a long debate about its cost and its effect on the fish in the bay.",
    "1. The first point the fishermen made was that the silt had been building up for years, "
    "and that the authority had ignored every warning they had sent to its offices.",
    "- The second point, made in a letter signed by forty skippers, was that the work should "
    "be done before the summer season rather than after it, as had first been planned.",
    "> Quoted at the start of a line, [the old plan](none) was compared with the new one, "
    "and 3 < 4 & 5 > 2 <b>held</b>, as the engineers told the council's committee.",
    "+ 2) Another 10. numbered aside, with a trailing backslash \\ and **double stars** and "
    "__double underscores__ and ~~tildes~~ that no reader of the article would call markup.",
]


@pytest.fixture(scope="module")
def special() -> Article:
    return cleaned(html_page("".join(p(html.escape(s)) for s in SPECIAL) + p(PROSE[0])
                             + p(PROSE[1])))


def test_special_characters_in_text_read_back_as_the_text(special):
    # no emphasis, code span, link or html; no heading, list or quote
    assert special.text.split("\n")[: len(SPECIAL)] == SPECIAL
    tokens = MD.parse(special.markdown)
    blocks = {t.type for t in tokens if t.nesting == 1}
    assert blocks == {"heading_open", "paragraph_open"}
    assert headings(special.markdown) == [("h1", TITLE)]
    inlines = top_paragraphs(special.markdown)
    assert [inline_text(t) for t in inlines] == [*SPECIAL, PROSE[0], PROSE[1]]
    for token in inlines:
        assert markup_in(token) == set(), (token.content, markup_in(token))


def test_a_dash_line_in_a_paragraph_is_not_a_list_item(special):
    assert list_items(special.markdown) == []
    assert "\n\\- The second point" in special.markdown


def test_special_characters_in_headings_list_items_quotes_and_cells():
    head = "Q&A: the *real* cost of [dredging] | #1 issue"
    item = "1. _first_ <item> `here`"
    cell = "a | b * c"
    article = cleaned(html_page(
        p(PROSE[0]) + f"<h2>{head.replace('&', '&amp;').replace('<', '&lt;')}</h2>"
        + p(PROSE[1]) + "<ul><li>" + item.replace("<", "&lt;").replace(">", "&gt;")
        + "</li><li>second item of the list</li></ul>"
        + f"<blockquote><p># {QUOTED}</p></blockquote>"
        + f"<table><tr><th>Key</th><th>Value</th></tr><tr><td>x</td><td>{cell}</td></tr></table>"
        + p(PROSE[2])))
    md = article.markdown
    assert headings(md) == [("h1", TITLE), ("h2", head)]
    assert [t for _, _, t in list_items(md)] == [item, "second item of the list"]
    assert quotes(md) == ["# " + QUOTED]
    assert tables(md) == [[(True, ["Key", "Value"]), (False, ["x", cell])]]
    for token in MD.parse(md):
        if token.type == "inline":
            assert markup_in(token) == set(), token.content


def test_a_dash_line_under_a_line_of_the_same_paragraph_is_no_setext_heading():
    """A <br> then "---" (a score card, a signature rule): CommonMark reads a paragraph line
    followed by "---" as a heading of the line above."""
    article = cleaned(html_page(
        p(PROSE[0]) + p(PROSE[1]) + "<p>Final scores of the regatta were as follows<br>---</p>"
        + p(PROSE[2])))
    assert headings(article.markdown) == [("h1", TITLE)]
    assert "Final scores of the regatta were as follows\n---" in plain(article.markdown)


def test_a_heading_ending_in_a_hash_keeps_it():
    """ATX headings drop a closing run of "#": "## Ranked #" would read back "Ranked"."""
    article = cleaned(html_page(
        p(PROSE[0]) + "<h2>Where the port is ranked #</h2>" + p(PROSE[1]) + p(PROSE[2])))
    assert headings(article.markdown) == [("h1", TITLE), ("h2", "Where the port is ranked #")]


# --- kinds through the collapse and the post-pass -------------------------------------------

def test_repeated_body_gives_each_subhead_once_and_the_tail_goes():
    teaser = "".join(p(x) for x in PROSE)  # the body once without its subheads
    full = (p(PROSE[0]) + p(PROSE[1]) + "<h2>Years of complaints</h2>" + p(PROSE[2])
            + p(PROSE[3]) + "<h2>What happens next</h2>" + p(PROSE[4]) + p(PROSE[5]))
    tail = ("<h3>Most Read</h3>" + p("Mayor opens new ferry terminal")
            + p("Storm damages sea wall near old town") + p("Council to review parking fees")
            + p("Ferry fares to rise in the new year"))
    doc = (f"<html><head><title>{TITLE}</title></head><body><article>"
        f"<div class='story'>{teaser}</div><div class='story'>{full}</div>{tail}"
        "</article></body></html>")
    result = Cleaner().clean(page_of(doc))
    assert result.outcome == "cleaned", result.error
    assert result.drops.get("repeat", 0) >= len(PROSE)  # the collapse ran ...
    assert result.drops.get("post.tail", 0) >= 4  # ... and the post-pass dropped the block
    md = result.article.markdown
    assert headings(md) == [("h1", TITLE), ("h2", "Years of complaints"),
                            ("h2", "What happens next")]
    assert [inline_text(t) for t in top_paragraphs(md)] == PROSE
    for gone in ("Most Read", "Mayor opens", "Storm damages", "parking fees", "Ferry fares"):
        assert gone not in md and gone not in result.article.text
    assert words(plain(md)) == words(result.article.text)


# --- cleaner.blocks on its own --------------------------------------------------------------

def _h(unit: int, level: int = 2) -> Block:
    return Block(HEADING, unit, level=level)


def _p(unit: int) -> Block:
    return Block(PARAGRAPH, unit)


def _kinds(lines: list[tuple[str, Block]]) -> list[str]:
    return [b.kind for _, b in subheads(lines)]


def test_subheads_a_heading_that_heads_a_section_stays():
    lines = [("Lede", _p(1)), ("Years of complaints", _h(2)), ("Body", _p(3))]
    assert subheads(lines) == lines
    # a heading over a lower-ranked one heads the section they share
    lines = [("Lede", _p(1)), ("Part one", _h(2, 2)), ("Detail", _h(3, 3)), ("Body", _p(4))]
    assert _kinds(lines) == [PARAGRAPH, HEADING, HEADING, PARAGRAPH]
    # a heading printed over two lines is one heading
    lines = [("Lede", _p(1)), ("Years of", _h(2)), ("complaints", _h(2)), ("Body", _p(3))]
    assert _kinds(lines) == [PARAGRAPH, HEADING, HEADING, PARAGRAPH]


def test_subheads_before_the_first_paragraph_are_paragraphs():
    lines = [("Analysis", _h(1)), ("Lede", _p(2)), ("Sub", _h(3)), ("Body", _p(4))]
    out = subheads(lines)
    assert _kinds(lines) == [PARAGRAPH, PARAGRAPH, HEADING, PARAGRAPH]
    assert out[0] == ("Analysis", _p(1))  # the line and its unit unchanged


def test_subheads_with_nothing_after_them_are_paragraphs():
    lines = [("Lede", _p(1)), ("Related stories", _h(2))]
    assert _kinds(lines) == [PARAGRAPH, PARAGRAPH]


def test_subheads_followed_by_a_heading_of_the_same_or_higher_rank_are_paragraphs():
    same = [("Lede", _p(1)), ("Label", _h(2, 3)), ("Next", _h(3, 3)), ("Body", _p(4))]
    assert _kinds(same) == [PARAGRAPH, PARAGRAPH, HEADING, PARAGRAPH]
    higher = [("Lede", _p(1)), ("Label", _h(2, 3)), ("Next", _h(3, 2)), ("Body", _p(4))]
    assert _kinds(higher) == [PARAGRAPH, PARAGRAPH, HEADING, PARAGRAPH]


def test_subheads_longer_than_a_subhead_are_paragraphs():
    long = " ".join(["word"] * (LONG_HEADING_WORDS + 1))
    short = " ".join(["word"] * LONG_HEADING_WORDS)
    assert _kinds([("Lede", _p(1)), (long, _h(2)), ("Body", _p(3))])[1] == PARAGRAPH
    assert _kinds([("Lede", _p(1)), (short, _h(2)), ("Body", _p(3))])[1] == HEADING


def test_marked_headings_makes_page_headings_of_paragraph_lines():
    paragraphs = ["The lede of the story.", "Years of Complaints", "- Years of complaints",
                  "Years of complaints, said the mayor."]
    blocks = [_p(1), _p(2), Block(ITEM, 3, 9), _p(4)]
    out = marked_headings(paragraphs, blocks, {fold("years of complaints"): 3})
    assert out[1] == Block(HEADING, 2, level=3)
    # other paragraphs, and lines of another kind, untouched
    assert out[0] == blocks[0] and out[2] == blocks[2] and out[3] == blocks[3]
    assert marked_headings(paragraphs, blocks, {}) == blocks


BODY = etree.fromstring(
    "<body><head rend='h3'>Sub head</head><p>First para text.</p>"
    "<list rend='ul'><item>alpha</item><item>beta<list rend='ol'><item>inner</item></list>"
    "</item></list><quote><p>Quoted words.</p></quote>"
    "<table><row><cell role='head'>A</cell><cell role='head'>B</cell></row>"
    "<row><cell>1</cell><cell>2</cell></row></table><code>x = 1</code></body>")
BODY_LINES = ["Sub head", "First para text.", "- alpha", "- beta", "- inner", "Quoted words.",
              "| A | B |", "|---|---|", "| 1 | 2 |", "x = 1"]


def test_line_blocks_when_the_walk_and_the_text_agree():
    blocks = line_blocks(BODY, BODY_LINES)
    assert [b.kind for b in blocks] == [HEADING, PARAGRAPH, ITEM, ITEM, ITEM, QUOTE, ROW, "rule",
                                        ROW, PRE]
    assert blocks[0].level == 3
    assert [(b.level, b.ordered) for b in blocks[2:5]] == [(0, False), (0, False), (1, True)]
    assert len({b.group for b in blocks[2:5]}) == 1  # one list with its sublist
    assert blocks[6].head and blocks[6].cells == ("A", "B") and blocks[8].cells == ("1", "2")


def test_line_blocks_when_the_walk_and_the_text_disagree():
    walked = dict(zip(BODY_LINES, line_blocks(BODY, BODY_LINES), strict=True))
    paragraphs = ["An extra line", "Sub head", "First para text.", "- alpha", "Another one",
                  "- inner", "Quoted words, edited.", "x = 1"]
    blocks = line_blocks(BODY, paragraphs)
    assert len(blocks) == len(paragraphs)
    for line, block in zip(paragraphs, blocks, strict=True):
        if line in walked:  # matched: the block the walk gave it
            assert block == walked[line], line
        else:  # unmatched: a paragraph of its own
            assert block.kind == PARAGRAPH, line
    unmatched = [b.unit for line, b in zip(paragraphs, blocks, strict=True)
                 if line not in walked]
    assert len(unmatched) == 3 and len(set(unmatched)) == 3  # never run into one another
    assert not set(unmatched) & {b.unit for b in walked.values()}


def test_line_blocks_without_a_tree_are_paragraphs():
    blocks = line_blocks(None, ["one", "two", "three"])
    assert [b.kind for b in blocks] == [PARAGRAPH] * 3
    assert len({b.unit for b in blocks}) == 3


def test_render_unmatched_lines_are_separate_paragraphs():
    md = render(TITLE, [(t, b) for t, b in zip(["one *a*", "two"],
                                               line_blocks(None, ["one *a*", "two"]),
                                               strict=True)])
    assert [inline_text(t) for t in top_paragraphs(md)] == ["one *a*", "two"]


# --- plain text -----------------------------------------------------------------------------

def test_a_text_plain_page_is_its_lines_as_escaped_paragraphs():
    lines = [PROSE[0], "- " + PROSE[1], "1. " + PROSE[2], "# " + PROSE[3],
             "| a | b | " + PROSE[4], "*" + PROSE[5] + "*"]
    dump = "\n\n".join([TITLE, *lines]) + "\n"
    article = cleaned(dump, content_type="text/plain")
    assert article.title == TITLE
    assert article.text.split("\n") == lines
    md = article.markdown
    assert headings(md) == [("h1", TITLE)]
    tokens = MD.parse(md)
    assert {t.type for t in tokens if t.nesting == 1} == {"heading_open", "paragraph_open"}
    paragraphs = top_paragraphs(md)
    assert [inline_text(t) for t in paragraphs] == lines
    assert all(markup_in(t) == set() for t in paragraphs)


# --- links and images -----------------------------------------------------------------------

SURVEY = ("The harbour authority said on Monday that dredging would begin after the survey "
          "was published. Read the <a href='/reports/survey.pdf'>survey</a> and the "
          "<a href='javascript:void(0)'>comments</a> or the "
          "<a href='../maps/channel.html?zoom=2&amp;tide=low'>channel map</a> online.")
SURVEY_TEXT = ("The harbour authority said on Monday that dredging would begin after the survey "
               "was published. Read the survey and the comments or the channel map online.")
CAPTION = "Boats wait for the tide at the harbour mouth on Monday morning."
MEDIA = html_page(
    p(SURVEY) + p(PROSE[1])
    + f"<figure><img src='../img/harbour.jpg' alt='The harbour at low tide'>"
      f"<figcaption>{CAPTION}</figcaption></figure>"
    + p(PROSE[2] + " More at <a href='https://other.example.org/fish'>the fishermen's site</a>.")
    + "<ul><li><a href='/world/2026/ferry.html'>Ferry fares to rise</a> next year, as the "
      "operator said on Friday</li><li>The second item of the list, with no link</li></ul>"
    + p(PROSE[3]) + p(PROSE[4]))


def links(md: str) -> list[tuple[str, str]]:
    out = []
    for token in MD.parse(md):
        children = token.children or []
        for i, c in enumerate(children):
            if c.type == "link_open":
                out.append((children[i + 1].content, c.attrs["href"]))
    return out


def images(md: str) -> list[tuple[str, str]]:
    return [(inline_text(c), c.attrs["src"]) for t in MD.parse(md) for c in t.children or []
            if c.type == "image"]


def test_links_and_images_are_off_by_default():
    article = cleaned(MEDIA)
    assert "](" not in article.markdown
    assert links(article.markdown) == [] and images(article.markdown) == []
    assert CAPTION not in article.markdown and CAPTION not in article.text


def test_links_are_absolute_and_only_web_links():
    article = cleaned(MEDIA, CleanConfig(links=True))
    assert links(article.markdown) == [
        ("survey", "https://news.example.com/reports/survey.pdf"),
        ("channel map", "https://news.example.com/world/2026/maps/channel.html?zoom=2&tide=low"),
        ("the fishermen's site", "https://other.example.org/fish"),
        ("Ferry fares to rise", "https://news.example.com/world/2026/ferry.html"),
    ]
    assert "javascript" not in article.markdown
    assert images(article.markdown) == []
    # the words are the text's, links or not
    assert words(plain(article.markdown)) == words(article.text)
    assert [inline_text(t) for t in top_paragraphs(article.markdown)][0] == SURVEY_TEXT


def test_a_link_is_set_on_its_own_words_not_an_earlier_occurrence():
    article = cleaned(MEDIA, CleanConfig(links=True))
    first = top_paragraphs(article.markdown)[0]
    before = []
    for child in first.children or []:
        if child.type == "link_open":
            break
        before.append(child.content)
    assert "".join(before).endswith("published. Read the "), "".join(before)


def test_images_are_absolute_with_their_caption_in_place():
    article = cleaned(MEDIA, CleanConfig(images=True))
    md = article.markdown
    assert images(md) == [("The harbour at low tide",
                           "https://news.example.com/world/2026/img/harbour.jpg")]
    assert CAPTION in plain(md)
    assert links(md) == []
    # between the paragraphs it stands between on the page
    order = [inline_text(t) for t in MD.parse(md) if t.type == "inline"]
    at = next(i for i, t in enumerate(order) if t == "The harbour at low tide")
    assert order[at - 1] == PROSE[1] and order[at + 2].startswith(PROSE[2][:40])
    assert order[at + 1] == CAPTION


def test_links_and_images_leave_text_alone():
    plain_text = cleaned(MEDIA).text
    for config in (CleanConfig(links=True), CleanConfig(images=True),
                   CleanConfig(links=True, images=True)):
        assert cleaned(MEDIA, config).text == plain_text
    both = cleaned(MEDIA, CleanConfig(links=True, images=True)).markdown
    assert len(links(both)) == 4 and len(images(both)) == 1


# --- the writer's exact output ----------------------------------------------------------------
# cleaner/markdown.py writes what markdownify made of these blocks as HTML (which is how the
# field was built before): the strings below are markdownify's output, byte for byte.

def test_render_writes_each_block_kind_exactly():
    lines = [
        ("Kicker: *not* a heading", Block(PARAGRAPH, 1)),
        ("Section one #", Block(HEADING, 2, level=3)),
        ("First line of a paragraph", Block(PARAGRAPH, 3)),
        ("- second line, 1. not a list", Block(PARAGRAPH, 3)),
        ("Deeper", Block(HEADING, 4, level=4)),
        ("Quoted once", Block(QUOTE, 5, 50)),
        ("quoted twice", Block(QUOTE, 6, 50)),
        ("# and a quote element", Block(QUOTE, 7, -1)),
        ("| Name | Score |", Block(ROW, 8, 80, head=True, cells=("Name", "Score"))),
        ("|---|---|", Block(RULE, 8, 80)),
        ("| a_b | 1 | extra |", Block(ROW, 9, 80, cells=("a_b", "1", "extra"))),
        ("no header here", Block(ROW, 10, 81, cells=("no header here",))),
        ("x = `a` + ```b```", Block(PRE, 11, raw="\n  x = `a` + ```b```\n    y\n")),
    ]
    assert render("Title & <more>", lines) == (
        "# Title \\& \\<more>\n\n"
        "Kicker: \\*not\\* a heading\n\n"
        "## Section one \\#\n\n"
        "First line of a paragraph  \n\\- second line, 1. not a list\n\n"
        "### Deeper\n\n"
        "> Quoted once\n>\n> quoted twice\n\n"
        "> \\# and a quote element\n\n"
        "| Name | Score |  |\n| --- | --- | --- |\n| a\\_b | 1 | extra |\n\n"
        "|  |\n| --- |\n| no header here |\n\n"
        "````\nx = `a` + ```b```\n````\n")


def test_render_nests_lists_exactly():
    def item(unit: int, level: int = 0, ordered: bool = False, group: int = 90) -> Block:
        return Block(ITEM, unit, group, level=level, ordered=ordered)

    lines = [("- one", item(1)), ("continued", item(1)), ("two", item(2)),
             ("two.a", item(3, 1, True)), ("two.b", item(4, 1, True)),
             ("two.b.i", item(5, 3)),  # no item at depth 2 kept: it hangs from two.b
             ("two.c", item(6, 1, True)), ("a bullet", item(7, 1)), ("three", item(8)),
             ("after", Block(PARAGRAPH, 9)), ("x", item(10, group=91)),
             ("y", item(11, ordered=True, group=92))]
    assert render(None, lines) == (
        "- one  \n  continued\n- two\n  1. two.a\n  2. two.b\n     - two.b.i\n  3. two.c\n"
        "  - a bullet\n- three\n\nafter\n\n- x\n\n1. y\n")


def test_render_links_and_images_exactly():
    report = "See the report by Ana_Lopez, then the report."
    media = Media(
        links={fold(report): [("Ana_Lopez", "https://e.com/u/a", 0),
                              ("the report", "https://e.com/r?a=1&b=2", 1)],
               fold("https://e.com/x_y"): [("https://e.com/x_y", "https://e.com/x_y", 0)],
               fold("Links in a heading"): [("heading", "https://e.com/h", 0)]},
        order={fold("Headline"): 0, fold("Links in a heading"): 3, fold(report): 5,
               fold("https://e.com/x_y"): 9, fold("End"): 12},
        images=[(4, Image("https://i.com/a.jpg", "A chart", "Figure 1: *rates*")),
                (10, Image("https://i.com/b.png"))])
    lines = [("Links in a heading", Block(HEADING, 1, level=2)),
             ("Text under it", Block(PARAGRAPH, 2)), (report, Block(PARAGRAPH, 3)),
             ("https://e.com/x_y", Block(PARAGRAPH, 4)), ("End", Block(PARAGRAPH, 5))]
    assert render("Headline", lines, media, Image("https://i.com/lead.jpg", "Lead")) == (
        "# Headline\n\n![Lead](https://i.com/lead.jpg)\n\n"
        "## Links in a [heading](https://e.com/h)\n\nText under it\n\n"
        "![A chart](https://i.com/a.jpg)\n\n*Figure 1: \\*rates\\**\n\n"
        "See the report by [Ana\\_Lopez](https://e.com/u/a), then "
        "[the report](https://e.com/r?a=1&b=2).\n\n"
        "<https://e.com/x_y>\n\n![](https://i.com/b.png)\n\nEnd\n")


def test_from_text_collapses_whitespace_and_escapes_exactly():
    text = "  first\tline  with   spaces  \n\n 1. two *three*\n\t\n# hash\n"
    assert from_text("A  title\twith tabs", text) == (
        "# A title with tabs\n\nfirst line with spaces\n\n1\\. two \\*three\\*\n\n\\# hash\n")
    assert from_text(None, " \n\t") == ""


# --- any text reads back as itself ------------------------------------------------------------

_CHARS = st.sampled_from([*"*_#-+>=.)1|`[]<&~\\!() aZ", "é", "日", "12.", "&amp;", "***",
                          "<b>", "http://x.y"])
# A line as the cleaner keeps them: one space between words, none at the edges.
_LINE = st.lists(_CHARS, min_size=1, max_size=12).map(lambda cs: " ".join("".join(cs).split()))


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE.filter(bool), min_size=1, max_size=3))
def test_any_paragraph_reads_back_as_its_lines(texts):
    md = render(None, [(t, Block(PARAGRAPH, 1)) for t in texts])
    tokens = MD.parse(md)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], md
    assert inline_text(tokens[1]) == "\n".join(texts), md


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_LINE.filter(bool), st.integers(0, 2), st.booleans()),
                min_size=1, max_size=5))
def test_any_list_reads_back_as_its_items(spec):
    md = render(None, [(t, Block(ITEM, i + 1, 7, level=level, ordered=ordered))
                       for i, (t, level, ordered) in enumerate(spec)])
    assert [text for _, _, text in list_items(md)] == [t.removeprefix("- ") for t, _, _ in spec]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_LINE, min_size=1, max_size=3), min_size=1, max_size=4), st.booleans())
def test_any_table_reads_back_as_its_cells(rows, head):
    md = render(None, [("row", Block(ROW, i + 1, 7, head=head and not i, cells=tuple(r)))
                       for i, r in enumerate(rows)])
    width = max(len(r) for r in rows)
    read = [cells for _, cells in tables(md)[0]]
    assert read[0 if head else 1:] == [r + [""] * (width - len(r)) for r in rows], md


@settings(max_examples=300, deadline=None)
@given(_LINE.filter(bool))
def test_any_heading_reads_back_as_itself(text):
    md = render(None, [(text, Block(HEADING, 1, level=3)), ("body", Block(PARAGRAPH, 2))])
    assert headings(md) == [("h2", text)], md
