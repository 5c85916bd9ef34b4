"""The pipeline's shortcuts give exactly what the plain way gives.

Each shortcut (anchored regex scans, lookup-table character counts, early-deciding topic
rules) is checked against the slow, obvious computation on generated and hand-picked
inputs. The native segmentation's answers are checked the same way in test_native.py.
"""

from __future__ import annotations

import random
import re

import pytest

from pipelines.clean import _Anchored, _anchored, _has_top_level_branch
from pipelines.keywords import KeywordModel
from pipelines.normalize import converter, script_counts
from pipelines.topics import Context, _holds, _positions, parse_rule, sentence_starts

PATTERNS = [
    r"[（(](?:譯者|編輯)[:：](?P<name>[^/／）)]{2,12})[）)]",
    r"(?:點擊|點此|歡迎).{0,8}(?:訂閱|關注)",
    r"圖[為：:](?<![^。！？」\s\n]..)[^。]{1,20}。",
    r"[（(]+x",
    r"[|]x",
]
ALPHABET = "（()）譯者編輯:：張三/點擊此歡迎訂閱關注圖為。！ x|\n"


@pytest.mark.parametrize("pattern", PATTERNS)
def test_anchored_rules_find_what_re_finds(pattern: str) -> None:
    regex = re.compile(pattern)
    rule = _anchored(regex)
    assert isinstance(rule, _Anchored)
    rng = random.Random(pattern)
    for _ in range(400):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))
        expected = [(m.start(), m.end()) for m in regex.finditer(text)]
        assert [(m.start(), m.end()) for m in rule.finditer(text)] == expected, text
        assert rule.sub("", text) == regex.sub("", text), text
        found = rule.search(text)
        assert (found.span() if found else None) == (expected[0] if expected else None)


def test_rules_that_may_start_anywhere_stay_plain_regexes() -> None:
    for pattern in (r"[（(]a|b", r"圖?x", r"x*y", r"(?i)[ab]c", r"\d+年", r"(?:a|)b"):
        assert isinstance(_anchored(re.compile(pattern)), re.Pattern), pattern
    assert _has_top_level_branch(r"a(b|c)|d")
    assert not _has_top_level_branch(r"a(b|c)[|]\|")


def test_script_counts_match_counting_by_hand() -> None:
    t2s, s2t = converter("t2s"), converter("s2t")
    text = "習近平與普丁在撒馬爾罕會面，乌克兰局势紧张；Putin 😀 𠀀 後来"
    traditional = sum(1 for ch in text if t2s.convert(ch) != ch)
    simplified = sum(1 for ch in text if s2t.convert(ch) != ch)
    assert script_counts(text) == (traditional, simplified)
    assert script_counts("") == (0, 0)


def test_early_deciding_rules_agree_with_positions() -> None:
    ctx = Context(
        text="甲。乙丙。丁",
        entities={"a": [0], "b": [2], "c": [3], "d": []},
        types={"person": [0, 2]},
        token_list=lambda: [("甲", 0)],
        phrases={"丁": [5]},
    )
    for rule in (
        "entity:a OR entity:d",
        "entity:a AND entity:d",
        "NOT entity:d AND (entity:b OR phrase:丁)",
        "sentence(entity:a, entity:b) OR sentence(entity:b, entity:c)",
        "sentence(entity:a, entity:b)",
        "near(3, entity:a, entity:b) AND NOT keyword:甲",
        "type:person AND phrase:丁",
    ):
        tree = parse_rule(rule)
        assert _holds(tree, ctx) == bool(_positions(tree, ctx)), rule


def test_keyword_ranking_breaks_ties_alphabetically() -> None:
    model = KeywordModel({"甲乙": 5.0, "丙丁": 5.0, "戊己": 5.0, "庚辛": 1.0})
    tokens = ["庚辛", "戊己", "甲乙", "丙丁", "庚辛"]
    assert model.extract(tokens, 2) == sorted(["甲乙", "丙丁", "戊己"])[:2]
    assert model.extract(tokens, 0) == []
    assert model.extract(tokens, 10) == ["丙丁", "戊己", "甲乙", "庚辛"]


@pytest.mark.parametrize(
    "text",
    ["a. b.c d.\n", "Mr. X said. Then!", "...", "。。", ". ", "a.b", "甲。乙！丙？丁；戊\n己"],
)
def test_sentence_starts_match_the_plain_rule(text: str) -> None:
    plain = re.compile(r"[。！？!?；;\n]|\.(?=\s)")
    assert sentence_starts(text) == [0] + [m.end() for m in plain.finditer(text)]
