"""visible: the date and byline a page prints for its readers, outside its metadata.

Chinese news and forum pages seldom declare a date or an author in metadata; they print
them in a line beside the headline or at the foot of the story: ``2005-02-06 13:26更新``,
``发布时间：2022-02-13 04:22``, ``2006年12月27日``, ``来源：新快报 作者：宋怡 杨志华``,
``光明日报记者 王建宏 张文攀``, ``（记者 胡晓蓉）``, ``编辑：苏亮``.

A date is taken from such a line only when the page marks it as the publication date
(发布, 发表, 更新, 时间, 日期 before or after it) or gives it with a time of day, the way
pages print their own date: a bare date in running text is more often a date the story
talks about. A date a site prints on every page (今天是…) is not the story's. Bylines
come from 作者 and 记者 first; an editor's name (编辑, 责任编辑) only when no author is
printed. Names that are outlets or sites (…网, …报, …社, domains) are never bylines.
"""

from __future__ import annotations

import re

_DAY = (
    r"(?P<year>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<month>\d{1,2})\s*(?:[-/.]|月)\s*"
    r"(?P<day>\d{1,2})(?!\d)\s*[日号]?"
)
_TIME = r"(?:\s*(?P<hour>\d{1,2})\s*[:：时]\s*(?P<minute>\d{2})(?:\s*[:：]\s*\d{2})?)?"
_DATE = re.compile(_DAY + _TIME)
_MARK_BEFORE = re.compile(
    r"(?:发布|發佈|發布|发表|發表|更新|时间|時間|日期|发稿|發稿|出版|Posted|Published|Updated)"
    r"[^0-9\n]{0,6}$",
    re.IGNORECASE,
)
_MARK_AFTER = re.compile(
    r"^\s*(?:更新|发布|發佈|發布|发表|發表|阅读|閱讀|浏览|瀏覽|点击|點擊|来源|來源|作者)"
)
_SITE_WIDE = re.compile(r"(?:今天是|今日是|今天|今日|现在是|現在是)\s*$")


