"""Hashed word and character n-gram TF-IDF features, fast enough for a firehose.

One scikit-learn transformer, :class:`HashedTextFeatures`, turns (masked) post texts into three
L2-normalised TF-IDF blocks side by side:

* **words**: lowercased tokens (``\\w+`` runs cut where Japanese script changes, plus every
  mark and emoji; see :data:`TOKEN`) and adjacent token pairs, this block scaled to length
  ``word_weight`` rather than 1 (word evidence is the most transferable; 1.3 was best on the
  grouped cross-validation);
* **characters**: 3- to 5-grams inside each token padded with a space on both sides (the
  ``char_wb`` analyser of scikit-learn), which copes with typos, inflections and languages
  written without spaces;
* **service context**: the words around each ``__svc__`` (the masked name of the service
  the post is judged for), by position (1–3 places before or after) and by side (within 6),
  because whether "down" follows this service's name or another's decides the label.

Why not ``FeatureUnion`` of two ``TfidfVectorizer``: character n-grams are computed in Python
for every token of every post, about 13,000 short posts a second on one core. Here the
n-grams of a token are computed once and cached (tokens follow Zipf's law, so the cache answers
almost every lookup), and features are hashed (CRC-32, stable across processes and machines)
into fixed-size blocks, so no vocabulary is stored and unseen tokens still get character
features. See ``benchmarks/classifier_speed.py``.
"""

from __future__ import annotations

import re
import zlib
from array import array

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from outage_signals.catalog import SERVICE_TOKEN

#: Tokens: runs of word characters, split where Japanese script changes (kanji, hiragana,
#: katakana), plus each punctuation mark, symbol and emoji on its own ("works here ✅" and
#: "insta 🔴🔴" differ only there; marks as tokens lifted grouped F1 by about 0.004).
#: Japanese has no spaces, so a plain ``\w+`` makes a whole clause one token: word features
#: never repeat, and a masked name glued to the verb ("__svc__落ちてる") hides the service's
#: position. Script runs are a crude but fast segmentation ("__svc__" / "落" / "ちてる"): on
#: the grouped split it lifted Japanese F1 from 0.81 to 0.91 without changing the others.
TOKEN = re.compile("[\u4e00-\u9fff\u3005]+"      # kanji (and the repeat mark 々)
                   "|[\u3040-\u309f]+"           # hiragana
                   "|[\u30a0-\u30ff\uff70]+"     # katakana, with the long-vowel marks
                   "|[^\\W\u3040-\u30ff\u4e00-\u9fff\u3005\uff70]+"  # other word characters
                   "|[^\\w\\s]")                  # each mark or emoji (?, ！, 🔴) on its own
#: Tokens longer than this (a run of Japanese text, a long URL part) keep only the n-grams of
#: their first characters: enough to recognise them, and the cache stays small.
LONG_TOKEN = 48
#: Entries kept in the token cache before it is cleared (bounded memory on endless streams).
CACHE_LIMIT = 300_000

#: Words this close to the service's name also count as a positional feature.
CONTEXT_NEAR = 3
#: Words this close count as "before the name" / "after the name".
CONTEXT_WIDE = 6


def _service_context(hashes: list[int], base: int, mask: int) -> list[int]:
    """Columns (``base`` + hash & ``mask``) of the words around each mention of the service,
    from the post's token hashes: which word sits 1–3 places before or after it, and which
    words come within 6 places before or after.

    "__other__ is down so I'm on __svc__" and "__svc__ is down" share their words; what
    differs is where "down" stands relative to the service's name. Columns mix the word's hash
    with the relation's number, so no string is built per post.
    """
    out = []
    n = len(hashes)
    for i, h in enumerate(hashes):
        if h != SERVICE_HASH:
            continue
        for d in range(1, CONTEXT_WIDE + 1):
            if i - d >= 0:
                word = hashes[i - d] * 7_919
                out.append(base + ((word + 1) & mask))  # somewhere before the name
                if d <= CONTEXT_NEAR:
                    out.append(base + ((word + 10 + d) & mask))  # d places before
            if i + d < n:
                word = hashes[i + d] * 7_919
                out.append(base + ((word + 2) & mask))  # somewhere after the name
                if d <= CONTEXT_NEAR:
                    out.append(base + ((word + 20 + d) & mask))  # d places after
    return out


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


SERVICE_HASH = _crc(SERVICE_TOKEN)


