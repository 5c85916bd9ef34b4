"""The article tasks, on the CPU pool: ``process_articles`` runs a batch of staged
articles through the write path (workers/articles/batch.py). Also the options every batch task shares, and
the dead-letter record of a task that failed for good."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from pipelines.article import RawArticle, RejectArticle
from workers import services
from workers.app import app
from workers.articles.batch import BatchResult, TransientSearchError, write_batch
from workers.articles.indexing import Rejection
from workers.articles.staging import raw_from_payload

log = logging.getLogger(__name__)


class RecordingTask(Task):
    """On a failure that outlived its retries, keep the arguments as a dead letter."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        state = services.state()
        state.dead_letter(
            self.name, {"args": args, "kwargs": kwargs}, f"{type(exc).__name__}: {exc}"
        )
        state.count(failed=1)


# Options of the tasks that run a batch: an unreachable engine is retried with
# exponential backoff (2 s doubling to 2 min between tries, with jitter) for about half
# an hour.
INDEXING_TASK: dict[str, Any] = {
    "base": RecordingTask,
    "bind": True,
    "autoretry_for": (TransientSearchError,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 20,
}


@app.task(name="mediamon.process_articles", **INDEXING_TASK)
def process_articles(self: Task, keys: list[str]) -> dict[str, Any]:
    """Staged payloads -> the write path. Idempotent: ids are URL hashes."""
    try:
        result, payloads = run_staged(keys)
    except SoftTimeLimitExceeded:
        # Each article has its own budget, so this is a batch of many slow ones: split it.
        if len(keys) == 1:
            raise
        half = len(keys) // 2
        parts = [keys[:half], keys[half:]]
        children = [process_articles.delay(part).id for part in parts]
        log.warning("batch past its time limit: split in two", extra={"articles": len(keys)})
        # `mediamon ingest` follows the two halves instead
        return {"continued": [[child, part] for child, part in zip(children, parts, strict=True)]}
    summary = {
        "indexed": len(result.created),
        "duplicate": len(result.updated),
        "rejected": [
            {"id": r.id, "reason": r.reason, "detail": r.detail, "url": r.url}
            for r in result.rejected
        ],
        "ids": result.created + result.updated,
        "already_done": len(keys) - len(payloads),
    }
    log.info(
        "batch processed",
        extra={k: v for k, v in summary.items() if k not in ("ids", "rejected")},
    )
    return summary


def run_staged(keys: list[str]) -> tuple[BatchResult, list[dict[str, Any]]]:
    """The write path over staged payloads: ingested articles, and feed items with their
    page (or the reason their page could not be had). Returns the result and the
    payloads found (a key without one was written by an earlier run, or expired)."""
    state = services.state()
    found = [(k, p) for k, p in zip(keys, state.staged(keys), strict=True) if p is not None]
    inputs = [staged_input(p) for _, p in found]
    result = write_batch(inputs, [p.get("doc_id") or k for k, p in found])
    state.count(indexed=len(result.created), duplicate=len(result.updated))
    state.unstage(keys)
    return result, [p for _, p in found]


def staged_input(payload: dict[str, Any]) -> RawArticle | Rejection:
    """What a payload asks the write path to do: process an article, or record why a
    feed item's article could not be had."""
    raw = raw_from_payload(payload)
    rejection = payload.get("rejection")
    if rejection:
        return Rejection.of(raw, RejectArticle(**rejection))
    return raw
