"""to_document: the index document, the only shape the search engine ever sees.

Every key here exists in ``workers/search/templates/articles.json`` (a test checks it),
and docs/fields.md documents each one for people who query the index directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipelines import PIPELINE_VERSION
from pipelines.article import Article
from pipelines.ids import BadURL, canonical_url, doc_id


@dataclass
class Analysis:
    """What the NLP stages found; filled in by pipelines.process."""

    text_norm: str = ""
    text_tokens: str = ""  # the content words, joined by spaces
    word_count: int = 0
    keywords: list[str] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    entities_other: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: str | None = None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def to_document(article: Article, analysis: Analysis, *, now: datetime) -> dict[str, Any]:
    """Article + Analysis -> the JSON document indexed under ``doc["id"]``."""
    full_text = f"{article.title}\n{article.body}" if article.title else article.body
    try:
        canonical = canonical_url(article.url) if article.url else None
    except BadURL:
        canonical = None
    doc: dict[str, Any] = {
        "id": doc_id(article.url, full_text, canonical=canonical),
        "url": article.url,
        "canonical_url": canonical,
        "source": article.source,
        "source_name": article.source_name,
        "feed_id": article.feed_id,
        "title": article.title or None,
        "body": article.body,
        "byline": article.byline,
        "published_at": _iso(article.published_at),
        "published_at_source": article.published_at_source,
        "fetched_at": _iso(now),
        "lang": article.lang,
        "region": article.region,
        "text_norm": analysis.text_norm,
        "text_tokens": analysis.text_tokens,
        "keywords": analysis.keywords,
        "entities": analysis.entities,
        "entities_other": analysis.entities_other,
        "topics": [topic["id"] for topic in analysis.topics],
        "topic_details": analysis.topics,
        "fingerprint": analysis.fingerprint,
        "content_hash": hashlib.sha256(full_text.encode()).hexdigest(),
        "text_source": article.text_source,
        "word_count": analysis.word_count,
        "char_count": len(full_text),
        "pipeline_version": PIPELINE_VERSION,
    }
    return {key: value for key, value in doc.items() if value is not None}
