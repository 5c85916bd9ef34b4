"""segment: jieba-compatible word segmentation of the search form.

rjieba (jieba-rs) segments the simplified search form, so traditional text meets the
dictionary in the script it was built for; a user dictionary from the entity
catalogue keeps tracked names whole. The choice of library is measured in
bench/bench_pipeline.py and docs/quality.md.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate, compress
from operator import itemgetter
from typing import NamedTuple

import rjieba

# Frequency given to user words (the entity catalogue's aliases): enough to keep a name
# whole against the default dictionary's split (泽|伦斯基), low enough not to tear
# neighbouring words apart. Chosen on the seed and the fixtures; see docs/quality.md.
USER_FREQ = 2000
_FIRST, _SECOND = itemgetter(0), itemgetter(1)


class Token(NamedTuple):
    text: str
    start: int
    end: int


class Segmented:
    """The segmentation of one text as parallel lists (cheap to build for ~1,000
    tokens an article): every piece, with jieba part-of-speech tags and end offsets."""

    __slots__ = ("ends", "pairs", "tags", "words")

    def __init__(self, pairs: list[tuple[str, str]]):
        # map, itemgetter and accumulate keep the per-token work in C.
        self.pairs = pairs
        self.words: list[str] = list(map(_FIRST, pairs))
        self.tags: list[str] = list(map(_SECOND, pairs))
        self.ends = list(accumulate(map(len, self.words)))

    def content(self) -> list[str]:
        """The words, without punctuation and whitespace (jieba tags those "x")."""
        # A comprehension beats compress(map("x".__ne__, ...)) here: Python 3.11
        # specialises the string comparison.
        return [word for word, tag in self.pairs if tag != "x"]

    def count_before(self, offset: int) -> int:
        """How many content words end at or before ``offset`` (a headline, a dateline):
        they are the first that many of ``content()``."""
        first = bisect_right(self.ends, offset)
        return first - self.tags[:first].count("x")

    def boundaries(self) -> tuple[set[int], set[int]]:
        """Token start and end offsets. Tokens tile the text, so every start but the
        first is an end: one set (with 0 added) serves as both."""
        edges = set(self.ends)
        edges.add(0)
        return edges, edges

    def tokens(self) -> list[Token]:
        return [
            Token(word, end - len(word), end)
            for word, tag, end in zip(self.words, self.tags, self.ends, strict=True)
            if tag != "x"
        ]

    def tagged(self, tags: frozenset[str]) -> list[tuple[Token, str]]:
        """Tokens whose tag is in ``tags``."""
        picked = compress(range(len(self.tags)), map(tags.__contains__, self.tags))
        out = []
        for i in picked:
            word, end = self.words[i], self.ends[i]
            out.append((Token(word, end - len(word), end), self.tags[i]))
        return out


class Segmenter:
    """A jieba-rs instance with its own user dictionary."""

    def __init__(self, user_words: Iterable[str] = (), *, user_freq: int = USER_FREQ):
        self._jieba = rjieba.Jieba()
        self.user_words = sorted({w for w in user_words if w and not w.isascii()})
        for word in self.user_words:
            self._jieba.add_word(word, user_freq, "nz")

    def segment(self, text: str) -> Segmented:
        """One pass of jieba-rs with part-of-speech tags."""
        return Segmented(self._jieba.tag(text))

    def tokens(self, text: str) -> list[Token]:
        """All tokens with offsets, whitespace and punctuation dropped."""
        return self.segment(text).tokens()

    def cut(self, text: str) -> list[str]:
        """Plain jieba-style cut (every piece, punctuation included)."""
        return list(self._jieba.cut(text))
