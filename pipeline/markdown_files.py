"""Articles as Markdown documents: YAML front matter and the `markdown` field, one `.md` file
per article (`scrape export --format markdown`, `scrape clean --format markdown`).

The front matter follows what static-site generators and notes tools read (Hugo, Jekyll,
Obsidian): a block between `---` lines at the top, `date` a YAML date, `tags` a list.
A file's name comes from the article's id and an ASCII slug of its title, never a path
from the title itself; each file is written whole or not at all.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from cleaner.markdown import from_text
from store.db import OutputIsDatabase

# The front matter's keys, in this order; a key without a value is left out.
FRONT_MATTER = ("title", "url", "canonical_url", "date", "author", "sitename", "language",
                "tags", "duplicate_of")
SLUG_CHARS = 60  # at most, cut at a word boundary
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_WORD = re.compile(r"[a-z0-9]+")
_NO_FOLDING = 2**31 - 1  # a YAML line width no value reaches: long titles stay on one line


def _tags(value: Any) -> list[str]:
    """The tags as a list of non-empty strings: from a list, or the stored JSON text (text
    that is not a JSON array is one tag)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
        if not isinstance(value, list):
            value = [value]
    if not isinstance(value, list):
        return []
    return [str(tag) for tag in value if tag not in (None, "")]


def front_matter(row: Mapping[str, Any]) -> dict[str, Any]:
    """The FRONT_MATTER keys of `row` that have a value: `date` as a datetime.date when it is
    a valid YYYY-MM-DD, `tags` a list, `duplicate_of` an int."""
    matter: dict[str, Any] = {}
    for key in FRONT_MATTER:
        value = row.get(key)
        if key == "tags":
            value = _tags(value)
        elif key == "duplicate_of" and value is not None:
            value = int(value)
        elif key == "date" and isinstance(value, str) and _DAY.fullmatch(value):
            with suppress(ValueError):  # 2026-02-30 stays text
                value = date.fromisoformat(value)
        if value is not None and value != "" and value != []:
            matter[key] = value
    return matter


def markdown_document(row: Mapping[str, Any]) -> str:
    """An article (a stored row, or Article.to_dict()) as a Markdown document: YAML front
    matter, a blank line, the body; ending with exactly one newline. The body is the
    `markdown` field, or, for a row stored before that field (NULL), the text rendered as
    escaped paragraphs under the title (cleaner.markdown.from_text)."""
    body = row.get("markdown")
    if body is None:
        body = from_text(row.get("title"), row.get("text") or "")
    body = body.strip("\n")
    matter = front_matter(row)
    head = ""
    if matter:
        head = "---\n" + yaml.safe_dump(matter, sort_keys=False, allow_unicode=True,
                                        default_flow_style=False, width=_NO_FOLDING) + "---\n"
    if not body.strip():
        return head or "\n"
    return head + ("\n" if head else "") + body + "\n"


def slug(title: str | None) -> str:
    """The title folded to ASCII lower-case words of [a-z0-9] joined by "-", at most
    SLUG_CHARS long, cut at a word boundary (a first word longer than that is cut); "" when
    the title has no such word."""
    folded = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    words = _WORD.findall(folded.lower())
    if not words:
        return ""
    kept = words[0][:SLUG_CHARS]
    for word in words[1:]:
        if len(kept) + 1 + len(word) > SLUG_CHARS:
            break
        kept += "-" + word
    return kept


def file_name(article_id: int, title: str | None) -> str:
    """`{id}-{slug}.md`, or `{id}.md` for a title without a slug: a plain name, never a path,
    a hidden file or a reserved device name (it starts with the id)."""
    words = slug(title)
    return f"{int(article_id)}-{words}.md" if words else f"{int(article_id)}.md"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_whole(directory: Path, name: str, text: str, mode: int) -> None:
    """`text` at directory/name, whole or not at all: a temporary file beside it, synced,
    renamed over the name (which replaces a symbolic link itself, never its target). On any
    error or interruption the temporary file is removed and the name left as it was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, directory / name)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _sync_directory(directory: Path) -> None:
    """Make the renames durable (where the system allows opening a directory)."""
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def export_markdown(rows: Iterable[Mapping[str, Any]], directory: Path,
                    protected: Collection[str] = ()) -> int:
    """Write each row (export_rows' dicts) as `directory/file_name(id, title)`, a
    markdown_document; return the number of files written. The directory (and its parents)
    is created when missing. Re-exporting replaces the files of the same names (a retitled
    article gets a new name; its old file stays). `protected`: real paths never replaced
    (the database's files): reaching one raises OutputIsDatabase.

    The first file that cannot be written stops the export with an OSError naming it: the
    files written before it stay, each whole (an I/O error on one directory is seldom one
    article's)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    real = os.path.realpath(directory)
    mode = 0o666 & ~_umask()
    count = 0
    try:
        for row in rows:
            name = file_name(row["id"], row.get("title"))
            if os.path.join(real, name) in protected:
                raise OutputIsDatabase(f"{directory / name} is one of the database's "
                                       f"files: not replaced; stopped after {count} file(s)")
            try:
                _write_whole(directory, name, markdown_document(row), mode)
            except OSError as exc:
                raise OSError(f"cannot write {directory / name}: "
                              f"{exc.strerror or exc}; stopped after {count} file(s), "
                              "each written whole") from exc
            count += 1
    finally:
        _sync_directory(directory)
    return count
