"""Engine-neutral query bodies (plain dicts both engines accept)."""

from __future__ import annotations

from datetime import date
from typing import Any


def search_body(
    query: dict[str, Any], *, size: int = 10, lang: str | None = None
) -> dict[str, Any]:
    """A search of the articles for a compiled query (pipelines/alertquery.py, the one
    query language of alerts and search): best first, then newest, with highlights."""
    bool_query: dict[str, Any] = {"must": [query]}
    if lang:
        bool_query["filter"] = [{"term": {"lang": lang}}]
    return {
        "query": {"bool": bool_query},
        "size": size,
        "_source": {"excludes": ["text_norm", "text_tokens"]},
        "highlight": {
            "fields": {
                "text_tokens": {"number_of_fragments": 3, "fragment_size": 60},
                "text_norm": {"number_of_fragments": 3, "fragment_size": 60},
            },
        },
        "sort": ["_score", {"published_at": {"order": "desc", "missing": "_last"}}],
    }


def recent_body(
    query: dict[str, Any],
    *,
    seconds: int,
    size: int,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """The newest articles of the last ``seconds`` that match a compiled query, with
    highlights (`alerts test`, `topics test`); published from day ``first`` to day
    ``last`` too when given (a topic rule's span)."""
    days = {"gte": first.isoformat()} if first else {}
    days |= {"lte": last.isoformat()} if last else {}
    filters = [{"range": {"published_at": {"gte": f"now-{ago(seconds)}"}}}]
    filters += [{"range": {"published_at": days}}] if days else []
    return {
        "query": {"bool": {"must": [query], "filter": filters}},
        "size": size,
        "sort": [{"published_at": "desc"}],
        "_source": {"excludes": ["text_norm", "text_tokens"]},
        "highlight": {
            "fields": {
                "text_tokens": {"number_of_fragments": 5},
                "text_norm": {"number_of_fragments": 5},
            }
        },
    }


def ago(seconds: int) -> str:
    """Date math for ``seconds`` back, in the largest whole unit: the engines read the
    number as a 32-bit integer, so 100 years in seconds would overflow."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0 or seconds >= 2**31:
            return f"{max(1, round(seconds / size))}{unit}"
    return f"{seconds}s"
