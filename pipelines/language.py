"""language: zh-Hant, zh-Hans, en, or another code; and a region hint from the source."""

from __future__ import annotations

import re

import langcodes
import numpy as np

from pipelines.normalize import script_counts

# Character classes by BMP code point, counted in one pass with numpy.
_OTHER, _CJK, _KANA, _HANGUL, _CYRILLIC, _LATIN = range(6)
_CLASSES = np.zeros(0x10000, dtype=np.uint8)
for _first, _last, _class in (
    (0x3400, 0x4DBF, _CJK),
    (0x4E00, 0x9FFF, _CJK),
    (0xF900, 0xFAFF, _CJK),
    (0x3040, 0x30FF, _KANA),
    (0xAC00, 0xD7AF, _HANGUL),
    (0x0400, 0x04FF, _CYRILLIC),
    (ord("A"), ord("Z"), _LATIN),
    (ord("a"), ord("z"), _LATIN),
):
    _CLASSES[_first : _last + 1] = _class
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_EN_COMMON = frozenset(
    {
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "on",
        "with",
        "as",
        "by",
        "was",
        "said",
        "it",
        "at",
        "from",
        "he",
        "his",
        "has",
        "have",
        "are",
        "be",
        "an",
        "this",
        "not",
        "but",
        "were",
        "will",
        "its",
        "who",
        "they",
        "their",
        "had",
        "been",
    }
)
REGION_SCRIPT = {
    "TW": "zh-Hant",
    "HK": "zh-Hant",
    "MO": "zh-Hant",
    "CN": "zh-Hans",
    "SG": "zh-Hans",
}


def detect_language(
    text: str, hint: str | None = None, counts: tuple[int, int] | None = None
) -> str:
    """The language of ``text``: ``zh-Hant``/``zh-Hans`` by counting characters that exist
    only in one script (``counts``, if the caller has them), ``en`` by common words,
    ``ja``/``ko``/``ru`` by script, else the hint's primary subtag, else ``und``."""
    sample = text[:2500]
    # UTF-16 code units: characters beyond the BMP become surrogates, class "other".
    units = np.frombuffer(sample.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    _, cjk, kana, hangul, cyrillic, latin = map(int, np.bincount(_CLASSES[units], minlength=6))
    if kana >= 5 and kana > cjk * 0.1:
        return "ja"
    if cjk > len(sample) * 0.3 and not hangul:
        return _chinese(sample, hint, counts)
    if hangul > max(cjk, latin) * 0.5 and hangul > 20:
        return "ko"
    if cjk and cjk * 2 >= latin * 0.5 and cjk >= cyrillic:
        return _chinese(sample, hint, counts)
    if cyrillic > latin:
        return "uk" if hint and hint.lower().startswith("uk") else "ru"
    words = _LATIN_WORD.findall(sample)
    if words:
        common = sum(1 for w in words if w.lower() in _EN_COMMON)
        if common >= max(2, len(words) * 0.08):
            return "en"
        if len(words) < 12 and sample.isascii() and not hint:
            return "en"  # a short ASCII line (a headline) with no other evidence
    if hint:
        return hint.split("-")[0].split("_")[0].lower() or "und"
    return "und"


def language_tag(hint: str | None) -> str | None:
    """The hint if it is a well-formed BCP 47 language tag (``en``, ``zh-TW``, ``zh_Hant``
    as written by some feeds), else None: a feed's ``klingon`` or ``English`` is no tag."""
    if not hint or len(hint) > 35:
        return None
    tag = hint.strip().replace("_", "-")
    return tag if tag and langcodes.tag_is_valid(tag) else None


def _chinese(sample: str, hint: str | None, counts: tuple[int, int] | None) -> str:
    traditional, simplified = counts if counts is not None else script_counts(sample)
    if traditional > simplified:
        return "zh-Hant"
    if simplified > traditional:
        return "zh-Hans"
    return _script_from_hint(hint) or "zh-Hans"


def _script_from_hint(hint: str | None) -> str | None:
    if not hint:
        return None
    lowered = hint.lower().replace("_", "-")
    if "hant" in lowered or lowered in ("zh-tw", "zh-hk", "zh-mo"):
        return "zh-Hant"
    if "hans" in lowered or lowered in ("zh-cn", "zh-sg"):
        return "zh-Hans"
    return None
