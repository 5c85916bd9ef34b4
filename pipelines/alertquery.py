"""The alert query language, compiled to an engine-neutral query DSL.

    普京 烏克蘭                     both words (AND is implicit)
    "上海合作組織" OR SCO            a phrase, or a word
    習近平 AND NOT 台灣              NOT, also written -台灣; +word requires a word
    ("習近平 普京"~10) entity:nato   words within 10 positions; an entity by id
    习近平 NEAR/5 普京               within 5 words of each other, in either order
    ukrain* lang:en                 a prefix (at least 3 letters or 2 Chinese characters)
    普京                             a catalogued name also matches its entity (蒲亭, Putin)
    "習近平 普丁"~10                 ... inside phrases and proximity too: any spelling of each
    exact:普丁  exact:"習近平 普丁"    the words as written, no other spelling
    topic:ukraine_war source:cna region:TW
    near(10, entity:putin, 入侵)       every part within 10 words of the first
    keyword:体育 phrase:"war in ukraine"  one token of the article; words in the text

One language for alerts, search and topic rules (config/topics.yaml): the same parser
and the same tree (``parse``). Proximity counts words everywhere (NEAR/N, "a b"~N,
near(N, ...)). Topic rules, evaluated on the article itself, can also count characters
(near(60 chars, ...)) and ask for one sentence (sentence(a, b)); the index has neither
sentence boundaries nor character positions, so the engine compiler refuses those two.

Terms are analysed like the index: converted to simplified, folded, segmented with the
same dictionary, so a rule written in either script matches articles in both, and a
phrase matches the segmenter's words (text_tokens) or, failing that, the CJK bigrams
(text_norm). ``entity:ID`` matches every alias of a catalogued entity (普京, 普丁, 蒲亭,
Putin), and so does a word of a phrase or proximity that is one of those aliases: each
such word matches any spelling of its entity at that place (span queries), so a rule
written as Taipei writes names finds mainland and Singapore articles too. ``exact:``
asks for the words as written. Errors point at the position; constructs that make the percolator slow
(leading or short wildcards, huge queries, deep nesting, wide proximity) are refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from pipelines.normalize import fold, normalize


class Analysis(Protocol):
    """What the compiler needs of a pipeline (pipelines/process.py's Pipeline has it):
    its segmenter, its entity catalogue and its topics."""

    segmenter: Any
    catalogue: Any
    topics: Any


FIELDS = {
    "entity": "entities.id",
    "topic": "topics",
    "source": "source",
    "lang": "lang",
    "region": "region",
    "feed": "feed_id",
    "type": "entities.type",
    "exact": "text_tokens",  # the words as written: no other spelling of a name
    "keyword": "text_tokens",  # one token of the article (search form)
    "phrase": "text_norm",  # the words anywhere in the text, either script
}
MAX_CHARS = 500  # near(N chars, ...): topic rules only
LANGS = {"zh-hant": "zh-Hant", "zh-hans": "zh-Hans", "en": "en"}
MAX_TERMS = 64
MAX_DEPTH = 8  # levels of operators: parentheses, functions, NOT, -, NEAR
MAX_SLOP = 50
MAX_WILDCARDS = 4
MAX_LENGTH = 4000  # characters of a query
MAX_PHRASE_WORDS = 32  # words of one phrase or term after segmentation
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lparen>\() | (?P<rparen>\)) |
      (?P<near>NEAR/(?P<near_n>\d+)) |
      (?P<func>(?P<func_name>sentence|near)\s*\() |
      (?P<comma>,) |
      (?P<op>AND|OR|NOT)(?=[\s()",]|$) |
      (?P<phrase>"(?P<phrase_text>[^"]*)"(?:~(?P<slop>\d+))?) |
      (?P<unclosed>"[^"]*$) |
      (?P<field>(?P<field_name>[a-z]+):(?P<field_value>"[^"]*"|[^\s()",]+)) |
      (?P<sign>[+-])(?=[^\s]) |
      (?P<word>[^\s()",]+)
    )""",
    re.VERBOSE,
)


