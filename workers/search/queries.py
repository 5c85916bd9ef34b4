"""Engine-neutral query bodies (plain dicts both engines accept)."""

from __future__ import annotations

from typing import Any

from pipelines.normalize import normalize
from pipelines.segment import Segmenter


def text_query(
    text: str, segmenter: Segmenter, *, size: int = 10, lang: str | None = None
) -> dict[str, Any]:
    """Words in any script: segmented tokens (precise) or CJK bigrams (recall)."""
    norm = normalize(text).text
    tokens = " ".join(segmenter.words(norm))
    query: dict[str, Any] = {
        "bool": {
            "should": [
                {"match": {"text_tokens": {"query": tokens, "operator": "and", "boost": 2}}},
                {"match_phrase": {"text_norm": {"query": norm}}},
            ],
            "minimum_should_match": 1,
        }
    }
    if lang:
        query["bool"]["filter"] = [{"term": {"lang": lang}}]
    return {
        "query": query,
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
