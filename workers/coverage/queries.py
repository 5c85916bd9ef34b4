"""Coverage over time from the engine's aggregations: counts and share of all articles.

Media Cloud and GDELT show attention as a share of all monitored coverage as well as
raw counts: a topic's count rises when more is published in general, its share only
when it gets more of the attention.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo
from typing import Any

from pipelines.coverage import Coverage, Series, sparkline
from pipelines.periods import Period
from workers.search.client import SearchClient

__all__ = [
    "Coverage",
    "Series",
    "coverage",
    "histogram",
    "name_forms",
    "related",
    "selection",
    "sparkline",
    "stories",
    "top_terms",
]


def selection(topic: str | None, entity: str | None) -> dict[str, Any]:
    """The articles of a topic and/or an entity (all articles if neither is given)."""
    clauses = []
    if topic:
        clauses.append({"term": {"topics": topic}})
    if entity:
        clauses.append({"term": {"entities.id": entity}})
    return {"bool": {"filter": clauses}}


def histogram(interval: str, period: Period, tz: tzinfo) -> dict[str, Any]:
    """A date histogram over ``period`` in buckets of ``interval`` (hour, day, week)
    that begin in zone ``tz``, with every bucket present (empty ones too)."""
    fmt = "yyyy-MM-dd'T'HH:mm" if interval == "hour" else "yyyy-MM-dd"
    first, last = period.start.astimezone(tz), period.end.astimezone(tz)
    return {
        "field": "published_at",
        "calendar_interval": interval,
        "time_zone": _zone_name(tz),
        "min_doc_count": 0,
        "extended_bounds": {
            "min": int(first.timestamp() * 1000),
            "max": int(last.timestamp() * 1000),
        },
        "format": fmt,
    }


def _zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or "UTC"


def coverage(
    client: SearchClient,
    *,
    series: dict[str, dict[str, Any]],
    period: Period,
    interval: str = "day",
    sources: list[str] | None = None,
    tz: tzinfo = UTC,
    by: dict[str, dict[str, Any]] | None = None,
) -> Coverage:
    """Articles per bucket (all of them, or all of ``sources``) and per named series;
    with ``by`` (named filters, such as the regions), each series once per filter,
    named ``<series>@<filter>``, and the totals of each filter as ``@<filter>``."""
    inner: dict[str, Any] = {"series": {"filters": {"filters": series}}} if series else {}
    per: dict[str, Any] = {"date_histogram": histogram(interval, period, tz)}
    if inner:
        per["aggs"] = inner
    aggs: dict[str, Any] = {"per": per}
    if by:
        aggs["by"] = {"filters": {"filters": by}, "aggs": {"per": per}}
    body = {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    period.range(),
                    *([{"terms": {"source": sources}}] if sources else []),
                ]
            }
        },
        "aggs": aggs,
    }
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    buckets = response["aggregations"]["per"]["buckets"]
    result = Coverage(
        interval,
        [b["key_as_string"] for b in buckets],
        [b["doc_count"] for b in buckets],
        [Series(name, _counts(buckets, name)) for name in series],
    )
    for group, found in (response["aggregations"].get("by") or {}).get("buckets", {}).items():
        inside = found["per"]["buckets"]
        result.series.append(Series(f"@{group}", [b["doc_count"] for b in inside]))
        result.series += [Series(f"{name}@{group}", _counts(inside, name)) for name in series]
    return result


def _counts(buckets: list[dict[str, Any]], name: str) -> list[int]:
    return [b["series"]["buckets"][name]["doc_count"] for b in buckets]


def top_terms(
    client: SearchClient, field: str, *, period: Period, size: int = 15
) -> list[tuple[str, int]]:
    body = {
        "size": 0,
        "query": period.range(),
        "aggs": {"top": {"terms": {"field": field, "size": size}}},
    }
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    return [(b["key"], b["doc_count"]) for b in response["aggregations"]["top"]["buckets"]]


def stories(client: SearchClient, query: dict[str, Any], *, period: Period) -> tuple[int, int]:
    """Articles and stories (clusters of copies of one story) a query selects."""
    body = {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": [period.range(), query]}},
        "aggs": {"stories": {"cardinality": {"field": "story_id", "precision_threshold": 40000}}},
    }
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    return response["hits"]["total"]["value"], response["aggregations"]["stories"]["value"]


def related(
    client: SearchClient, entity: str, *, period: Period, size: int = 20
) -> list[tuple[str, int, int]]:
    """The entities most often named with ``entity``: (id, stories, articles), by
    stories, so that the copies of one wire story count once."""
    body = {
        "size": 0,
        "query": {"bool": {"filter": [period.range(), {"term": {"entities.id": entity}}]}},
        "aggs": {
            "with": {
                "terms": {
                    "field": "entities.id",
                    "size": size + 1,
                    "order": {"stories": "desc"},
                },
                "aggs": {
                    "stories": {"cardinality": {"field": "story_id", "precision_threshold": 40000}}
                },
            },
            "stories": {"cardinality": {"field": "story_id", "precision_threshold": 40000}},
        },
    }
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    found = response["aggregations"]["with"]["buckets"]
    return [(b["key"], b["stories"]["value"], b["doc_count"]) for b in found if b["key"] != entity][
        :size
    ]


def name_forms(
    client: SearchClient,
    entity: str,
    *,
    period: Period,
    by: dict[str, dict[str, Any]],
    owner: Callable[[str], str | None],
) -> dict[str, list[tuple[str, int]]]:
    """How the articles of each group (``by``: named filters, such as the regions) wrote
    ``entity``: the aliases its mentions matched, with the articles using each. The
    aliases of other entities in the same articles are in the same field: only those
    ``owner`` (``Catalogue.owner``) says are the entity's are kept."""
    body = {
        "size": 0,
        "query": {"bool": {"filter": [period.range(), {"term": {"entities.id": entity}}]}},
        "aggs": {
            "by": {
                "filters": {"filters": by},
                "aggs": {"forms": {"terms": {"field": "entities.aliases", "size": 200}}},
            }
        },
    }
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    return {
        group: [
            (b["key"], b["doc_count"])
            for b in found["forms"]["buckets"]
            if owner(b["key"]) == entity
        ]
        for group, found in response["aggregations"]["by"]["buckets"].items()
    }
