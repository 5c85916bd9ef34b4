"""entities: the catalogue's people, organisations and places, found under any alias.

Aliases and article are compared in the search form (simplified, lower-cased), so one
alias covers both scripts. Aho-Corasick finds the leftmost-longest alias at each
position; guards then drop false hits: a Chinese alias must start on a word boundary of
the segmentation and end on one, or begin a compound word that names something of its
own (中国外交部, 俄罗斯国家杜马, 北京市: at most ``COMPOUND_TAIL`` characters after
the alias) unless the entity lists that word among its ``traps`` (中国银行, 北京时间);
a Latin alias must be a whole word; short or all-capitals Latin aliases must match the
original's capitalisation exactly. An alias inside a word (白俄罗斯, 南中国海) is never a
mention.

Names outside the catalogue are kept apart as candidates (``entities_other``): the
segmenter's part-of-speech tags for person, place and organisation names in Chinese,
and runs of capitalised words in English.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

import ahocorasick_rs

from pipelines.normalize import NormText, fold, normalize
from pipelines.segment import Segmented

TYPES = ("person", "org", "place")
COMPOUND_TAIL = 5  # characters a compound word may have after the alias that begins it
LANG_KEYS = ("en", "zh-Hans", "zh-Hant")
_LATIN = re.compile(r"^[\w .'’\-]+$", re.ASCII)
_ALNUM = re.compile(r"[0-9a-z\u00c0-\u024f\u0400-\u04ff]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
POS_TYPES = {"nr": "person", "nrt": "person", "nrfg": "person", "ns": "place", "nt": "org"}
_NAME_TAGS = frozenset(POS_TYPES)
_BY_COUNT = itemgetter(1)
_new_tuple = tuple.__new__
_CAP_WORD = re.compile(r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*(?![A-Za-z])")
_EN_NOT_NAMES = frozenset(
    {
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "But",
        "And",
        "He",
        "She",
        "It",
        "They",
        "We",
        "This",
        "That",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "President",
        "Prime",
        "Minister",
        "Mr",
        "Mrs",
        "Ms",
    }
)


@dataclass(frozen=True)
class Entity:
    id: str
    type: str
    names: dict[str, str]
    wikidata: str | None = None

    def display(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.id


@dataclass(frozen=True)
class Alias:
    entity: Entity
    text: str  # as written in the catalogue
    form: str  # search form
    latin: bool
    case_sensitive: bool
    cjk: bool = False


class Mention(NamedTuple):
    entity: Entity
    start: int  # offsets in the search form
    end: int
    written: str  # as written in the original


@dataclass
class EntityResult:
    mentions: list[Mention] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)


class CatalogueError(ValueError):
    """The entity catalogue is malformed; the message names the entry."""


class Catalogue:
    """Parsed ``config/entities.yaml`` and its alias automaton."""

    def __init__(self, entries: list[dict[str, Any]]):
        if not isinstance(entries, list):
            raise CatalogueError("the catalogue must be a list of entities")
        self.entities: dict[str, Entity] = {}
        aliases: dict[str, Alias] = {}
        self._traps: dict[str, frozenset[str]] = {}
        # entity id -> {character: use}: one-character abbreviations (pipelines/abbreviations.py)
        self.abbreviations: dict[str, dict[str, str]] = {}
        for n, entry in enumerate(entries, 1):
            entity = _entity(entry, n)
            if entity.id in self.entities:
                raise CatalogueError(f"entry {n}: duplicate id {entity.id!r}")
            self.entities[entity.id] = entity
            short = entry.get("abbreviations")
            if short:
                if not isinstance(short, dict):
                    raise CatalogueError(f"{entity.id}: abbreviations must map characters to uses")
                self.abbreviations[entity.id] = {str(k): str(v) for k, v in short.items()}
            self._traps[entity.id] = frozenset(
                fold(normalize(str(word)).text) for word in entry.get("traps") or ()
            )
            forced = set(entry.get("case_sensitive") or ())
            for text in [*entity.names.values(), *(entry.get("aliases") or [])]:
                text = str(text).strip()
                form = fold(normalize(text).text)
                if not form or (form in aliases and aliases[form].entity.id == entity.id):
                    continue
                if form in aliases:
                    other = aliases[form].entity.id
                    raise CatalogueError(
                        f"alias {text!r} belongs to both {other!r} and {entity.id!r}"
                    )
                latin = bool(_LATIN.match(text)) and not _CJK.search(text)
                strict = latin and (text.isupper() or len(text) <= 3)
                aliases[form] = Alias(
                    entity, text, form, latin, strict or text in forced, bool(_CJK.search(form))
                )
        self.aliases = list(aliases.values())
        # What ``find`` checks per match, by alias index: 1 Latin (word edges), 2 Chinese
        # (token edges), 0 neither; and the exact text a case-sensitive alias needs.
        self._guards = [1 if a.latin else 2 if a.cjk else 0 for a in self.aliases]
        self._exact = [a.text if a.case_sensitive else None for a in self.aliases]
        self._entities = [a.entity for a in self.aliases]
        self._automaton = ahocorasick_rs.AhoCorasick(
            [a.form for a in self.aliases], matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
        )
        # An organisation's or place's Chinese alias that begins with a place's
        # (中国外交部, 俄罗斯国家杜马) names that place too: (alias index -> the place's
        # alias index), found once here because the automaton keeps only the longest.
        places = {
            a.form: i for i, a in enumerate(self.aliases) if a.cjk and a.entity.type == "place"
        }
        self._prefix: dict[int, int] = {}
        for i, alias in enumerate(self.aliases):
            if not alias.cjk or alias.entity.type == "person":
                continue
            for cut in range(len(alias.form) - 1, 1, -1):
                inner = places.get(alias.form[:cut])
                if inner is not None and self.aliases[inner].entity.id != alias.entity.id:
                    self._prefix[i] = inner
                    break

    def alias_map(self) -> dict[str, str]:
        """Search-form alias -> entity id (every spelling of every entity)."""
        return {a.form: a.entity.id for a in self.aliases}

    def user_words(self) -> list[str]:
        """Chinese aliases in search form: the segmenter's user dictionary."""
        return sorted({a.form for a in self.aliases if _CJK.search(a.form) and len(a.form) > 1})

    def find(self, original: str, norm: NormText, edges: bytes) -> list[Mention]:
        """Every guarded alias match, in order; ``edges`` has a true byte at each offset
        where a token starts or ends (``Segmented.edges()``)."""
        text = norm.text
        size = len(text)
        span = (lambda a, b: (a, b)) if norm.offsets is None else norm.original_span
        guards, exact, entities = self._guards, self._exact, self._entities
        mentions: list[Mention] = []
        prefix, trapped = self._prefix, self._trapped
        for index, start, end in self._automaton.find_matches_as_indexes(text):
            guard = guards[index]
            if guard == 2:
                if not edges[start] or (
                    not edges[end] and not self._begins_compound(start, end, edges)
                ):
                    continue
                inner = prefix.get(index)
                if inner is not None:  # the place its name begins with (中国 in 中国外交部)
                    cut = start + len(self.aliases[inner].form)
                    if not trapped(entities[inner].id, text, start):
                        o_start, o_end = span(start, cut)
                        mentions.append(
                            _new_tuple(
                                Mention, (entities[inner], start, cut, original[o_start:o_end])
                            )
                        )
                if trapped(entities[index].id, text, start):
                    continue
            elif guard == 1 and (
                (start and _ALNUM.match(text[start - 1]))
                or (end < size and _ALNUM.match(text[end]))
            ):
                continue
            o_start, o_end = span(start, end)
            written = original[o_start:o_end]
            if exact[index] is not None and written != exact[index]:
                continue
            # tuple.__new__ skips NamedTuple's Python-level constructor (~100 per article)
            mentions.append(_new_tuple(Mention, (entities[index], start, end, written)))
        return mentions

    def _trapped(self, entity_id: str, text: str, start: int) -> bool:
        """Does one of the entity's trap words (中国银行 for China) start at ``start``?"""
        return any(text.startswith(word, start) for word in self._traps[entity_id])

    @staticmethod
    def _begins_compound(start: int, end: int, edges: bytes) -> bool:
        """Does the alias at ``start:end`` begin a word (中国外交部) that goes on for at
        most COMPOUND_TAIL characters, not cross into the next one (俄|军事)?"""
        if end - start < 2 or any(edges[start + 1 : end]):
            return False
        return any(edges[end + 1 : min(len(edges) - 1, end + COMPOUND_TAIL) + 1])


