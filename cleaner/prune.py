"""Pre-pass with selectolax: remove what is never article text before trafilatura sees it.

Removed: non-content elements (scripts, forms, navigation landmarks, hidden elements), blocks
whose class/id/role names them as comments, share bars, related links and the like, and lists or
runs of sibling blocks that are nothing but links (related headlines, "Most Read" lists) with
the short heading that labels them. A node that holds most of the page's paragraph text is never
removed, whatever its name: some sites wrap the whole page in a <form> or an "aside".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .text import fold

CODE = ("script", "style", "template", "iframe", "svg", "canvas", "object", "embed", "button",
        "select", "input", "textarea", "label")
# JSON-LD stays: it is metadata (date, author, headline) that trafilatura reads.
_CODE_SELECTOR = f':is({", ".join(CODE)}):not([type="application/ld+json" i])'
LANDMARKS = ("nav", "aside", "footer", "form", "dialog")
HIDDEN = ('[hidden]', '[aria-hidden="true"]', '[style*="display:none"]',
          '[style*="display: none"]', '[style*="visibility:hidden"]',
          '[style*="visibility: hidden"]')
ROLES = ('[role="navigation"]', '[role="complementary"]', '[role="contentinfo"]',
         '[role="banner"]', '[role="dialog"]', '[role="alert"]')
_ATTRIBUTE = re.compile(r"\[([a-z-]+)")  # the attribute an attribute selector tests


def _by_attribute(selectors: Iterable[str]) -> str:
    """The selectors as one list, those testing the same attribute grouped behind a test for
    its presence ("[role]:is(...)"): lexbor then skips the group on elements without it.
    The matches are the same, in document order; a node matched by several selectors is
    listed once per selector either way, the copies next to each other."""
    groups: dict[str, list[str]] = {}
    for selector in selectors:
        attr = _ATTRIBUTE.match(selector)
        groups.setdefault(attr.group(1) if attr else "", []).append(selector)
    out = groups.pop("", [])
    for attr, group in groups.items():
        out.append(group[0] if len(group) == 1 else f"[{attr}]:is({', '.join(group)})")
    return ", ".join(out)


# Tokens of class/id names that mark a block as boilerplate (matched as whole tokens).
# Layout words ("sidebar", "banner", "paywall", "ads") are left out on purpose: pages put them
# on the wrappers of the article itself ("has-sidebar", "paywall-content").
BOILERPLATE_NAMES = frozenset("""
comment comments commentlist disqus respond share sharing social sharebar socialshare
related recommended recommendations mostread most-read trending outbrain taboola
newsletter subscribe subscription signup consent gdpr author-bio pager
""".split())
# Class names that say what a block has, is set up for or is filed under, not what it is:
# "has-comments", "enable-pin-share", "category-no-newsletter" on the article itself.
MODIFIER_PREFIXES = ("has-", "is-", "no-", "with-", "enable-", "enabled-", "disable-",
                     "category-", "tag-", "tags-", "format-", "type-", "status-")
_NAME_TOKENS = re.compile(r"[a-z]+")
_COMPOUND_NAMES = tuple(name for name in BOILERPLATE_NAMES if "-" in name)
# Candidates are preselected in C by substring; the token check in Python then confirms.
_NAME_STEMS = ("comment", "disqus", "respond", "shar", "social", "relat", "recommend",
               "mostread", "most-read", "trending", "outbrain", "taboola", "newsletter",
               "subscri", "signup", "consent", "gdpr", "author-bio", "pager")
_NAME_SELECTOR = _by_attribute(f'[{attr}*="{stem}" i]' for stem in _NAME_STEMS
                               for attr in ("class", "id"))
_HIDDEN_SELECTOR = _by_attribute(HIDDEN)
_LANDMARK_SELECTOR = _by_attribute(LANDMARKS + ROLES)
BLOCKS = frozenset(("p", "li", "div", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "section",
                    "article", "span", "td"))
LINK_RATIO = 0.7  # share of a block's text inside links for it to count as a link
LINK_BLOCK_MAX_WORDS = 30
LINK_BLOCK_MAX_CHARS = 300  # cheap bound checked before counting words
MIN_LINK_RUN = 3
GUARD_SHARE = 0.5  # never remove a node holding more than this share of the paragraph text
LABEL_MAX_WORDS = 6
LABEL_MAX_CHARS = 80
PROTECTED = frozenset(("html", "head", "body", "main"))
MAX_DEPTH = 3000  # real pages nest a few dozen levels; beyond this the pre-pass is skipped
# Tags that are closed explicitly (p, li, td close implicitly and would overcount).
_CONTAINERS = ("div", "section", "article", "span", "blockquote", "table", "ul", "ol", "font",
               "main", "aside", "header", "footer", "nav", "form")
_CONTAINER_TAG = re.compile(rf"<(/?)(?:{'|'.join(_CONTAINERS)})\b", re.IGNORECASE)
_CONTAINER_OPEN = re.compile(rf"<(?:{'|'.join(_CONTAINERS)})\b", re.IGNORECASE)
MIN_PARAGRAPH_TEXT = 500  # characters of <p> text below which a page is "not built of <p>s"


def _tag_ids() -> dict[str, int]:
    """Lexbor's ids of the tags the measuring pass tells apart (fixed numbers for the HTML
    tags), read off a parsed sample: comparing ids is cheaper than comparing tag names."""
    sample = ("<a>text</a><p></p><ul><li></li></ul><ol></ol><dl><dt></dt><dd></dd></dl>"
              "<table><tr><td></td></tr></table>"
              + "".join(f"<{tag}></{tag}>" for tag in BLOCKS))
    body = LexborHTMLParser(sample).body
    assert body is not None
    return {node.tag: node.tag_id for node in body.traverse(include_text=True)}


_IDS = _tag_ids()
_TEXT_ID, _A_ID, _P_ID = _IDS["-text"], _IDS["a"], _IDS["p"]
_RUN_IDS = frozenset(_IDS[tag] for tag in BLOCKS | {"ul", "ol"})  # tags _link_runs looks at
_LIST_IDS = frozenset((_IDS["ul"], _IDS["ol"]))


@dataclass
class PruneReport:
    removed: dict[str, int] = field(default_factory=dict)
    captions: list[str] = field(default_factory=list)
    # The page's <h1>-<h6> texts (folded, cleaner.text.fold) and their levels: a line the
    # extractor printed as a paragraph that is one of these is a heading (cleaner.blocks).
    headings: dict[str, int] = field(default_factory=dict)
    trace: list[tuple[str, str]] | None = None  # (reason, text) of removed nodes, when asked
    # Characters of <p> text left after the structural rules: what an extractor should find.
    paragraph_chars: int = 0
    # The same on the page as served, before any rule (all its text for a page not built of
    # <p>s, as the guard measures it).
    served_paragraph_chars: int = 0

    def count(self, reason: str, n: int = 1) -> None:
        self.removed[reason] = self.removed.get(reason, 0) + n


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)


def _words(text: str) -> int:
    return len(text.split())


class _Sizes:
    """Text sizes of every element (characters: all text, text inside <a>, text inside <p>),
    measured in one bottom-up pass.

    Asking each node for its text would cost the size of its subtree every time, which is
    quadratic on deeply nested pages; this is linear. Sizes are plain lists for speed.
    The same pass notes the only parents the link rules need to look at: lists with two
    children sized like link blocks, and parents with MIN_LINK_RUN of them (removing nodes
    never adds children).
    """

    TEXT, LINK, PARA = 0, 1, 2
    _EMPTY = (0, 0, 0)

    def __init__(self, tree: LexborHTMLParser) -> None:
        self.by_id: dict[int, list[int]] = {}
        self.root: tuple[int, int, int] | list[int] = self._EMPTY
        # Parents that may hold a link run or be a link list, in document order.
        self.run_parents: list[LexborNode] = []
        self.list_parents: list[LexborNode] = []
        root = tree.body
        if root is None:
            return
        by_id = self.by_id
        get = by_id.get
        link_kids: dict[int, int] = {}  # parent mem_id -> children sized like link blocks
        two_ids: set[int] = set()  # parents with two of them
        run_parents, list_parents = self.run_parents, self.list_parents
        root_id = root.mem_id
        # Reversed pre-order visits every node after all of its descendants. Whitespace-only
        # text nodes are skipped in C: they measure 0 either way.
        for node in reversed(list(root.traverse(include_text=True, skip_empty=True))):
            tid = node.tag_id
            if tid == _TEXT_ID:
                n = len(node.text_content.strip())
                if n:
                    parent = node.parent
                    if parent is not None:
                        pid = parent.mem_id
                        up = get(pid)
                        if up is None:
                            by_id[pid] = [n, 0, 0]
                        else:
                            up[0] += n
                continue
            mid = node.mem_id
            size = get(mid)
            if size is None:
                continue  # no text inside: nothing to pass up
            if tid == _A_ID:
                size[1] = size[0]
            elif tid == _P_ID:
                size[2] = size[0]
            if mid in two_ids:
                if tid in _LIST_IDS:
                    list_parents.append(node)
                if link_kids[mid] >= MIN_LINK_RUN:
                    run_parents.append(node)
            if mid == root_id:
                continue
            parent = node.parent
            if parent is None:
                continue
            pid = parent.mem_id
            up = get(pid)
            if up is None:
                by_id[pid] = size[:]
            else:
                up[0] += size[0]
                up[1] += size[1]
                up[2] += size[2]
            # Most blocks have no link text: the cheap test first.
            if size[1] and tid in _RUN_IDS and _link_sized(size):
                count = link_kids[pid] = link_kids.get(pid, 0) + 1
                if count == 2:
                    two_ids.add(pid)
        self.root = by_id.get(root_id, self._EMPTY)
        run_parents.reverse()
        list_parents.reverse()

    def of(self, node: LexborNode) -> tuple[int, int, int] | list[int]:
        return self.by_id.get(node.mem_id, self._EMPTY)


class _Guard:
    """Knows how much paragraph text the page has and refuses to remove most of it.

    Pages without real <p> paragraphs (text in divs and <br>s) are measured by all their text.
    """

    def __init__(self, sizes: _Sizes) -> None:
        self.sizes = sizes
        self.by_paragraphs = sizes.root[_Sizes.PARA] >= MIN_PARAGRAPH_TEXT
        self.index = _Sizes.PARA if self.by_paragraphs else _Sizes.TEXT
        self.total = sizes.root[self.index]
        self.removed_para = 0

    def _measure(self, node: LexborNode) -> int:
        return self.sizes.of(node)[self.index]

    def allows(self, node: LexborNode) -> bool:
        if node.tag in PROTECTED:
            return False
        return self.total == 0 or self._measure(node) <= GUARD_SHARE * self.total

    def removed(self, node: LexborNode) -> None:
        """Keep the total current: "most of the text" means most of what is left."""
        self.total -= self._measure(node)
        self.removed_para += self.sizes.of(node)[_Sizes.PARA]


def _attached(node: LexborNode) -> bool:
    """False for a node inside a subtree that was already removed."""
    while node.parent is not None:
        node = node.parent
    return node.is_document_node or node.tag == "html"


def _boilerplate_name(node: LexborNode) -> bool:
    attrs = node.attributes
    names = " ".join(name for k, v in attrs.items() if k in ("class", "id") and v
                     for name in v.lower().split() if not name.startswith(MODIFIER_PREFIXES))
    if not names:
        return False
    return (any(tok in BOILERPLATE_NAMES for tok in _NAME_TOKENS.findall(names))
            or any(name in names for name in _COMPOUND_NAMES))


def _link_sized(size: tuple[int, int, int] | list[int]) -> bool:
    """Whether a block's sizes allow it to be a link block (the cheap part of the test)."""
    text, link = size[0], size[1]
    return 0 < text <= LINK_BLOCK_MAX_CHARS and link >= LINK_RATIO * text