class QueryError(ValueError):
    """A rule query that cannot be used; ``position`` is the offending character."""

    def __init__(self, message: str, query: str, position: int):
        self.message, self.query, self.position = message, query, position
        shown = query[:200]
        pad = " " * display_width(shown[:position]) if position <= len(shown) else ""
        caret = f"\n  {shown}\n  {pad}^" if position <= len(shown) else ""
        super().__init__(f"{message} at position {position}{':' if caret else ''}{caret}")


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: two for wide and full-width characters (CJK),
    none for combining marks, so a caret under a query lines up with its character."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    position: int
    extra: str | None = None


_BLANK_TO_END = re.compile(r"\s*\Z")


def tokenize(query: str) -> list[Token]:
    """The query's tokens, in one pass (linear in its length, which MAX_LENGTH caps)."""
    if len(query) > MAX_LENGTH:
        raise QueryError(f"longer than {MAX_LENGTH} characters: split the rule", query, MAX_LENGTH)
    tokens: list[Token] = []
    position = 0
    while position < len(query):
        if _BLANK_TO_END.match(query, position):
            break
        match = _TOKEN.match(query, position)
        if not match or match.end() == position:
            raise QueryError("unexpected character", query, position)
        kind = next(
            k
            for k in (
                "lparen",
                "rparen",
                "near",
                "func",
                "comma",
                "op",
                "phrase",
                "unclosed",
                "field",
                "sign",
                "word",
            )
            if match.group(k)
        )
        start = match.start(kind)
        if kind == "unclosed":
            raise QueryError("unclosed quote", query, start)
        if kind == "near":
            tokens.append(Token("near", match.group("near_n"), start))
        elif kind == "func":
            tokens.append(Token("func", match.group("func_name"), start))
        elif kind == "phrase":
            tokens.append(Token("phrase", match.group("phrase_text"), start, match.group("slop")))
        elif kind == "field":
            tokens.append(
                Token(
                    "field", match.group("field_value").strip('"'), start, match.group("field_name")
                )
            )
        else:
            tokens.append(Token(kind, match.group(kind), start))
        position = match.end()
    return tokens


