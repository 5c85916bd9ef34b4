"""Which documents an alert may announce: news, not history."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.alertevents import news

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_only_stories_published_within_the_age_limit_are_news() -> None:
    docs = [
        {"id": "today", "published_at": "2026-12-03T08:00:00Z"},
        {"id": "two-days", "published_at": "2026-12-01T12:30:00+00:00"},
        {"id": "edge", "published_at": "2026-11-30T12:00:00Z"},
        {"id": "last-week", "published_at": "2026-11-26T12:00:00Z"},
        {"id": "backfill", "published_at": "2022-03-01T00:00:00Z"},
        {"id": "undated", "published_at": None},
        {"id": "no-field"},
        {"id": "unreadable", "published_at": "yesterday"},
        {"id": "no-zone", "published_at": "2026-12-02T12:00:00"},
        {"id": "old-no-zone", "published_at": "2025-12-02T12:00:00"},
    ]
    assert [d["id"] for d in news(docs, 3, NOW)] == [
        "today", "two-days", "edge", "undated", "no-field", "unreadable", "no-zone",
    ]  # fmt: skip
    assert [d["id"] for d in news(docs, 0.5, NOW)] == [
        "today", "undated", "no-field", "unreadable",
    ]  # fmt: skip
    assert news(docs, 0, NOW) == docs  # no limit
