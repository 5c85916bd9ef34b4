"""topics: rules over entities, keywords and phrases, with AND/OR/NOT and proximity.

A rule is written in the one query language of alerts and search (pipelines/alertquery.py
parses it) and evaluated here on the article itself (config/topics.yaml):

    entity:putin AND entity:xi_jinping
    phrase:"war in ukraine" OR phrase:俄乌战争 OR 入侵乌克兰
    sentence(entity:xi_jinping, entity:putin)               # in one sentence
    near(60 chars, entity:russia, phrase:入侵 OR phrase:war)  # within 60 characters
    near(20, entity:russia, 入侵)                           # within 20 words
    type:person AND NOT keyword:体育

Terms: ``entity:ID``, ``type:person|org|place``, ``keyword:WORD`` (a token of the
article), ``phrase:WORD`` or ``phrase:"several words"`` (anywhere in the text, in
either script), a plain word or "phrase" (the same, or the entity if it is a catalogued
name), ``exact:`` (as written), a prefix ``ukrain*``; NEAR/N and "a b"~N count words.
Operators: AND (or juxtaposition), OR, NOT, parentheses. A topic's rules are tried in
order; the first that holds is recorded with its name and strength, so a user sees why
the article was tagged. A rule may hold only for articles published in a span of days
(``since``/``until``: words such as "envoy" and "sanctions" named other things before a
war began). `mediamon topics test RULE` tries one on the index.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ahocorasick_rs

from pipelines.alertquery import QueryError, parse, unknown_entity
from pipelines.entities import TYPES
from pipelines.normalize import fold, normalize

# A sentence ends at 。！？!?；; or a newline, or at a full stop before whitespace. (One
# character class first: the regex engine then skips quickly to the candidates.)
_SENTENCE_END = re.compile(r"[。！？!?；;\n.](?:(?<!\.)|(?=\s))")
_LATIN = re.compile(r"^[a-z0-9 '\-]+$")
NO_POSITION = -1  # a truthy result with no place in the text (e.g. from NOT)


class RuleError(ValueError):
    """A topic rule does not parse; the message gives the position."""


@dataclass
class Context:
    """What rules are evaluated against: positions are offsets in the search form."""

    text: str
    entities: dict[str, list[int]]
    types: dict[str, list[int]]
    token_list: Callable[[], list[tuple[str, int]]]
    published: date | None = None  # the article's day, for rules with since/until
    phrases: dict[str, list[int]] = field(default_factory=dict)
    _sentence_starts: list[int] | None = None
    _pairs: list[tuple[str, int]] | None = None
    _tokens: dict[str, list[int]] | None = None
    _token_starts: list[int] | None = None

    def _token_pairs(self) -> list[tuple[str, int]]:
        """(token, start) in text order, asked of the segmentation once."""
        if self._pairs is None:
            self._pairs = self.token_list()
        return self._pairs

    @property
    def tokens(self) -> dict[str, list[int]]:
        """Token -> positions, built only if a rule asks for a keyword."""
        if self._tokens is None:
            self._tokens = {}
            for text, start in self._token_pairs():
                self._tokens.setdefault(text, []).append(start)
        return self._tokens

    @property
    def sentence_starts(self) -> list[int]:
        if self._sentence_starts is None:
            self._sentence_starts = sentence_starts(self.text)
        return self._sentence_starts

    def word_of(self, position: int) -> int:
        """The index of the token that ``position`` falls in."""
        if self._token_starts is None:
            self._token_starts = [start for _, start in self._token_pairs()]
        return bisect_right(self._token_starts, position) - 1

    def sentence_of(self, position: int) -> int:
        return bisect_right(self.sentence_starts, position)

    def sentences_of(self, positions: list[int]) -> list[int]:
        """The sentence index of each position."""
        starts = self.sentence_starts
        return [bisect_right(starts, p) for p in positions]


Node = tuple[Any, ...]


def parse_rule(source: str, aliases: Mapping[str, str] | None = None) -> Node:
    """A rule in the query language -> the evaluator's tree. ``aliases`` (search-form
    alias -> entity id) lets a plain word that is a catalogued name match its entity."""
    try:
        tree = parse(source)
    except QueryError as exc:
        raise RuleError(str(exc)) from exc
    return _lower(tree, aliases or {})


def _lower(node: Node, aliases: Mapping[str, str]) -> Node:
    kind = node[0]
    if kind in ("and", "or", "sentence"):
        return (kind, *(_lower(child, aliases) for child in node[1:]))
    if kind == "not":
        return ("not", _lower(node[1], aliases))
    if kind == "near":
        _, distance, unit, *parts = node
        lowered = [_lower(part, aliases) for part in parts]
        return (
            ("near", distance, *lowered) if unit == "chars" else ("near_words", distance, *lowered)
        )
    if kind == "field":
        _, name, value, _position = node
        if name in ("entity", "type"):
            return ("term", name, value.lower())
        if name in ("keyword", "phrase", "exact"):
            return (
                "term",
                "keyword" if name == "keyword" else "phrase",
                fold(normalize(value).text),
            )
        raise RuleError(f"{name}: is not known to a topic rule, which sees one article only")
    if kind == "wildcard":
        value = node[1]
        if "?" in value or "*" in value[:-1]:
            raise RuleError(f"{value!r}: topic rules take a trailing * only")
        return ("term", "prefix", fold(normalize(value[:-1]).text))
    _, text, slop, proximity = node  # "text": a word, a "phrase", or words close together
    norm = fold(normalize(text).text)
    if proximity:
        return ("near_words", slop, *(_word(w, aliases) for w in norm.split()))
    return _word(norm, aliases)


def _word(norm: str, aliases: Mapping[str, str]) -> Node:
    """Words in the text (either script); a catalogued name also matches its entity."""
    entity = aliases.get(norm)
    phrase = ("term", "phrase", norm)
    return ("or", phrase, ("term", "entity", entity)) if entity else phrase


def _positions(node: Node, ctx: Context) -> list[int]:
    kind = node[0]
    if kind == "term":
        _, field, arg = node
        if field == "entity":
            return ctx.entities.get(arg, [])
        if field == "type":
            return ctx.types.get(arg, [])
        if field == "keyword":
            return ctx.tokens.get(arg, [])
        if field == "prefix":
            return sorted(
                p for token, at in ctx.tokens.items() if token.startswith(arg) for p in at
            )
        return ctx.phrases.get(arg, [])
    if kind == "or":
        return sorted({p for child in node[1:] for p in _positions(child, ctx)})
    if kind == "and":
        results = [_positions(child, ctx) for child in node[1:]]
        return sorted({p for r in results for p in r}) if all(results) else []
    if kind == "not":
        return [] if _positions(node[1], ctx) else [NO_POSITION]
    if kind == "sentence":
        groups = [[p for p in _positions(child, ctx) if p >= 0] for child in node[1:]]
        if not all(groups):
            return []
        sentences = [ctx.sentences_of(g) for g in groups]
        shared = set.intersection(*map(set, sentences))
        if not shared:
            return []
        return sorted(
            {
                p
                for g, s in zip(groups, sentences, strict=True)
                for p, n in zip(g, s, strict=True)
                if n in shared
            }
        )
    if kind in ("near", "near_words"):
        distance = node[1]
        groups = [[p for p in _positions(child, ctx) if p >= 0] for child in node[2:]]
        if not all(groups):
            return []
        # near counts characters; near_words counts words (the token a position is in)
        at = ctx.word_of if kind == "near_words" else (lambda p: p)
        hits = set()
        for anchor in groups[0]:
            here = at(anchor)
            close = [[p for p in g if abs(at(p) - here) <= distance] for g in groups[1:]]
            if all(close):
                hits.add(anchor)
                hits.update(p for c in close for p in c)
        return sorted(hits)
    raise RuleError(f"unknown node {kind}")


@dataclass(frozen=True)
class Rule:
    name: str
    strength: str
    source: str
    tree: Node
    since: date | None = None  # first day of publication the rule holds for
    until: date | None = None  # last day

    def covers(self, day: date | None) -> bool:
        """Does the rule hold for an article published on ``day`` (any day when the
        rule has no span or the day is unknown)?"""
        return day is None or (
            (self.since is None or day >= self.since) and (self.until is None or day <= self.until)
        )


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    rules: tuple[Rule, ...]


class Topics:
    """The parsed topics and one automaton over all their phrases, so an article's text
    is scanned once however many phrases the rules name."""

    def __init__(self, topics: list[Topic]):
        self.topics = topics
        phrases: set[str] = set()
        for topic in topics:
            for rule in topic.rules:
                phrases |= _phrases(rule.tree)
        self.phrases = sorted(p for p in phrases if p)
        self._latin = [bool(_LATIN.match(p)) for p in self.phrases]
        self._automaton = ahocorasick_rs.AhoCorasick(self.phrases) if self.phrases else None

    def __iter__(self) -> Any:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def find_phrases(self, text: str) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        if self._automaton is None:
            return found
        for index, start, end in self._automaton.find_matches_as_indexes(text, overlapping=True):
            phrase = self.phrases[index]
            if self._latin[index] and (
                (start and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum())
            ):
                continue  # a Latin phrase must stand as whole words
            found.setdefault(phrase, []).append(start)
        return found


def _phrases(node: Node) -> set[str]:
    if node[0] == "term":
        return {node[2]} if node[1] == "phrase" else set()
    return {p for child in node[1:] if isinstance(child, tuple) for p in _phrases(child)}


def load_topics(
    data: list[dict[str, Any]] | None,
    entity_ids: Collection[str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Topics:
    """Parse config/topics.yaml; a bad rule raises RuleError naming topic and rule.
    With ``entity_ids`` (the catalogue), an ``entity:`` term must name one of them, so a
    misspelt id is an error with a suggestion instead of a rule that never fires."""
    topics = []
    for entry in data or []:
        rules = []
        for n, rule in enumerate(entry.get("rules") or [], 1):
            name = rule.get("name") or f"rule_{n}"
            try:
                tree = parse_rule(rule["when"], aliases)
                _check_terms(tree, entity_ids)
                since, until = _day(rule, "since"), _day(rule, "until")
                if since and until and since > until:
                    raise RuleError(f"since {since} is after until {until}")
            except (RuleError, KeyError) as exc:
                raise RuleError(f"topic {entry.get('id')!r}, rule {name!r}: {exc}") from exc
            rules.append(Rule(name, rule.get("strength", "weak"), rule["when"], tree, since, until))
        topics.append(Topic(entry["id"], entry.get("name", entry["id"]), tuple(rules)))
    return Topics(topics)


def _day(rule: dict[str, Any], key: str) -> date | None:
    """A rule's ``since`` or ``until``: a day written 2022-02-24 (YAML may have read it
    as a date already)."""
    value = rule.get(key)
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(f"{key}: {value!r} is not a day written YYYY-MM-DD") from None


def _check_terms(node: Node, entity_ids: Collection[str] | None) -> None:
    if node[0] == "term":
        _, field, arg = node
        if field == "type" and arg not in TYPES:
            raise RuleError(f"unknown type {arg!r} (known: {', '.join(TYPES)})")
        if field == "entity" and entity_ids is not None and arg not in entity_ids:
            raise RuleError(unknown_entity(arg, entity_ids))
        return
    for child in node[1:]:
        if isinstance(child, tuple):
            _check_terms(child, entity_ids)


def sentence_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text)]


def _holds(node: Node, ctx: Context) -> bool:
    """Whether ``_positions(node, ctx)`` would be non-empty, without collecting every
    position where AND, OR and NOT can decide early."""
    kind = node[0]
    if kind == "or":
        return any(_holds(child, ctx) for child in node[1:])
    if kind == "and":
        return all(_holds(child, ctx) for child in node[1:])
    if kind == "not":
        return not _holds(node[1], ctx)
    return bool(_positions(node, ctx))


def classify(topics: Topics, ctx: Context) -> list[dict[str, str]]:
    """The topics whose rules hold, each with the rule that fired and its strength."""
    ctx.phrases = topics.find_phrases(ctx.text)
    found = []
    for topic in topics:
        for rule in topic.rules:
            if rule.covers(ctx.published) and _holds(rule.tree, ctx):
                found.append({"id": topic.id, "strength": rule.strength, "rule": rule.name})
                break
    return found
