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
from collections.abc import Callable
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
_CUT_NAME_TAGS = frozenset({"n", "f", "ng"})
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
        self._owners = {a.form: a.entity.id for a in self.aliases}
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
        return dict(self._owners)

    def owner(self, written: str) -> str | None:
        """The entity a name as written in an article (a mention's alias) belongs to."""
        return self._owners.get(fold(normalize(written).text))

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
        words = self._traps[entity_id]
        # most entities have none: no generator for them (this runs for every mention)
        return bool(words) and any(text.startswith(word, start) for word in words)

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

# Chinese surnames by frequency, from two published counts (characters only; facts, not
# text), which begin most Chinese personal names: jieba's dictionary also tags common
# words as names (明白, 文明, 卫星, 小雨), and those rarely begin with one.
# - the mainland: the 300 commonest of 1,806 surnames counted over 1.2 billion Han
#   Chinese in the National Citizen Identity Information Center's 2008 registry (Bao,
#   H.-W.-S., ChineseNames: Chinese Name Database 1930-2008, CRAN, 2021);
_MAINLAND_300 = (
    "王李张刘陈杨黄赵吴周徐孙朱马胡郭何高罗林郑梁谢宋唐韩许冯邓曹彭曾肖田董袁于潘蒋杜蔡余"
    "程魏叶吕丁苏任沈姚姜卢崔钟谭汪范陆金石廖贾夏付方韦邹白熊孟秦邱尹江薛闫侯段雷史龙陶顾"
    "贺黎郝毛邵龚万钱武严戴孔向覃常汤莫康文温牛代赖洪葛施邢安樊齐乔易庞倪伍鲁聂章岳颜殷翟"
    "申耿欧庄左焦兰关俞柳甘祝傅包尚毕舒宁曲梅童阮纪季苗单裴符谷凌成霍盛詹冉路骆辛靳柯涂蓝"
    "柴管翁祁鲍喻游蒙华蒲房滕屈饶解艾牟候时尤阳穆司吉车项缪芦农卓窦褚娄古景宫戚连费党冷卜"
    "晏米席柏卫宗岑佟边瞿麦桂沙臧全闵普姬和师苟邬卞应桑隋栾仇商刁简荣寇郎丛仲明查巫占甄巩"
    "虞丘佘苑迟麻池阎敖封鞠谈惠匡官荆郁胥冀乐南邝栗储原燕班楚鄢谌劳皮蔺奚闻粟满楼盘海伊位"
    "阚冼强仝索"
)
# - Taiwan: the 100 commonest in the Ministry of the Interior's 2018 national name
#   statistics (全國姓名統計分析), written as published.
_TAIWAN_100 = (
    "陳林黃張李王吳劉蔡楊許鄭謝郭洪邱曾廖賴徐周葉蘇莊江呂何羅高蕭潘朱簡鍾彭游詹胡施沈余趙"
    "盧梁顏柯孫魏翁戴范宋方鄧杜傅侯曹溫薛丁馬蔣唐卓藍馮姚石董紀歐程連古汪湯姜田康鄒白塗尤"
    "巫韓龔嚴袁鐘黎金阮陸倪夏童邵柳錢"
)
SURNAMES = frozenset(_MAINLAND_300) | frozenset(fold(normalize(_TAIWAN_100).text))
TOP_SURNAMES = frozenset(_MAINLAND_300[:100]) | frozenset(fold(normalize(_TAIWAN_100).text))
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
    norm: NormText,
    segmented: Segmented,
    mentions: list[Mention],
    common: Callable[[str], bool] | None = None,
    outlet: Callable[[str], bool] | None = None,
) -> list[tuple[int, int, str]]:
    """Spans (start, end, type) of names outside the catalogue: the segmenter's name tags
    not covered by a mention (adjacent person tokens joined; a place followed by an
    institution word such as 大学 or 政府 is an organisation, and so is a "person" that
    ends like one (彭博社, 卫健委) or is quoted as a source (据彭博报道); a personal name
    must look like one, ``_looks_like_person``). ``common(word)``: is the word too
    common in general text to be a
    personal name (顾问, 卫星, 文明, which jieba's dictionary tags as names)? It is
    asked only of a name with no title before it and no verb after it, since famous
    names are common words too (毛泽东). ``outlet(word)``: is the word a news agency's
    short name (彭博 for 彭博社)?"""
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
                if (
                    POS_TYPES.get(next_tag) != "person"
                    or next_word in PERSON_VERBS  # 肖千|说
                    or not (
                        (next_end - start <= 4 and (len(next_word) == 1 or end - start == 1))
                        or _TRANSLITERATION.issuperset(next_word + word)
                    )
                ):
                    break
                j, word, end = j + 1, next_word, next_end
            # A three-character name cut after its second character (陈致|中|表示,
            # 金立|群|说): the one-character noun or locality word is its last only when
            # a verb of speech or action follows it.
            if (
                end - start == 2
                and (following := piece(j + 1)) is not None
                and len(following[0]) == 1
                and following[1] in _CUT_NAME_TAGS
                and _person_cue(None, piece(j + 2))
            ):
                j, end = j + 1, following[3]
        elif (
            kind == "place"
            and (following := piece(j + 1)) is not None
            and following[0] in ORG_SUFFIXES
        ):
            kind, j, end = "org", j + 1, following[3]
        if end - start < 2:
            continue
        if kind == "person":
            name = norm.text[start:end]
            before = piece(i - 1) if i else None
            after = piece(j + 1)
            if (
                name[-1] in ORG_ENDINGS
                or _media_cue(before, after)
                or (outlet is not None and outlet(name))
            ):
                kind = "org"  # 彭博社, 卫健委; 据彭博|报道; 彭博 (彭博社)
            else:
                cue = _person_cue(before, after)
                if (
                    not _looks_like_person(name, cue)
                    or (not cue and common is not None and common(name))
                    or (_FOREIGN_NAME.issuperset(name) and not cue)
                ):
                    continue
        skip_to = j
        spans.append((*norm.original_span(start, end), kind))
    return spans


