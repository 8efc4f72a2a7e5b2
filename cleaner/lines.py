"""What one line of a page is, read on its own: a date line, a picture caption or credit, a
prompt addressed to the reader, a teaser or a recommendation label, a legal line or footer, a
tag list, something shaped like a headline. cleaner/boilerplate.py decides from these and from
where a line sits which lines go.

The patterns are conventions of many publishers, in the languages most pages are written in;
none names a site.
"""

from __future__ import annotations

import re

from .text import printed_date, word_count

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
LABEL_MAX_WORDS = 8  # a block label is short ("More from the Taipei Times")

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


def is_title(key: str, full: str) -> bool:
    """The headline (folded `full`), or the headline without the " - Site" suffix the <title>
    carried; `key` is the folded paragraph."""
    if not key or not full:
        return False
    return key == full or (full.startswith(key + " ") and len(key) >= 0.6 * len(full)
                           and len(key.split()) >= 3)


def split_date_prefix(text: str) -> tuple[str | None, str]:
    """'date 2025-09-10 North Korean leader ...' -> ('date 2025-09-10', 'North Korean ...')."""
    m = _DATE.search(text)
    if not m or m.start() > 24 or not _DATE_LABEL.match(text[: m.start()].strip()):
        return None, text
    return text[: m.end()].strip(), text[m.end() :].strip(" ,|·-–—")


def is_truncated_title(text: str) -> bool:
    return (text.rstrip(_CLOSERS + " ").endswith(("...", "…"))
            and word_count(text) <= HEADLINE_MAX_WORDS)


def is_credit_line(text: str) -> bool:
    """A line that is only a picture credit ("Foto: dpa", "(Bild: Jane Doe)")."""
    return bool(_CREDIT_LINE.match(text)) and word_count(text) <= CREDIT_MAX_WORDS


def is_ad_label(text: str) -> bool:
    """An advertisement's placeholder ("Advertisement", "Anzeige"), alone on its line."""
    return bool(_AD_LABEL.match(text))


def is_recommend_label(text: str) -> bool:
    """The label over a block of recommended links ("You might also like", "Mehr zum
    Thema"), or a teaser line that opens with one ("Lesen Sie auch: ...")."""
    line = text.removeprefix("- ")
    return word_count(line) <= LABEL_MAX_WORDS and bool(
        _RECOMMEND_LABEL.match(line) or _TEASER.match(line))


def is_keyword_label(text: str) -> bool:
    """A label over a list of keywords ("Tags", "Themen")."""
    return bool(_KEYWORD_LABEL.match(text))
