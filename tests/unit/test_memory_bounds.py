"""Per-process memos stay bounded however many new tokens a long-running worker sees."""

from __future__ import annotations

from pipelines import fingerprint, keywords


def test_simhash_memo_is_emptied_before_it_passes_its_bound() -> None:
    batch = 1_000
    for start in range(0, 3 * fingerprint.MEMO_TOKENS, batch):
        fingerprint.simhash([f"token{n}" for n in range(start, start + batch)])
        assert len(fingerprint._HASHES) <= fingerprint.MEMO_TOKENS
    # still correct after the memo was emptied
    assert fingerprint.simhash(["a", "b"]) == fingerprint.simhash(["b", "a"])


def test_keyword_judgements_are_bounded() -> None:
    model = keywords.KeywordModel({"俄罗斯": 8.0}, frozenset(), 10.0)
    for n in range(3 * keywords.MEMO_TOKENS):
        model.weight(f"word{n}")
        if n % 1_000 == 0:
            assert len(model._weights) <= keywords.MEMO_TOKENS
    assert model.weight("俄罗斯") == 8.0


def test_an_article_that_fills_the_keyword_memo_keeps_all_its_tokens() -> None:
    model = keywords.KeywordModel({"北约": 9.0, "俄罗斯": 8.0}, frozenset(), 10.0)
    for n in range(keywords.MEMO_TOKENS - 2):
        model.weight(f"word{n}")
    article = ["北约", "北约", "俄罗斯", "乌克兰", "基辅"]
    # 北约 2 x 9.0; unknown words the default 10.0 (ties in code-point order); 俄罗斯 8.0
    assert model.extract(article, k=4) == ["北约", "乌克兰", "基辅", "俄罗斯"]
    assert len(model._weights) <= keywords.MEMO_TOKENS
