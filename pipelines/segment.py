"""segment: jieba-compatible word segmentation of the search form.

jieba-rs segments the simplified search form, so traditional text meets the dictionary
in the script it was built for; a user dictionary from the entity catalogue keeps
tracked names whole. The segmentation stays in native code (``native/``, the
``mediamon_native`` module): the pipeline asks it for distinct words with their counts,
token edges and name tokens, rather than building Python objects for every token. The
choice of library is measured in bench/bench_pipeline.py and docs/quality.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from mediamon_native import Segmentation as Segmented
from mediamon_native import Segmenter as _Native

__all__ = ["USER_FREQ", "WORD_TABLE", "Segmented", "Segmenter", "Token"]

# Frequency given to user words (the entity catalogue's aliases): enough to keep a name
# whole against the default dictionary's split (泽|伦斯基), low enough not to tear
# neighbouring words apart. Chosen on the seed and the fixtures; see docs/quality.md.
USER_FREQ = 2000
USER_TAG = "nz"
# Distinct words whose Python strings the native side keeps (and hands out again, with
# their hashes computed) before it starts over; about 10 MiB at 100,000.
WORD_TABLE = 100_000


class Token(NamedTuple):
    text: str
    start: int
    end: int


class Segmenter:
    """A jieba-rs instance (default dictionary, HMM for unknown words) with its own
    user dictionary.

    ``segment`` returns a ``Segmented`` (``mediamon_native.Segmentation``), which
    answers, for the content words (every token but punctuation and whitespace, which
    jieba tags "x"): ``word_count``, ``text_tokens()`` (joined by spaces),
    ``counts(head_end)`` (distinct words in order of first appearance, their counts and
    their counts after offset ``head_end``, both as float64 bytes) and ``tokens()``; for
    every token: ``edges()`` (a byte per offset, 1 at token edges), ``names()`` (the
    tokens tagged nr, nrt, nrfg, ns or nt, as index, word, tag, start, end) and
    ``piece(i)``. Offsets are string indices into the segmented text.
    """

    def __init__(
        self,
        user_words: Iterable[str] = (),
        *,
        user_freq: int = USER_FREQ,
        word_table: int = WORD_TABLE,
    ):
        self.user_words = sorted({w for w in user_words if w and not w.isascii()})
        self._native = _Native(self.user_words, user_freq, USER_TAG, word_table)

    def segment(self, text: str) -> Segmented:
        """One pass of jieba-rs with part-of-speech tags."""
        return self._native.segment(text)

    def tokens(self, text: str) -> list[Token]:
        """All tokens with offsets, whitespace and punctuation dropped."""
        return list(map(Token._make, self._native.segment(text).tokens()))

    def words(self, text: str) -> list[str]:
        """The content words, whitespace and punctuation dropped."""
        return [word for word, _, _ in self._native.segment(text).tokens()]

    def has_word(self, word: str) -> bool:
        """Is the word in the dictionary (jieba's or the user words)?"""
        return self._native.has_word(word)

    def tag(self, text: str) -> list[tuple[str, str]]:
        """Every token with its part-of-speech tag."""
        return self._native.tag(text)

    def cut(self, text: str) -> list[str]:
        """Plain jieba-style cut (every piece, punctuation included)."""
        return self._native.cut(text)
