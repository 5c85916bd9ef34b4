"""Engine-neutral query bodies (plain dicts both engines accept)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.periods import Period


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
    period: Period,
    size: int,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """The newest articles of ``period`` that match a compiled query, with highlights
    (`alerts test`, `topics test`); published from day ``first`` to day ``last`` too
    when given (a topic rule's span)."""
    days = {"gte": first.isoformat()} if first else {}
    days |= {"lte": last.isoformat()} if last else {}
    filters: list[dict[str, Any]] = [period.range()]
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
