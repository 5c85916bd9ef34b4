"""keywords: TF-IDF top-k over the segmenter's tokens (no second segmentation).

Tokens are in the search form (simplified, lower-case), so a traditional and a
simplified article about the same thing get the same keywords and the dashboards'
keyword cloud counts them together. The IDF table is jieba's (simplified Chinese, a
general corpus; unknown words get its median, as jieba does) plus English stand-ins
from wordfreq's frequency list (-ln frequency; unknown Latin words count as rare). A news stop list
(config/keywords.yaml) removes reporting verbs and boilerplate words (表示, 报导,
指出, said, …) that every article has.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median

import numpy as np

from pipelines.normalize import fold, normalize
from pipelines.vocabulary import Vocabulary

_CJK_WORD = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_LATIN_WORD = re.compile(r"^[a-z][a-z'\-]{2,}$")


@dataclass
class KeywordModel:
    idf: dict[str, float] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    default_idf: float = 10.0
    # A Latin word missing from the English list is rare (a name, a place): rank it high.
    latin_default_idf: float = 12.0
    # An English word more frequent than 1 in 1,000 (the, are, how, not, one, said, more)
    # is never a keyword: its -ln(frequency) is below this.
    latin_min_idf: float = 6.9

    @classmethod
    def from_lines(cls, idf_lines: Iterable[str], stopwords: Iterable[str]) -> KeywordModel:
        """Build from ``word idf`` lines (jieba's idf.txt format) and a stop list."""
        idf: dict[str, float] = {}
        for line in idf_lines:
            word, _, value = line.strip().partition(" ")
            if value:
                idf[word] = float(value)
        default = median(idf.values()) if idf else 10.0
        return cls(idf, frozenset(fold(normalize(str(w)).text) for w in stopwords), default)

    def __post_init__(self) -> None:
        # token -> its weight, judged once per process (bounded: see pipelines.vocabulary)
        self.vocabulary = Vocabulary({"weight": (self.weight, np.float64)})

    def weight(self, token: str) -> float:
        """The token's IDF if it is a keyword candidate, else 0.0."""
        return self._idf_of(token) if self._judge(token) else 0.0

    def candidate(self, token: str) -> bool:
        return self.weight(token) > 0.0

    def extract(self, tokens: list[str] | Counter[str], k: int = 10) -> list[str]:
        """The k tokens (a list, or their counts) with the highest tf·idf, best first."""
        counts = tokens if isinstance(tokens, Counter) else Counter(tokens)
        keys = list(counts)
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(keys))
        return top_k(keys, tf * self.vocabulary.features(keys)["weight"], k)

    def _idf_of(self, token: str) -> float:
        value = self.idf.get(token)
        if value is not None:
            return value
        return self.latin_default_idf if token.isascii() else self.default_idf

    def _judge(self, token: str) -> bool:
        if token in self.stopwords:
            return False
        if len(token) < 2:
            return False
        if _CJK_WORD.match(token):
            return True
        if not _LATIN_WORD.match(token):
            return False
        return self.idf.get(token, self.latin_default_idf) >= self.latin_min_idf


def top_k(tokens: list[str], scores: np.ndarray, k: int) -> list[str]:
    """The k tokens with the highest positive scores, best first, ties alphabetically."""
    if k <= 0:
        return []
    picked = np.flatnonzero(scores > 0)
    if len(picked) > k:
        # Only tokens scoring at least the k-th best score are sorted with their names.
        kth = np.partition(scores[picked], len(picked) - k)[len(picked) - k]
        picked = picked[scores[picked] >= kth]
    ranked = sorted(
        zip((-scores[picked]).tolist(), map(tokens.__getitem__, picked.tolist()), strict=True)
    )
    return [token for _, token in ranked[:k]]


def english_idf_lines() -> list[str]:
    """English IDF stand-ins from wordfreq's frequency list: -ln(frequency), which ranks
    words like an IDF (the: 2.9, president: 8.2, ukraine: 10.8)."""
    from wordfreq import get_frequency_dict

    return [
        f"{word} {min(13.0, -math.log(freq)):.3f}"
        for word, freq in get_frequency_dict("en", wordlist="small").items()
        if word.isascii() and word.isalpha() and freq > 0
    ]