def _is_link_block(node: LexborNode, sizes: _Sizes) -> bool:
    return _link_sized(sizes.of(node)) and _words(_text(node)) <= LINK_BLOCK_MAX_WORDS


def _element_children(node: LexborNode) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        if child.is_element_node:
            out.append(child)
        child = child.next
    return out


def _is_label(node: LexborNode | None, sizes: _Sizes) -> bool:
    if node is None or node.tag not in ("h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong"):
        return False
    text, link, _ = sizes.of(node)
    if not 0 < text <= LABEL_MAX_CHARS or link:
        return False
    return _words(_text(node)) <= LABEL_MAX_WORDS


def _link_runs(sizes: _Sizes) -> list[list[LexborNode]]:
    """Runs of sibling blocks that are all links, with the label just before each run."""
    runs = []
    # Only parents with enough link-sized children can hold a run: those _Sizes noted, less
    # those inside a subtree removed since.
    for parent in sizes.run_parents:
        if not _attached(parent):
            continue
        kids = [k for k in _element_children(parent) if k.tag in BLOCKS or k.tag in ("ul", "ol")]
        i = 0
        while i < len(kids):
            j = i
            while j < len(kids) and _is_link_block(kids[j], sizes):
                j += 1
            if j - i >= MIN_LINK_RUN:
                run = kids[i:j]
                # Labels just before the run ("Most Read", "Related Articles"), however many.
                k = i - 1
                while k >= 0 and _is_label(kids[k], sizes):
                    run.insert(0, kids[k])
                    k -= 1
                runs.append(run)
            i = max(j, i + 1)
    return runs


