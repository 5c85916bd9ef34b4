"""The data that flows through the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class RejectArticle(Exception):
    """A permanent rejection: the article cannot become a document.

    ``reason`` is a short stable code (``empty_body``, ``bad_date`` ...), used as a
    counter name and shown in the rejected-articles list; ``detail`` is for people.
    """

    def __init__(self, reason: str, detail: str = "", *, stage: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.stage = stage


@dataclass
class RawArticle:
    """What a caller hands the pipeline: text, HTML, or undecoded bytes, plus metadata."""

    text: str | None = None
    html: str | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    title: str | None = None
    source: str | None = None
    source_name: str | None = None
    feed_id: str | None = None
    published_at: str | None = None
    region: str | None = None
    lang: str | None = None
    text_source: str = "file"
    # when the page was fetched (ISO 8601), if not now: an archive record's WARC-Date
    fetched_at: str | None = None
    # the date a sitemap lists for the page: its date only when the page gives none
    sitemap_date: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RawArticle:
        """Build from a JSON object (the `process --jsonl` and ingest formats)."""
        known = {f for f in cls.__dataclass_fields__ if f not in ("content", "headers")}
        unknown = sorted(set(data) - known - {"id"})
        if unknown:
            raise RejectArticle("bad_input", f"unknown field(s): {', '.join(unknown)}")
        values = {k: data[k] for k in known if data.get(k) is not None}
        for key, value in values.items():
            if not isinstance(value, str):
                raise RejectArticle("bad_input", f"field {key!r} must be a string")
        if not values.get("text") and not values.get("html"):
            raise RejectArticle("bad_input", "needs a non-empty 'text' or 'html' field")
        return cls(**values)


@dataclass
class Article:
    """An article on its way to a document; each stage fills more of it."""

    url: str | None
    title: str
    body: str
    source: str | None = None
    source_name: str | None = None
    feed_id: str | None = None
    region: str | None = None
    byline: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    published_at_source: str | None = None
    date_hints: dict[str, str] = field(default_factory=dict)
    lang: str = "und"
    text_source: str = "file"
    notes: list[str] = field(default_factory=list)
    # (traditional-only, simplified-only) character counts, once clean has counted them
    script_counts: tuple[int, int] | None = None