def _entity(entry: Any, n: int) -> Entity:
    if not isinstance(entry, dict):
        raise CatalogueError(f"entry {n}: expected a mapping")
    ident = entry.get("id")
    if not isinstance(ident, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", ident):
        raise CatalogueError(f"entry {n}: id must be snake_case, got {ident!r}")
    if entry.get("type") not in TYPES:
        raise CatalogueError(f"{ident}: type must be one of {', '.join(TYPES)}")
    names = entry.get("names") or {}
    if not isinstance(names, dict) or not names.get("en"):
        raise CatalogueError(f"{ident}: names needs at least an 'en' name")
    unknown = set(names) - set(LANG_KEYS)
    if unknown:
        raise CatalogueError(f"{ident}: unknown name keys {sorted(unknown)}")
    return Entity(
        ident, entry["type"], {k: str(v) for k, v in names.items()}, entry.get("wikidata")
    )


def _english_names(text: str) -> list[str]:
    """Runs of two or more capitalised words (Velina Tchakarova), leading function words
    and titles dropped."""
    names: list[str] = []
    run: list[str] = []
    last_end = -2
    for match in _CAP_WORD.finditer(text):
        word = match.group(0)
        if match.start() != last_end + 1 or text[last_end : match.start()] != " ":
            if len(run) >= 2:
                names.append(" ".join(run))
            run = []
        if run or word not in _EN_NOT_NAMES:
            run.append(word)
        last_end = match.end()
    if len(run) >= 2:
        names.append(" ".join(run))
    return names


def group(mentions: list[Mention]) -> dict[str, list[Mention]]:
    """Mentions by entity id, in order of first appearance."""
    by_id: dict[str, list[Mention]] = {}
    for mention in mentions:
        by_id.setdefault(mention.entity.id, []).append(mention)
    return by_id


def summarize(
    mentions: list[Mention] | dict[str, list[Mention]],
    norm: NormText,
    lang: str,
    abbreviated: dict[str, list[Mention]] | None = None,
) -> list[dict[str, Any]]:
    """Per entity: id, type, display name, mention count (names and abbreviations),
    first offset, aliases seen, the forms it was named in (``name``, ``abbrev``) and
    how many of its mentions were abbreviations."""
    by_id = mentions if isinstance(mentions, dict) else group(mentions)
    abbreviated = abbreviated or {}
    together = by_id
    if abbreviated:
        together = dict(by_id)
        for key, short in abbreviated.items():
            together[key] = together.get(key, []) + short
    out = []
    # Most mentioned first; the groups come in order of first mention, which a stable sort
    # keeps among equals.
    for key, found in sorted(together.items(), key=_COUNT_OF, reverse=True):
        named = by_id.get(key) or []
        short = abbreviated.get(key) or []
        entity = found[0].entity
        first = named[0] if named and (not short or named[0].start < short[0].start) else short[0]
        out.append(
            {
                "id": entity.id,
                "type": entity.type,
                "name": entity.display(lang),
                "count": len(found),
                "first_offset": norm.original_span(first.start, first.end)[0],
                "aliases": sorted({m.written for m in named}),
                "forms": ["abbrev", "name"]
                if short and named
                else ["abbrev"]
                if short
                else ["name"],
                "abbrev_count": len(short),
            }
        )
    return out


def _COUNT_OF(item: tuple[str, list[Mention]]) -> int:
    return len(item[1])


# Characters that Chinese transliterations of foreign names are made of (in the search
# form, simplified); a Chinese given name rarely uses only these.
_TRANSLITERATION = frozenset(
    "阿埃艾安奥巴拜班邦贝本比彼宾波伯博布查达戴丹德登迪蒂丁东杜顿多厄恩尔法菲费芬夫福弗盖冈"
    "戈格贡古哈海汉赫亨胡霍基吉加贾杰捷金卡凯坎科克肯库拉莱兰朗劳勒雷里利莉林隆卢鲁伦罗洛马"
    "迈曼梅蒙米莫默姆穆纳奈南内尼涅诺帕佩彭皮普齐奇乔丘萨塞桑瑟森沙舍什施斯索苏塔泰坦特滕提"
    "图托瓦万威韦维沃乌西希谢辛雅亚扬耶伊因约泽扎詹茨策勃尤捷琼舒奎赛"
)

# The commonest Chinese surnames (search form), which begin most Chinese personal names:
# jieba's dictionary also tags common words as names (明白, 文明, 卫星, 小雨), and those
# rarely begin with one.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳"
    "翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路"
    "游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党"
    "宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "佘池查麻苑迟邝阎萧"
)
COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "司徒"})
ORG_SUFFIXES = frozenset(
    {
        "大学",
        "学院",
        "政府",
        "委员会",
        "常委会",
        "部",
        "局",
        "署",
        "党",
        "银行",
        "集团",
        "公司",
        "协会",
        "组织",
        "中心",
        "研究所",
        "研究院",
        "医院",
        "法院",
        "电视台",
        "通讯社",
        "议会",
        "国会",
        "外交部",
        "国防部",
        "军",
        "舰队",
        "联盟",
        "基金会",
        "交易所",
        "航空",
    }
)


