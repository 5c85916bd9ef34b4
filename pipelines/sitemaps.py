"""Sitemap parsing: the sitemaps protocol's ``urlset`` and ``sitemapindex`` (with
Google News' ``news:publication_date`` and ``news:title``), plain-text sitemaps (a URL a
line), either of them gzipped, and the ``Sitemap:`` lines of a robots.txt.

``parse_sitemap(content)`` -> ``ParsedSitemap``: the pages (``urlset``, ``text``) or the
child sitemaps (``index``), each with the dates and title the sitemap gives, at most
``max_entries`` of them (the protocol's limit is 50,000), with ``error`` set when some
could not be read. It never fetches anything and holds no more than ``max_bytes`` of
inflated XML: a gzip bomb is cut at the cap, entities and DTDs are refused (defusedxml).

The project's own parser rather than ultimate-sitemap-parser (Media Cloud's): that
library is GPL-3.0-or-later, mediamon is Apache-2.0, and it fetches with its own client,
where every mediamon fetch goes through the SSRF guard, caps and per-host politeness.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from pipelines.article import RejectArticle

MAX_ENTRIES = 50_000
MAX_BYTES = 50 * 2**20  # the protocol's limit for an uncompressed sitemap
GZIP_MAGIC = b"\x1f\x8b"
BLOCK = 8 * 2**20


class NotASitemap(RejectArticle):
    """The body is no sitemap at all (an HTML page, an error page, binary data)."""


@dataclass
class SitemapEntry:
    url: str
    lastmod: str | None = None  # as written: W3C datetime or a day
    published: str | None = None  # news:publication_date
    title: str = ""  # news:title


@dataclass
class ParsedSitemap:
    kind: str  # "urlset", "index" or "text"
    entries: list[SitemapEntry] = field(default_factory=list)
    total: int = 0  # entries found, the ones past max_entries too
    error: str | None = None  # set when part of it could not be read


def parse_sitemap(
    content: bytes, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
) -> ParsedSitemap:
    """Bytes of a sitemap (gzipped or not) -> ParsedSitemap. Raises NotASitemap when
    nothing sitemap-like is there."""
    content, cut = _inflated(content, max_bytes)
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if start[:1] == b"<":
        parsed = _parse_xml(content, max_entries)
    else:
        parsed = _parse_text(content, max_entries)
    if cut:
        parsed.error = _joined(parsed.error, cut)
    if parsed.total > len(parsed.entries):
        parsed.error = _joined(
            parsed.error, f"{parsed.total} entries; only the first {max_entries} were read"
        )
    return parsed


def sitemaps_in_robots(text: str) -> list[str]:
    """The sitemaps a robots.txt lists (``Sitemap:`` lines, in any group), in order."""
    found = []
    for line in text.splitlines():
        name, _, value = line.partition(":")
        url = value.split("#")[0].strip()
        listed = name.strip().lower() == "sitemap"
        if listed and url.lower().startswith(("http://", "https://")) and url not in found:
            found.append(url)
    return found


def _joined(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def _inflated(content: bytes, max_bytes: int) -> tuple[bytes, str | None]:
    """The body with one gzip layer undone, never more than ``max_bytes``; the note of
    what was cut, if anything was."""
    if not content.startswith(GZIP_MAGIC):
        if len(content) > max_bytes:
            return content[:max_bytes], f"larger than {max_bytes} bytes: the rest was not read"
        return content, None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(content, max_bytes)
    except zlib.error as exc:
        raise NotASitemap("not_a_sitemap", f"cannot decompress: {exc}") from exc
    if inflater.unconsumed_tail:
        return out, f"inflates past {max_bytes} bytes: the rest was not read"
    return out, None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _namespace(tag: str) -> str:
    """``sitemap`` for the protocol's own elements (or none), ``news`` for Google
    News', else the namespace (images', videos': their <loc> is not the page's)."""
    if not tag.startswith("{"):
        return "sitemap"
    uri = tag[1 : tag.index("}")].lower()
    if "sitemap-news" in uri:
        return "news"
    if "sitemaps.org/schemas/sitemap" in uri or "google.com/schemas/sitemap/" in uri:
        return "sitemap"
    return uri


_FIELDS = {"sitemap": ("loc", "lastmod"), "news": ("publication_date", "title")}


def _parse_xml(content: bytes, max_entries: int) -> ParsedSitemap:
    parsed: ParsedSitemap | None = None
    entry: dict[str, str] = {}
    try:
        for event, element in iterparse(_Blocks(content), events=("start", "end"), forbid_dtd=True):
            name = _local(element.tag)
            if event == "start":
                if parsed is None:
                    if name == "urlset":
                        parsed = ParsedSitemap("urlset")
                    elif name == "sitemapindex":
                        parsed = ParsedSitemap("index")
                    else:
                        raise NotASitemap("not_a_sitemap", f"a <{name[:40]}> document")
                continue
            if name in ("url", "sitemap") and parsed is not None:
                parsed.total += 1
                if entry.get("loc") and len(parsed.entries) < max_entries:
                    parsed.entries.append(_entry(entry))
                entry = {}
                _clear(element)
            elif name in _FIELDS.get(_namespace(element.tag), ()):
                entry.setdefault(name, (element.text or "").strip())
    except (ParseError, DefusedXmlException) as exc:
        if parsed is None:
            raise NotASitemap("not_a_sitemap", f"not XML that can be read: {exc}") from exc
        parsed.error = f"{type(exc).__name__}: {exc}"[:300]
    if parsed is None:
        raise NotASitemap("not_a_sitemap", "an empty document")
    return parsed


class _Blocks(io.BytesIO):
    """The content handed to the parser in blocks of BLOCK bytes, whatever it asks for
    (16 KiB): expat scans a token that spans blocks again from its start at each new
    block, so a tag left open for 50 MiB cost minutes in 16 KiB blocks and costs well
    under a second in these."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(BLOCK)


def _clear(element: Element) -> None:
    element.clear()  # what was read of it is kept in the entry: the tree stays small


def _entry(values: dict[str, str]) -> SitemapEntry:
    return SitemapEntry(
        url=values["loc"],
        lastmod=values.get("lastmod") or None,
        published=values.get("publication_date") or None,
        title=values.get("title", ""),
    )


def _parse_text(content: bytes, max_entries: int) -> ParsedSitemap:
    """A text sitemap: one absolute URL a line, UTF-8; anything else is no sitemap."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotASitemap("not_a_sitemap", "neither XML nor UTF-8 text") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    urls = [line for line in lines if line.lower().startswith(("http://", "https://"))]
    if not urls or len(urls) < len(lines) / 2:
        raise NotASitemap("not_a_sitemap", "text that is not a list of URLs")
    parsed = ParsedSitemap("text", total=len(urls))
    parsed.entries = [SitemapEntry(url) for url in urls[:max_entries]]
    if len(urls) < len(lines):
        parsed.error = f"{len(lines) - len(urls)} lines are not URLs"
    return parsed
