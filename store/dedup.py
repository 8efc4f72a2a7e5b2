"""Cross-document dedup inside the writer's transaction: which stored story an article is.

Every article keeps its row; a copy gets `duplicate_of` = the id of its cluster's canonical
article, `similarity` (to the stored copy it matched) and `dup_method`:
  "exact"      the same body once case, whitespace and punctuation are folded (content_hash);
  "near"       estimated Jaccard similarity of the bodies' shingles over the threshold;
  "contained"  a trimmed copy: most of the shorter body is in the longer one.
Near matches come from an index object (cleaner.dedup.LSHIndex, injected by the caller, so
the store never imports the cleaner); without one, only exact copies are found.

The canonical member of a cluster is the best by this rule, in order:
  1. the page the others name as their canonical link (a syndicated copy points there);
  2. the earliest publication date (a dated page before an undated one);
  3. the longest body (words);
  4. the first stored (lowest id).
A new copy replaces the canonical only when it ranks strictly higher, and the members then
point at it: the canonical never flips back, and the same set of copies gives the same
canonical in whatever order they arrive.

Persistence: one signature per article in `signatures` (scheme, shingle count, MinHash
bytes). A Store loads them once (bench/store.py) and then reads only rows added
after the last one it saw (`seq`), inside each write's IMMEDIATE transaction: several
writers (processes) each see every signature committed before their write, so two copies
of one story never both become canonical.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlite_utils

from records import Article

log = logging.getLogger(__name__)


class SimilarityIndex(Protocol):
    """What the store needs from a near-duplicate index (cleaner.dedup.LSHIndex is one)."""

    @property
    def scheme(self) -> str: ...
    def sign(self, text: str) -> Any: ...
    def add(self, key: int, sig: Any) -> None: ...
    def add_stored(self, keys: list[int], blobs: list[bytes], sizes: list[int]) -> None: ...
    def remove(self, key: int) -> None: ...
    def query(self, sig: Any, exclude: int | None = None) -> list[Any]: ...
    def contained(self, a: str, b: str) -> float | None: ...


_LAST = "9999-99-99"  # sorts after every date: an undated page ranks after dated ones


class Clusters:
    """Places articles in clusters. Used by Store inside its write transaction."""

    def __init__(self, db: sqlite_utils.Database, index: SimilarityIndex | None) -> None:
        self.db = db
        self.index = index
        self._seq = 0  # the last signatures.seq loaded into the index
        self._seq_before = 0  # ... when the current transaction began
        self._backfilled = False

    def catch_up(self) -> None:
        """Load signatures stored since the last call (by this or any other process)."""
        if self.index is None:
            return
        self._seq_before = self._seq
        if not self._backfilled:
            self._backfill()
        rows = self.db.execute(
            "SELECT seq, article_id, shingles, minhash FROM signatures "
            "WHERE seq > ? AND scheme = ? ORDER BY seq", [self._seq, self.index.scheme])
        while chunk := rows.fetchmany(10_000):  # bounded: never all blobs at once
            seqs, keys, sizes, blobs = zip(*chunk, strict=True)
            self.index.add_stored(list(keys), list(blobs), list(sizes))
            self._seq = seqs[-1]
        # Signatures of another scheme are skipped (and replaced by _backfill); seq still moves.
        top = self.db.execute("SELECT max(seq) FROM signatures").fetchone()[0]
        self._seq = max(self._seq, top or 0)

    def rolled_back(self) -> None:
        """The write transaction failed: forget what it stored. (Index entries it added stay
        until replaced; a match on an article that does not exist is skipped.)"""
        self._seq = self._seq_before
        if self._seq_before == 0:  # the backfill was part of it
            self._backfilled = False

    def mark(self) -> int:
        return self._seq

    def restore(self, mark: int) -> None:
        """One result's writes were undone (a savepoint): so are the signatures it stored."""
        self._seq = mark

    def _backfill(self) -> None:
        """Sign the articles that have no signature of this scheme (a database from before
        dedup, or a changed configuration): once, then never again."""
        assert self.index is not None
        self._backfilled = True
        todo = self.db.execute(
            "SELECT a.id, a.text FROM articles a LEFT JOIN signatures s "
            "ON s.article_id = a.id AND s.scheme = ? WHERE s.article_id IS NULL",
            [self.index.scheme]).fetchall()
        if todo:
            log.info("signing %d stored article(s) for dedup (scheme %s)", len(todo),
                     self.index.scheme)
        for article_id, text in todo:
            self.save_signature(article_id, self.index.sign(text or ""))

    def save_signature(self, article_id: int, sig: Any) -> None:
        assert self.index is not None
        cursor = self.db.execute(
            "INSERT OR REPLACE INTO signatures (article_id, scheme, shingles, minhash) "
            "VALUES (?, ?, ?, ?)", [article_id, self.index.scheme, sig.size, sig.to_bytes()])
        self._seq = cursor.lastrowid or self._seq
        self.index.add(article_id, sig)

    def place(self, article_id: int, article: Article, sig: Any,
              fresh: bool = False) -> str | None:
        """Put a new or changed article in its cluster and set its dup fields. Returns the
        dup_method of its best match, None when it matches no stored article. `fresh`: the
        row was inserted by this write, so its dup fields are NULL already and a canonical
        (or unique) article needs no UPDATE to say so (one statement less per new article).

        Every cluster the article matches is merged into one: copies that arrived before
        any link between them was stored end up together. The merged cluster's canonical is
        the best by the rule, among the clusters' canonicals and the article."""
        if self.index is not None:
            self.save_signature(article_id, sig)
        links: dict[int, tuple[float, str]] = {}  # cluster root -> the match linking it
        for root, similarity, method in self._matches(article_id, article, sig):
            links.setdefault(root, (similarity, method))
        links.pop(article_id, None)  # its own cluster (an updated canonical with members)
        if not links:
            return self._mark(article_id, article, None, None, None, write=not fresh)
        best = next(iter(links.values()))  # matches come best first
        winner = min((article_id, *links), key=self._rank)
        # Rows whose dup fields change are updated rows: `export --since` must see them.
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for root, (similarity, method) in links.items():
            if root == winner:
                continue
            # This cluster joins the winner's: its members, then its canonical.
            self.db.execute("UPDATE articles SET duplicate_of = ?, updated_at = ? "
                            "WHERE duplicate_of = ?", [winner, now, root])
            self.db.execute("UPDATE articles SET duplicate_of = ?, similarity = ?, "
                            "dup_method = ?, updated_at = ? WHERE id = ?",
                            [winner, similarity, method, now, root])
        if winner == article_id:  # (the UPDATEs above never touch the row's own fields)
            self._mark(article_id, article, None, None, None, write=not fresh)
        else:
            self.db.execute("UPDATE articles SET duplicate_of = ?, updated_at = ? "
                            "WHERE duplicate_of = ?", [winner, now, article_id])
            self._mark(article_id, article, winner, *best)
        return best[1]

    def _matches(self, article_id: int, article: Article,
                 sig: Any) -> Iterator[tuple[int, float, str]]:
        """(cluster root, similarity, method) of every stored copy found, best first."""
        row = self.db.execute(
            "SELECT coalesce(duplicate_of, id) FROM articles WHERE content_hash = ? AND id != ? "
            "ORDER BY id LIMIT 1", [article.content_hash, article_id]).fetchone()
        if row:
            yield row[0], 1.0, "exact"
        if self.index is None:
            return
        matches = self.index.query(sig, exclude=article_id)
        if not matches:
            return
        keys = [m.key for m in matches]
        roots = dict(self.db.execute(
            f"SELECT id, coalesce(duplicate_of, id) FROM articles "
            f"WHERE id IN ({', '.join('?' * len(keys))})", keys).fetchall())
        for match in matches:
            if match.key not in roots:  # its article is gone (deleted by hand): drop it
                self.index.remove(match.key)
                continue
            similarity = match.similarity
            if match.method == "contained":  # estimated; confirmed on the two texts
                stored = self.db.execute("SELECT text FROM articles WHERE id = ?",
                                         [match.key]).fetchone()[0]
                similarity = self.index.contained(article.text, stored or "")
                if similarity is None:
                    continue
            yield roots[match.key], round(similarity, 3), match.method

    def _mark(self, article_id: int, article: Article, duplicate_of: int | None,
              similarity: float | None, method: str | None, write: bool = True) -> str | None:
        if write:
            self.db.execute("UPDATE articles SET duplicate_of = ?, similarity = ?, "
                            "dup_method = ? WHERE id = ?",
                            [duplicate_of, similarity, method, article_id])
        article.duplicate_of, article.similarity, article.dup_method = (
            duplicate_of, similarity, method)
        return method

    def _rank(self, article_id: int) -> tuple[int, str, int, int]:
        """Sort key of the canonical rule (lower is better)."""
        canonical_url, date, words = self.db.execute(
            "SELECT canonical_url, date, word_count FROM articles WHERE id = ?",
            [article_id]).fetchone()
        named = self.db.execute(
            "SELECT 1 FROM articles WHERE canonical_link = ? AND id != ? LIMIT 1",
            [canonical_url, article_id]).fetchone() is not None
        return (0 if named else 1, date or _LAST, -(words or 0), article_id)