Node = tuple[Any, ...]


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0
        self.terms = 0
        self.in_args = 0  # inside sentence(...) or near(...): a comma ends an argument

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, message: str, token: Token | None = None) -> QueryError:
        return QueryError(message, self.query, token.position if token else len(self.query))

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail("empty query")
        node = self.expr(0)
        extra = self.peek()
        if extra is not None:
            raise self.fail(f"unexpected {extra.value!r}", extra)
        if self.terms > MAX_TERMS:
            raise self.fail(f"more than {MAX_TERMS} terms: split the rule")
        if _unbounded(node):
            # It would match nearly every article (and fire on each).
            raise self.fail("a query cannot be only NOT terms: add something to match")
        return node

    def expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels", self.peek())
        parts = [self.conj(depth)]
        while (tok := self.peek()) and tok.kind == "op" and tok.value == "OR":
            self.index += 1
            parts.append(self.conj(depth))
        return ("or", *parts) if len(parts) > 1 else parts[0]

    def conj(self, depth: int) -> Node:
        self.skip_commas()
        parts = [self.unary(depth)]
        while (tok := self.peek()) and not (
            tok.kind == "rparen"
            or (tok.kind == "op" and tok.value == "OR")
            or (tok.kind == "comma" and self.in_args)
        ):
            if tok.kind == "op" and tok.value == "AND":
                self.index += 1
            if self.skip_commas():
                continue
            parts.append(self.unary(depth))
        return ("and", *parts) if len(parts) > 1 else parts[0]

    def distance(self, digits: str, limit: int, tok: Token) -> int:
        """A distance as written; one too long to be a number is refused as too wide
        (Python will not even read an integer of 5,000 digits)."""
        if len(digits) > len(str(limit)) + 1:
            raise self.fail(f"{digits[:8]}… is wider than {limit}", tok)
        return int(digits)

    def skip_commas(self) -> bool:
        """Outside sentence() and near() a comma separates nothing: it is read as space."""
        skipped = False
        while not self.in_args and (tok := self.peek()) and tok.kind == "comma":
            self.index += 1
            skipped = True
        return skipped

    def function(self, tok: Token, depth: int) -> Node:
        """sentence(a, b, ...) or near(N [words|chars], a, b, ...)."""
        distance, unit = 0, "words"
        if tok.value == "near":
            number = self.peek()
            if number is None or number.kind != "word" or not number.value.isdigit():
                raise self.fail("near( starts with a distance: near(10, a, b)", number or tok)
            self.index += 1
            distance = self.distance(number.value, MAX_CHARS, number)
            following = self.peek()
            if (
                following is not None
                and following.kind == "word"
                and following.value
                in (
                    "words",
                    "chars",
                )
            ):
                unit = following.value
                self.index += 1
            limit = MAX_CHARS if unit == "chars" else MAX_SLOP
            if distance > limit:
                raise self.fail(f"near({distance} {unit}) is wider than {limit} {unit}", number)
            comma = self.peek()
            if comma is None or comma.kind != "comma":
                raise self.fail("near(N, ...) needs a comma after the distance", comma or number)
            self.index += 1
        self.in_args += 1
        try:
            args = [self.expr(depth + 1)]
            while (sep := self.peek()) and sep.kind == "comma":
                self.index += 1
                args.append(self.expr(depth + 1))
        finally:
            self.in_args -= 1
        closing = self.peek()
        if closing is None or closing.kind != "rparen":
            raise self.fail("missing closing parenthesis", closing or tok)
        self.index += 1
        if len(args) < 2:
            raise self.fail(f"{tok.value}() needs at least two parts", tok)
        if tok.value == "sentence":
            return ("sentence", *args)
        return ("near", distance, unit, *args)

    def unary(self, depth: int) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.fail("the query ends too early")
        if (tok.kind == "op" and tok.value == "NOT") or (tok.kind == "sign" and tok.value == "-"):
            if depth + 1 > MAX_DEPTH:
                raise self.fail(f"nested deeper than {MAX_DEPTH} levels", tok)
            self.index += 1
            return ("not", self.unary(depth + 1))
        if tok.kind == "sign":  # "+word": required, which AND already means
            self.index += 1
        return self.near(depth)

    def near(self, depth: int) -> Node:
        left = self.primary(depth)
        while (tok := self.peek()) and tok.kind == "near":
            self.index += 1
            slop = self.distance(tok.value, MAX_SLOP, tok)
            if slop > MAX_SLOP:
                raise self.fail(f"NEAR/{slop} is wider than {MAX_SLOP}", tok)
            right = self.primary(depth)
            for side in (left, right):
                if side[0] != "text":
                    raise self.fail("NEAR joins plain words or phrases", tok)
            left = ("text", f"{left[1]} {right[1]}", slop, True)
        return left

    def primary(self, depth: int) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.fail("the query ends too early")
        self.index += 1
        if tok.kind == "func":
            return self.function(tok, depth)
        if tok.kind == "comma":
            raise self.fail("a comma separates the parts of sentence() and near()", tok)
        if tok.kind == "lparen":
            saved, self.in_args = self.in_args, 0  # commas inside ( ) are spaces again
            try:
                node = self.expr(depth + 1)
            finally:
                self.in_args = saved
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise self.fail("missing closing parenthesis", closing or tok)
            self.index += 1
            return node
        if tok.kind == "rparen":
            raise self.fail("unexpected ')'", tok)
        if tok.kind in ("op", "near"):
            raise self.fail(f"{tok.value} needs a term before and after it", tok)
        self.terms += 1
        if tok.kind == "field":
            name = tok.extra or ""
            if name not in FIELDS:
                raise self.fail(f"unknown field {name!r} (known: {', '.join(sorted(FIELDS))})", tok)
            return ("field", name, tok.value, tok.position)
        if tok.kind == "phrase":
            if not tok.value.strip():
                raise self.fail("empty phrase", tok)
            slop = self.distance(tok.extra, MAX_SLOP, tok) if tok.extra else 0
            if slop > MAX_SLOP:
                raise self.fail(f"~{slop} is wider than {MAX_SLOP}", tok)
            return ("text", tok.value, slop, bool(tok.extra))
        value = tok.value
        if "*" in value or "?" in value:
            return ("wildcard", value, tok.position)
        return ("text", value, 0, False)


