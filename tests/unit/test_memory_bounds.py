"""Per-process token tables stay bounded however many new tokens a long-running worker sees."""

from __future__ import annotations

import numpy as np

from pipelines import keywords
from pipelines.fingerprint import simhash, simhash_of, token_hash
from pipelines.vocabulary import Vocabulary


def _vocabulary(capacity: int) -> Vocabulary:
    return Vocabulary({"length": (len, np.int64), "hash": (token_hash, np.uint64)}, capacity)


def test_the_table_is_emptied_before_it_passes_its_bound() -> None:
    table = _vocabulary(1_000)
    for start in range(0, 5_000, 70):
        tokens = [f"token{n}" for n in range(start, start + 70)]
        found = table.features(tokens)
        assert len(table) <= 1_000
        assert found["length"].tolist() == [len(t) for t in tokens]
        assert found["hash"].tolist() == [token_hash(t) for t in tokens]


def test_an_article_with_more_tokens_than_the_table_holds_is_still_served() -> None:
    table = _vocabulary(100)
    table.features(["a", "b"])
    tokens = [f"w{n}" for n in range(250)]
    assert table.features(tokens)["length"].tolist() == [len(t) for t in tokens]
    assert len(table) <= 100
    assert table.features(["a"])["length"].tolist() == [1]


def test_an_article_that_fills_the_table_keeps_all_its_tokens() -> None:
    model = keywords.KeywordModel({"北约": 9.0, "俄罗斯": 8.0}, frozenset(), 10.0)
    model.vocabulary = Vocabulary({"weight": (model.weight, np.float64)}, capacity=10)
    model.vocabulary.features([f"word{n}" for n in range(8)])
    article = ["北约", "北约", "俄罗斯", "乌克兰", "基辅"]
    # 北约 2 x 9.0; unknown words the default 10.0 (ties in code-point order); 俄罗斯 8.0
    assert model.extract(article, k=4) == ["北约", "乌克兰", "基辅", "俄罗斯"]
    assert len(model.vocabulary) <= 10


def test_simhash_from_the_table_equals_the_direct_one() -> None:
    tokens = ["a", "b", "b", "c"]
    table = _vocabulary(10)
    hashes = table.features(["a", "b", "c"])["hash"]
    assert simhash_of(hashes, np.array([1.0, 2.0, 1.0])) == simhash(tokens)
    assert simhash(["a", "b"]) == simhash(["b", "a"])
