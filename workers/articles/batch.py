"""The write path of one batch of articles, top to bottom, for ingested and polled
articles alike:

    inputs: RawArticles, or rejections from fetching
      -> pipeline: one document each, or a rejection
    then, for every CHUNK articles, in a thread of the task's own while the pipeline
    goes on with the next ones (so a process does not sit idle while the engine
    indexes; the chunks are written in order, one at a time):
      -> stories: story_id from the SimHash bands in Redis
      -> bulk index: one request
      -> percolate: one request, when a rule is enabled, for the documents published
         within MEDIAMON_ALERT_MAX_AGE_DAYS (older ones are history, not news); new
         alert events written create-only, pending
      -> route the new events to their channels (the outbox sweeper routes any that a
         crash left between these two steps)
      -> rejections to the ``rejected`` index

Every step is idempotent (URL-hash ids, create-only events, claimed deliveries), so a
task that runs a batch again after a crash or a retry duplicates nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import redis
from celery.exceptions import SoftTimeLimitExceeded

from pipelines.alertevents import news
from pipelines.article import RawArticle, RejectArticle
from pipelines.process import Pipeline
from workers import faults, limits, services
from workers.alerts import matching, outbox
from workers.alerts.rules import enabled_rules
from workers.articles import stories
from workers.articles.indexing import Rejection, index_documents, record_rejections
from workers.search.client import SearchError

log = logging.getLogger(__name__)

QUARANTINE_AFTER = 2  # processes an article may kill before it is rejected
POISON = "mediamon-fault-poison"  # text that kills the process under the poison fault point
WARM_UP = "習近平與普京在北京會談，討論烏克蘭局勢。Xi Jinping met Vladimir Putin in Beijing."
# Articles indexed together while the pipeline processes the next ones: the wait for
# the engine left at the end of a batch is that of the last chunk only. A request costs
# the engine about 7 ms of CPU beyond its documents' (the archive bench's documents:
# 4.35 ms a document in chunks of 10, 3.39 in chunks of 50); 25 keeps most of that
# saving, and half of an ingested batch of 50 is written while the rest is processed.
CHUNK = 25


class TransientSearchError(Exception):
    """Raised to make Celery retry the batch: the engine is down or overloaded."""


@dataclass
class BatchResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def write_batch(
    inputs: Sequence[RawArticle | Rejection], names: Sequence[str | None] | None = None
) -> BatchResult:
    """Process, index and match one batch; see the module's docstring for the steps.

    ``names`` (one per input: its document or staging id) mark each article's
    processing as begun, so that one whose processing killed two processes is
    quarantined rather than run again. An engine that is down or overloaded raises
    TransientSearchError before anything of the batch is given up, for the task to
    retry with backoff."""
    docs: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    state = services.state()
    warm_pipeline()  # loading it is no article's time
    begun: list[str] = []  # the article in the pipeline: its mark is cleared with the next one's
    with _Writer() as writer:
        try:
            for item, name in zip(inputs, names or [None] * len(inputs), strict=True):
                if isinstance(item, Rejection):
                    rejected.append(item)
                    continue
                mark = f"process:{name or item.url or id(item)}"
                [died] = state.begin([mark], ending=begun)  # one round trip
                begun = [mark]
                outcome = process_one(item, died)
                if isinstance(outcome, Rejection):
                    rejected.append(outcome)
                else:
                    docs.append(outcome)
                if len(docs) >= CHUNK:
                    writer.send(docs, rejected)
                    docs, rejected = [], []
        finally:  # by an exception too: only a process that dies leaves its mark
            state.end(begun)
        writer.send(docs, rejected)
        return writer.result()


class _Writer:
    """index_batch on chunks of a batch, in one thread beside the pipeline: one chunk
    written at a time, in order. An error of a chunk (the engine down) is raised by
    the next ``send`` or by ``result``; leaving the block waits for the chunk being
    written, so nothing is still writing when the task ends or retries."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index")
        self.writing: Future[BatchResult] | None = None
        self.done = BatchResult()

    def send(self, docs: list[dict[str, Any]], rejected: list[Rejection]) -> None:
        self._collect()
        if docs or rejected:
            self.writing = self.pool.submit(index_batch, docs, rejected)

    def result(self) -> BatchResult:
        self._collect()
        return self.done

    def _collect(self) -> None:
        if self.writing is not None:
            written, self.writing = self.writing.result(), None
            self.done.created += written.created
            self.done.updated += written.updated
            self.done.rejected += written.rejected

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True)


