"""Links and images of the pruned page, for the `markdown` field's --links and --images.

trafilatura's text is read without links or images (asked for, they change what it
extracts), so they are taken from the page trafilatura read: each block's links by the
block's text, which is how a kept line finds them, and each image by its place among the
blocks, which is how it finds its place among the kept lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .text import fold

_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "td", "th", "dd",
           "dt", "pre", "figcaption"}
# Characters a Markdown link target may not hold as they are (CommonMark: no spaces, no
# unbalanced parentheses, no < >): percent-encoded.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"


@dataclass(frozen=True)
class Image:
    src: str
    alt: str = ""
    caption: str = ""


@dataclass
class Media:
    # folded text of a block -> its links as (anchor text, absolute URL, occurrences of
    # the anchor text before it), in order
    links: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    # folded text of a block -> its place in the page; images with their places
    order: dict[str, int] = field(default_factory=dict)
    images: list[tuple[int, Image]] = field(default_factory=list)


def link_target(href: str | None, base_url: str | None) -> str | None:
    """`href` absolute and fit for a Markdown link, or None when it is no web link."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    url = urljoin(base_url, href) if base_url else href
    if not url.startswith(("http://", "https://", "mailto:")):
        return None  # javascript:, data:, a relative link with nothing to resolve it
    return quote(url, safe=_URL_SAFE)


def page_media(html: str, base_url: str | None, links: bool, images: bool) -> Media:
    """The links (when `links`) and images (when `images`) of a page's blocks."""
    media = Media()
    tree = LexborHTMLParser(html)
    if tree.body is None:
        return media
    for index, node in enumerate(tree.body.traverse(include_text=False)):
        tag = node.tag
        if tag in _BLOCKS:
            key = fold(node.text(deep=True, separator=" "))
            if key:
                media.order.setdefault(key, index)
                if links and key not in media.links:
                    found = _links(node, base_url)
                    if found:
                        media.links[key] = found
        elif images and tag == "img":
            image = _image(node, base_url)
            if image is not None:
                media.images.append((index, image))
    return media


def _links(block: LexborNode, base_url: str | None) -> list[tuple[str, str, int]]:
    """(anchor text, URL, how often the anchor's words come before it in the block)."""
    out = []
    before: list[str] = []
    for node in block.traverse(include_text=True):
        if node.tag == "-text":
            before.append(node.text_content or "")
        elif node.tag == "a":
            text = " ".join(node.text(deep=True, separator=" ").split())
            target = link_target(node.attributes.get("href"), base_url)
            if text and target:
                out.append((text, target, " ".join("".join(before).split()).count(text)))
    return out


def _image(img: LexborNode, base_url: str | None) -> Image | None:
    attrs = img.attributes
    src = attrs.get("src") or ""
    if not src or src.startswith("data:"):  # a lazy-loading placeholder: the real one
        src = attrs.get("data-src") or attrs.get("data-lazy-src") or ""
    if not src:
        srcset = attrs.get("srcset") or attrs.get("data-srcset") or ""
        src = srcset.split(",")[0].split()[0] if srcset.strip() else ""
    target = link_target(src, base_url)
    if target is None or target.startswith("mailto:"):
        return None
    if any((attrs.get(d) or "").strip() in ("0", "1") for d in ("width", "height")):
        return None  # a tracking pixel
    caption = ""
    parent = img.parent
    while parent is not None and parent.tag not in ("figure", "body"):
        parent = parent.parent
    if parent is not None and parent.tag == "figure":
        node = parent.css_first("figcaption")
        caption = node.text(deep=True, separator=" ", strip=True) if node is not None else ""
    return Image(target, " ".join((attrs.get("alt") or "").split()), " ".join(caption.split()))