@dataclass
class Cluster:
    """One story seen more than once: its canonical article and the other copies."""

    canonical: dict[str, Any]  # id, url, canonical_url, title, date, sitename
    members: list[dict[str, Any]]  # the same, plus similarity and dup_method

    @property
    def size(self) -> int:
        return 1 + len(self.members)


_CLUSTER_COLUMNS = "id, url, canonical_url, title, date, sitename, similarity, dup_method"


def clusters(db: sqlite_utils.Database, min_size: int = 2) -> Iterator[Cluster]:
    """Clusters of at least `min_size` articles, largest first (then by canonical id)."""
    heads = db.execute(
        "SELECT duplicate_of, count(*) AS n FROM articles WHERE duplicate_of IS NOT NULL "
        "GROUP BY duplicate_of HAVING n + 1 >= ? ORDER BY n DESC, duplicate_of",
        [min_size]).fetchall()
    for head, _ in heads:
        canonical = _rows(db, f"SELECT {_CLUSTER_COLUMNS} FROM articles WHERE id = ?", [head])
        members = _rows(db, f"SELECT {_CLUSTER_COLUMNS} FROM articles WHERE duplicate_of = ? "
                            "ORDER BY similarity DESC, id", [head])
        for row in canonical:
            del row["similarity"], row["dup_method"]
            yield Cluster(canonical=row, members=members)


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
