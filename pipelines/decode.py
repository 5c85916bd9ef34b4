"""decode: bytes + HTTP headers -> text.

Order: byte-order mark, then the declared charsets (HTTP header, ``<meta>`` tag, XML
declaration) each tried strictly, then detection. GB2312 and GBK are read as GB18030
and Big5 as Big5-HKSCS (their supersets), because pages that declare the narrow set
routinely use characters from the wider one.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from pipelines.article import RejectArticle

SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
}
# Charsets that decode any byte string: a declaration of them proves nothing.
PERMISSIVE = frozenset({"cp1252", "latin-1", "iso8859-1", "iso-8859-1"})
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""\A\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)["']""")
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str
    how: str  # "bom", "header", "meta", "xml", "detected", "replaced"
    # The content itself when it is ``text`` in UTF-8, byte for byte (strictly decoded,
    # no byte-order mark): the HTML parser reads it without encoding the text again.
    utf8: bytes | None = None


# Codecs Python has that no web page may pick: they turn plain ASCII into markup or
# other characters (UTF-7's +ADw- is "<"; unicode_escape reads \u escapes), or are
# no text encoding at all. A declaration of one is ignored, as browsers ignore it.
REFUSED_CODECS = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"}
)


def _codec(name: str) -> str | None:
    name = name.strip().lower()
    name = SUPERSETS.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if info.name in REFUSED_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def declared_charsets(content: bytes, headers: dict[str, str]) -> list[tuple[str, str]]:
    """The charsets the response declares, as (how, codec), most authoritative first."""
    found: list[tuple[str, str]] = []
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    match = _HEADER_CHARSET.search(content_type)
    if match and (codec := _codec(match.group(1))):
        found.append(("header", codec))
    head = content[:4096]
    for how, pattern in (("xml", _XML_DECL), ("meta", _META)):
        found_bytes = pattern.search(head)
        if found_bytes and (codec := _codec(found_bytes.group(1).decode("ascii", "replace"))):
            found.append((how, codec))
    return found


def decode(content: bytes, headers: dict[str, str] | None = None) -> Decoded:
    """Bytes -> text. Raises RejectArticle("undecodable") only for binary content."""
    headers = headers or {}
    for bom, codec in BOMS:
        if content.startswith(bom):
            # The UTF-16/32 codecs drop the mark themselves; UTF-8 keeps it as U+FEFF.
            text = content.decode(codec, errors="replace").removeprefix("\ufeff")
            return Decoded(text, codec, "bom")
    declared = declared_charsets(content, headers)
    # A permissive declaration (latin-1) goes last: it would hide a GBK meta tag.
    declared.sort(key=lambda item: item[1] in PERMISSIVE)
    for how, codec in declared:
        if codec in PERMISSIVE and _looks_multibyte(content):
            continue
        try:
            text = content.decode(codec)
        except UnicodeDecodeError:
            continue
        return Decoded(text, codec, how, content if codec == "utf-8" else None)
    try:
        return Decoded(content.decode("utf-8"), "utf-8", "detected", content)
    except UnicodeDecodeError:
        pass
    if b"\x00" in content[:2048] and content[:2048].count(b"\x00") > 64:
        raise RejectArticle("undecodable", "binary content (NUL bytes)", stage="decode")
    if chinese := _chinese_codec(content[:200_000]):
        return Decoded(content.decode(chinese, errors="replace"), chinese, "detected")
    from charset_normalizer import from_bytes

    best = from_bytes(content[:200_000]).best()
    if best is not None:
        codec = _codec(best.encoding) or "utf-8"
        return Decoded(content.decode(codec, errors="replace"), codec, "detected")
    codec = declared[0][1] if declared else "utf-8"
    return Decoded(content.decode(codec, errors="replace"), codec, "replaced")


# The commonest Chinese characters, in both scripts: text read with the right codec is
# full of them; the same bytes read with the wrong one almost never.
_COMMON_HAN = frozenset(
    "的一是在不了有和人这這中大为為上个個国國我以要他时時来來用们們生到作地于於出就分对對成会會可"
    "主发發年动動同工也能下过過子说說产產种種面而方后後多定行学學法所民得经經十三之进進着著等部度家"
    "电電力里裡如水化高自二理起小物现現实實加量都两兩体體制机機当當使点點从從业業本去把性好应應开開"
)


def _chinese_codec(sample: bytes) -> str | None:
    """GB18030 or Big5-HKSCS when the bytes read as one of them (a character cut in two
    here and there is forgiven: 1 in 100) and give common Chinese characters (an
    undeclared GB2312 page is not Cyrillic)."""
    best, best_share = None, 0.0
    for codec in ("gb18030", "big5hkscs"):
        text = sample.decode(codec, errors="replace")
        wide = [c for c in text if ord(c) >= 0x80]
        if len(wide) < 20:
            return None
        if wide.count("\ufffd") > len(wide) / 100:
            continue
        share = sum(1 for c in wide if c in _COMMON_HAN) / len(wide)
        if share > best_share:
            best, best_share = codec, share
    return best if best_share >= 0.15 else None


def _looks_multibyte(content: bytes) -> bool:
    """Many bytes >= 0x80: a latin-1 label is probably wrong (CJK pages say it by default)."""
    sample = content[:20_000]
    high = sum(1 for b in sample if b >= 0x80)
    return high > len(sample) * 0.1
