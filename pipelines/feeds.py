"""Feed parsing: RSS 0.9x/1.0/2.0 and Atom (feedparser), and JSON Feed 1.1.

``parse_feed(content, headers)`` -> ``ParsedFeed``: the items (newest first, at most
``max_items``), the feed's own refresh hints (``<ttl>``, ``sy:updatePeriod`` and
``sy:updateFrequency``), and the parse error of a malformed ("bozo") feed, whose
readable items are kept. Item identity for mediamon is the canonical URL, not the GUID:
``ItemRef.fingerprint`` hashes what a reader sees (title, summary, content, dates), so a
changed story is noticed and a GUID change alone is not.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from pipelines.article import RejectArticle
from pipelines.dates import parse_date

# feedparser ignores DTDs' external entities and libexpat caps entity expansion; this
# keeps it from trying to fetch anything itself when given bytes.
feedparser.RESOLVE_RELATIVE_URIS = True
feedparser.SANITIZE_HTML = True

PERIOD_SECONDS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 604800,
    "monthly": 2592000,
    "yearly": 31536000,
}
_JSON_FEED = re.compile(rb'^\s*\{\s*"version"\s*:\s*"https://jsonfeed\.org/version/', re.IGNORECASE)


class NotAFeed(RejectArticle):
    """The body is no feed at all (an HTML page, a parking page, an error page)."""


@dataclass
class FeedItem:
    url: str | None
    guid: str | None
    title: str = ""
    summary: str = ""
    content_html: str = ""
    published: str | None = None
    updated: str | None = None
    authors: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        """What a reader sees of the item; a change here is an update."""
        visible = "\x1f".join(
            [self.title, self.summary, self.content_html, self.updated or "", self.published or ""]
        )
        return hashlib.blake2b(visible.encode(), digest_size=12).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "guid": self.guid,
            "title": self.title,
            "summary": self.summary,
            "content_html": self.content_html,
            "published": self.published,
            "updated": self.updated,
            "authors": self.authors,
        }


@dataclass
class ParsedFeed:
    title: str = ""
    kind: str = ""  # rss20, atom10, json11, …
    items: list[FeedItem] = field(default_factory=list)
    total_items: int = 0
    error: str | None = None  # set for a malformed feed whose items were kept
    refresh_seconds: int | None = None  # the feed's own hint (ttl, sy:updatePeriod)


def parse_feed(
    content: bytes, headers: dict[str, str] | None = None, *, max_items: int = 500
) -> ParsedFeed:
    """Bytes of a feed -> ParsedFeed. Raises NotAFeed when nothing feed-like is there."""
    content = content.removeprefix(codecs.BOM_UTF8)  # JSON may not start with one
    cut = 0
    if _JSON_FEED.match(content[:200]) or _looks_like_json(content, headers):
        feed = _parse_json_feed(content)
    else:
        content, cut = _cut_items(content, _read_at_most(max_items))
        feed = _parse_xml_feed(content, headers or {})
    feed.total_items = cut or len(feed.items)
    if cut:
        note = f"{cut} items; only the first {_read_at_most(max_items)} were read"
        feed.error = f"{note} ({feed.error})" if feed.error else note
    feed.items = _newest_first(feed.items)[:max_items]
    return feed


def _read_at_most(max_items: int) -> int:
    """Items parsed at most: generous, since a feed may list its oldest items first."""
    return max(max_items * 4, 2000)


def _cut_items(content: bytes, keep: int) -> tuple[bytes, int]:
    """A feed with far more items than a poll takes is cut after ``keep`` items before it
    is parsed (feeds list the newest first), so a 100,000-item feed costs what a normal
    one does. Returns the bytes and the item count when cut (else 0)."""
    for open_tag, close_tag, tail in (
        (b"<item", b"</item>", b"</channel></rss>"),
        (b"<entry", b"</entry>", b"</feed>"),
    ):
        count = content.count(open_tag)
        if count > keep:
            position = -1
            for _ in range(keep):
                position = content.find(close_tag, position + 1)
                if position == -1:
                    return content, 0
            return content[: position + len(close_tag)] + tail, count
    return content, 0


def _looks_like_json(content: bytes, headers: dict[str, str] | None) -> bool:
    kind = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    return "json" in kind.lower() and content.lstrip()[:1] == b"{"


def _iso(struct: Any) -> str | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC).isoformat()
    except (OverflowError, ValueError, TypeError):
        return None


# A character reference to no character (&#x110000;, &#xD800;, &#99999999;) stops
# feedparser's loose parser with a ValueError; it stands for U+FFFD instead.
_CHAR_REF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,16})|0*([0-9]{1,20}));")


def _char_ref(match: re.Match[bytes]) -> bytes:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return b"&#xFFFD;"
    return match.group(0)


def _parse_xml_feed(content: bytes, headers: dict[str, str]) -> ParsedFeed:
    response_headers = {k.lower(): v for k, v in headers.items()}
    if b"&#" in content:
        content = _CHAR_REF.sub(_char_ref, content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = feedparser.parse(content, response_headers=response_headers)
        except (ValueError, TypeError, RecursionError, LookupError) as exc:
            raise NotAFeed(
                "not_a_feed",
                f"the feed parser failed: {type(exc).__name__}: {exc}"[:300],
                stage="parse",
            ) from exc
    if not parsed.get("version") and not parsed.get("entries"):
        reason = str(parsed.get("bozo_exception") or "no RSS, Atom or JSON Feed structure")
        head = content[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            reason = "an HTML page, not a feed"
        raise NotAFeed("not_a_feed", reason, stage="parse")
    meta = parsed.feed
    items = []
    for entry in parsed.entries:
        content_html = ""
        if entry.get("content"):
            content_html = max((c.get("value", "") for c in entry.content), key=len)
        link = entry.get("link") or (
            entry.get("id") if str(entry.get("id", "")).startswith("http") else None
        )
        items.append(
            FeedItem(
                url=link,
                guid=entry.get("id"),
                title=_text(entry.get("title")),
                summary=entry.get("summary", "") or "",
                content_html=content_html,
                # dict.get: feedparser's own get() maps updated to published with a warning
                published=_iso(dict.get(entry, "published_parsed")) or dict.get(entry, "published"),
                updated=_iso(dict.get(entry, "updated_parsed")) or dict.get(entry, "updated"),
                authors=[a.get("name", "") for a in entry.get("authors", []) if a.get("name")],
            )
        )
    refresh = None
    if meta.get("ttl"):
        try:
            refresh = int(meta["ttl"]) * 60
        except (TypeError, ValueError):
            refresh = None
    period = str(meta.get("sy_updateperiod", "")).strip().lower()
    if period in PERIOD_SECONDS:
        try:
            frequency = max(1, int(meta.get("sy_updatefrequency", 1) or 1))
        except (TypeError, ValueError):
            frequency = 1
        refresh = max(refresh or 0, PERIOD_SECONDS[period] // frequency)
    error = None
    if parsed.bozo:
        error = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"[:500]
    return ParsedFeed(
        title=_text(meta.get("title")),
        kind=parsed.get("version") or "unknown",
        items=items,
        error=error,
        refresh_seconds=refresh,
    )


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _parse_json_feed(content: bytes) -> ParsedFeed:
    """A JSON Feed (1.0 or 1.1). Each field is taken only with the type the spec gives
    it; a field of another type is dropped and counted in ``error``."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise NotAFeed("not_a_feed", f"invalid JSON: {detail}", stage="parse") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise NotAFeed("not_a_feed", "JSON without a JSON Feed 'items' list", stage="parse")
    fields = _TypedFields()
    items = []
    skipped = 0
    for raw in data["items"]:
        if not isinstance(raw, dict):
            skipped += 1
            continue
        get = fields.reader(raw)
        url = get("url") or get("external_url")
        item_id = raw.get("id")
        items.append(
            FeedItem(
                url=url,
                guid=str(item_id) if isinstance(item_id, str | int) else None,
                title=_text(get("title")),
                summary=get("summary") or "",
                content_html=get("content_html") or get("content_text") or "",
                published=get("date_published"),
                updated=get("date_modified"),
                authors=fields.authors(raw),
            )
        )
    declared = data.get("version")
    version = declared if isinstance(declared, str) else ""
    kind = "json" + ("11" if version.endswith("1.1") else "10" if version.endswith("1") else "")
    errors = [f"{skipped} items were not objects"] if skipped else []
    if fields.wrong:
        errors.append(
            f"{fields.wrong} fields of the wrong type were dropped ({', '.join(sorted(fields.names))})"
        )
    return ParsedFeed(
        title=_text(data.get("title") if isinstance(data.get("title"), str) else ""),
        kind=kind,
        items=items,
        error="; ".join(errors) or None,
    )