def _unbounded(node: Node) -> bool:
    """Whether a query matches every article but some: NOT with nothing positive beside
    it. (``a AND (b OR NOT c)`` is bounded by ``a``.)"""
    if node[0] == "not":
        return True
    if node[0] == "and":
        return all(_unbounded(child) for child in node[1:])
    if node[0] == "or":
        return any(_unbounded(child) for child in node[1:])
    return False


def parse(query: str) -> Node:
    """The query's tree; QueryError is the only exception a query can raise."""
    try:
        return _Parser(query).parse()
    except QueryError:
        raise
    except (ValueError, RecursionError) as exc:
        raise QueryError(f"cannot be read: {type(exc).__name__}", query, 0) from exc


@dataclass
class Compiler:
    """Turns a parsed query into DSL; ``segment`` is the pipeline segmenter's tokens
    function on search-form text, ``entity_ids`` the catalogue (for helpful errors)."""

    segment: Callable[[str], list[str]]
    entity_ids: frozenset[str] = frozenset()
    topic_ids: frozenset[str] = frozenset()
    aliases: dict[str, str] | None = None  # search-form alias -> entity id
    # entity id -> the tokens of every spelling of it
    entity_spellings: dict[str, list[tuple[str, ...]]] | None = None
    # Topic rules tried on the index (`mediamon topics test`): sentence(...) is read as
    # "in the article" and near(N chars) as N/2 words, the nearest the index can answer.
    approximate: bool = False
    _query: str = ""
    _wildcards: int = 0

    @classmethod
    def for_pipeline(cls, pipeline: Analysis) -> Compiler:
        """A compiler that analyses words as ``pipeline`` analyses articles and knows
        its catalogue and topics."""
        aliases = pipeline.catalogue.alias_map()
        forms: dict[str, list[tuple[str, ...]]] = {}
        for form, entity in aliases.items():
            tokens = tuple(pipeline.segmenter.words(form))
            if tokens and tokens not in forms.setdefault(entity, []):
                forms[entity].append(tokens)
        return cls(
            segment=pipeline.segmenter.words,
            entity_ids=frozenset(pipeline.catalogue.entities),
            topic_ids=frozenset(t.id for t in pipeline.topics),
            aliases=aliases,
            entity_spellings=forms,
        )

    def compile(self, query: str) -> dict[str, Any]:
        """Query text -> DSL. Raises QueryError. Safe to share: each call works on a copy."""
        run = replace(self)
        run._query = query
        run._wildcards = 0
        try:
            return run._node(parse(query))
        except QueryError:
            raise
        except (ValueError, RecursionError) as exc:  # nothing else may escape a bad query
            raise QueryError(f"cannot be read: {type(exc).__name__}", query, 0) from exc

    def _node(self, node: Node) -> dict[str, Any]:
        kind = node[0]
        if kind == "and":
            must = [self._node(n) for n in node[1:] if n[0] != "not"]
            must_not = [self._node(n[1]) for n in node[1:] if n[0] == "not"]
            out: dict[str, Any] = {"must": must}
            if must_not:
                out["must_not"] = must_not
            return {"bool": out}
        if kind == "or":
            return {
                "bool": {"should": [self._node(n) for n in node[1:]], "minimum_should_match": 1}
            }
        if kind == "not":
            return {"bool": {"must_not": [self._node(node[1])]}}
        if kind == "field":
            return self._field(node[1], node[2], node[3])
        if kind == "wildcard":
            return self._wildcard(node[1], node[2])
        if kind == "sentence":
            if not self.approximate:
                raise QueryError(
                    "sentence() needs sentence boundaries, which only topic rules have: "
                    "use NEAR/N or near(N, ...)",
                    self._query,
                    0,
                )
            return {"bool": {"must": [self._node(part) for part in node[1:]]}}
        if kind == "near":
            return self._near(node[1], node[2], list(node[3:]))
        return self._text(node[1], node[2], node[3])

    def _near(self, distance: int, unit: str, parts: list[Node]) -> dict[str, Any]:
        """near(N, a, b, ...): every part within N words of the first (the engine
        counts token positions), in any order."""
        if unit == "chars":
            if not self.approximate:
                raise QueryError(
                    "near(N chars, ...) counts characters, which only topic rules can: "
                    "use near(N, ...) to count words",
                    self._query,
                    0,
                )
            distance = chars_as_words(distance)
        return {
            "span_near": {
                "clauses": [self._span(part) for part in parts],
                "slop": distance,
                "in_order": False,
            }
        }

    def _span(self, node: Node) -> dict[str, Any]:
        """A part of near(): something with positions in the text (words, names)."""
        kind = node[0]
        if kind == "or":
            return {"span_or": {"clauses": [self._span(child) for child in node[1:]]}}
        if kind == "text":
            _, words = self._words(node[1], self._query.find(node[1]))
            if len(words) == 1:
                return self._span_word(words[0])
            return self._spans(words, node[2], in_order=not node[3])
        if kind == "field" and node[1] == "entity":
            value = node[2].lower()
            self._field(node[1], value, node[3])  # unknown ids are refused as anywhere
            forms = (self.entity_spellings or {}).get(value) or [(value,)]
            return _span_forms(forms)
        if kind == "field" and node[1] in ("keyword", "phrase", "exact"):
            _, words = self._words(node[2], node[3])
            return _span_forms([tuple(words)])
        raise QueryError(
            "near() joins words, phrases, names, entity:, keyword: and phrase: terms",
            self._query,
            node[-1] if isinstance(node[-1], int) else 0,
        )

    def _words(self, text: str, position: int) -> tuple[str, list[str]]:
        """``text`` in search form and its words as the index has them; QueryError
        when nothing searchable is left."""
        norm = fold(normalize(text).text)
        words = self.segment(norm)
        if not words:
            raise QueryError(f"{text!r} has no searchable words", self._query, position)
        if len(words) > MAX_PHRASE_WORDS:
            raise QueryError(
                f"more than {MAX_PHRASE_WORDS} words in one phrase", self._query, position
            )
        return norm, words

    def _spans(self, words: list[str], slop: int, *, in_order: bool) -> dict[str, Any]:
        """Words within ``slop`` positions, each a name in any of its spellings."""
        return {
            "span_near": {
                "clauses": [self._span_word(w) for w in words],
                "slop": slop,
                "in_order": in_order,
            }
        }

    def _text(self, text: str, slop: int, proximity: bool) -> dict[str, Any]:
        norm, words = self._words(text, self._query.find(text))
        tokens = " ".join(words)
        if (proximity or len(words) > 1) and any(self._spellings(w) for w in words):
            # A name in a phrase matches any spelling of its entity at that place.
            spans = self._spans(words, slop, in_order=not proximity)
            if proximity:
                return spans
            return {
                "bool": {
                    "should": [spans, {"match_phrase": {"text_norm": norm}}],
                    "minimum_should_match": 1,
                }
            }
        if proximity:
            return {"match_phrase": {"text_tokens": {"query": tokens, "slop": slop}}}
        # The segmenter's words first; CJK bigrams catch a word segmented differently
        # inside a longer compound (报导 inside 外电报导). A word that is a catalogued
        # name also matches the entity, so 普京 finds articles that wrote 蒲亭.
        should: list[dict[str, Any]] = [
            {"match_phrase": {"text_tokens": tokens}},
            {"match_phrase": {"text_norm": norm}},
        ]
        entity = (self.aliases or {}).get(norm)
        if entity:
            should.append({"term": {"entities.id": entity}})
        return {"bool": {"should": should, "minimum_should_match": 1}}

    def _wildcard(self, value: str, position: int) -> dict[str, Any]:
        self._wildcards += 1
        if self._wildcards > MAX_WILDCARDS:
            raise QueryError(f"more than {MAX_WILDCARDS} wildcards", self._query, position)
        form = fold(normalize(value).text)
        head = re.split(r"[*?]", form, maxsplit=1)[0]
        needed = 2 if _CJK.search(head) else 3
        if len(head) < needed:
            raise QueryError(
                f"a wildcard needs at least {needed} {'characters' if needed == 2 else 'letters'} before it "
                "(short and leading wildcards are too slow to run on every article)",
                self._query,
                position,
            )
        if form == head + "*":
            return {"prefix": {"text_tokens": head}}
        if "*" in form[:-1] or form.count("?") > 3:
            raise QueryError(
                "only a trailing * and up to three ? are allowed", self._query, position
            )
        return {"wildcard": {"text_tokens": form}}

    def _span_word(self, word: str) -> dict[str, Any]:
        return _span_forms(self._spellings(word) or [(word,)])

    def _spellings(self, word: str) -> list[tuple[str, ...]] | None:
        """The tokens of every spelling of the entity ``word`` names, if it names one."""
        entity = (self.aliases or {}).get(word)
        return (self.entity_spellings or {}).get(entity) if entity else None

    def _exact(self, value: str, position: int) -> dict[str, Any]:
        norm, words = self._words(value, position)
        return {
            "bool": {
                "should": [
                    {"match_phrase": {"text_tokens": " ".join(words)}},
                    {"match_phrase": {"text_norm": norm}},
                ],
                "minimum_should_match": 1,
            }
        }

    def _field(self, name: str, value: str, position: int) -> dict[str, Any]:
        field = FIELDS[name]
        if name in ("exact", "phrase"):
            return self._exact(value, position)
        if name == "keyword":
            _, words = self._words(value, position)
            if len(words) != 1:
                raise QueryError(f"keyword:{value} must be one word", self._query, position)
            return {"term": {"text_tokens": words[0]}}
        if name == "entity":
            value = value.lower()
            if self.entity_ids and value not in self.entity_ids:
                raise QueryError(
                    unknown_entity(value, self.entity_ids),
                    self._query,
                    position,
                )
        elif name == "topic":
            value = value.lower()
            if self.topic_ids and value not in self.topic_ids:
                raise QueryError(
                    f"unknown topic {value!r} (known: {', '.join(sorted(self.topic_ids))})",
                    self._query,
                    position,
                )
        elif name == "lang":
            value = LANGS.get(value.lower(), value)
        elif name == "region":
            value = value.upper()
        return {"term": {field: value}}