def name_spans(
    original: str, norm: NormText, segmented: Segmented, mentions: list[Mention]
) -> list[tuple[int, int, str]]:
    """Spans (start, end, type) of the original text that name a person, place or
    organisation: the catalogue's mentions, then ``other_names``."""
    spans = [(*norm.original_span(m.start, m.end), m.entity.type) for m in mentions]
    return sorted(spans + other_names(norm, segmented, mentions))


def other_names(
    norm: NormText, segmented: Segmented, mentions: list[Mention]
) -> list[tuple[int, int, str]]:
    """Spans (start, end, type) of names outside the catalogue: the segmenter's name tags
    not covered by a mention (adjacent person tokens joined; a place followed by an
    institution word such as 大学 or 政府 is an organisation)."""
    spans: list[tuple[int, int, str]] = []
    # Mentions come in order and do not overlap; most name tokens a mention covers
    # start where it starts (the user dictionary keeps aliases whole).
    mention_starts = [m.start for m in mentions]
    mention_ends = [m.end for m in mentions]
    exact = set(mention_starts)
    piece = segmented.piece
    skip_to = -1
    for i, word, tag, start, end in segmented.names():
        if i <= skip_to or start in exact:
            continue
        if (len(word) < 2 and tag != "nr") or not _CJK.search(word):
            continue
        inside = bisect_right(mention_starts, start) - 1
        if inside >= 0 and start < mention_ends[inside]:
            continue
        kind, j = POS_TYPES[tag], i
        if kind == "person":
            # A name split by the segmenter is joined back: a Chinese name (王|小明: a
            # one-character piece, four characters at most) or a transliterated one
            # (斯特罗|耶夫: every character a transliteration character). Two whole names
            # side by side (徐妍徐妍, a list of names) stay apart.
            while (following := piece(j + 1)) is not None:
                next_word, next_tag, _, next_end = following
                if POS_TYPES.get(next_tag) != "person" or not (
                    (next_end - start <= 4 and (len(next_word) == 1 or end - start == 1))
                    or _TRANSLITERATION.issuperset(next_word + word)
                ):
                    break
                j, word, end = j + 1, next_word, next_end
        elif (
            kind == "place"
            and (following := piece(j + 1)) is not None
            and following[0] in ORG_SUFFIXES
        ):
            kind, j, end = "org", j + 1, following[3]
        if end - start < 2:
            continue
        if kind == "person" and not _looks_like_person(norm.text[start:end]):
            continue
        skip_to = j
        spans.append((*norm.original_span(start, end), kind))
    return spans


