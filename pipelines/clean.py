"""clean: remove what extractors leak on news pages; move credits to the byline.

Rules come from ``config/sources.yaml`` (general rules plus per-source ones, written
once and matched in both Chinese scripts). The dateline's reporter and day have no
fixed wording and are handled in code: they become a byline entry and a date hint.
The CNA date code after the credits (1110915: ROC year 111, 15 September) becomes a
date hint too.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any

import ahocorasick_rs

from pipelines.article import Article
from pipelines.normalize import converter, script_counts

SENTENCE_END = "。！？!?…」』”"
_HEADLINE_GAP = re.compile(r"[\u3400-\u9fff0-9A-Za-z：:」』”][ \u3000][\u3400-\u9fff「『“]")
_CODE = re.compile(r"(1\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
_CODE_BEFORE = frozenset("）)\n")
_DATELINE = re.compile(
    r"^\s*[（(【\[]?(?P<head>[^（(）)】\]\n]{0,30}?)"
    r"(?:(?P<year>\d{4})年)?(?:(?P<month>\d{1,2})月)?(?P<day>\d{1,2})日"
    r"[^（(）)】\]\n]{0,10}?(?:電|电|訊|讯|報導|报导|報道|报道)"
)
DATELINE_CITIES = (
    "台北",
    "臺北",
    "北京",
    "上海",
    "香港",
    "澳門",
    "澳门",
    "華盛頓",
    "华盛顿",
    "倫敦",
    "伦敦",
    "東京",
    "东京",
    "莫斯科",
    "紐約",
    "纽约",
    "巴黎",
    "柏林",
    "布魯塞爾",
    "布鲁塞尔",
    "基輔",
    "基辅",
    "新加坡",
    "首爾",
    "首尔",
    "日內瓦",
    "日内瓦",
    "維也納",
    "维也纳",
    "台中",
    "臺中",
    "高雄",
    "台南",
    "臺南",
    "新北",
    "桃園",
    "桃园",
    "廣州",
    "广州",
    "深圳",
    "聯合國",
    "联合国",
)
_REPORTER = re.compile(r"記者|记者")
_SPACES = re.compile(r"[ \t\u3000]{2,}")


def _both_scripts(pattern: str) -> list[str]:
    """A pattern and its other-script spellings (OpenCC leaves regex syntax alone)."""
    forms = [pattern, converter("t2s").convert(pattern), converter("s2t").convert(pattern)]
    return list(dict.fromkeys(forms))


class _Found:
    """A literal's match: the part of ``re.Match`` the cleaning code uses."""

    __slots__ = ("_end", "_start")

    def __init__(self, start: int, end: int):
        self._start, self._end = start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def groupdict(self) -> dict[str, str]:
        return {}


class _Literal:
    """A pattern without regex syntax (most markers: 延伸閱讀): str.find is far faster."""

    def __init__(self, text: str):
        self.pattern = text

    def search(self, text: str) -> _Found | None:
        index = text.find(self.pattern)
        return _Found(index, index + len(self.pattern)) if index != -1 else None

    def finditer(self, text: str) -> list[_Found]:
        found, index, size = [], text.find(self.pattern), len(self.pattern)
        while index != -1:
            found.append(_Found(index, index + size))
            index = text.find(self.pattern, index + size)
        return found

    def sub(self, replacement: str, text: str) -> str:
        return text.replace(self.pattern, replacement)

    def match(self, text: str, start: int, end: int) -> bool:
        return text.startswith(self.pattern, start, end)


