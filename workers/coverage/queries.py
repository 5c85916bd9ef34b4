"""Coverage over time from the engine's aggregations: counts and share of all articles.

Media Cloud and GDELT show attention as a share of all monitored coverage as well as
raw counts: a topic's count rises when more is published in general, its share only
when it gets more of the attention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from workers.search.client import SearchClient

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass
class Series:
    name: str
    counts: list[int] = field(default_factory=list)

    def shares(self, totals: list[int]) -> list[float]:
        return [c / t if t else 0.0 for c, t in zip(self.counts, totals, strict=True)]


@dataclass
class Coverage:
    interval: str
    buckets: list[str]
    totals: list[int]
    series: list[Series]

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for i, bucket in enumerate(self.buckets):
            row: dict[str, Any] = {"bucket": bucket, "total": self.totals[i]}
            for s in self.series:
                row[s.name] = s.counts[i]
                row[f"{s.name}_share"] = (
                    round(s.counts[i] / self.totals[i], 6) if self.totals[i] else 0.0
                )
            out.append(row)
        return out


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


def sparkline(values: list[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in values
    )


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
