"""Bulk indexing into the ``articles`` alias, and the rejected-articles list."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workers.search.client import SearchClient, SearchError
from workers.state import State

log = logging.getLogger(__name__)


@dataclass
class Rejection:
    id: str
    stage: str
    reason: str
    detail: str = ""
    url: str | None = None
    source: str | None = None
    feed_id: str | None = None
    excerpt: str = ""

    def document(self) -> dict[str, Any]:
        doc = {
            "id": self.id,
            "stage": self.stage,
            "reason": self.reason,
            "detail": self.detail[:10_000],
            "url": self.url,
            "source": self.source,
            "feed_id": self.feed_id,
            "excerpt": self.excerpt[:500],
            "rejected_at": datetime.now(UTC).isoformat(),
        }
        return {k: v for k, v in doc.items() if v is not None}


@dataclass
class BulkResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def index_documents(client: SearchClient, docs: list[dict[str, Any]]) -> BulkResult:
    """Index a batch in one bulk request. A document the engine refuses becomes a
    Rejection with the engine's reason; the rest of the batch lands. Raises SearchError
    only when the request as a whole fails (engine down, 429), so the task can retry."""
    result = BulkResult()
    if not docs:
        return result
    alias = client.index_name("articles")
    now = datetime.now(UTC).isoformat()
    operations: list[dict[str, Any]] = []
    for doc in docs:
        operations.append({"index": {"_index": alias, "_id": doc["id"]}})
        operations.append({**doc, "indexed_at": now})
    response = client.bulk(operations)
    retry = []
    for doc, item in zip(docs, response.get("items", []), strict=True):
        outcome = item.get("index", {})
        status = int(outcome.get("status", 0))
        if status in (200, 201):
            (result.created if outcome.get("result") == "created" else result.updated).append(
                doc["id"]
            )
        elif status == 429:
            retry.append(doc)
        else:
            error = outcome.get("error") or {}
            reason = error.get("type", f"http_{status}") if isinstance(error, dict) else str(error)
            detail = error.get("reason", "") if isinstance(error, dict) else ""
            result.rejected.append(
                Rejection(
                    id=doc["id"],
                    stage="index",
                    reason=f"engine:{reason}",
                    detail=detail,
                    url=doc.get("url"),
                    source=doc.get("source"),
                    feed_id=doc.get("feed_id"),
                    excerpt=(doc.get("title") or doc.get("body") or "")[:200],
                )
            )
    if retry:
        raise SearchError(
            f"{len(retry)} documents refused with 429 (engine overloaded)", status=429
        )
    return result


def record_rejections(client: SearchClient | None, state: State, items: list[Rejection]) -> None:
    """Write rejections to the ``rejected`` index; park them in Redis if that fails."""
    if not items:
        return
    state.count_reasons("rejected", (r.reason for r in items))
    docs = [r.document() for r in items]
    if client is not None:
        alias = client.index_name("rejected")
        operations: list[dict[str, Any]] = []
        for doc in docs:
            operations += [{"index": {"_index": alias, "_id": doc["id"]}}, doc]
        try:
            response = client.bulk(operations)
            if not response.get("errors"):
                return
            log.error("rejected index refused some records", extra={"count": len(docs)})
        except SearchError as exc:
            log.error("could not record rejections in the engine: %s", exc)
    state.park_rejections(docs)


def index_batch(client: SearchClient, state: State, docs: list[dict[str, Any]]) -> BulkResult:
    """The whole write path of a batch: story clusters, one bulk request, then one
    percolate request for the keyword alerts and delivery of what fired.

    A transient engine error anywhere raises SearchError for the task to retry; the
    batch is idempotent (URL-hash ids, create-only alert events)."""
    from workers import alerts, delivery, stories

    stories.assign(state.redis, state.prefix, docs)
    result = index_documents(client, docs)
    landed = set(result.created) | set(result.updated)
    matched = [doc for doc in docs if doc["id"] in landed]
    try:
        events = alerts.match(client, matched)
    except SearchError as exc:
        if exc.transient:
            raise
        log.error("alert matching failed for a batch: %s", exc)
        state.count(alerts_match_failed=1)
        return result
    if events:
        state.count(alerts_fired=len(events))
        delivery.dispatch(events)
    return result