def _span_forms(forms: list[tuple[str, ...]]) -> dict[str, Any]:
    """A span matching any of ``forms`` (each a run of tokens)."""
    spans = [
        {"span_term": {"text_tokens": form[0]}}
        if len(form) == 1
        else {
            "span_near": {
                "clauses": [{"span_term": {"text_tokens": t}} for t in form],
                "slop": 0,
                "in_order": True,
            }
        }
        for form in forms
    ]
    return spans[0] if len(spans) == 1 else {"span_or": {"clauses": spans}}


def chars_as_words(chars: int) -> int:
    """The word distance that stands for a character distance when the index, which
    counts words, tries a topic rule (about two characters a word in Chinese news)."""
    return max(1, chars // 2)


def approximations(node: Node) -> list[str]:
    """What of a parsed rule the index can only approximate (``approximate=True``)."""
    if not isinstance(node, tuple):
        return []
    found = []
    if node[0] == "sentence":
        found.append('sentence(...) as "in the same article"')
    if node[0] == "near" and node[2] == "chars":
        found.append(f"near({node[1]} chars) as near({chars_as_words(node[1])} words)")
    return found + [a for child in node[1:] for a in approximations(child)]


def unknown_entity(value: str, known: Iterable[str]) -> str:
    """The message for an entity id the catalogue lacks, with the closest one."""
    hint = _closest(value, known)
    return f"unknown entity {value!r}" + (f"; did you mean {hint!r}?" if hint else "")


def _closest(value: str, choices: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def filters(
    *,
    sources: Iterable[str] = (),
    langs: Iterable[str] = (),
    topics: Iterable[str] = (),
    entities: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """A rule's structured filters as filter clauses (each list is OR'ed within)."""
    clauses = []
    for field, values in (
        ("source", sources),
        ("lang", [LANGS.get(v.lower(), v) for v in langs]),
        ("topics", topics),
        ("entities.id", entities),
    ):
        values = [v for v in values if v]
        if values:
            clauses.append({"terms": {field: sorted(set(values))}})
    return clauses
