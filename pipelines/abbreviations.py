"""abbreviations: catalogued names written as one character inside a word.

Chinese news names countries, places and leaders by one character in set shapes:

- pairs and lists of countries: 中美, 俄乌, 美日韩, 港澳台 (a word of such characters,
  or the start of one: 中美关系);
- after a verb: 访美, 驻华, 对台, 对俄制裁, 赴京;
- before a noun: 美防长, 港媒, 台军, 中企, 日方, 俄总统;
- leaders' meetings and tickets: 习普会, 马习会, 拜习会晤, 赖萧配.

Each entity's characters and the shapes they take are in the catalogue
(``abbreviations`` in config/entities.yaml). The same character is a different word
more often than not (美元, 美好, 平台, 台风, 乌龙, 其中, 学习, 特别), so a shape
counts only on the segmenter's word edges, and known words that look like one
(中美洲, 美中不足, 朝中社, 台中) never do: precision before recall.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pipelines.entities import CatalogueError, Entity, Mention
from pipelines.normalize import NormText, fold, normalize

# How a character may be used (the catalogue's values): "compound" in every shape
# but leaders'; "pair" only beside another country's; "after_verb" only after a verb
# (华 and 京 begin too many words); "leader" in a meeting's or a ticket's name; and
# "beside X": in a pair with X only, where it wins over the character's other entity
# (澳 with 港 is Macau, elsewhere Australia).
USES = ("compound", "pair", "after_verb", "leader")
BESIDE = "beside "

# One-character verbs before a place: visit, be stationed in, resist, towards...
VERBS = frozenset("访驻抗反亲联援赴来抵返侵排仇媚友知遏对在涉辱制犯离进回旅留从向助挺")
# Nouns after a country's character (longest first when matched).
NOUNS = tuple(
    sorted(
        (
            "方 军 企 媒 籍 资 商 舰 机 警 胞 侨 独 府 防长 外长 总统 总理 首相 国务卿 大使 "
            "使馆 政府 当局 官员 官方 领导人 议员 议会 元首 外交 海军 空军 陆军 军方 舰队 "
            "战机 副总统 总书记 国防部 外交部 商务部 财长 驻华大使 专家 学者 智库 民调 代表 "
            "部长 经济 制裁 情报 文件 海警 立委 蓝委 绿委 政院 陆委会 选举 大选 股市"
        ).split(),
        key=len,
        reverse=True,
    )
)
_NOUNS_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _noun in NOUNS:
    _NOUNS_BY_FIRST[_noun[0]] = (*_NOUNS_BY_FIRST.get(_noun[0], ()), _noun)
# What follows a leaders' pair: a meeting (会, 会谈, 会晤) or a ticket (配).
MEETING = ("会", "配")
# Words that look like a shape and are something else.
TRAPS = (
    "中美洲",
    "美中不足",
    "中英文",
    "中英双语",
    "朝中社",
    "朝日",
    "台中",
    "美德",
    "欧美",
    "来日",
    "离港",
    "港中大",
    "日中天",
    "从中",
    "向日葵",
    "回中",
    "法警",
)


_TRAP_WORDS = re.compile("|".join(sorted(TRAPS, key=len, reverse=True)))


class AbbreviationError(CatalogueError):
    """An ``abbreviations`` entry of the catalogue is malformed."""


class Abbreviations:
    """The catalogue's one-character abbreviations and the shapes they are found in."""

    def __init__(self, table: Iterable[tuple[Entity, Mapping[str, str]]]):
        self._country: dict[str, Entity] = {}  # compound and pair characters
        self._compound: dict[str, Entity] = {}  # those also used after verbs and before nouns
        self._verb_only: dict[str, Entity] = {}
        self._leader: dict[str, Entity] = {}
        self._beside: dict[str, tuple[str, Entity]] = {}
        for entity, uses in table:
            for char, use in uses.items():
                self._add(entity, fold(normalize(str(char)).text), str(use))
        countries = "".join(self._country) + "".join(self._beside)
        # A run of two or more country characters, or one before a noun or after a verb
        # (the shapes below); most single characters are neither and never reach Python.
        chars, verbs, nouns = (
            re.escape(countries),
            re.escape("".join(sorted(VERBS))),
            re.escape("".join(sorted(_NOUNS_BY_FIRST))),
        )
        self._runs = (
            re.compile(f"[{chars}](?:[{chars}]+|(?=[{nouns}]))|(?<=[{verbs}])[{chars}]")
            if countries
            else None
        )
        verb_only = "".join(self._verb_only)
        self._after_verb = re.compile(f"[{re.escape(verb_only)}]") if verb_only else None
        self._leader_chars = frozenset(self._leader)
        self._meetings = re.compile("[会配]") if self._leader else None

    def _add(self, entity: Entity, char: str, use: str) -> None:
        if len(char) != 1 or not ("\u3400" <= char <= "\u9fff"):
            raise AbbreviationError(
                f"{entity.id}: abbreviation {char!r} is not one Chinese character"
            )
        if use.startswith(BESIDE):
            partner = use[len(BESIDE) :].strip()
            if len(partner) != 1:
                raise AbbreviationError(f"{entity.id}: {use!r} needs one character after 'beside'")
            self._beside[char] = (partner, entity)
            return
        if use not in USES:
            allowed = ", ".join([*USES, "beside X"])
            raise AbbreviationError(
                f"{entity.id}: abbreviation use {use!r} is not one of {allowed}"
            )
        kinds = {
            "compound": (self._country, self._compound),
            "pair": (self._country,),
            "after_verb": (self._verb_only,),
            "leader": (self._leader,),
        }[use]
        for kind in kinds:
            if char in kind and kind[char].id != entity.id:
                raise AbbreviationError(
                    f"abbreviation {char!r} belongs to both {kind[char].id!r} and {entity.id!r}"
                )
            kind[char] = entity

    def find(
        self,
        original: str,
        norm: NormText,
        edges: bytes,
        names: list[Mention],
        persons: frozenset[int] = frozenset(),
    ) -> list[Mention]:
        """Abbreviation mentions (one character each) outside the name mentions, in
        order; ``edges`` as for ``Catalogue.find``; ``persons``: where the segmenter
        found a personal name (韩德洙 is no pair of Korea and Germany)."""
        # The text with every name mention blanked out (same length): a shape never
        # takes a character of a name (中 of 中国, 对 of 对外经济贸易大学).
        parts: list[str] = []
        last = 0
        for mention in names:
            if mention.end > last:
                start = max(mention.start, last)
                parts += (norm.text[last:start], "\x00" * (mention.end - start))
                last = mention.end
        parts.append(norm.text[last:])
        text = "".join(parts)
        traps = [m.span() for m in _TRAP_WORDS.finditer(norm.text)]
        found: list[tuple[int, Entity]] = []
        if self._runs is not None:
            for run in self._runs.finditer(text):
                start, end = run.span()
                if start not in persons:
                    found += self._run(text, edges, start, end, traps)
        if self._after_verb is not None:
            for match in self._after_verb.finditer(text, 1):
                at = match.start()
                if text[at - 1] in VERBS:
                    found += self._single(text, edges, at, traps)
        if self._meetings is not None:
            leaders = self._leader_chars
            for match in self._meetings.finditer(text, 2):
                at = match.start() - 2
                if text[at] in leaders and text[at + 1] in leaders:
                    found += self._meeting(text, edges, at)
        found.sort(key=lambda item: item[0])
        span = norm.original_span
        out = []
        for at, entity in found:
            o_start, o_end = span(at, at + 1)
            out.append(Mention(entity, at, at + 1, original[o_start:o_end]))
        return out

    def _run(
        self, text: str, edges: bytes, start: int, end: int, traps: list[tuple[int, int]]
    ) -> list[tuple[int, Entity]]:
        """A run of country characters: a pair or list (中美, 港澳台) when it starts a
        word and ends on an edge or inside the word it starts (中美关系); else one
        character alone, after a verb or before a noun."""
        if not edges[start]:
            # inside a word (平台, 其中, 对美): its first character may still follow a
            # verb, or its last begin a word of its own
            if end - start == 1 or not edges[end - 1]:
                return self._single(text, edges, start, traps)
            return self._single(text, edges, end - 1, traps)
        if not edges[end]:
            # a word that begins inside the run and goes past it takes its characters
            # (美|中东): the run ends where that word begins
            cut = max(i for i in range(start, end) if edges[i])
            if cut > start:
                end = cut
        if end - start == 1:
            return self._single(text, edges, start, traps)
        if _trapped(traps, start, end):
            return []
        run = text[start:end]
        out = []
        for i, char in enumerate(run, start):
            beside = self._beside.get(char)
            if beside is not None and beside[0] in run:
                out.append((i, beside[1]))
            elif char in self._country:
                out.append((i, self._country[char]))
        return out

    def _single(
        self, text: str, edges: bytes, at: int, traps: list[tuple[int, int]]
    ) -> list[tuple[int, Entity]]:
        """One character after a verb that begins a word (访|美, 访美, 对|俄|制裁), or,
        for a compound character, at a word's start before a noun (美|国务卿, 港媒,
        美军基地)."""
        char = text[at]
        entity = self._compound.get(char) or self._verb_only.get(char)
        if entity is None:
            return []
        if at > 0 and text[at - 1] in VERBS and edges[at - 1] and edges[at + 1]:
            return [] if _trapped(traps, at - 1, at + 1) else [(at, entity)]
        if char not in self._compound or not edges[at]:
            return []
        for noun in _NOUNS_BY_FIRST.get(text[at + 1 : at + 2], ()):
            if text.startswith(noun, at + 1):
                after = at + 1 + len(noun)
                if any(edges[at + 2 : after]):
                    continue  # the noun is split: it is another word's beginning
                if edges[after] or not edges[at + 1]:
                    return [] if _trapped(traps, at, after) else [(at, entity)]
        return []

    def _meeting(self, text: str, edges: bytes, at: int) -> list[tuple[int, Entity]]:
        """习普会, 马习|会, 拜习|会晤, 柯侯|配会: two leaders' characters at a word's
        start, then 会 or 配."""
        first, second = self._leader[text[at]], self._leader[text[at + 1]]
        if first.id == second.id or not edges[at]:
            return []
        if text.startswith("配合", at + 2):  # 配合: to cooperate, not a ticket
            return []
        return [(at, first), (at + 1, second)]


def _trapped(traps: list[tuple[int, int]], start: int, end: int) -> bool:
    """Does one of the text's trap words (``traps``: their spans) overlap ``start:end``?"""
    return any(t_start < end and t_end > start for t_start, t_end in traps)