def process_one(item: RawArticle, died: int = 0) -> dict[str, Any] | Rejection:
    """One article through the pipeline within its time budget (``died``: earlier
    attempts at it that killed their process); any failure is its own rejection,
    never the batch's."""
    settings = services.settings()
    pipeline = warm_pipeline()
    try:
        if died >= QUARANTINE_AFTER:
            raise RejectArticle(
                "quarantined",
                f"its processing killed the worker {died} times (memory or hard "
                "time limit); not tried again",
                stage="process",
            )
        faults.die_while("poison_article", POISON in (item.text or ""))
        with limits.item_budget(settings.item_time_limit):
            return pipeline.process(item)
    except RejectArticle as exc:
        if isinstance(exc.__cause__, SoftTimeLimitExceeded):  # a stage caught the task's limit
            raise exc.__cause__ from None
        return Rejection.of(item, exc)
    except limits.ItemTimeout as exc:
        return Rejection.of(item, RejectArticle("time_limit", str(exc), stage="process"))
    except MemoryError:
        return Rejection.of(
            item, RejectArticle("too_large", "ran out of memory in the pipeline", stage="process")
        )
    except (SoftTimeLimitExceeded, redis.RedisError):
        raise
    except Exception as exc:  # a bug the input found: the article is kept for a human
        log.exception("the pipeline failed on an article", extra={"url": item.url})
        return Rejection.of(
            item,
            RejectArticle("pipeline_error", f"{type(exc).__name__}: {exc}"[:300], stage="process"),
        )


@cache
def warm_pipeline() -> Pipeline:
    """This process's pipeline, having processed one article: dictionaries, converters
    and models load on first use, which must not count against an article's budget."""
    pipeline = services.pipeline()
    with contextlib.suppress(RejectArticle):
        pipeline.process(RawArticle(text=WARM_UP, url="https://mediamon.invalid/warm-up"))
    return pipeline


def index_batch(docs: list[dict[str, Any]], rejected: list[Rejection]) -> BatchResult:
    """Stories, bulk index, percolate, route alert events, record rejections."""
    state = services.state()
    try:
        client = services.search_client()
        stories.assign(state.redis, state.prefix, docs)
        indexed = index_documents(client, docs)
        landed = set(indexed.created) | set(indexed.updated)
        events = _match(client, [doc for doc in docs if doc["id"] in landed])
    except SearchError as exc:
        if exc.transient:
            state.count(retried=1)
            log.warning("search engine unavailable, retrying: %s", exc)
            raise TransientSearchError(str(exc)) from exc
        raise
    faults.crash_at("after_alert_events")
    outbox.route(events)
    rejected += indexed.rejected
    record_rejections(client, state, rejected)
    return BatchResult(indexed.created, indexed.updated, rejected)


def _match(client: Any, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch's new alert events, for its documents recent enough to announce; a rule
    the engine cannot run is logged and counted (the articles are indexed all the
    same), a transient error retries the batch."""
    docs = news(docs, services.settings().alert_max_age_days, datetime.now(UTC))
    try:
        if not docs or not enabled_rules(client, services.state()):
            return []
        events = matching.match(client, docs)
    except SearchError as exc:
        if exc.transient:
            raise
        log.error("alert matching failed for a batch: %s", exc)
        services.state().count(alerts_match_failed=1)
        return []
    if events:
        services.state().count(alerts_fired=len(events))
    return events
