"""The cleaning stage: Page in, Result (with an Article, or a reason there is none) out.

HTML: selectolax pre-pass -> trafilatura -> repeated-body collapse -> paragraph post-pass.
Plain text: headline detection from the text's shape -> the same collapse and post-pass.
The stage holds only configuration, so it can be pickled into another process unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from records import Article, Page, Result
from records.charsets import decode_text
from records.outcomes import CLEAN_ERROR, CLEAN_NO_CONTENT, CLEAN_TIMEOUT, CLEANED
from records.urls import canonicalize, is_site_root, same_site

from .blocks import line_blocks, marked_headings, subheads
from .boilerplate import post_pass
from .deadline import CleanTimeout, deadline
from .extract import (
    Extracted,
    declared,
    declared_enough,
    extract,
    url_day,
    with_declared,
)
from .lines import is_prompt
from .markdown import render
from .media import Image, page_media
from .metadata import settled
from .prune import prune
from .repeats import kept_after_repeats
from .selectors import Selectors
from .text import content_hash, printed_date, split_paragraphs, word_count
from .text_dump import find_headline

log = logging.getLogger(__name__)

# When trafilatura returns under 40% of the <p> text a pruned page still holds (and that text
# is substantial), the page as served is extracted too, and its text kept if 1.5x longer:
# it recovers recall that the pruning cost trafilatura's own length comparisons (a few pages
# take this path; README "Quality").
FALLBACK_MIN_CHARS = 1000
FALLBACK_COVERAGE = 0.4
FALLBACK_GAIN = 1.5
# The same when the extraction holds under a fifth of the <p> text of the page as served (its
# text, on a page not built of <p>s): the pre-pass itself may have removed the article (a
# class name read as boilerplate, a live ticker's many small "comment" blocks). A page with
# long comments or link lists also gets here, and the fuller text is kept only when
# trafilatura finds it in the page as served.
SERVED_COVERAGE = 0.2
# A pruned page with this much <p> text left is extracted with trafilatura's recall focus:
# its own result is then long enough that trafilatura skips the readability comparison (the
# slow part), and what recall lets through is the post-pass's to remove: the same F1 on the
# shared sets, in less time (README "Quality").
RECALL_FOCUS_CHARS = 6000


@dataclass(frozen=True)
class CleanConfig:
    min_words: int = 5  # an article body shorter than this is "no content"
    time_limit: float | None = 10.0  # seconds per page (see deadline.py); None: no bound
    # trafilatura without its fallback extractors (readability, jusText compared with its
    # own result): less CPU a page; bench/quality.py's "cleaner-fast" measures what it costs.
    fast: bool = False
    # CSS selectors applied before the pre-pass (selectors.py): `selectors` to every page
    # (scrape ingest/clean options); `source_selectors` by Page.source (a sources file's
    # content_selector/drop_selectors), which win for that source's pages.
    selectors: Selectors | None = None
    source_selectors: Mapping[str, Selectors] = field(default_factory=dict, hash=False)
    # The `markdown` field: links as absolute [text](url), images with their captions; both
    # off by default (the text first).
    links: bool = False
    images: bool = False

    def selectors_of(self, source: str) -> Selectors | None:
        return self.source_selectors.get(source, self.selectors)


class Cleaner:
    """Callable stage: `for result in Cleaner()(pages): ...`."""

    def __init__(self, config: CleanConfig | None = None) -> None:
        self.config = config or CleanConfig()

    def __call__(self, pages: Iterable[Page]) -> Iterator[Result]:
        for page in pages:
            yield self.clean(page)

    def clean(self, page: Page) -> Result:
        """Clean one page. Never raises: a failure is a Result with outcome and error set."""
        if not page.ok:
            return Result(page=page, outcome=page.outcome, error=page.error)
        drops: dict[str, int] = {}
        try:
            with deadline(self.config.time_limit):
                article = self._clean(page, drops)
        except CleanTimeout as exc:
            log.warning("cleaning %s: %s", page.url, exc)
            return Result(page=page, outcome=CLEAN_TIMEOUT, error=str(exc), drops=drops)
        except Exception as exc:  # one broken page must never stop a batch
            log.exception("cleaning %s failed", page.url)
            return Result(page=page, outcome=CLEAN_ERROR,
                          error=f"cleaner failed: {type(exc).__name__}: {exc}")
        if article is None or article.word_count < self.config.min_words:
            return Result(page=page, outcome=CLEAN_NO_CONTENT, error="no article text found",
                          drops=drops)
        return Result(page=page, article=article, outcome=CLEANED, drops=drops)

    def _clean(self, page: Page, drops: dict[str, int]) -> Article | None:
        text = decode_text(page.body, page.encoding)
        url = page.origin_url or page.final_url or page.url
        captions: list[str] = []
        if page.content_type == "text/plain":
            ex = _from_text(text)
        else:
            ex, captions = _from_html(text, url if url.startswith("http") else None, drops,
                                      self.config.fast, self.config.selectors_of(page.source),
                                      (self.config.links, self.config.images))
            if ex is None:
                return None
        unique = kept_after_repeats(ex.paragraphs, not_prose=is_prompt)
        repeated = len(ex.paragraphs) - len(unique)
        post = post_pass([ex.paragraphs[i] for i in unique], title=ex.title,
                         description=ex.description, captions=captions, author=ex.author)
        kept = [unique[i] for i in post.kept_index]
        if repeated:
            drops["repeat"] = repeated
        drops.update((f"post.{k}", v) for k, v in post.reasons().items())
        body = "\n".join(post.kept)
        words = word_count(body)
        caption = post.caption or (captions[0] if captions else None)
        lead = (Image(ex.image_url, caption=caption or "")
                if self.config.images and ex.image_url else None)
        lines = subheads([(ex.paragraphs[i], ex.blocks[i]) for i in kept])
        return Article(
            url=url,
            canonical_url=_canonical(url, ex.url),
            title=ex.title,
            description=ex.description or post.standfirst,
            author=ex.author,
            date=ex.date or printed_date(post.date_line),
            date_modified=ex.date_modified,
            sitename=ex.sitename,
            language=ex.language,
            text=body,
            markdown=render(ex.title, lines, ex.media, lead),
            word_count=words,
            content_hash=content_hash(body),
            image_url=ex.image_url,
            image_caption=caption,
            tags=ex.tags,
            repeated_paragraphs_removed=repeated,
            removed_words=max(0, sum(map(word_count, ex.paragraphs)) - words),
            fetched_at=page.fetched_at,
            canonical_link=canonicalize(ex.url) if ex.url else None,
        )


def _from_html(html: str, url: str | None, drops: dict[str, int], fast: bool = False,
               selectors: Selectors | None = None,
               media: tuple[bool, bool] = (False, False)) -> tuple[Extracted | None, list[str]]:
    """Pre-pass, trafilatura and the page's declared metadata: (extracted, figure captions).
    `media`: whether the links, the images of the pruned page are wanted (cleaner.media)."""
    served = html  # declarations are read from the page as served, whatever selectors keep
    if selectors is not None:  # the user's selectors hold for the fallback below too
        html, found = selectors.apply(html)
        drops.update(found)
    pruned, report = prune(html)
    drops.update((f"prune.{k}", v) for k, v in report.removed.items())
    head = declared(served, base_url=url)
    # trafilatura's metadata pass only where the page's declarations fall short.
    own = declared_enough(head)
    options = dict(with_metadata=not own, fast=fast, settled=settled(head.meta),
                   # htmldate's full search only for a page that declares no date
                   search_dates=head.meta.date is None,
                   favor_recall=report.paragraph_chars > RECALL_FOCUS_CHARS)
    ex = extract(pruned, url=url, **options)
    if (_missed_most(ex, report.paragraph_chars)
            or _missed_most(ex, report.served_paragraph_chars, SERVED_COVERAGE)):
        # trafilatura judged the pruned page differently (its fallbacks compare lengths):
        # try the page as served and keep the fuller text.
        raw = extract(html, url=url, **options)
        if raw is not None and _chars(raw) > FALLBACK_GAIN * _chars(ex):
            drops["prune.fallback_to_raw"] = 1
            if ex is None:
                ex = raw
            else:  # the metadata read from the pruned page is as good
                ex.paragraphs, ex.blocks = raw.paragraphs, raw.blocks
    if ex is None:
        return None, report.captions
    ex.blocks = marked_headings(ex.paragraphs, ex.blocks, report.headings)
    if any(media):
        ex.media = page_media(pruned, url, *media)
    if own:
        ex.date = url_day(url)  # what trafilatura would have read first
    return with_declared(ex, head, base_url=url), report.captions


def _chars(ex: Extracted | None) -> int:
    return sum(len(p) for p in ex.paragraphs) if ex is not None else 0


def _missed_most(ex: Extracted | None, paragraph_chars: int,
                 coverage: float = FALLBACK_COVERAGE) -> bool:
    """The extraction holds less than `coverage` of `paragraph_chars` (the <p> text of the
    pruned page, or of the page as served), and that text is substantial."""
    return paragraph_chars > FALLBACK_MIN_CHARS and _chars(ex) < coverage * paragraph_chars


def _from_text(text: str) -> Extracted:
    paragraphs = split_paragraphs(text)
    title, standfirst = find_headline(paragraphs)
    return Extracted(paragraphs=paragraphs, blocks=line_blocks(None, paragraphs), title=title,
                     description=standfirst)


def _canonical(url: str, declared: str | None) -> str:
    """The page's own canonical link when it names the same site (or we only have a file),
    unless it names the site's home page for a page that is not: a common misconfiguration
    that would file every article of the site under one key."""
    if declared and declared.startswith(("http://", "https://")):
        if is_site_root(declared) and not is_site_root(url):
            return canonicalize(url)
        if not url.startswith(("http://", "https://")) or same_site(url, declared):
            return canonicalize(declared)
    return canonicalize(url)
