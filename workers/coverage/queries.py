"""Coverage over time from the engine's aggregations: counts and share of all articles.

Media Cloud and GDELT show attention as a share of all monitored coverage as well as
raw counts: a topic's count rises when more is published in general, its share only
when it gets more of the attention.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.coverage import Coverage, Series, sparkline
from workers.search.client import SearchClient

__all__ = ["Coverage", "Series", "coverage", "selection", "sparkline", "top_terms"]


def selection(topic: str | None, entity: str | None) -> dict[str, Any]:
    """The articles of a topic and/or an entity (all articles if neither is given)."""
    clauses = []
    if topic:
        clauses.append({"term": {"topics": topic}})
    if entity:
        clauses.append({"term": {"entities.id": entity}})
    return {"bool": {"filter": clauses}}


def coverage(
    client: SearchClient,
    *,
    series: dict[str, dict[str, Any]],
    interval: str = "day",
    since_days: int = 90,
    now: datetime | None = None,
    sources: list[str] | None = None,
) -> Coverage:
    """Articles per bucket (all of them, or all of ``sources``) and per named series."""
    now = now or datetime.now(UTC)
    start = (now - timedelta(days=since_days)).date()
    if interval == "week":
        start -= timedelta(days=start.weekday())
    body = {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    {"range": {"published_at": {"gte": start.isoformat(), "lte": now.isoformat()}}},
                    *([{"terms": {"source": sources}}] if sources else []),
                ]
            }
        },
        "aggs": {
            "per": {
                "date_histogram": {
                    "field": "published_at",
                    "calendar_interval": interval,
                    "min_doc_count": 0,
                    "extended_bounds": {"min": start.isoformat(), "max": now.date().isoformat()},
                    "format": "yyyy-MM-dd",
                },
                "aggs": {"series": {"filters": {"filters": series}}} if series else {},
            }
        },
    }
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    buckets = response["aggregations"]["per"]["buckets"]
    result = Coverage(
        interval,
        [b["key_as_string"] for b in buckets],
        [b["doc_count"] for b in buckets],
        [Series(name) for name in series],
    )
    for s in result.series:
        s.counts = [b["series"]["buckets"][s.name]["doc_count"] for b in buckets]
    return result


def top_terms(
    client: SearchClient, field: str, *, since_days: int, size: int = 15
) -> list[tuple[str, int]]:
    body = {
        "size": 0,
        "query": {"range": {"published_at": {"gte": f"now-{since_days}d/d"}}},
        "aggs": {"top": {"terms": {"field": field, "size": size}}},
    }
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    return [(b["key"], b["doc_count"]) for b in response["aggregations"]["top"]["buckets"]]
