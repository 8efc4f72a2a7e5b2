"""Pre-pass with selectolax: remove what is never article text before trafilatura sees it.

Removed: non-content elements (scripts, forms, navigation landmarks, hidden elements), blocks
whose class/id/role names them as comments, share bars, related links and the like, and lists or
runs of sibling blocks that are nothing but links (related headlines, "Most Read" lists) with
the short heading that labels them. A node that holds most of the page's paragraph text is never
removed, whatever its name: some sites wrap the whole page in a <form> or an "aside".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

NEVER_TEXT = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "object",
              "embed", "button", "select", "input", "textarea", "label")
LANDMARKS = ("nav", "aside", "footer", "form", "dialog")
HIDDEN = ('[hidden]', '[aria-hidden="true"]', '[style*="display:none"]',
          '[style*="display: none"]', '[style*="visibility:hidden"]', '[style*="visibility: hidden"]')
ROLES = ('[role="navigation"]', '[role="complementary"]', '[role="contentinfo"]',
         '[role="banner"]', '[role="dialog"]', '[role="alert"]')
# Tokens of class/id names that mark a block as boilerplate (matched as whole tokens).
# Layout words ("sidebar", "banner", "paywall", "ads") are left out on purpose: pages put them
# on the wrappers of the article itself ("has-sidebar", "paywall-content").
BOILERPLATE_NAMES = frozenset("""
comment comments commentlist disqus respond share sharing social sharebar socialshare
related recommended recommendations mostread most-read trending outbrain taboola
newsletter subscribe subscription signup consent gdpr author-bio pager
""".split())
_NAME_TOKENS = re.compile(r"[a-z]+(?:-(?:read|list|bio|area))?")
BLOCKS = frozenset(("p", "li", "div", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "section",
                    "article", "span", "td"))
LINK_RATIO = 0.7  # share of a block's text inside links for it to count as a link
LINK_BLOCK_MAX_WORDS = 30
MIN_LINK_RUN = 3
GUARD_SHARE = 0.5  # never remove a node holding more than this share of the paragraph text
LABEL_MAX_WORDS = 6
PROTECTED = frozenset(("html", "head", "body", "main"))
MIN_PARAGRAPH_TEXT = 500  # characters of <p> text below which a page is "not built of <p>s"


@dataclass
class PruneReport:
    removed: dict[str, int] = field(default_factory=dict)
    captions: list[str] = field(default_factory=list)
    trace: list[tuple[str, str]] | None = None  # (reason, text) of removed nodes, when asked

    def count(self, reason: str, n: int = 1) -> None:
        self.removed[reason] = self.removed.get(reason, 0) + n


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)


def _words(text: str) -> int:
    return len(text.split())


class _Guard:
    """Knows how much paragraph text the page has and refuses to remove most of it.

    Pages without real <p> paragraphs (text in divs and <br>s) are measured by all their text.
    """

    def __init__(self, tree: LexborHTMLParser) -> None:
        body = tree.body
        self.by_paragraphs = True
        self.total = sum(len(_text(p)) for p in body.css("p")) if body else 0
        if body is not None and self.total < MIN_PARAGRAPH_TEXT:
            self.by_paragraphs = False
            self.total = len(_text(body))

    def _measure(self, node: LexborNode) -> int:
        if not self.by_paragraphs or node.tag == "p":
            return len(_text(node))
        return sum(len(_text(p)) for p in node.css("p"))

    def allows(self, node: LexborNode) -> bool:
        if node.tag in PROTECTED:
            return False
        return self.total == 0 or self._measure(node) <= GUARD_SHARE * self.total


def _boilerplate_name(node: LexborNode) -> bool:
    attrs = node.attributes
    names = " ".join(v for k, v in attrs.items() if k in ("class", "id") and v).lower()
    if not names:
        return False
    return any(tok in BOILERPLATE_NAMES for tok in _NAME_TOKENS.findall(names))


def _link_text_len(node: LexborNode) -> int:
    return sum(len(_text(a)) for a in node.css("a"))


def _is_link_block(node: LexborNode) -> bool:
    text = _text(node)
    if not text or _words(text) > LINK_BLOCK_MAX_WORDS:
        return False
    return _link_text_len(node) >= LINK_RATIO * len(text)


def _element_children(node: LexborNode) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        if child.is_element_node:
            out.append(child)
        child = child.next
    return out


def _is_label(node: LexborNode | None) -> bool:
    if node is None or node.tag not in ("h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong"):
        return False
    text = _text(node)
    return 0 < _words(text) <= LABEL_MAX_WORDS and not node.css_first("a")


def _link_runs(tree: LexborHTMLParser) -> list[list[LexborNode]]:
    """Runs of sibling blocks that are all links, with the label just before each run."""
    runs = []
    body = tree.body
    if body is None:
        return runs
    for parent in body.traverse(include_text=False):
        kids = [k for k in _element_children(parent) if k.tag in BLOCKS or k.tag in ("ul", "ol")]
        i = 0
        while i < len(kids):
            j = i
            while j < len(kids) and _is_link_block(kids[j]):
                j += 1
            if j - i >= MIN_LINK_RUN:
                run = kids[i:j]
                # Labels just before the run ("Most Read", "Related Articles"), however many.
                k = i - 1
                while k >= 0 and _is_label(kids[k]):
                    run.insert(0, kids[k])
                    k -= 1
                runs.append(run)
            i = max(j, i + 1)
    return runs


def _link_lists(tree: LexborHTMLParser) -> list[LexborNode]:
    """<ul>/<ol> whose items are all short links."""
    out = []
    for lst in tree.css("ul, ol"):
        items = [li for li in _element_children(lst) if li.tag == "li"]
        if len(items) >= 2 and all(_is_link_block(li) for li in items):
            out.append(lst)
    return out


def prune(html: str, trace: bool = False) -> tuple[str, PruneReport]:
    """Return the page's HTML without boilerplate blocks, and what was removed.

    With `trace`, the report also lists the text of every removed node (for diagnostics).
    """
    tree = LexborHTMLParser(html)
    report = PruneReport(trace=[] if trace else None)
    report.captions = [t for t in (_text(n) for n in tree.css("figcaption")) if t]
    def remove(nodes: list[LexborNode], reason: str) -> None:
        # Measured afresh for each rule: "most of the text" means most of what is left.
        guard = _Guard(tree)
        for node in nodes:
            if node.parent is None or not guard.allows(node):
                continue
            # remove() detaches without freeing: nodes collected inside it stay safe to touch.
            if report.trace is not None:
                report.trace.append((f"{reason}:{node.tag}", _text(node)))
            node.remove()
            report.count(reason)

    # JSON-LD stays: it is metadata (date, author, headline) that trafilatura reads.
    remove([n for n in tree.css(", ".join(NEVER_TEXT))
            if (n.attributes.get("type") or "").lower() != "application/ld+json"], "non_text")
    remove(tree.css(", ".join(HIDDEN)), "hidden")
    remove(tree.css(", ".join(LANDMARKS + ROLES)), "landmark")
    if tree.body is not None:
        remove([n for n in tree.body.traverse(include_text=False) if _boilerplate_name(n)],
               "boilerplate_name")
    lists = _link_lists(tree)
    for lst in lists:
        prev = lst.prev
        while prev is not None and not prev.is_element_node:
            prev = prev.prev
        if _is_label(prev):
            remove([prev], "link_list_label")
    remove(lists, "link_list")
    for run in _link_runs(tree):
        remove(run, "link_run")
    return tree.html or "", report
