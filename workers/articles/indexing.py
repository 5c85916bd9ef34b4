"""Bulk indexing into the ``articles`` alias, and the rejected-articles list (with the
one way a rejection is recorded, whatever rejected the article)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipelines.article import RawArticle, RejectArticle
from pipelines.ids import doc_id
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

    @classmethod
    def of(cls, raw: RawArticle, exc: RejectArticle) -> Rejection:
        """The record of an article rejected before it became a document (by the
        pipeline, or by fetching), under the id its document would have had. Fields of
        the wrong type (a buggy producer's) are left out, never an error here."""

        def string(value: object) -> str | None:
            return value if isinstance(value, str) and value else None

        text = string(raw.text) or string(raw.html) or ""
        url = string(raw.url)
        return cls(
            id=doc_id(url, text),
            stage=exc.stage or "process",
            reason=exc.reason,
            detail=exc.detail,
            url=url,
            source=string(raw.source),
            feed_id=string(raw.feed_id),
            excerpt=(string(raw.title) or text)[:200],
        )

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
