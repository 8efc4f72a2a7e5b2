"""Near-duplicate bodies: MinHash signatures over word shingles, an LSH index to find them.

Pure computation plus an in-memory index: which article is canonical, and keeping the index
in step with the database, is the store's business (store/dedup.py). Nothing here is global:
a MinHasher and an LSHIndex hold only their configuration and their own entries.

How two bodies are compared
- Tokens: the casefolded body's words (`\\w+` runs; in Chinese and Japanese each character),
  so case, punctuation, quotes and whitespace never make two copies differ.
- Shingles: runs of `shingle` consecutive tokens (a set). A changed word alters at most
  `shingle` shingles, so a lightly edited copy keeps most of them while two different
  articles on one topic share almost none (common phrases are shorter than 5 words).
- Signature: `num_perm` minimums of multiply-shift hashes of the shingle hashes (the MinHash
  of the set); the share of equal positions in two signatures estimates their Jaccard
  similarity. The number of distinct shingles is kept too, which turns that estimate into
  containment (how much of the shorter body is in the longer one): a copy with its last
  paragraphs cut is contained in the original even when the Jaccard similarity is low.
- Index: LSH banding (`bands` x `rows` signature positions); any shared band makes a candidate,
  which is then verified against the thresholds with the full signature.

Defaults (DedupConfig), and why
- shingle=5 words: one changed word in 20 leaves about 78% of the shingles intact (Jaccard
  about 0.6); distinct articles sharing topic and vocabulary stay far below (README
  "Duplicates" has the measured figures).
- threshold=0.5 (estimated Jaccard): a duplicate; or containment >= 0.8 of the shorter body
  with Jaccard >= 0.25 (a trimmed copy, at least a quarter of the original's length).
- bands=32, rows=2: a pair at Jaccard 0.25 becomes a candidate with probability 0.87, at
  0.3 with 0.95, at 0.5 with 0.9999; at 0.05 with 0.08 (candidates are verified together, in
  one numpy comparison). bench/dedup.py compares band layouts (README "Duplicates"): this one
  recalls as much as larger ones for less memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from records import Result

from .text import _CJK, nfc

_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_SHIFT = np.uint64(32)
_EMPTY = np.iinfo(np.uint32).max
MAX_MATCHES = 50  # per query, best first


@dataclass(frozen=True)
class DedupConfig:
    shingle: int = 5  # tokens per shingle
    num_perm: int = 128  # signature length (a signature is num_perm * 4 bytes)
    bands: int = 32  # LSH: bands x rows <= num_perm positions are banded
    rows: int = 2
    threshold: float = 0.5  # estimated Jaccard at which two bodies are one story
    containment: float = 0.8  # or: share of the shorter body's shingles found in the longer
    min_jaccard: float = 0.25  # ... provided the Jaccard similarity is at least this
    seed: int = 1  # part of the signature scheme: changing it invalidates stored signatures

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows ({self.bands} x {self.rows}) exceeds num_perm "
                             f"({self.num_perm})")
        if not (0 < self.threshold <= 1 and 0 < self.containment <= 1
                and 0 <= self.min_jaccard <= self.threshold):
            raise ValueError("thresholds must be in (0, 1], min_jaccard <= threshold")
        if self.shingle < 1 or self.num_perm < 2:
            raise ValueError("shingle must be >= 1 and num_perm >= 2")

    @property
    def scheme(self) -> str:
        """Names the signature layout; signatures are comparable only within one scheme."""
        return f"minhash-w{self.shingle}-p{self.num_perm}-s{self.seed}"


@dataclass(frozen=True)
class Signature:
    hashvalues: np.ndarray  # uint32[num_perm]
    size: int  # distinct shingles in the body

    def __len__(self) -> int:
        return len(self.hashvalues)

    def to_bytes(self) -> bytes:
        return self.hashvalues.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes, size: int) -> Signature:
        return cls(np.frombuffer(blob, dtype="<u4").astype(np.uint32), size)


@dataclass(frozen=True)
class Match:
    key: int
    jaccard: float  # estimated from the signatures
    containment: float  # estimated share of the shorter body's shingles in the longer one
    method: str  # "near" (Jaccard over the threshold) or "contained" (a trimmed copy)

    @property
    def similarity(self) -> float:
        """The figure that decided: Jaccard for "near", containment for "contained"."""
        return self.jaccard if self.method == "near" else self.containment


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(nfc(text).casefold())


class MinHasher:
    """`MinHasher(config)(text) -> Signature`. Holds only seeded constants (picklable)."""

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.config = config or DedupConfig()
        rng = np.random.default_rng(self.config.seed)
        top = np.iinfo(np.uint64).max
        # Odd multipliers make multiply-shift hashing universal on 64-bit words.
        self._mix = rng.integers(1, top, size=self.config.shingle, dtype=np.uint64) | 1
        self._a = rng.integers(1, top, size=self.config.num_perm, dtype=np.uint64) | 1
        self._b = rng.integers(0, top, size=self.config.num_perm, dtype=np.uint64)

    def shingles(self, text: str) -> np.ndarray:
        """Distinct 64-bit shingle hashes of `text` (a body shorter than a shingle is one)."""
        toks = tokens(text)
        if not toks:
            return np.zeros(0, dtype=np.uint64)
        # crc32 is stable across processes and runs (unlike hash()), and fast in C.
        h = np.fromiter(map(zlib.crc32, map(str.encode, toks)), dtype=np.uint64,
                        count=len(toks))
        k = min(self.config.shingle, len(h))
        n = len(h) - k + 1
        out = h[:n] * self._mix[0]
        for j in range(1, k):  # numpy wraps uint64 arithmetic: a polynomial hash mod 2^64
            out += h[j:j + n] * self._mix[j]
        return np.unique(out)

    def __call__(self, text: str) -> Signature:
        s = self.shingles(text)
        if not len(s):
            return Signature(np.full(self.config.num_perm, _EMPTY, dtype=np.uint32), 0)
        m = np.multiply.outer(s, self._a)
        m += self._b
        # The top 32 bits of a*x+b (mod 2^64); the min before the shift is the same min.
        return Signature((m.min(axis=0) >> _SHIFT).astype(np.uint32), int(len(s)))


def _containment(j: float, size_a: int, size_b: int) -> float:
    # |A n B| = J (|A| + |B|) / (1 + J); divided by the smaller set.
    return min(1.0, j * (size_a + size_b) / ((1.0 + j) * min(size_a, size_b)))


class LSHIndex:
    """Signatures by integer key, banded for lookup; `query` verifies every candidate.

    Keys are the store's article ids. Adding a key again replaces its signature.
    Memory: the signatures in one uint32 matrix, and the band buckets as one sorted array of
    (band key, article key) pairs, 16 bytes per band (Python dicts took several times more;
    README "Duplicates"). New entries wait in a small dict and are
    merged into the array in batches; `add_stored` (a run's start) sorts once.
    """

    PENDING = 1 << 18  # band entries held in the dict before a merge (about 8,000 articles)

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.config = config or DedupConfig()
        self.hasher = MinHasher(self.config)
        self._matrix = np.zeros((1024, self.config.num_perm), dtype=np.uint32)
        self._sizes = np.zeros(1024, dtype=np.int64)
        self._row: dict[int, int] = {}  # key -> row of the matrix
        self._free: list[int] = []  # rows of removed keys, reused first
        self._bands = np.zeros(0, dtype=np.uint64)  # sorted band keys ...
        self._owners = np.zeros(0, dtype=np.int64)  # ... and the article key of each
        self._pending: dict[int, int | list[int]] = {}
        self._pending_n = 0
        self._unsorted: list[tuple[np.ndarray, np.ndarray]] = []  # loaded, not yet sorted in
        self._stale = 0  # entries of removed or replaced keys still in the arrays
        rng = np.random.default_rng(self.config.seed + 1)
        top = np.iinfo(np.uint64).max
        self._band_mix = rng.integers(1, top, size=self.config.rows, dtype=np.uint64) | 1
        # One salt per band: the bands share one key space without meeting in it.
        self._band_salt = rng.integers(0, top, size=self.config.bands, dtype=np.uint64)

    @property
    def scheme(self) -> str:
        return self.config.scheme

    def sign(self, text: str) -> Signature:
        return self.hasher(text)

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: int) -> bool:
        return key in self._row

    def contained(self, a: str, b: str) -> float | None:
        """The exact share of the shorter text's shingles found in the other, when it reaches
        the configured containment; else None. Confirms a "contained" match: estimated from
        a low Jaccard similarity, containment is noisy (bench/dedup.py)."""
        sa, sb = self.hasher.shingles(a), self.hasher.shingles(b)
        if not len(sa) or not len(sb):
            return None
        share = len(np.intersect1d(sa, sb, assume_unique=True)) / min(len(sa), len(sb))
        return share if share >= self.config.containment else None

    def signature(self, key: int) -> Signature:
        row = self._row[key]
        return Signature(self._matrix[row].copy(), int(self._sizes[row]))

    def _band_keys(self, hashvalues: np.ndarray) -> np.ndarray:
        """uint64 band keys: one per band of each signature (a matrix gives a matrix)."""
        c = self.config
        values = hashvalues[..., : c.bands * c.rows].astype(np.uint64)
        values = values.reshape(*hashvalues.shape[:-1], c.bands, c.rows)
        return (values * self._band_mix).sum(axis=-1) + self._band_salt

    def _store(self, key: int, sig: Signature) -> None:
        """The signature into the matrix (a removed key's row is reused)."""
        if key in self._row:
            self.remove(key)
        if self._free:
            row = self._free.pop()
        else:
            row = len(self._row)
            if row == len(self._matrix):  # grow by half: amortised O(1) appends
                grow = len(self._matrix) // 2
                self._matrix = np.vstack([self._matrix, np.zeros(
                    (grow, self.config.num_perm), dtype=np.uint32)])
                self._sizes = np.concatenate([self._sizes, np.zeros(grow, dtype=np.int64)])
        self._matrix[row] = sig.hashvalues
        self._sizes[row] = sig.size
        self._row[key] = row

    def add(self, key: int, sig: Signature) -> None:
        self._store(key, sig)
        if not sig.size:
            return  # an empty body matches nothing
        pending = self._pending
        for band in self._band_keys(sig.hashvalues).tolist():
            held = pending.get(band)
            if held is None:
                pending[band] = key  # most buckets hold one key: no list for them
            elif isinstance(held, list):
                held.append(key)
            else:
                pending[band] = [held, key]
        self._pending_n += self.config.bands
        if self._pending_n >= self.PENDING:
            self._merge()

    def add_stored(self, keys: list[int], blobs: list[bytes], sizes: list[int]) -> None:
        """Add many signatures as stored (Signature.to_bytes and shingle counts), as a run's
        start loads them: straight into the matrix, the band keys in one pass, one sort."""
        if not keys:
            return
        matrix = np.frombuffer(b"".join(blobs), dtype="<u4").reshape(len(keys), -1)
        fresh = [k not in self._row for k in keys]
        if not all(fresh) or len(set(keys)) < len(keys):  # replacements: one at a time
            for key, blob, size in zip(keys, blobs, sizes, strict=True):
                self.add(key, Signature.from_bytes(blob, size))
            return
        first = len(self._row)
        need = first + len(keys)
        if need > len(self._matrix) or self._free:
            if self._free:  # keep rows contiguous here: compact the free ones away later
                for key, blob, size in zip(keys, blobs, sizes, strict=True):
                    self.add(key, Signature.from_bytes(blob, size))
                return
            grow = need - len(self._matrix) + len(self._matrix) // 2
            self._matrix = np.vstack([self._matrix, np.zeros(
                (grow, self.config.num_perm), dtype=np.uint32)])
            self._sizes = np.concatenate([self._sizes, np.zeros(grow, dtype=np.int64)])
        self._matrix[first:need] = matrix
        self._sizes[first:need] = sizes
        self._row.update(zip(keys, range(first, need), strict=True))
        live = np.flatnonzero(np.asarray(sizes) > 0)
        # Sorted in with the next merge (the first query's): one sort for a whole load.
        self._unsorted.append((self._band_keys(matrix[live]).ravel(),
                               np.repeat(np.asarray(keys, dtype=np.int64)[live],
                                         self.config.bands)))

    def _merge(self) -> None:
        """Move the pending entries (and loaded, unsorted ones) into the sorted arrays."""
        new_b, new_o = [], []
        for band, held in self._pending.items():
            if isinstance(held, list):
                new_b.extend([band] * len(held))
                new_o.extend(held)
            else:
                new_b.append(band)
                new_o.append(held)
        self._pending, self._pending_n = {}, 0
        parts_b = [self._bands, np.array(new_b, dtype=np.uint64)]
        parts_o = [self._owners, np.array(new_o, dtype=np.int64)]
        parts_b += [b for b, _ in self._unsorted]
        parts_o += [o for _, o in self._unsorted]
        self._unsorted = []
        all_b, all_o = np.concatenate(parts_b), np.concatenate(parts_o)
        del parts_b, parts_o
        if self._stale > len(all_b) // 4:  # drop entries of keys removed since
            alive = np.fromiter(self._row, dtype=np.int64, count=len(self._row))
            keep = np.isin(all_o, alive)
            all_b, all_o = all_b[keep], all_o[keep]
            self._stale = 0
        self._bands = self._owners = None  # type: ignore[assignment]  # freed before sorting
        order = np.argsort(all_b, kind="stable")
        self._bands = all_b[order]
        del all_b
        self._owners = all_o[order]

    def remove(self, key: int) -> None:
        row = self._row.pop(key, None)
        if row is None:
            return
        self._free.append(row)
        # Its band entries stay until the next merge: a candidate whose key is gone (or whose
        # signature changed) is skipped or verified against the current signature.
        self._stale += self.config.bands
        self._sizes[row] = 0

    def candidates(self, sig: Signature) -> set[int]:
        found: set[int] = set()
        if not sig.size:
            return found
        bands = self._band_keys(sig.hashvalues)
        if self._unsorted:
            self._merge()
        if len(self._bands):
            lo = np.searchsorted(self._bands, bands, side="left")
            hi = np.searchsorted(self._bands, bands, side="right")
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                if b > a:
                    found.update(self._owners[a:b].tolist())
        if self._pending:
            for band in bands.tolist():
                held = self._pending.get(band)
                if held is None:
                    continue
                if isinstance(held, list):
                    found.update(held)
                else:
                    found.add(held)
        row = self._row  # removed keys' entries linger until a merge
        return {k for k in found if k in row}

    def query(self, sig: Signature, exclude: int | None = None) -> list[Match]:
        """Stored keys whose bodies are duplicates of `sig`'s, most similar first; at most
        `MAX_MATCHES` (a story seen on hundreds of sites need not be compared with each)."""
        c = self.config
        keys = np.fromiter((k for k in self.candidates(sig) if k != exclude), dtype=np.int64)
        if not len(keys):
            return []
        rows = np.fromiter((self._row[k] for k in keys.tolist()), dtype=np.int64,
                           count=len(keys))
        # All candidates verified at once: the share of equal positions estimates Jaccard.
        jaccard = (self._matrix[rows] == sig.hashvalues).sum(axis=1) / len(sig)
        sizes = self._sizes[rows]
        both = (jaccard * (sig.size + sizes)) / (1.0 + jaccard)  # |A n B|, estimated
        contained = np.minimum(1.0, both / np.maximum(1, np.minimum(sig.size, sizes)))
        near = jaccard >= c.threshold
        kept = near | ((contained >= c.containment) & (jaccard >= c.min_jaccard) & (sizes > 0))
        if not kept.any():
            return []
        score = np.where(near, jaccard, contained)
        order = np.flatnonzero(kept)
        order = order[np.lexsort((keys[order], -score[order]))][:MAX_MATCHES]
        return [Match(int(keys[i]), float(jaccard[i]), float(contained[i]),
                      "near" if near[i] else "contained") for i in order]


class Sign:
    """Stage: sets `result.signature` for every Result with an article, so the (single)
    writer does not have to compute it; runs wherever cleaning runs."""

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.hasher = MinHasher(config)

    def __call__(self, results: Iterable[Result]) -> Iterator[Result]:
        for result in results:
            if result.article is not None and result.signature is None:
                result.signature = self.hasher(result.article.text)
            yield result
