"""Per-source CSS selectors: the help a user gives for a site the generic rules get wrong.

`content_selector` names the article's container: the page is cleaned from what it matches
only (every outermost match in document order, in one <article> under the page's own <html>
and <head>, so its declared metadata still reaches the extractor). `drop_selectors` name
boxes to remove first (related links, newsletter sign-ups). Both are applied before the
generic pre-pass (prune.py). A stale selector never empties a page: when the content
selector matches nothing (or only empty elements), the whole page is cleaned as without it,
and the drops say `selector.no_match`; a drop selector never removes <html>, <head>,
<body> or a box that holds a content match.

Selectors come from sources files and command lines, so they are checked (lexbor must parse
them; length and count are bounded) when a `Selectors` is made: ValueError (SelectorError,
naming the field) otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from .prune import too_deep

CONTENT, DROP = "content_selector", "drop_selectors"  # the sources file's field names
MAX_CHARS = 1000  # per selector: real ones are tens of characters
MAX_DROP = 50  # drop selectors per source
PROTECTED = frozenset(("html", "head", "body"))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LD_JSON = 'script[type="application/ld+json" i]'


class SelectorError(ValueError):
    """A selector field that cannot be used: "{field} {reason}" (field: CONTENT or DROP)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field} {reason}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def check(selector: object, field: str = CONTENT) -> str:
    """`selector` stripped, if lexbor can use it; SelectorError saying what is wrong."""
    if not isinstance(selector, str):
        raise SelectorError(field, f"must be a CSS selector (a string), not {_shown(selector)}")
    text = selector.strip()
    if not text:
        raise SelectorError(field, "must be a CSS selector, not an empty string")
    if len(text) > MAX_CHARS:
        raise SelectorError(field, f"must be at most {MAX_CHARS} characters, not {len(text)}")
    if _CONTROL.search(text):
        raise SelectorError(field, f"holds a control character: {_shown(text)}")
    try:  # lexbor parses a selector when it is used: try it on an empty document
        LexborHTMLParser("").css(text)
    except SelectolaxError:
        raise SelectorError(field, f"is not a CSS selector lexbor can parse: "
                                   f"{_shown(text)}") from None
    return text


@dataclass(frozen=True)
class Selectors:
    """A content selector and drop selectors, checked when made (SelectorError)."""

    content: str | None = None
    drop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.content is not None:
            object.__setattr__(self, "content", check(self.content, CONTENT))
        drop = self.drop
        if isinstance(drop, str) or not isinstance(drop, (list, tuple)):
            raise SelectorError(DROP, f"must be a list of CSS selectors, not {_shown(drop)}")
        if len(drop) > MAX_DROP:
            raise SelectorError(DROP, f"must be at most {MAX_DROP} selectors, not {len(drop)}")
        object.__setattr__(self, "drop", tuple(check(s, DROP) for s in drop))

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> Selectors | None:
        """The selectors a source's fields name (CONTENT, DROP), None when neither."""
        content, drop = fields.get(CONTENT), fields.get(DROP)
        if content is None and drop is None:
            return None
        selectors = cls(content=content, drop=drop if drop is not None else ())
        return selectors if selectors.content or selectors.drop else None

    def apply(self, html: str) -> tuple[str, dict[str, int]]:
        """The page's HTML with the drop boxes removed and, when the content selector
        matches, only the content kept; and the drops (counts by reason)."""
        if too_deep(html):  # prune.py skips such a page too: parsing it would take minutes
            return html, {"selector.skipped_too_deep": 1}
        tree = LexborHTMLParser(html)
        body = tree.body
        if body is None:
            return html, {}
        drops: dict[str, int] = {}
        content = _outermost(body.css(self.content)) if self.content else []
        if self.content and not any(n.text(deep=True, strip=True) for n in content):
            drops["selector.no_match"] = 1  # or only empty shells: clean the whole page
            content = []
        # A box that holds the content is never dropped (the selectors contradict each other).
        keep = {a.mem_id for n in content for a in _lineage(n)}
        removed = 0
        for selector in self.drop:
            for node in body.css(selector):
                if node.tag in PROTECTED or node.mem_id in keep or not _attached(node):
                    continue
                node.remove()  # detaches without freeing: nested matches stay safe to touch
                removed += 1
        if removed:
            drops["selector.drop"] = removed
        if not content:
            return (tree.html or html) if removed else html, drops
        drops["selector.content"] = len(content)
        return _wrapped(tree, content), drops


def _lineage(node: LexborNode) -> list[LexborNode]:
    """The node and its ancestors."""
    nodes = []
    current: LexborNode | None = node
    while current is not None:
        nodes.append(current)
        current = current.parent
    return nodes


def _attached(node: LexborNode) -> bool:
    """False for a node inside a subtree that was already removed."""
    top = _lineage(node)[-1]
    return top.is_document_node or top.tag == "html"


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """The nodes (in document order) that are not inside another of them."""
    kept: list[LexborNode] = []
    ids: set[int] = set()
    for node in nodes:
        if not any(a.mem_id in ids for a in _lineage(node)[1:]):
            kept.append(node)
            ids.add(node.mem_id)
    return kept


def _wrapped(tree: LexborHTMLParser, content: list[LexborNode]) -> str:
    """The page's <html> (its attributes: lang) and <head>, with the content in one
    <article>; JSON-LD blocks of the body outside the content go into the head (metadata)."""
    root = tree.root
    attrs = "".join(f' {k}="{escape(v or "", quote=True)}"'
                    for k, v in (root.attributes.items() if root is not None else ()))
    inside = {n.mem_id for n in content}
    assert tree.body is not None
    ld = [s.html or "" for s in tree.body.css(_LD_JSON)
          if not any(a.mem_id in inside for a in _lineage(s))]
    head = tree.head
    head_html = (head.inner_html or "") if head is not None else ""
    article = "".join(n.html or "" for n in content)
    return (f"<!DOCTYPE html><html{attrs}><head>{head_html}{''.join(ld)}</head>"
            f"<body><article>{article}</article></body></html>")