class _TypedFields:
    """Reads an item's string fields, counting those of another type."""

    def __init__(self) -> None:
        self.wrong = 0
        self.names: set[str] = set()

    def reader(self, raw: dict[str, Any]) -> Any:
        def get(name: str) -> str | None:
            value = raw.get(name)
            if value is None or isinstance(value, str):
                return value
            self.wrong += 1
            self.names.add(name)
            return None

        return get

    def authors(self, raw: dict[str, Any]) -> list[str]:
        """``authors`` (1.1, a list of objects) or ``author`` (1.0, one object)."""
        authors = raw.get("authors")
        if authors is None and raw.get("author") is not None:
            authors = [raw["author"]]
        if authors is None:
            return []
        if not isinstance(authors, list):
            self.wrong += 1
            self.names.add("authors")
            return []
        names = [a.get("name") for a in authors if isinstance(a, dict)]
        return [n for n in names if isinstance(n, str) and n]


def _newest_first(items: list[FeedItem]) -> list[FeedItem]:
    def key(item: FeedItem) -> float:
        for value in (item.published, item.updated):
            if value:
                parsed = parse_date(value)
                if isinstance(parsed, datetime):
                    return parsed.timestamp()
        return 0.0

    if not any(item.published or item.updated for item in items):
        return items
    return sorted(items, key=key, reverse=True)
