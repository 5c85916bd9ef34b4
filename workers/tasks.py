"""Celery tasks. Each body is short: decode arguments, call pipelines, write."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from celery import Task

from pipelines.article import RawArticle, RejectArticle
from pipelines.ids import doc_id
from workers.app import app, settings
from workers.config import build_pipeline
from workers.indexer import BulkResult, Rejection, index_batch, record_rejections
from workers.search.client import SearchClient, SearchError, connect
from workers.staging import raw_from_payload
from workers.state import State

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def search_client() -> SearchClient:
    """One client per worker process, made on first use (after the fork)."""
    return connect(settings)


@lru_cache(maxsize=1)
def state() -> State:
    return State(settings)


class TransientSearchError(Exception):
    """Raised to make Celery retry: the engine is down or overloaded."""


class RecordingTask(Task):
    """On a failure that outlived its retries, keep the arguments as a dead letter."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        state().dead_letter(
            self.name, {"args": args, "kwargs": kwargs}, f"{type(exc).__name__}: {exc}"
        )
        state().count(failed=1)


# Options of the tasks that bulk-index: an unreachable engine is retried with exponential
# backoff (2 s doubling to 2 min between tries, with jitter) for about half an hour.
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
    """Staged payloads -> pipeline -> one bulk request. Idempotent: ids are URL hashes."""
    pipeline = build_pipeline(settings.config_dir)
    payloads = state().staged(keys)
    docs: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    missing = 0
    for payload in payloads:
        if payload is None:
            missing += 1  # already indexed by an earlier run of this task, or expired
            continue
        try:
            raw = raw_from_payload(payload)
            docs.append(pipeline.process(raw))
        except RejectArticle as exc:
            rejected.append(_rejection(payload, exc))
    result, rejected = index_and_record(docs, rejected)
    state().count(indexed=len(result.created), duplicate=len(result.updated))
    state().unstage(keys)
    summary = {
        "indexed": len(result.created),
        "duplicate": len(result.updated),
        "rejected": [
            {"id": r.id, "reason": r.reason, "detail": r.detail, "url": r.url} for r in rejected
        ],
        "ids": result.created + result.updated,
        "already_done": missing,
    }
    log.info(
        "batch processed",
        extra={k: v for k, v in summary.items() if k != "ids" and k != "rejected"},
    )
    return summary


def index_and_record(
    docs: list[dict[str, Any]], rejected: list[Rejection]
) -> tuple[BulkResult, list[Rejection]]:
    """One bulk request for a batch, then its rejections (the pipeline's and the engine's).

    An engine that is down or overloaded raises TransientSearchError, which the indexing
    tasks retry with backoff; nothing of the batch is unstaged before this returns.
    """
    try:
        client = search_client()
        result = index_batch(client, state(), docs)
    except SearchError as exc:
        if exc.transient:
            state().count(retried=1)
            log.warning("search engine unavailable, retrying: %s", exc)
            raise TransientSearchError(str(exc)) from exc
        raise
    rejected = rejected + result.rejected
    record_rejections(client, state(), rejected)
    return result, rejected


def _rejection(payload: dict[str, Any], exc: RejectArticle) -> Rejection:
    text = payload.get("text") or payload.get("html") or ""
    return Rejection(
        id=doc_id(payload.get("url"), text),
        stage=exc.stage or "process",
        reason=exc.reason,
        detail=exc.detail,
        url=payload.get("url"),
        source=payload.get("source"),
        feed_id=payload.get("feed_id"),
        excerpt=text[:200],
    )


@app.task(name="mediamon.record_heartbeat", ignore_result=True)
def record_heartbeat() -> None:
    """Beat's pulse, shown by `mediamon status`: a stalled scheduler is visible."""
    state().heartbeat("beat")


__all__ = ["RawArticle", "process_articles", "record_heartbeat"]