# Further characters of transliterated names (约翰, 约翰逊, 斯大林, 卡洛娃), too common in
# Chinese words to join split tokens on, enough to tell a foreign name's shape.
_FOREIGN_NAME = _TRANSLITERATION | frozenset("翰逊娃白大休华豪康琳吕娜宁纽努欧潘丽妮蕾莎")


def _looks_like_person(name: str, cue: bool = False) -> bool:
    """A Chinese name (a surname, then one or two characters, or two surnames and two
    characters: 叶刘淑仪) or a transliterated one (transliteration characters only, or
    a name with a middle dot). A surname outside the 100 commonest needs ``cue``, a
    title before the name or a verb after it: words that begin with a rarer one are
    mostly not names (官宣, 沙尘, 强降雨)."""
    if "·" in name or "•" in name or _FOREIGN_NAME.issuperset(name):
        return True
    if name[:2] in COMPOUND_SURNAMES:
        return 3 <= len(name) <= 4
    if len(name) == 4:
        return name[0] in SURNAMES and name[1] in SURNAMES  # 叶刘淑仪: two surnames
    return len(name) in (2, 3) and (name[0] in TOP_SURNAMES or (cue and name[0] in SURNAMES))


# What comes before a foreign name that is a person's (the end of the word before it)
# and after it (the start of the next word): a brand or a place (特斯拉, 阿迪达斯,
# 伯克希尔) is written with the same characters but takes neither.
PERSON_TITLES = (
    "总统", "总理", "首相", "部长", "主席", "局长", "外长", "防长", "大使", "发言人",
    "执行官", "总裁", "董事长", "议员", "教授", "先生", "女士", "国务卿", "秘书长", "特使",
    "代表", "创始人", "将军", "司令", "国王", "女王", "王储", "候选人", "总干事", "主任",
    "市长", "州长", "领导人", "学者", "专家", "分析师", "记者", "法官", "律师", "作家",
    "导演", "歌手", "球员", "选手", "富豪", "大亨", "官员", "夫人", "之子", "之女",
    "长", "大臣", "顾问", "助理", "成员", "委员", "党魁", "财长",
)  # fmt: skip
PERSON_VERBS = (
    "说", "表示", "称", "指出", "强调", "认为", "透露", "警告", "呼吁", "宣布", "承认",
    "否认", "回应", "批评", "坦言", "直言", "会见", "会晤", "抵达", "出席", "辞职", "当选",
    "接受", "访问", "访华", "发表", "提出", "告诉", "谈", "会面", "通话", "会谈", "：", ":",
)  # fmt: skip


# Last characters of organisations the segmenter tags as names (news agencies,
# commissions, offices).
ORG_ENDINGS = frozenset("社委办署厅营")


Piece = tuple[str, str, int, int]  # a token: word, name tag, start, end


def _media_cue(before: Piece | None, after: Piece | None) -> bool:
    """Is the name between these tokens a source quoted as media: 据 before it, 报道
    after it (据彭博报道)?"""
    return (before is not None and before[0] == "据") or (
        after is not None and after[0].startswith(("报道", "报导"))
    )


def _person_cue(before: Piece | None, after: Piece | None) -> bool:
    """Is the name between these tokens preceded by a title or followed by a verb of
    speech or action (国务卿|布林肯, 马斯克|说)?"""
    return bool(
        (before is not None and before[0].endswith(PERSON_TITLES))
        or (after is not None and after[0].startswith(PERSON_VERBS))
    )


def candidates(
    original: str,
    norm: NormText,
    segmented: Segmented,
    mentions: list[Mention],
    *,
    limit: int = 20,
    common: Callable[[str], bool] | None = None,
    outlet: Callable[[str], bool] | None = None,
) -> list[dict[str, Any]]:
    """Names outside the catalogue: Chinese by part-of-speech tags, English by runs of
    capitalised words."""
    counts: Counter[tuple[str, str]] = Counter(
        (original[start:end], kind)
        for start, end, kind in other_names(norm, segmented, mentions, common, outlet)
    )
    # A name the segmenter cut short somewhere (黎智|英案) is counted as the whole name
    # found more often elsewhere in the text (黎智英).
    persons = [name for name, kind in counts if kind == "person"]
    for short in [name for name in persons if len(name) == 2]:
        whole = next((n for n in persons if len(n) > 2 and n.startswith(short)), None)
        if whole is not None and counts[(whole, "person")] > counts[(short, "person")]:
            counts[(whole, "person")] += counts.pop((short, "person"))
    names = _english_names(original)
    aliases = [m.written.lower() for m in mentions if len(m.written) > 3] if names else []
    for name in names:
        lowered = name.lower()
        if not any(alias in lowered for alias in aliases):
            counts[(name, "name")] += 1
    ranked = sorted(counts.items(), key=_BY_COUNT, reverse=True)[:limit]
    return [{"name": name, "type": kind, "count": count} for (name, kind), count in ranked]