class HashedTextFeatures(TransformerMixin, BaseEstimator):
    """Word 1–2-gram, character ``char_range`` n-gram and service-context TF-IDF, hashed (see
    the module); the word block of each row has length ``word_weight``, the others 1.

    ``word_bits``/``char_bits``/``context_bits``: log2 of each block's width (blocks in that
    order). After :meth:`fit`, ``idf_`` holds the smoothed inverse document frequency of every
    column (``ln((1 + n) / (1 + df)) + 1``, as scikit-learn's). A term seen ``tf`` times in a
    post weighs ``tf * idf``; each block's row is scaled by the root of the sum of its
    occurrences' squared weights (equal to the usual L2 norm when no n-gram repeats, close to
    it otherwise), which spares sorting every row.
    """

    def __init__(self, word_bits: int = 18, char_bits: int = 20, context_bits: int = 16,
                 char_range: tuple[int, int] = (3, 5), word_weight: float = 1.3):
        self.word_bits = word_bits
        self.word_weight = word_weight
        self.char_bits = char_bits
        self.context_bits = context_bits
        self.char_range = char_range

    # The cache is derived state: never pickled, rebuilt on demand.
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state

    def _token_features(self, token: str) -> tuple[int, tuple[int, ...]]:
        """``(token hash, (word column, char columns...))`` of one lowercased token; char
        columns come after the word block."""
        h = _crc(token)
        padded = f" {token[:LONG_TOKEN]} "
        lo, hi = self.char_range
        mask, offset = (1 << self.char_bits) - 1, 1 << self.word_bits
        crc = zlib.crc32
        grams = [padded[i:i + n].encode() for n in range(lo, hi + 1)
                 for i in range(len(padded) - n + 1)]
        return h, (h & (offset - 1), *[offset + (crc(g) & mask) for g in grams])

    def _occurrences(self, texts) -> sp.csr_matrix:
        """One stored entry per feature *occurrence* (repeats not merged), one row per text.

        Merging repeats would mean sorting every row's columns, the slowest step after
        tokenising; products with the matrix sum the repeats anyway.
        """
        cache = self.__dict__.setdefault("_cache", {})
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        word_mask = (1 << self.word_bits) - 1
        context_base = int(self._block_starts()[2])
        context_mask = (1 << self.context_bits) - 1
        columns = array("l")  # converts to numpy without copying each Python int
        pointers = array("l", [0])
        find = TOKEN.findall
        features = self._token_features
        append, extend = columns.append, columns.extend
        for text in texts:
            previous = None
            hashes = []
            for token in find(text.lower()):
                entry = cache.get(token)
                if entry is None:
                    entry = cache[token] = features(token)
                h, own = entry
                extend(own)
                if previous is not None:
                    # A pair's column mixes both hashes; no string is built per occurrence.
                    append((previous * 1_000_003 + h) & word_mask)
                previous = h
                hashes.append(h)
            if SERVICE_HASH in hashes:
                extend(_service_context(hashes, context_base, context_mask))
            pointers.append(len(columns))
        width = context_base + (1 << self.context_bits)
        indices = np.frombuffer(columns, dtype=np.int_).astype(np.int32)
        return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices,
                              np.frombuffer(pointers, dtype=np.int_)),
                             shape=(len(pointers) - 1, width))

    def fit(self, texts, y=None):
        """Learn the inverse document frequency of every column from ``texts``."""
        self._fit_idf(self._occurrences(texts))
        return self

    def fit_transform(self, texts, y=None) -> sp.csr_matrix:
        """:meth:`fit` then :meth:`transform`, tokenising ``texts`` once."""
        matrix = self._occurrences(texts)
        self._fit_idf(matrix.copy())
        return self._weigh(matrix)

    def transform(self, texts) -> sp.csr_matrix:
        """TF-IDF rows: each occurrence weighted by its column's idf, then each block (words,
        characters, service context) of each row scaled to unit length."""
        return self._weigh(self._occurrences(texts))

    def _fit_idf(self, counts: sp.csr_matrix) -> None:
        counts.sum_duplicates()  # one count per document and column
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf_ = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)

    def _block_starts(self) -> np.ndarray:
        """First column of the word, character and service-context blocks."""
        return np.array([0, 1 << self.word_bits, (1 << self.word_bits) + (1 << self.char_bits)])

    def _weigh(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """Occurrence matrix -> idf weights, each row's blocks scaled to unit length."""
        data = self.idf_[matrix.indices]
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        starts = self._block_starts()
        block = (matrix.indices >= starts[1]).astype(np.int64) + (matrix.indices >= starts[2])
        # Sum of squared weights per row and block: slot 3*row + block.
        slot = 3 * rows + block
        norms = np.sqrt(np.bincount(slot, weights=data.astype(np.float64) ** 2,
                                    minlength=3 * matrix.shape[0]))
        # Block lengths: word_weight for words, 1 for characters and service context.
        length = np.array([self.word_weight, 1.0, 1.0])[block]
        matrix.data = (length * data / np.maximum(norms[slot], 1e-12)).astype(np.float32)
        return matrix