def _link_lists(sizes: _Sizes) -> list[LexborNode]:
    """<ul>/<ol> whose items are all short links."""
    out = []
    # Only lists with two link-sized items can qualify: those _Sizes noted, less those inside
    # a subtree removed since.
    for lst in sizes.list_parents:
        if not _attached(lst):
            continue
        items = [li for li in _element_children(lst) if li.tag == "li"]
        if len(items) >= 2 and all(_is_link_block(li, sizes) for li in items):
            out.append(lst)
    return out


def too_deep(html: str, limit: int = MAX_DEPTH) -> bool:
    """Whether container tags nest deeper than `limit`, judged from the markup unparsed
    (a regex scan, far cheaper than a parse)."""
    # Nesting deeper than `limit` needs more than `limit` opening tags, and more than `limit`
    # opening container tags: scans in C settle most pages before the walk in Python.
    tags = html.count("<")
    if tags <= limit or tags - html.count("</") <= limit \
            or len(_CONTAINER_OPEN.findall(html)) <= limit:
        return False
    depth = 0
    for m in _CONTAINER_TAG.finditer(html):
        depth += -1 if m.group(1) else 1
        if depth > limit:
            return True
    return False


def prune(html: str, trace: bool = False) -> tuple[str, PruneReport]:
    """Return the page's HTML without boilerplate blocks, and what was removed.

    With `trace`, the report also lists the text of every removed node (for diagnostics).
    A pathologically nested page is returned as it is: HTML5 tree building costs time in
    proportion to depth for every element, so 100,000 nested divs would take minutes; lxml
    (trafilatura's parser) stops at its own depth limit instead.
    """
    report = PruneReport(trace=[] if trace else None)
    if too_deep(html):
        report.count("skipped_too_deep")
        return html, report
    tree = LexborHTMLParser(html)
    # One query in document order serves both lists.
    for node in tree.css("figcaption, h1, h2, h3, h4, h5, h6"):
        text, tag = _text(node), node.tag
        if tag == "figcaption":
            if text:
                report.captions.append(text)
        else:
            report.headings.setdefault(fold(text), int(tag[1]))

    def remove(nodes: list[LexborNode], reason: str, guard: _Guard) -> None:
        for node in nodes:
            if not _attached(node) or not guard.allows(node):
                continue
            if report.trace is not None:
                report.trace.append((f"{reason}:{node.tag}", _text(node)))
            guard.removed(node)
            # remove() detaches without freeing: nodes collected inside it stay safe to touch.
            node.remove()
            report.count(reason)

    # Code and controls go first, unmeasured: they hold no prose, and once they are gone one
    # measuring pass (the costly part) serves every rule.
    for node in tree.css(_CODE_SELECTOR):
        if _attached(node):
            node.remove()
            report.count("non_text")
    sizes = _Sizes(tree)
    guard = _Guard(sizes)
    remove(tree.css("noscript"), "non_text", guard)  # some sites keep the article in one
    remove(tree.css(_HIDDEN_SELECTOR), "hidden", guard)
    remove(tree.css(_LANDMARK_SELECTOR), "landmark", guard)
    if tree.body is not None:
        remove([n for n in tree.body.css(_NAME_SELECTOR) if _boilerplate_name(n)],
               "boilerplate_name", guard)
    report.paragraph_chars = sizes.root[_Sizes.PARA] - guard.removed_para
    report.served_paragraph_chars = sizes.root[guard.index]
    # The link rules read the same measurements: a removed block only lowers the sizes of
    # its ancestors, which are larger than the small link blocks these rules look for.
    lists = _link_lists(sizes)
    labels = []
    for lst in lists:
        prev = lst.prev
        while prev is not None and not prev.is_element_node:
            prev = prev.prev
        if _is_label(prev, sizes):
            labels.append(prev)
    remove(labels, "link_list_label", guard)
    remove(lists, "link_list", guard)
    runs = _link_runs(sizes)
    remove([node for run in runs for node in run], "link_run", guard)
    return tree.html or "", report
