"""segment: jieba-compatible word segmentation of the search form.

rjieba (jieba-rs) segments the simplified search form, so traditional text meets the
dictionary in the script it was built for; a user dictionary from the entity
catalogue keeps tracked names whole. The choice of library is measured in
bench/bench_pipeline.py and docs/quality.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import rjieba

_WORDLIKE = re.compile(r"[\w\u3400-\u9fff\uf900-\ufaff]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int


class Segmenter:
    """A jieba-rs instance with its own user dictionary."""

    def __init__(self, user_words: Iterable[str] = ()):
        self._jieba = rjieba.Jieba()
        self.user_words = sorted({w for w in user_words if w and not w.isascii()})
        for word in self.user_words:
            # A high frequency makes the user word win over the default dictionary's
            # splits (e.g. 泽|伦斯基) while leaving unrelated text alone.
            self._jieba.add_word(word, 100_000, "nz")

    def tokens(self, text: str) -> list[Token]:
        """All tokens with offsets, whitespace and punctuation dropped."""
        return [
            Token(word, start, end)
            for word, start, end in self._jieba.tokenize(text)
            if _WORDLIKE.search(word)
        ]

    def cut(self, text: str) -> list[str]:
        """Plain jieba-style cut (every piece, punctuation included)."""
        return list(self._jieba.cut(text))
