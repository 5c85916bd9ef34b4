"""OPML import and export of the feed registry (the format feed readers exchange)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from workers.config import ConfigError
from workers.feeds.store import FeedConfig

_SLUG = re.compile(r"[^a-z0-9]+")


def export_opml(feeds: list[FeedConfig], title: str = "mediamon feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = datetime.now(UTC).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    body = ET.SubElement(root, "body")
    for feed in sorted(feeds, key=lambda f: f.id):
        attrs = {
            "type": "rss",
            "text": feed.name or feed.id,
            "title": feed.name or feed.id,
            "xmlUrl": feed.url,
        }
        if feed.documented_at:
            attrs["htmlUrl"] = feed.documented_at
        if feed.lang:
            attrs["language"] = feed.lang
        attrs["mediamonId"] = feed.id
        for key in ("source", "region"):
            value = getattr(feed, key)
            if value:
                attrs[f"mediamon{key.capitalize()}"] = value
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def import_opml(data: bytes, *, existing: set[str] | None = None) -> list[FeedConfig]:
    """Feeds from an OPML document (nested outlines included). DTDs and entities are
    refused; an outline without xmlUrl is a folder, not a feed."""
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ConfigError(f"not a readable OPML file: {exc}") from exc
    if root.tag.lower() != "opml":
        raise ConfigError(f"not an OPML file: the root element is <{root.tag}>")
    taken = set(existing or ())
    feeds = []
    for n, outline in enumerate(root.iter("outline"), 1):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if not url:
            continue
        name = outline.get("title") or outline.get("text") or None
        ident = outline.get("mediamonId") or _unique(
            _SLUG.sub("-", (name or url).lower()).strip("-")[:48] or f"feed-{n}", taken
        )
        taken.add(ident)
        try:
            feeds.append(
                FeedConfig(
                    id=ident,
                    url=url,
                    name=name,
                    lang=outline.get("language"),
                    documented_at=outline.get("htmlUrl"),
                    source=outline.get("mediamonSource"),
                    region=outline.get("mediamonRegion"),
                )
            )
        except ValueError as exc:
            raise ConfigError(f"outline {n} ({url}): {exc}") from exc
    return feeds


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
