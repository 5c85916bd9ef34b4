"""normalize: the simplified "search form" of a text, with offsets back to the original.

Native OpenCC converts traditional to simplified; full-width ASCII is folded to
half-width and Latin letters are lower-cased. Every step keeps one output character
per input character where it can; where OpenCC changes the length of a phrase, the
offsets of that stretch are mapped piecewise. ``NormText.original_span`` maps a match
in the search form back to the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import opencc

_FULLWIDTH = {
    code: code - 0xFEE0
    for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
}
_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_CHUNK = re.compile(r"[^。！？；\n]*[。！？；\n]?")


@lru_cache(maxsize=4)
def converter(config: str) -> opencc.OpenCC:
    """One OpenCC instance per configuration and process (they are costly to build)."""
    return opencc.OpenCC(config)


# Look-alikes, one character for one: mathematical letters (𝐏𝐮𝐭𝐢𝐧) as their plain
# letters, and Cyrillic or Greek letters inside a Latin word (Рutin with a Cyrillic Р)
# as the Latin letters they imitate. A word wholly in Cyrillic or Greek is left alone.
_MATH = {
    code: ord(plain)
    for code in range(0x1D400, 0x1D800)
    if len(plain := unicodedata.normalize("NFKC", chr(code))) == 1 and plain.isascii()
}
_MATH_LETTER = re.compile("[\U0001d400-\U0001d7ff]")
_HOMOGLYPHS = str.maketrans(
    "АВЕЗІЈКМНОРСТХЅУаеіјорсухѕԁԛԝһѵΑΒΕΖΗΙΚΜΝΟΡΤΥΧαικνορτυχ",
    "ABEZIJKMHOPCTXSYaeijopcyxsdqwhvABEZHIKMNOPTYXaiknoptux",
)
_CYRILLIC_GREEK = re.compile("[\u0370-\u03ff\u0400-\u052f]")
_LETTER_RUN = re.compile("[A-Za-z\u0370-\u03ff\u0400-\u052f]+")
_LATIN = re.compile("[A-Za-z]")


def _unspoof_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if _LATIN.search(word) and _CYRILLIC_GREEK.search(word):  # a mixed word: a look-alike
        return word.translate(_HOMOGLYPHS)
    return word


def unspoof(text: str) -> str:
    """Look-alike letters as the letters they imitate (see _HOMOGLYPHS), one for one.
    Linear: each run of letters is looked at once."""
    if _MATH_LETTER.search(text):
        text = text.translate(_MATH)
    if _CYRILLIC_GREEK.search(text):
        text = _LETTER_RUN.sub(_unspoof_word, text)
    return text


def fold(text: str) -> str:
    """Full-width letters and digits to half-width, look-alike letters to the letters
    they imitate, and lower case, one character for one. Full-width punctuation (，：（）)
    stays: no word or alias depends on it, and leaving it saves a pass over every text."""
    text = unspoof(text)
    if _FULLWIDTH_ALNUM.search(text):
        text = text.translate(_FULLWIDTH)
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


@dataclass(frozen=True)
class NormText:
    text: str
    # offsets[i] is the index in the original of search-form character i; None when the
    # two have the same length (the common case: the identity).
    offsets: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.offsets is None:  # the common case: the search form is as long as the text
            return start, end
        if start >= len(self.offsets):
            last = self.offsets[-1] + 1 if self.offsets else 0
            return last, last
        first = self.offsets[start]
        last = self.offsets[min(end, len(self.offsets)) - 1] + 1 if end > start else first
        return first, max(first, last)


def to_simplified(text: str) -> str:
    return converter("t2s").convert(text)


def normalize(text: str) -> NormText:
    """Original text -> search form (simplified, folded) with an offset map."""
    converted = to_simplified(text)
    if len(converted) == len(text):
        return NormText(fold(converted))
    offsets: list[int] = []
    pieces: list[str] = []
    position = 0
    for match in _CHUNK.finditer(text):
        chunk = match.group(0)
        if not chunk:
            continue
        out = to_simplified(chunk)
        pieces.append(out)
        if len(out) == len(chunk):
            offsets.extend(range(position, position + len(chunk)))
        else:
            offsets.extend(
                position + min(i * len(chunk) // max(len(out), 1), len(chunk) - 1)
                for i in range(len(out))
            )
        position += len(chunk)
    return NormText(fold("".join(pieces)), tuple(offsets))


@lru_cache(maxsize=1)
def _script_table() -> np.ndarray:
    """BMP code point -> 1 if the character exists only in traditional script, 2 if only
    in simplified, 3 if it is both (a traditional form of one character and the simplified
    form of another), else 0. Derived once from OpenCC's own tables: a character that t2s
    changes is traditional-only."""
    chars = "".join(chr(c) for c in range(0x4E00, 0xA000))
    simp, trad = to_simplified(chars), converter("s2t").convert(chars)
    table = np.zeros(0x10000, dtype=np.uint8)
    for code, (c, s, t) in enumerate(zip(chars, simp, trad, strict=True), 0x4E00):
        table[code] = (c != s) | (c != t) << 1
    return table


def script_counts(text: str) -> tuple[int, int]:
    """(traditional-only, simplified-only) character counts of a Chinese text (its first
    1,200 characters are enough to tell)."""
    # UTF-16 code units index the table; characters beyond the BMP become surrogates,
    # which count for neither script.
    units = np.frombuffer(text[:1200].encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    counts = np.bincount(_script_table()[units], minlength=4)
    return int(counts[1] + counts[3]), int(counts[2] + counts[3])
