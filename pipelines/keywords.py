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

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import mul, neg
from statistics import median

from pipelines.normalize import fold, normalize

_CJK_WORD = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_LATIN_WORD = re.compile(r"^[a-z][a-z'\-]{2,}$")
MEMO_TOKENS = 100_000  # judged tokens kept per process (emptied beyond: bounded memory)


@dataclass
class KeywordModel:
    idf: dict[str, float] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    default_idf: float = 10.0
    # A Latin word missing from the English list is rare (a name, a place): rank it high.
    latin_default_idf: float = 12.0

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
        # token -> its IDF if it is a keyword candidate, else 0.0 (judged once)
        self._weights: dict[str, float] = {}

    def weight(self, token: str) -> float:
        known = self._weights.get(token)
        if known is None:
            if len(self._weights) >= MEMO_TOKENS:
                self._weights.clear()
            known = self._weights[token] = self._judged(token)
        return known

    def _judged(self, token: str) -> float:
        return self._idf_of(token) if self._judge(token) else 0.0

    def candidate(self, token: str) -> bool:
        return self.weight(token) > 0.0

    def extract(self, tokens: list[str] | Counter[str], k: int = 10) -> list[str]:
        """The k tokens (a list, or their counts) with the highest tf·idf, best first."""
        counts = tokens if isinstance(tokens, Counter) else Counter(tokens)
        weights = self._weights
        # Not counts.keys() - weights.keys(): that walks the whole memo (100,000 tokens)
        missing = [t for t in counts if t not in weights]
        if missing:
            if len(weights) + len(missing) > MEMO_TOKENS:
                weights.clear()  # before judging: every token of this article must stay
                missing = list(counts)
            weights.update(zip(missing, map(self._judged, missing), strict=True))
        selected = list(filter(weights.__getitem__, counts))
        if not selected:
            return []
        scores = list(
            map(mul, map(counts.__getitem__, selected), map(weights.__getitem__, selected))
        )
        if len(scores) > k:
            # Only the tokens scoring at least the k-th best score are ranked: sorting
            # plain floats is several times cheaper than sorting (score, token) pairs.
            cut = sorted(scores, reverse=True)[k - 1] if k > 0 else float("inf")
            pairs = [(-s, t) for s, t in zip(scores, selected, strict=True) if s >= cut]
        else:
            pairs = list(zip(map(neg, scores), selected, strict=True))
        # (-score, token) sorts best first, ties alphabetically
        pairs.sort()
        return [t for _, t in pairs[:k]]

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
        return bool(_LATIN_WORD.match(token))
