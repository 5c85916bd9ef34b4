"""Matching an indexed batch against the alert rules: one percolate request for the whole
batch; each (rule, story) match becomes an ``alert-events`` document, written
create-only and pending on each of its channels (pipelines/alertevents.py builds it).
Routing the new events to their channels is workers/alerts/outbox.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipelines.alertevents import build_event
from workers.alerts.rules import KEYWORD_RULES
from workers.search.client import SearchClient, SearchError

# Fields of an article that the rules' index mirrors, so the percolator can match them.
MIRRORED = (
    "text_tokens",
    "text_norm",
    "title",
    "entities",
    "topics",
    "source",
    "lang",
    "region",
    "feed_id",
)
RULE_SOURCE = [
    "rule_id",
    "name",
    "query_text",
    "query",
    "mode",
    "digest_every_s",
    "throttle_s",
    "channels",
    "enabled",
]


def match(client: SearchClient, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Percolate a batch; write new events (create-only). Returns the created events:
    an event that exists already (the rule fired for this story before, or an earlier
    run of this batch wrote it) is not returned again."""
    if not docs:
        return []
    documents = [{k: d[k] for k in MIRRORED if k in d} for d in docs]
    for document in documents:  # only the entity fields the rules index mirrors
        document["entities"] = [
            {"id": e["id"], "type": e["type"]} for e in document.get("entities", [])
        ]
    body = {
        "query": {
            "bool": {
                "must": [{"percolate": {"field": "query", "documents": documents}}],
                "filter": [KEYWORD_RULES],
            }
        },
        "highlight": {
            "fields": {
                "text_tokens": {"number_of_fragments": 3, "fragment_size": 80},
                "text_norm": {"number_of_fragments": 3, "fragment_size": 80},
            }
        },
        "_source": RULE_SOURCE,
        "size": 10_000,
    }
    hits = client.request("POST", f"/{client.index_name('alert-rules')}/_search", body)["hits"][
        "hits"
    ]
    now = datetime.now(UTC).isoformat()
    events: list[dict[str, Any]] = []
    for hit in hits:
        highlight = hit.get("highlight", {})
        slots = hit.get("fields", {}).get("_percolator_document_slot", [])
        for slot in slots:
            fragments = highlight.get(f"{slot}_text_tokens", []) + highlight.get(
                f"{slot}_text_norm", []
            )
            if len(slots) == 1 and not fragments:
                fragments = highlight.get("text_tokens", []) + highlight.get("text_norm", [])
            events.append(build_event(hit["_source"], docs[slot], fragments, matched_at=now))
    return write_new(client, events)


def write_new(client: SearchClient, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write events create-only. Returns those that are new: an event that exists
    already (the rule fired for this story, or this period, before; or an earlier run
    of this batch wrote it) is not returned again."""
    if not events:
        return []
    operations: list[dict[str, Any]] = []
    alias = client.index_name("alert-events")
    for event in events:
        operations += [{"create": {"_index": alias, "_id": event["id"]}}, event]
    response = client.bulk(operations)
    created = []
    for event, item in zip(events, response.get("items", []), strict=True):
        status = item.get("create", {}).get("status")
        if status == 201:
            created.append(event)
        elif status != 409:  # 409: written before
            raise SearchError(f"alert event not written: {item}", status=status)
    return created
