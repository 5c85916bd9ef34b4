"""The article tasks: ``process_articles`` runs a batch of ingested articles through the
write path (workers/articles/batch.py). Also the options every batch task shares, and
the dead-letter record of a task that failed for good."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from workers import services
from workers.app import app
from workers.articles.batch import TransientSearchError, write_batch
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
    state = services.state()
    payloads = state.staged(keys)
    present = [(key, p) for key, p in zip(keys, payloads, strict=True) if p is not None]
    missing = len(payloads) - len(present)  # done by an earlier run of this task, or expired
    try:
        result = write_batch([raw_from_payload(p) for _, p in present], [key for key, _ in present])
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
    state.count(indexed=len(result.created), duplicate=len(result.updated))
    state.unstage(keys)
    summary = {
        "indexed": len(result.created),
        "duplicate": len(result.updated),
        "rejected": [
            {"id": r.id, "reason": r.reason, "detail": r.detail, "url": r.url}
            for r in result.rejected
        ],
        "ids": result.created + result.updated,
        "already_done": missing,
    }
    log.info(
        "batch processed",
        extra={k: v for k, v in summary.items() if k not in ("ids", "rejected")},
    )
    return summary