class _Literals:
    """Several literals in one Aho-Corasick scan (the many 延伸閱讀-style markers)."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.pattern = "|".join(texts)  # for display; never starts with ^
        self._automaton = ahocorasick_rs.AhoCorasick(
            texts, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
        )

    def finditer(self, text: str) -> list[_Found]:
        return [
            _Found(start, end) for _, start, end in self._automaton.find_matches_as_indexes(text)
        ]

    def search(self, text: str) -> _Found | None:
        found = self.finditer(text)
        return found[0] if found else None

    def sub(self, replacement: str, text: str) -> str:
        if replacement:
            raise ValueError("literal rules only remove text")
        return _cut_out(text, self.finditer(text))

    def match(self, text: str, start: int, end: int) -> bool:
        return any(text.startswith(t, start, end) for t in self.texts)


def _merge_literals(rules: list[Rule]) -> list[Rule]:
    """Line rules that are plain literals, merged into one scan."""
    literals = [r.pattern for r in rules if isinstance(r, _Literal)]
    if len(literals) < 2:
        return rules
    return [_Literals(literals), *(r for r in rules if not isinstance(r, _Literal))]


@lru_cache(maxsize=8)
def _lowered(text: str) -> str:
    """The lower-cased text, shared by every case-insensitive rule of one article."""
    return text.lower()


class _Prefiltered:
    """A regex with a literal it cannot match without: a cheap ``in`` test skips the
    regex scan on the (usual) text that lacks the literal."""

    def __init__(self, pattern: re.Pattern[str], literal: str):
        self.regex = pattern
        self.pattern = pattern.pattern
        self.literal = literal
        self.folded = bool(pattern.flags & re.IGNORECASE)

    def _absent(self, text: str) -> bool:
        return self.literal not in (_lowered(text) if self.folded else text)

    def search(self, text: str) -> re.Match[str] | None:
        return None if self._absent(text) else self.regex.search(text)

    def finditer(self, text: str) -> list[re.Match[str]]:
        return [] if self._absent(text) else list(self.regex.finditer(text))

    def sub(self, replacement: str, text: str) -> str:
        return text if self._absent(text) else self.regex.sub(replacement, text)

    def match(self, text: str, start: int, end: int) -> re.Match[str] | None:
        return self.regex.match(text, start, end)


class _Anchored:
    """A regex every match of which starts with one of a few characters (most span rules
    start with [（(]): str.find jumps to those characters and the regex is tried there
    only, instead of at every position of the text."""

    def __init__(self, pattern: re.Pattern[str], firsts: str):
        self.regex = pattern
        self.pattern = pattern.pattern
        self.firsts = firsts

    def _candidates(self, text: str) -> list[int]:
        found: list[int] = []
        for ch in self.firsts:
            index = text.find(ch)
            while index != -1:
                found.append(index)
                index = text.find(ch, index + 1)
        if len(self.firsts) > 1:
            found.sort()
        return found

    def finditer(self, text: str) -> list[re.Match[str]]:
        """Leftmost, non-overlapping matches, as ``re.finditer`` finds them."""
        out: list[re.Match[str]] = []
        end = 0
        match_at = self.regex.match
        for index in self._candidates(text):
            if index < end:
                continue
            match = match_at(text, index)
            if match:
                out.append(match)
                end = max(match.end(), index + 1)
        return out

    def search(self, text: str) -> re.Match[str] | None:
        match_at = self.regex.match
        for index in self._candidates(text):
            if match := match_at(text, index):
                return match
        return None

    def sub(self, replacement: str, text: str) -> str:
        if replacement:
            return self.regex.sub(replacement, text)
        return _cut_out(text, self.finditer(text))

    def match(self, text: str, start: int, end: int) -> re.Match[str] | None:
        return self.regex.match(text, start, end)


def _cut_out(text: str, matches: Sequence[re.Match[str] | _Found]) -> str:
    """``text`` without the (ordered, non-overlapping) matches."""
    if not matches:
        return text
    pieces, last = [], 0
    for match in matches:
        pieces.append(text[last : match.start()])
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


# [（(]…, or (?:點擊|點此|歡迎)…: the characters a match can start with.
_LEADING_CLASS = re.compile(r"\[([^\]\\^-]{1,4})\]")
_LEADING_ALTERNATION = re.compile(r"\(\?:([^()\[\]\\.^$*+?{}]+)\)")


def _anchored(rule: Rule) -> Rule:
    """A plain regex as an ``_Anchored`` rule when its first characters are few and known."""
    if not isinstance(rule, re.Pattern) or rule.flags & ~re.UNICODE:
        return rule
    pattern = rule.pattern
    if _has_top_level_branch(pattern):
        return rule
    if found := _LEADING_CLASS.match(pattern):
        firsts, rest = found.group(1), found.end()
    elif found := _LEADING_ALTERNATION.match(pattern):
        branches = found.group(1).split("|")
        if not all(branches):
            return rule
        firsts, rest = "".join(dict.fromkeys(b[0] for b in branches)), found.end()
    elif pattern[:1] and not _SYNTAX.match(pattern):
        firsts, rest = pattern[0], 1
    else:
        return rule
    if len(firsts) > 4 or pattern[rest : rest + 1] in ("?", "*", "{"):
        return rule  # the first part is optional: a match may start elsewhere
    return _Anchored(rule, firsts)


def _has_top_level_branch(pattern: str) -> bool:
    """Whether ``pattern`` has a | outside groups and classes (a match may then start
    with either branch)."""
    depth, in_class, i = 0, False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1 + (pattern[i + 1 : i + 2] == "]")  # a ] first in a class is literal
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


def required_literal(pattern: str) -> str:
    """The longest run of plain characters every match must contain ("" if unsure):
    outside groups and classes, not quantified, in a pattern without a top-level |."""
    body = re.sub(r"^\(\?[a-zA-Z]+\)", "", pattern)
    runs, run, depth, i = [], "", 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            runs.append(run)
            run, i = "", i + 2
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            return ""
        elif ch == "{":
            run = run[:-1] if depth == 0 else run
            i = body.find("}", i)
            if i == -1:
                return ""
        elif depth == 0 and ch in "?*":
            run = run[:-1]
        elif depth == 0 and (ch.isalnum() or ch == " " or ord(ch) > 0x2E7F):
            run += ch
            i += 1
            continue
        runs.append(run)
        run = ""
        i += 1
    runs.append(run)
    best = max(runs, key=len)
    return best if len(best.strip()) >= 2 else ""


_SYNTAX = re.compile(r"[\\.^$*+?{}\[\]|()]")
Rule = re.Pattern[str] | _Literal | _Literals | _Prefiltered | _Anchored


def _compile(patterns: list[str], script: str | None) -> list[Rule]:
    """Each pattern in the text's script (both when unknown), compiled on its own: a
    pattern that starts with a literal or a character class is searched far faster than
    one big alternation."""
    if script == "hant":
        forms = [converter("s2t").convert(p) for p in patterns]
    elif script == "hans":
        forms = [converter("t2s").convert(p) for p in patterns]
    else:
        forms = [form for p in patterns for form in _both_scripts(p)]
    rules: list[Rule] = []
    for form in dict.fromkeys(forms):
        if not _SYNTAX.search(form):
            rules.append(_Literal(form))
            continue
        compiled = re.compile(form)
        literal = required_literal(form)
        if compiled.flags & re.IGNORECASE:
            literal = literal.lower()
        rules.append(_Prefiltered(compiled, literal) if literal else compiled)
    return rules


_CLASS_PREFIX = re.compile(r"^\[[^\]\\]+\]")


def _merge_prefixed(rules: list[Rule]) -> list[Rule]:
    """Span rules that start with the same character class (most start with [（(]) are
    merged into one alternation: one scan of the text instead of one per rule."""
    groups: dict[str, list[str]] = {}
    out: list[Rule] = []
    for rule in rules:
        regex = rule.regex if isinstance(rule, _Prefiltered) else rule
        head = _CLASS_PREFIX.match(regex.pattern) if isinstance(regex, re.Pattern) else None
        if head is None or not isinstance(regex, re.Pattern) or regex.flags & ~re.UNICODE:
            out.append(rule)
            continue
        groups.setdefault(head.group(0), []).append(regex.pattern[head.end() :])
    for prefix, rests in groups.items():
        out.append(re.compile(prefix + "(?:" + "|".join(f"(?:{r})" for r in rests) + ")"))
    return out


def _first_per_paragraph(patterns: list[Rule], body: str, starts: list[int]) -> dict[int, int]:
    """Paragraph index -> offset (in that paragraph) of the first match of any pattern.
    Line patterns (^…) are tried at each paragraph start."""
    found: dict[int, int] = {}
    for pattern in patterns:
        if isinstance(pattern, _Prefiltered) and pattern._absent(body):
            continue  # not in the text at all, so at no paragraph's start either
        if pattern.pattern.startswith(("^", "(?i)^")):
            for index, start in enumerate(starts[:-1]):
                if pattern.match(body, start, starts[index + 1] - 1):
                    found[index] = 0
            continue
        for match in pattern.finditer(body):
            index = bisect_right(starts, match.start()) - 1
            offset = match.start() - starts[index]
            if offset < found.get(index, 1 << 30):
                found[index] = offset
    return found


def _search(patterns: list[Rule], text: str) -> re.Match[str] | _Found | None:
    found = [m for m in (p.search(text) for p in patterns) if m]
    return min(found, key=lambda m: m.start()) if found else None


@dataclass
class CleanRules:
    cut: list[Rule] = field(default_factory=list)
    drop_lines: list[Rule] = field(default_factory=list)
    drop_spans: list[Rule] = field(default_factory=list)
    credits: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    region: str | None
    lang: str | None
    detect: re.Pattern[str] | None
    rules: dict[str, list[str]]


class SourceRules:
    """Parsed ``config/sources.yaml``: the sources and their cleaning rules."""

    KEYS = ("cut_markers", "drop_lines", "drop_spans", "credits")

    def __init__(self, data: dict[str, Any] | None):
        data = data or {}
        self.defaults = {k: list((data.get("defaults") or {}).get(k) or []) for k in self.KEYS}
        self.sources: dict[str, Source] = {}
        for entry in data.get("sources") or []:
            ident = entry["id"]
            detect = entry.get("detect")
            self.sources[ident] = Source(
                id=ident,
                name=entry.get("name", ident),
                region=entry.get("region"),
                lang=entry.get("lang"),
                detect=re.compile("|".join(_both_scripts(detect))) if detect else None,
                rules={k: list(entry.get(k) or []) for k in self.KEYS},
            )
        for key, patterns in self.defaults.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(
                        f"sources.yaml defaults.{key}: bad pattern {pattern!r}: {exc}"
                    ) from exc

    def identify(self, source: str | None, body: str) -> Source | None:
        if source:
            return self.sources.get(source)
        head = body[:200]
        return next((s for s in self.sources.values() if s.detect and s.detect.search(head)), None)

    @lru_cache(maxsize=256)  # noqa: B019 - one SourceRules per process, few sources
    def rules(self, source_id: str | None, script: str | None = None) -> CleanRules:
        """Compiled rules for a source and a script ("hant", "hans" or None for both)."""
        extra = self.sources[source_id].rules if source_id in self.sources else {}
        merged = {k: self.defaults[k] + extra.get(k, []) for k in self.KEYS}
        return CleanRules(
            cut=_merge_literals([_anchored(r) for r in _compile(merged["cut_markers"], script)]),
            drop_lines=_merge_literals(
                [_anchored(r) for r in _compile(merged["drop_lines"], script)]
            ),
            drop_spans=[
                _anchored(r) for r in _merge_prefixed(_compile(merged["drop_spans"], script))
            ],
            credits=[_anchored(r) for r in _compile(merged["credits"], script)],
        )


def _is_headline_list(paragraph: str) -> bool:
    stripped = paragraph.strip()
    return (
        not any(mark in stripped for mark in "。！？.!?")
        or len(_HEADLINE_GAP.findall(stripped)) >= 2
    )


def _date_code(body: str) -> re.Match[str] | None:
    """CNA's 7-digit date code, which follows the credits' closing bracket or starts a line."""
    for match in _CODE.finditer(body):
        start = match.start()
        if start == 0 or body[start - 1] in _CODE_BEFORE:
            return match
    return None


_DATELINE_BLOCK = re.compile(
    r"^\s*[（(【\[][^（(）)】\]\n]{1,40}?(?:電|电|訊|讯|報導|报导|報道|报道|專電|专电)[）)】\]]"
)


def dateline_end(body: str) -> int:
    """Where a bracketed dateline such as （中央社倫敦14日綜合外電報導） ends (0 if none):
    the part of a wire story that each outlet writes differently."""
    match = _DATELINE_BLOCK.match(body)
    return match.end() if match else 0


def dateline(body: str) -> tuple[dict[str, str], list[str]]:
    """Date hint and reporter from a dateline such as （中央社記者王小明台北15日電）."""
    match = _DATELINE.match(body[:80])
    if not match:
        return {}, []
    year, month, day = match.group("year"), match.group("month"), match.group("day")
    if year and month:
        hint = f"{year}-{int(month):02d}-{int(day):02d}"
    elif month:
        hint = f"--{int(month):02d}-{int(day):02d}"
    else:
        hint = f"---{int(day):02d}"
    reporters = []
    head = match.group("head")
    reporter = _REPORTER.search(head)
    if reporter:
        after = head[reporter.end() :]
        for city in DATELINE_CITIES:
            if city in after[1:]:
                name = after[: after.index(city, 1)]
                if 2 <= len(name) <= 4:
                    reporters.append(name)
                break
    return {"text": hint}, reporters


FOOTER_MAX = 160  # characters of a paragraph that a line rule may remove


def _footer_shaped(matched: set[int], paragraphs: list[str]) -> set[int]:
    """The paragraphs a line rule matched that look like a footer, not news: short, and
    in the article's second half, never its first paragraph. A rule's words may occur in
    a sentence of news (a report on something used 未经授权); that sentence stays."""
    if not matched:
        return matched
    with_text = [i for i, p in enumerate(paragraphs) if p.strip()]
    rank = {index: n for n, index in enumerate(with_text)}
    half = len(with_text) / 2
    return {
        i
        for i in matched
        if len(paragraphs[i].strip()) <= FOOTER_MAX and rank.get(i, 0) > 0 and rank[i] >= half
    }


def clean(article: Article, *, rules: SourceRules) -> Article:
    """Article -> Article with boilerplate removed, credits in ``byline``, date hints
    from the dateline and the date code, and the source's region when known."""
    source = rules.identify(article.source, article.body)
    if source is not None:
        article.source = article.source or source.id
        article.source_name = article.source_name or source.name
        article.region = article.region or source.region
    traditional, simplified = article.script_counts = script_counts(article.body)
    script = (
        "hant" if traditional > 2 * simplified else "hans" if simplified > 2 * traditional else None
    )
    compiled = rules.rules(source.id if source else None, script)
    hints, reporters = dateline(article.body)
    for key, value in hints.items():
        article.date_hints.setdefault(key, value)
    byline = list(article.byline) + reporters
    body = article.body
    # Span rules run once over the whole body; line rules then look at paragraphs.
    if code := _date_code(body):
        year, month, day = int(code.group(1)) + 1911, code.group(2), code.group(3)
        article.date_hints.setdefault("code", f"{year}-{month}-{day}T12:00:00+08:00")
        body = body[: code.start()] + body[code.end() :]
    for pattern in compiled.credits:
        matches: list[re.Match[str] | _Found] = list(pattern.finditer(body))
        if not matches:
            continue
        for match in matches:
            byline += [
                v.strip() for k, v in match.groupdict().items() if v and k.startswith("name")
            ]
        body = _cut_out(body, matches)
    for pattern in compiled.drop_spans:
        body = pattern.sub("", body)
    paragraphs = body.split("\n")
    starts = list(accumulate((len(p) + 1 for p in paragraphs), initial=0))
    cuts = _first_per_paragraph(compiled.cut, body, starts)
    drops = _footer_shaped(set(_first_per_paragraph(compiled.drop_lines, body, starts)), paragraphs)
    kept: list[str] = []
    after_cut = False
    for index, paragraph in enumerate(paragraphs):
        if index in cuts:
            paragraph = paragraph[: cuts[index]]
            after_cut = True
            article.notes.append("cut related articles")
        elif after_cut and _is_headline_list(paragraph):
            continue
        if index in drops and (index not in cuts or _search(compiled.drop_lines, paragraph)):
            article.notes.append("dropped boilerplate line")
            continue
        if "  " in paragraph or "\t" in paragraph or "\u3000" in paragraph:
            paragraph = _SPACES.sub(" ", paragraph)
        paragraph = paragraph.strip()
        if paragraph:
            kept.append(paragraph)
    article.body = "\n".join(kept)
    article.byline = list(dict.fromkeys(name for name in byline if name))
    return article
