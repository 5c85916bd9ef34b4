"""vocabulary: the tokens a process has seen, each with its per-token features.

Keywords need each token's weight (its IDF, or 0 for a non-candidate) and the
fingerprint needs each token's 64-bit hash. Both are pure functions of the token, so a
worker computes them once per token and keeps them in columns (numpy arrays) indexed
by a row number: an article's features are then one dictionary lookup per distinct
token and a few array operations, shared by every stage that needs them.

A long-running worker sees an endless tail of new tokens (numbers, names), so the
table is emptied when an article's new tokens would pass ``capacity``: memory stays
bounded (about 10 MiB at 100,000 tokens) and the features are recomputed as needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np

MEMO_TOKENS = 100_000

Feature = tuple[Callable[[str], Any], Any]  # (function of a token, numpy dtype)


class Vocabulary:
    def __init__(self, features: Mapping[str, Feature], capacity: int = MEMO_TOKENS):
        self.capacity = capacity
        self._features = dict(features)
        self._rows: dict[str, int] = {}
        self._columns = {
            name: np.zeros(capacity, dtype=dtype) for name, (_, dtype) in self._features.items()
        }

    def __len__(self) -> int:
        return len(self._rows)

    def features(self, tokens: Sequence[str]) -> dict[str, np.ndarray]:
        """Feature name -> array with one value per token (``tokens`` distinct, as the keys
        of a Counter are)."""
        rows = self._rows
        index = np.fromiter(map(rows.get, tokens, repeat(-1)), dtype=np.intp, count=len(tokens))
        if index.min(initial=0) < 0:
            missing = [tokens[i] for i in np.flatnonzero(index < 0).tolist()]
            if len(rows) + len(missing) > self.capacity:
                rows.clear()
                missing = list(tokens)
            if len(missing) > self.capacity:  # one huge article: computed, not kept
                return {
                    name: np.fromiter(map(func, tokens), dtype=dtype, count=len(tokens))
                    for name, (func, dtype) in self._features.items()
                }
            first = len(rows)
            rows.update(zip(missing, range(first, first + len(missing)), strict=True))
            for name, (func, dtype) in self._features.items():
                self._columns[name][first : first + len(missing)] = np.fromiter(
                    map(func, missing), dtype=dtype, count=len(missing)
                )
            index = np.fromiter(map(rows.__getitem__, tokens), dtype=np.intp, count=len(tokens))
        return {name: column[index] for name, column in self._columns.items()}