def visible_date(text: str, body_end: int | None = None) -> str | None:
    """The publication date a page prints (``2022-02-13T04:22`` or ``2022-02-13``), or
    None. The first date marked as the page's own wins; else the first with a time of
    day before ``body_end`` (where the story ends: later ones date comments)."""
    timed: str | None = None
    for match in _DATE.finditer(text):
        year, month, day = (int(match.group(k)) for k in ("year", "month", "day"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        before = text[max(0, match.start() - 12) : match.start()]
        if _SITE_WIDE.search(before):
            continue
        value = f"{year:04d}-{month:02d}-{day:02d}"
        if match.group("hour") is not None:
            hour, minute = int(match.group("hour")), int(match.group("minute"))
            if hour > 23 or minute > 59:
                continue
            value += f"T{hour:02d}:{minute:02d}"
        marked = _MARK_BEFORE.search(before) or _MARK_AFTER.match(text[match.end() :])
        if marked:
            return value
        early = body_end is None or match.start() < body_end
        if timed is None and match.group("hour") is not None and early:
            timed = value
    return timed


_NAME = r"[\u4e00-\u9fff·]{2,4}"
_NAMES = rf"(?P<names>{_NAME}(?:[ \u3000、,，和与]{{1,2}}{_NAME}){{0,3}})"
_AUTHOR = re.compile(rf"(?:作者|撰文|撰稿)\s*[:：]\s*{_NAMES}")
# A reporter's credit, not 记者 in a sentence (告诉记者：…, 本刊记者经历了…): in brackets
# (（记者 胡晓蓉）, （信报记者 蔡雪婧）), or set apart by a space and ending the line
# (光明日报记者 王建宏 张文攀), or signed 记者马俊峰/文.
_END = r"(?=\s*(?:[）)\]】/]|$))"
_REPORTERS = (
    re.compile(rf"[（(\[【][^）)\]】\n]{{0,12}}(?:记者|記者)\s*[:：]?\s*{_NAMES}\s*[）)\]】]"),
    re.compile(rf"(?:记者|記者)(?:\s*[:：]\s*|[ \u3000\xa0]+){_NAMES}{_END}", re.MULTILINE),
    re.compile(rf"(?:记者|記者){_NAMES}\s*/\s*文"),
)
_EDITOR = re.compile(rf"(?:责任编辑|責任編輯|编辑|編輯)\s*[:：]\s*{_NAMES}")
_OUTLET = re.compile(
    r"(?:网|網|报|報|社|台|刊|集团|集團|中心|公司|新闻|新聞|日报|日報|出版|网络|網絡|记者|記者|"
    r"编辑|編輯|来源|來源|文章|转载|轉載|网站|網站|客户端|客戶端)$|(?:www\.|\.com|\.cn|\bteam\b|\binc\b|\bltd\b|publishers?\b)",
    re.IGNORECASE,
)
# Words that follow a name in a credit line and are not part of it.
_TAIL = re.compile(r"(?:摄|攝|报道|報道|报导|報導|综合|綜合|整理|编译|編譯|供图|供圖)$")


def is_outlet(name: str) -> bool:
    """A site, publisher or newsroom named where a person should be (云南网,
    ``www.yunnan.cn``, ``Discuz! Team``, 汉斯出版社)."""
    return bool(_OUTLET.search(name.strip()))


# A name set apart in the date line, before the source: 2004年7月16日08:19 [ 黄宇 ] 来源：…
_DATELINE_CREDIT = re.compile(
    rf"{_DAY}{_TIME}\s*[\[【（(]?\s*{_NAMES}\s*[\]】）)]?[^\u4e00-\u9fff\n]{{0,4}}(?:来源|來源)"
)

# Each credit pattern, in order, with the words one of which any match holds.
_CREDITS = (
    (_AUTHOR, ("作者", "撰文", "撰稿")),
    *((pattern, ("记者", "記者")) for pattern in _REPORTERS),
    (_DATELINE_CREDIT, ("来源", "來源")),
)


def visible_byline(text: str, body: str = "") -> list[str]:
    """The authors a page prints (作者, 记者, or the names in brackets that end the story,
    as Chinese papers sign: （常书香 马丹阳）), else its editors; at most four names."""
    for pattern, words in _CREDITS:
        if names := _credited(pattern, words, text):
            return names
    for pattern in _SIGNED:
        if names := _names_of(pattern, body.rstrip()[-40:]):
            return names
    return _credited(_EDITOR, ("编辑", "編輯"), text)


def _credited(pattern: re.Pattern[str], words: tuple[str, ...], text: str) -> list[str]:
    """``_names_of``, only on a text that holds one of the words every match of
    ``pattern`` holds (finding a word is far cheaper than trying the pattern)."""
    return _names_of(pattern, text) if any(word in text for word in words) else []


# Names in brackets at the very end of the story, or a last line 来源：NAME that names
# a person, not an outlet.
_SIGNED = (
    re.compile(rf"[（(]\s*{_NAMES}\s*[）)]$"),
    re.compile(rf"(?:^|\n)(?:来源|來源)\s*[:：]\s*{_NAMES}$"),
)
_NOT_NAMES = frozenset(
    "完 图 圖 待续 待續 续完 全文完 本报讯 本報訊 更新 发布 發佈 發布 发表 發表 时间 時間 日期 "
    "阅读 閱讀 浏览 瀏覽 点击 點擊 来源 來源 转载 轉載 原创 原創".split()
)


def _names_of(pattern: re.Pattern[str], text: str) -> list[str]:
    for match in pattern.finditer(text):
        names = []
        for raw in re.split(r"[ \u3000、,，和与]+", match.group("names")):
            name = _TAIL.sub("", raw)
            if 2 <= len(name) <= 4 and name not in _NOT_NAMES and not is_outlet(name):
                names.append(name)
        if names:
            return list(dict.fromkeys(names))[:4]
    return []
