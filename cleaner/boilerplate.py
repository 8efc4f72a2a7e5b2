"""Post-pass on paragraphs: what an extractor lets through that is not the article.

Rules are structural and lexical, never site-specific:
- metadata repeated in the body: the headline, the standfirst, a bare date line, a picture
  caption (a known caption, or a line ending in a photo credit);
- prompts and calls to action (comment, sign up / sign in, subscribe, newsletter, read more);
- the tail after the article: a trailing run of headline-like lines (related links whose anchors
  were flattened to text, "Most Read" labels, truncated titles), prompts and publisher footers.
Every drop carries a reason, so the caller can count them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .text import fold, nfc, printed_date, word_count

# A date in the forms publishers print: 2025-09-10, 10/09/2025, 10 September 2025, Sep 10, 2025.
_MONTHS = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?")
_DATE = re.compile(
    r"\b(?:\d{4}-\d{1,2}-\d{1,2}(?:[t ]\d{1,2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? {_MONTHS},? \d{{4}}"
    rf"|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})\b"
    r"(?:,? (?:at )?\d{1,2}[:.]\d{2}(?: ?[ap]\.?m\.?| uhr\b)?)?",
    re.IGNORECASE,
)
# Day, month name, year in the languages of most of the pages we see: "22 de janeiro de
# 2018", "3. März 2024", "10 septembre 2025", "10 de septiembre de 2025", "10 settembre 2025".
_MONTH_NAMES = (
    "janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
    "|enero|febrero|marzo|mayo|junio|julio|septiembre|setiembre|octubre|noviembre|diciembre"
    "|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|décembre"
    "|januar|jänner|februar|märz|juni|juli|oktober|dezember"
    "|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre"
    "|januari|februari|maart|mei|augustus"
)
_WRITTEN_DATE = re.compile(
    rf"\b\d{{1,2}}\.?º? (?:de )?(?:{_MONTH_NAMES}) (?:de )?\d{{4}}\b", re.IGNORECASE)
_WEEKDAY = re.compile(
    r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|montag|dienstag|mittwoch|donnerstag"
    r"|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|lunes|martes|miércoles|jueves|viernes|sábado|domingo|lunedì|martedì|mercoledì"
    r"|giovedì|venerdì|sabato|(?:segunda|terça|quarta|quinta|sexta)(?:-feira)?)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:at|às|as|à|a las|alle|um|om|à)?\s*\d{1,2}[:.h]\d{2}(?::\d{2})?"
    r"\s*(?:[ap]\.?m\.?|uhr|h|hrs)?(?:\s+[A-Z]{2,4}\b)?", re.IGNORECASE)
_DATE_LABEL = re.compile(
    r"^(?:date|dated|published|posted|updated|last updated|modified|on|am|le|el|il|"
    r"veröffentlicht|stand|publié|publicado|pubblicato|aktualisiert|mis à jour|actualizado)?"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
_LABELLED_TIME = re.compile(
    r"^(?:published|posted|updated|last updated|modified)\s*(?:at|on)?\s*:?\s*"
    r"\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*(?:[A-Z]{2,4})?\.?$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+")
# A caption ends with its credit: "... Picture: KCNA via REUTERS", "(Photo: AP)", "Image © X".
_CREDIT = re.compile(
    r"(?:\b(?:picture|photo|photograph|image|foto|bild|credit|illustration)s?"
    r"(?: credit)?\s*(?::|©|/|by)|©)\s*[^.!?]{2,80}\)?\s*$",
    re.IGNORECASE,
)
# A line that is only a picture credit, wherever it sits: "Foto: dpa", "(Bild: Jane Doe)",
# "Photo credit: X / Y", "Titelbild: X on Unsplash". Not "Source:": a table's source is text.
_CREDIT_LINE = re.compile(
    r"^[(\[]?\s*(?:photos?|pictures?|images?|fotos?|bild(?:er)?|titelbild|beitragsbild"
    r"|titelfoto|credits?|crédits?|créditos?|illustrations?)(?: credits?| photos?)?\s*"
    r"(?::|©|/)"
    r"\s*[^.!?]{1,100}[)\]]?\s*$",
    re.IGNORECASE,
)
CREDIT_MAX_WORDS = 14
# An advertisement's placeholder label, alone on its line.
_AD_LABEL = re.compile(
    r"^(?:advertisement|advertising|sponsored|anzeige|werbung|publicidad|publicité"
    r"|passer la publicité|pubblicità|annonse|annons|reklama|story continues below"
    r"(?: advertisement)?)\W*$",
    re.IGNORECASE,
)
# Prompts and calls to action addressed to the reader.
_CTA_START = re.compile(
    r"^(?:sign (?:up|in)|log ?in|subscribe|(?:click|tap) (?:here|to (?:subscribe|sign|read more))"
    r"|follow (?:us|@\w+)|join (?:us|the)"
    r"|read (?:more|next|also)|download (?:our|the app)|share (?:this|on)|support (?:our|us)"
    r"|already (?:a )?(?:subscriber|registered|have an account)|become a (?:member|subscriber)"
    r"|get (?:the|our) (?:latest|newsletter|app)|don'?t miss|please (?:log|sign|login))\b"
    # Teaser labels: "SEE MORE: ...", "READ MORE: ...", "RELATED: ...", "WATCH: ...".
    r"|^(?:see|read|watch|listen|related|more)(?: more| also)?\s*:"
    r"|^get access\b|^use (?:the )?code\b"
    # The same prompts in German, Spanish and French.
    r"|^(?:jetzt |zum )?newsletter (?:abonnieren|anmelden|bestellen)|^zum newsletter\b"
    r"|^unterstützen sie\b|^unterstütze\b"
    r"|\b(?:sie sind|du bist) (?:aktuell |derzeit |noch )?nicht (?:eingeloggt|angemeldet)"
    r"|^du musst eingeloggt sein|^(?:suscríbete|suscribete|regístrate|únete|hazte (?:miembro|socio))\b"
    r"|^(?:abonnez-vous|inscrivez-vous|pour lire la suite|pour accéder en illimité)\b"
    # A linked teaser tagged with its kind: "Storm hits coast [VIDEO]", "... [PICS]|".
    r"|\[[A-Z][A-Z ]{2,}\]\W*$",
    re.IGNORECASE,
)
# The label over a block of recommended links, in the languages of most pages we see. A line
# that is only such a label, followed to the end of the page by nothing but list items and
# short lines, starts the block (`_recommended_block`).
_RECOMMEND_LABEL = re.compile(
    r"^(?:you (?:might|may|will) (?:also )?(?:like|enjoy)|related(?: (?:articles?|stories|posts"
    r"|news|content|coverage|links|reading|topics))?|more (?:stories|news|articles)"
    r"|more (?:from|on|about) .{1,40}|recommended(?: for you| reading| stories)?"
    r"|most (?:read|popular|viewed|shared)|(?:latest|top|trending|popular) (?:news|stories"
    r"|articles|posts)|further reading|see also|also read|read (?:more|also|next)"
    r"|(?:das(?: thema)? )?könnte (?:sie|dich) (?:auch )?interessieren|mehr zum thema.{0,40}"
    r"|weiterführende links|(?:weitere|mehr) (?:artikel|nachrichten|themen|beiträge|meldungen)"
    r"|zum weiterlesen|contenido relacionado|à découvrir|à voir aussi"
    r"|(?:neue|neueste|aktuelle) (?:nachrichten|artikel)|lesen sie (?:auch|mehr)"
    r"|auch interessant|schon gelesen|meistgelesen(?:e artikel)?"
    r"|(?:le|te) puede interesar|(?:noticias|artículos) relacionad[oa]s|lee también"
    r"|más noticias|(?:à )?lire aussi|vous aimerez aussi|sur le même sujet"
    r"|leggi anche|potrebbe interessarti|articoli correlati|leia também|veja também"
    r"|notícias relacionadas|lees ook|meer nieuws|gerelateerde artikelen|les også|läs också"
    r"|læs også|czytaj (?:więcej|też|także))\W*$",
    re.IGNORECASE,
)
# A teaser line under such a label, in one: "Lesen Sie auch: Headline", "LE PUEDE INTERESAR: ...".
_TEASER = re.compile(
    r"^(?i:lesen sie (?:auch|mehr)|auch lesen|zum weiterlesen|mehr zum thema"
    r"|auch interessant|(?:le|te) puede interesar|puedes ver|lea (?:también|más)"
    r"|lee (?:también|más)|vea también|(?:à )?lire aussi|à découvrir|leggi anche"
    r"|leia também|veja também|lees ook|les også|läs också|læs også|czytaj (?:też|także))\s*[:»]"
    # A one-word teaser verb counts in capitals only ("MIRA: ..."): "Mira:" opens a line of
    # an interview as often.
    r"|^(?:LEA|MIRE|MIRA|VEA|LISEZ|LIRE|LESEN)\s*:"
)
# An instruction ("Click the Start button", "Register the car", "Download the source from")
# is a how-to's prose as often as a button: a prompt only as a short label.
_INSTRUCTION = re.compile(
    r"^(?:click|tap|register|download|please read|(?:jetzt )?(?:abonnieren|registrieren"
    r"|anmelden))\b", re.IGNORECASE)
INSTRUCTION_MAX_WORDS = 6
_CTA_ANYWHERE = re.compile(
    r"\b(?:comment(?:ing)? policy|to comment|leave a comment|before commenting|post a comment"
    r"|comments? (?:are|is) (?:closed|moderated)|newsletter|subscribe (?:to|now|for)"
    r"|sign up (?:for|to|now)|(?:sign|log) in (?:to|now)|create an account|free trial"
    r"|subscribers? only|paywall|terms of (?:use|service)|privacy policy|cookie policy"
    r"|click here|follow us|follow @\w+|delivered (?:to|through) your|for as little as"
    r"|order reprints|print (?:this )?article|try again later"
    r"|(?:listen|watch|read|sign up|click|tap) (?:back )?here|letters? to the editor"
    r"|(?:we'?d|we would) (?:like|love) to hear)\b",
    re.IGNORECASE,
)
# Prose can mention newsletters or paywalls; a prompt speaks to the reader...
_READER = re.compile(r"\b(?:you|your|our|us|please|now|today)\b", re.IGNORECASE)
# ... and is not a quotation or reported speech.
_REPORTED = re.compile(r"[“”\"«»„]|\b(?:said|says|told|according to)\b", re.IGNORECASE)
# Follow-us lines ("Follow Newsbeat on Instagram, Facebook and YouTube").
_SOCIAL = re.compile(
    r"\bfollow\b.{0,80}\bon (?:twitter|facebook|instagram|youtube|linkedin|tiktok|x)\b",
    re.IGNORECASE,
)
# Contact lines ("Have a tip? Jane Doe may be reached at jdoe@example.com", "E-Mail: x@y.de").
# A sentence of the article can hold an address too ("Applications go to jobs@x.org by
# Friday, the council said."), so a contact line is short or not a sentence.
_CONTACT = re.compile(
    r"\b(?:reached|write to|contact|email|e-mail|tips?)\b.{0,80}\b[\w.+-]+@[\w-]+\.[\w.]+",
    re.IGNORECASE,
)
CONTACT_MAX_WORDS = 12
# Legal lines of the publisher, wherever the sentence starts.
_LEGAL = re.compile(
    r"\b(?:all rights reserved|personal,? non-?commercial use|subscriber agreement"
    r"|may not be (?:reproduced|republished|redistributed|rewritten)"
    r"|without (?:the )?(?:prior )?(?:written )?permission)\b",
    re.IGNORECASE,
)
# A line of keywords: "stock car 2018, stock car brasil, interlagos, ..." with no sentence.
_TAG_ITEM = re.compile(r"^[^.!?;:]{1,40}$")
_KEYWORD_LABEL = re.compile(
    r"^(?:tags?|keywords?|topics?|filed under|categor(?:y|ies)|themen|schlagw(?:ö|o)rte?"
    r"|stichw(?:ö|o)rte?|étiquettes|mots[- ]cl[ée]s|etiquetas|temas|palavras[- ]chave"
    r"|argomenti|trefwoorden)\s*:?$",
    re.IGNORECASE,
)
_FOOTER_START = re.compile(
    r"^(?:©|\(c\)|copyright\b|all rights reserved|published by\b|distributed by\b"
    r"|registered (?:in|office)\b|company (?:no|number|registration)\b|terms (?:of|&|and)\b"
    r"|privacy\b|powered by\b|produced by\b)",
    re.IGNORECASE,
)
_TERMINAL = ("." , "!", "?", "。", "！", "？", "؟", "।", ":", ";")
_CLOSERS = "\"'”’»)]"
CTA_MAX_WORDS = 30
PROMPT_MAX_WORDS = 35
FOOTER_MAX_WORDS = 60
LEGAL_SHORT_WORDS = 20
MIN_TAGS = 5
HEADLINE_MAX_WORDS = 20
MAX_WEAK_STREAK = 8
LABEL_MAX_WORDS = 8  # a block label is short ("More from the Taipei Times")
STANDFIRST_MIN_WORDS = 6  # a shorter line under the headline is a kicker or a label
BYLINE_EXTRA_WORDS = 5  # words around the author's name in a byline ("By", "Staff Writer")


@dataclass
class PostPass:
    """Result of the post-pass: the kept paragraphs and why each other one went."""

    kept: list[str]
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (reason, paragraph)
    date_line: str | None = None
    caption: str | None = None
    # The line printed under the headline when the headline sits below the body (a page that
    # repeats its top after the article): cut with the tail, it is the standfirst.
    standfirst: str | None = None

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reason, _ in self.dropped:
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def is_date_line(text: str, loose: bool = True) -> bool:
    """A paragraph that is only a date (and time), perhaps with a label such as "Published".

    English forms are matched exactly; with `loose`, a short line in another language counts
    when htmldate reads a date in it and it has no sentence ending ("3. März 2024, 14:05
    Uhr"). That also reads an event list's "03.11.2022 - Band - Venue" or "Termin: 29.02.2020",
    so the caller asks for it only where a dateline sits (before the body's first prose).
    """
    n = word_count(text)
    if n > 12:
        return False
    if _LABELLED_TIME.match(text):
        return True
    if _DATE.search(text) or _WRITTEN_DATE.search(text):
        rest = _WRITTEN_DATE.sub(" ", _DATE.sub(" ", text))
        rest = _TIME.sub(" ", _WEEKDAY.sub(" ", rest))
        rest = re.sub(r"[|·•,\-–—()\[\]]", " ", rest).strip()
        if _DATE_LABEL.match(rest) or word_count(rest) == 0:
            return True
    if loose and len(_NUMBER.findall(text)) >= 2 and not text.rstrip().endswith((".", "!", "?")):
        return printed_date(text, extensive=False) is not None
    return False


def is_caption(text: str) -> bool:
    """A picture caption: a line ending in a photo credit."""
    return word_count(text) <= 80 and bool(_CREDIT.search(text))


def is_prompt(text: str) -> bool:
    """A call to action or prompt addressed to the reader, not article prose."""
    n = word_count(text)
    if n == 0 or n > CTA_MAX_WORDS:
        return False
    if _CTA_START.search(text) or _TEASER.search(text):
        return True
    if _INSTRUCTION.search(text) and n <= INSTRUCTION_MAX_WORDS:
        return True
    if _SOCIAL.search(text) and n <= PROMPT_MAX_WORDS:
        return True
    if _CONTACT.search(text) and (n <= CONTACT_MAX_WORDS or not _ends_sentence(text)):
        return True
    return (n <= PROMPT_MAX_WORDS and bool(_CTA_ANYWHERE.search(text))
            and bool(_READER.search(text)) and not _REPORTED.search(text))


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS + " ").endswith(_TERMINAL)


def is_footer(text: str) -> bool:
    """A publisher's imprint or legal line."""
    if word_count(text) > FOOTER_MAX_WORDS:
        return False
    return bool(_FOOTER_START.search(text)) or is_legal(text)


def is_legal(text: str) -> bool:
    """A publisher's legal line: short, or led by its legal sentence. Prose that quotes
    "some rights reserved", or a post whose last words are the site's copyright, stays."""
    n = word_count(text)
    m = _LEGAL.search(text) if n <= FOOTER_MAX_WORDS else None
    if m is None:
        return False
    return (n <= LEGAL_SHORT_WORDS or bool(_FOOTER_START.search(text))
            or word_count(text[: m.start()]) <= n / 2)


def is_tag_list(text: str) -> bool:
    """A line of keywords separated by commas, none of them a sentence."""
    items = [item.strip() for item in text.split(",")]
    return (len(items) >= MIN_TAGS and all(_TAG_ITEM.match(item) for item in items)
            and not text.rstrip().endswith((".", "!", "?")))


def is_headline_like(text: str) -> bool:
    """Short, and not a sentence: a title, a label, or a truncated link text."""
    stripped = text.rstrip(_CLOSERS + " ")
    if stripped.endswith(("...", "…")):
        return word_count(text) <= HEADLINE_MAX_WORDS + 5
    n = word_count(text)
    return 0 < n <= HEADLINE_MAX_WORDS and not stripped.endswith(_TERMINAL)


def _is_title(key: str, full: str) -> bool:
    """The headline (folded `full`), or the headline without the " - Site" suffix the <title>
    carried; `key` is the folded paragraph."""
    if not key or not full:
        return False
    return key == full or (full.startswith(key + " ") and len(key) >= 0.6 * len(full)
                           and len(key.split()) >= 3)


def _split_date_prefix(text: str) -> tuple[str | None, str]:
    """'date 2025-09-10 North Korean leader ...' -> ('date 2025-09-10', 'North Korean ...')."""
    m = _DATE.search(text)
    if not m or m.start() > 24 or not _DATE_LABEL.match(text[: m.start()].strip()):
        return None, text
    return text[: m.end()].strip(), text[m.end() :].strip(" ,|·-–—")


def post_pass(
    paragraphs: list[str],
    title: str | None = None,
    description: str | None = None,
    captions: Iterable[str] = (),
    author: str | None = None,
) -> PostPass:
    """Drop metadata lines, prompts and the non-article tail from a page's paragraphs.

    The rules read each paragraph composed (NFC: their words are written composed); what
    they keep and drop is the paragraph as given."""
    composed = [nfc(p) for p in paragraphs]
    if composed == paragraphs:
        return _post_pass(paragraphs, title, description, captions, author)
    result = _post_pass(composed, title, description, captions, author)
    given = dict(zip(composed, paragraphs, strict=True))
    result.kept = [given[t] for t in result.kept]
    result.dropped = [(reason, given[t]) for reason, t in result.dropped]
    result.date_line, result.caption, result.standfirst = (
        given.get(t, t) if t is not None else None
        for t in (result.date_line, result.caption, result.standfirst))
    return result


def _post_pass(paragraphs: list[str], title: str | None, description: str | None,
               captions: Iterable[str], author: str | None) -> PostPass:
    caption_keys = {fold(c) for c in captions} - {""}
    author_keys = [k for k in (fold(a) for a in (author or "").split(";")) if k]
    title_key = fold(title) if title else ""
    description_key = fold(description) if description else ""
    result = PostPass(kept=[])
    entries: list[tuple[str, str | None]] = []
    # Until the first prose paragraph: where captions and date lines sit, and where a
    # description-like paragraph is the lede (sites copy their first paragraph into the
    # meta description), not a leftover standfirst.
    lead = True
    previous: str | None = None  # why the previous paragraph went (None: it stayed)
    for text in paragraphs:
        reason = None
        key = fold(text)
        date_part, rest = _split_date_prefix(text) if lead else (None, text)
        if date_part and rest and (is_caption(rest) or fold(rest) in caption_keys):
            result.date_line = result.date_line or date_part
            result.caption = result.caption or rest
            reason = "caption"
        elif _is_title(key, title_key):
            reason = "title"
        elif key and key == description_key and previous == "title" and not lead:
            reason = "description"
        elif is_date_line(text, loose=lead):
            result.date_line = result.date_line or text
            reason = "date_line"
        elif key in caption_keys or (lead and is_caption(text)):
            result.caption = result.caption or text
            reason = "caption"
        elif _CREDIT_LINE.match(text) and word_count(text) <= CREDIT_MAX_WORDS:
            reason = "credit"
        elif _AD_LABEL.match(text):
            reason = "ad"
        elif is_prompt(text):
            reason = "prompt"
        elif is_legal(text):
            reason = "legal"
        elif author_keys and _is_byline(key, author_keys):
            reason = "byline"
        elif (previous == "title" and not description_key and result.standfirst is None
              and is_headline_like(text) and word_count(text) >= STANDFIRST_MIN_WORDS):
            # Under the headline, not a sentence, and the page declares no description: the
            # standfirst, or the body's first line; kept in the body, and as the description.
            result.standfirst = text
        previous = reason
        entries.append((text, reason))
        if reason:
            result.dropped.append((reason, text))
        elif not is_headline_like(text):
            lead = False
    _mark_related_lists(entries, result)
    result.kept = _trim_tail(entries, result)
    return result


def _is_byline(key: str, author_keys: list[str]) -> bool:
    """A short line made of the author's name and a few words around it ("By Jane Doe",
    "Jane Doe, Reuters", "Words: Jane Doe | Photos: John Roe")."""
    words = len(key.split())
    named = [a for a in author_keys if f" {a} " in f" {key} "]
    if not named:
        return False
    name_words = sum(len(a.split()) for a in named)
    # A one-word name ("Agencies", a username) is a byline only almost on its own.
    extra = BYLINE_EXTRA_WORDS if name_words > 1 else 1
    return words <= name_words + extra


def _is_keyword_line(entries: list[tuple[str, str | None]], i: int, cut: int) -> bool:
    """A tag list closing the page, or under a label that says so ("Tags", "Themen");
    elsewhere a comma list is as likely the article's own (a cast, a list of ingredients).

    Lines already dropped, or cut from `cut` on, do not count: the rule must read the same
    on its own output."""
    if not is_tag_list(entries[i][0]):
        return False
    if all(reason is not None for _, reason in entries[i + 1 : cut]):
        return True
    label = next((text for text, reason in reversed(entries[:i]) if reason is None), "")
    return bool(_KEYWORD_LABEL.match(label))


def _is_truncated_title(text: str) -> bool:
    return (text.rstrip(_CLOSERS + " ").endswith(("...", "…"))
            and word_count(text) <= HEADLINE_MAX_WORDS)


def _mark_related_lists(entries: list[tuple[str, str | None]], result: PostPass) -> None:
    """A recommendation label inside the body with the list of links under it ("Auch
    interessant", then "- Headline" items): both go. The label's wording and the list after
    it are the two signs; a label followed by prose, or a list without a label, stays."""
    i = 0
    while i < len(entries):
        text, reason = entries[i]
        j = i + 1
        while j < len(entries) and entries[j][1] is None and entries[j][0].startswith("- "):
            j += 1
        if (reason is None and j > i + 1 and word_count(text) <= LABEL_MAX_WORDS
                and _RECOMMEND_LABEL.match(text)):
            for k in range(i, j):
                entries[k] = (entries[k][0], "related")
                result.dropped.append(("related", entries[k][0]))
            i = j
        else:
            i += 1


def _recommended_block(entries: list[tuple[str, str | None]]) -> int:
    """Where a trailing block of recommended links starts (len(entries) when there is none):
    a label line ("You might also like", "Mehr zum Thema") with only list items or short
    lines after it to the end. Both signs are needed: the label's wording, and the shape of
    what follows (a teaser list, not the article's paragraphs)."""
    start = len(entries)
    for k in range(len(entries) - 1, -1, -1):
        text, reason = entries[k]
        line = text.removeprefix("- ")
        if word_count(line) <= LABEL_MAX_WORDS and (_RECOMMEND_LABEL.match(line)
                                                    or _TEASER.match(line)):
            start = k
        elif reason is not None or is_footer(text) or not word_count(text):
            continue  # what the tail walk drops anyway may follow the block
        elif not (text.startswith("- ") or is_headline_like(text)):
            break
    return start


def _trim_tail(entries: list[tuple[str, str | None]], result: PostPass) -> list[str]:
    """Keep paragraphs, less the trailing run of non-article lines.

    `entries` are (paragraph, reason it was already dropped or None). Walking back from the end,
    the run takes footers, prompts, truncated titles (strong signs) and headline-like lines
    (weak: a related title, a "Most Read" label, but also a tour date or a sign-off). The run is
    cut only from a strong sign on; the weak lines before the first strong sign go too when
    that sign is a prompt or a truncated title (a block of related links), but not when it is
    only a footer (a credit line such as "(Reporting by ...)" before "© Reuters" stays). A
    streak of more than MAX_WEAK_STREAK weak lines ends the run: that many short lines in a
    row is a list the article owns.
    """
    # A labelled block of recommended links goes first; the walk starts above it.
    cut = k = _recommended_block(entries)  # everything from `cut` on goes
    streak = 0
    overflow = False
    block = False  # a prompt or a truncated title: the weak lines around it are links too
    while k > 0:
        text, reason = entries[k - 1]
        if reason == "prompt" or (reason is None and _is_truncated_title(text)):
            cut, streak, block = k - 1, 0, True
        elif reason is None and (is_footer(text) or _is_keyword_line(entries, k - 1, cut)):
            cut, streak = k - 1, 0
        elif reason is None and is_headline_like(text):
            streak += 1
            if streak > MAX_WEAK_STREAK:
                overflow = True
                break
        elif reason is None:
            break  # prose: the article ends here
        k -= 1
    if block and not overflow:
        cut = k  # the weak lines just before the first strong sign are the same block
    kept = []
    for i, (text, reason) in enumerate(entries):
        if reason is not None:
            continue
        if i >= cut:
            result.dropped.append(("tail", text))
            if i > 0 and entries[i - 1][1] == "title" and result.standfirst is None:
                result.standfirst = text
        else:
            kept.append(text)
    return kept
