"""The alert query language: parsing, errors with positions, compiled DSL."""

from __future__ import annotations

import re

import pytest

from pipelines.alertquery import Compiler, QueryError, filters
from workers.config import build_pipeline
from workers.settings import Settings


@pytest.fixture(scope="module")
def compiler() -> Compiler:
    return Compiler.for_pipeline(build_pipeline(Settings().config_dir))


def test_words_are_analysed_like_the_index(compiler: Compiler) -> None:
    # traditional input, simplified search form, segmented like the articles
    dsl = compiler.compile("烏克蘭")
    should = dsl["bool"]["should"]
    assert {"match_phrase": {"text_tokens": "乌克兰"}} in should
    assert {"match_phrase": {"text_norm": "乌克兰"}} in should
    assert {"term": {"entities.id": "ukraine"}} in should  # a catalogued name is its entity too


def test_boolean_structure(compiler: Compiler) -> None:
    dsl = compiler.compile('習近平 AND NOT 台灣 OR "上海合作組織"')
    assert "should" in dsl["bool"]
    left = dsl["bool"]["should"][0]["bool"]
    assert len(left["must"]) == 1 and len(left["must_not"]) == 1
    plus_minus = compiler.compile("+普京 -台灣")
    assert len(plus_minus["bool"]["must"]) == 1 and len(plus_minus["bool"]["must_not"]) == 1


def test_fields(compiler: Compiler) -> None:
    # (proximity: test_a_name_in_proximity_matches_every_spelling_of_it below)
    dsl = compiler.compile("entity:Putin topic:ukraine_war source:cna lang:zh-hant region:tw")
    assert [c["term"] for c in dsl["bool"]["must"]] == [
        {"entities.id": "putin"},
        {"topics": "ukraine_war"},
        {"source": "cna"},
        {"lang": "zh-Hant"},
        {"region": "TW"},
    ]
    assert compiler.compile("ukrain*") == {"prefix": {"text_tokens": "ukrain"}}
    assert compiler.compile("烏克*") == {"prefix": {"text_tokens": "乌克"}}


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("(普京", "missing closing parenthesis", 0),
        ('"unclosed', "unclosed quote", 0),
        ("普京 AND", "ends too early", 6),
        ("NOT 普京", "only NOT terms", 6),
        ("foo:bar", "unknown field 'foo'", 0),
        ("entity:putn", "did you mean 'putin'", 0),
        ("topic:weather", "unknown topic", 0),
        ("普京 )", "unexpected", 3),
        ("*ine", "at least 3 letters", 0),
        ("uk*", "at least 3 letters", 0),
        ("烏*", "at least 2 characters", 0),
        ("a NEAR/99 b", "wider than 50", 2),
        ('"a b"~80', "wider than 50", 0),
        ("abc* bcd* cde* def* efg*", "more than 4 wildcards", 20),
        ("(" * 10 + "a" + ")" * 10, "nested deeper", 9),
        ("   ", "empty query", 3),
    ],
)
def test_bad_queries_point_at_the_problem(
    compiler: Compiler, query: str, message: str, position: int
) -> None:
    with pytest.raises(QueryError) as info:
        compiler.compile(query)
    assert message in info.value.message and info.value.position == position
    assert "^" in str(info.value)


def test_too_many_terms_are_refused(compiler: Compiler) -> None:
    with pytest.raises(QueryError, match="more than 64 terms"):
        compiler.compile(" OR ".join(f"word{i}" for i in range(70)))


def test_rule_filters() -> None:
    assert filters(sources=["cna", "cna"], langs=["zh-hant"], topics=[], entities=["putin"]) == [
        {"terms": {"source": ["cna"]}},
        {"terms": {"lang": ["zh-Hant"]}},
        {"terms": {"entities.id": ["putin"]}},
    ]


def _span_terms(node: object) -> set[str]:
    if isinstance(node, dict):
        if "span_term" in node:
            return {node["span_term"]["text_tokens"]}
        return {t for value in node.values() for t in _span_terms(value)}
    if isinstance(node, list):
        return {t for item in node for t in _span_terms(item)}
    return set()


@pytest.mark.parametrize("query", ['"習近平 普丁"~10', '"习近平 普京"~10', "習近平 NEAR/10 蒲亭"])
def test_a_name_in_proximity_matches_every_spelling_of_it(compiler: Compiler, query: str) -> None:
    """Taipei's 普丁 and 蒲亭 and Beijing's 普京 are one person: a rule written either way
    finds the articles of every region."""
    dsl = compiler.compile(query)
    near = dsl["span_near"]
    assert near["slop"] == 10 and near["in_order"] is False
    xi, putin = near["clauses"]
    assert {"习近平", "习主席"} <= _span_terms(xi)
    assert {"普京", "普丁", "蒲亭", "putin"} <= _span_terms(putin)


def test_a_phrase_with_a_name_keeps_its_order_and_its_literal_fallback(compiler: Compiler) -> None:
    dsl = compiler.compile('"蒲亭訪華"')
    spans, literal = dsl["bool"]["should"]
    assert spans["span_near"]["in_order"] is True and spans["span_near"]["slop"] == 0
    assert {"普京", "蒲亭"} <= _span_terms(spans)
    assert literal == {"match_phrase": {"text_norm": "蒲亭访华"}}


def test_exact_asks_for_the_spelling_as_written(compiler: Compiler) -> None:
    dsl = compiler.compile("exact:普丁")
    assert dsl == {
        "bool": {
            "should": [
                {"match_phrase": {"text_tokens": "普丁"}},
                {"match_phrase": {"text_norm": "普丁"}},
            ],
            "minimum_should_match": 1,
        }
    }
    assert "普京" not in str(compiler.compile('exact:"習近平 普丁"'))


def test_a_phrase_without_names_is_a_plain_phrase(compiler: Compiler) -> None:
    assert compiler.compile('"天然气 管道"~5') == {
        "match_phrase": {"text_tokens": {"query": "天然气 管道", "slop": 5}}
    }


def test_near_counts_words_and_joins_names_with_every_spelling(compiler: Compiler) -> None:
    dsl = compiler.compile("near(10, entity:putin, 入侵 OR keyword:战争)")
    near = dsl["span_near"]
    assert near["slop"] == 10 and near["in_order"] is False
    putin, words = near["clauses"]
    assert {"普京", "蒲亭", "putin"} <= _span_terms(putin)
    assert _span_terms(words) == {"入侵", "战争"}


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("sentence(entity:xi_jinping, entity:putin)", "sentence() needs sentence boundaries"),
        ("near(60 chars, entity:russia, 入侵)", "counts characters"),
        ("near(5, type:person, 入侵)", "near() joins words"),
        ("near(99, 普京, 入侵)", "wider than 50 words"),
    ],
)
def test_what_only_a_topic_rule_can_ask_is_refused_with_the_reason(
    compiler: Compiler, query: str, says: str
) -> None:
    with pytest.raises(QueryError, match=re.escape(says)):
        compiler.compile(query)


def test_topics_test_reads_sentences_and_characters_as_the_index_can(compiler: Compiler) -> None:
    from dataclasses import replace

    approximate = replace(compiler, approximate=True)
    assert "must" in approximate.compile("sentence(entity:xi_jinping, entity:putin)")["bool"]
    assert approximate.compile("near(60 chars, 普京, 入侵)")["span_near"]["slop"] == 30


def test_commas_outside_a_function_are_spaces() -> None:
    from pipelines.alertquery import parse

    assert parse("普京, 习近平") == parse("普京 习近平")