# Further characters of transliterated names (约翰, 约翰逊, 斯大林, 卡洛娃), too common in
# Chinese words to join split tokens on, enough to tell a foreign name's shape.
_FOREIGN_NAME = _TRANSLITERATION | frozenset("翰逊娃白大休华豪康琳吕娜宁纽努欧潘丽妮蕾莎")


def _looks_like_person(name: str) -> bool:
    """A Chinese name (a common surname, then one to three characters) or a
    transliterated one (transliteration characters only, or a name with a middle dot)."""
    if "·" in name or "•" in name or _FOREIGN_NAME.issuperset(name):
        return True
    return 2 <= len(name) <= 4 and (name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES)


def candidates(
    original: str,
    norm: NormText,
    segmented: Segmented,
    mentions: list[Mention],
    *,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Names outside the catalogue: Chinese by part-of-speech tags, English by runs of
    capitalised words."""
    counts: Counter[tuple[str, str]] = Counter(
        (original[start:end], kind) for start, end, kind in other_names(norm, segmented, mentions)
    )
    names = _english_names(original)
    aliases = [m.written.lower() for m in mentions if len(m.written) > 3] if names else []
    for name in names:
        lowered = name.lower()
        if not any(alias in lowered for alias in aliases):
            counts[(name, "name")] += 1
    ranked = sorted(counts.items(), key=_BY_COUNT, reverse=True)[:limit]
    return [{"name": name, "type": kind, "count": count} for (name, kind), count in ranked]
