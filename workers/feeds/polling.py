"""Feed polling, article fetching and feed health: the Celery tasks of the ``feeds``
and ``articles`` queues. Decisions (parsing, intervals, processing) live in pipelines/;
this module moves bytes and records what happened."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from pipelines import schedule
from pipelines.article import RawArticle, RejectArticle
from pipelines.feeds import FeedItem, NotAFeed, parse_feed
from pipelines.ids import BadURL, canonical_url, doc_id
from workers import limits, services
from workers.app import app, settings
from workers.articles.batch import QUARANTINE_AFTER, write_batch
from workers.articles.indexing import Rejection
from workers.articles.staging import raw_from_payload, to_payload
from workers.articles.tasks import INDEXING_TASK, RecordingTask
from workers.feeds.store import FeedConfig, FeedStore
from workers.fetching.http import FetchError, Refused
from workers.limits import ARTICLE_BATCH
from workers.search.client import SearchError

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
LONG_WAIT = 5.0  # seconds of politeness wait above which work is re-queued, not slept


@lru_cache(maxsize=1)
def store() -> FeedStore:
    """The feed registry and state over this process's Redis connection."""
    return FeedStore(services.state().redis, services.state().prefix)


def bounds() -> schedule.Bounds:
    return schedule.Bounds(
        min_interval=settings.poll_min_interval,
        max_interval=settings.poll_max_interval,
        default_interval=settings.poll_default_interval,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


# ------------------------------------------------------------------ scheduling
@app.task(name="mediamon.schedule_feeds", ignore_result=True)
def schedule_feeds(limit: int = 2000) -> int:
    """Beat's tick: enqueue every due feed once (claimed atomically)."""
    lease = settings.fetch_timeout * 4 + 60
    due = store().claim_due(now=time.time(), lease=lease, limit=limit)
    for feed_id in due:
        poll_feed.delay(feed_id)
    return len(due)


# ------------------------------------------------------------------ polling
@app.task(name="mediamon.poll_feed", base=RecordingTask, bind=True, ignore_result=True)
def poll_feed(self: Task, feed_id: str) -> dict[str, Any]:
    """Fetch one feed, find new and changed items, queue their articles, reschedule.

    Every poll is recorded: one that fails in any way, or outlives its time limit,
    counts as a failure of the feed, which backs off."""
    feed = store().config(feed_id)
    if feed is None:
        return {"feed": feed_id, "status": "removed"}
    previous = store().state(feed_id)
    try:
        return _poll(feed, previous)
    except SoftTimeLimitExceeded:
        limit = limits.soft_limit(self)
        return _failed(feed, previous, "timeout", f"the poll took longer than {limit:g} s")
    except Exception as exc:  # a bug or a case nobody foresaw: recorded, then backed off
        log.exception("feed poll failed unexpectedly", extra={"feed": feed.id})
        return _failed(feed, previous, "error", f"{type(exc).__name__}: {exc}"[:300])


def _poll(feed: FeedConfig, previous: dict[str, Any]) -> dict[str, Any]:
    feed_id = feed.id
    now = time.time()
    if not feed.enabled:
        store().record(feed_id, {"status": "disabled"}, next_at=now + bounds().max_interval)
        return {"feed": feed_id, "status": "disabled"}
    host = urlsplit(feed.url).hostname or ""
    wait = services.politeness().reserve(host)
    if wait > LONG_WAIT:
        store().record(feed_id, {}, next_at=now + wait)
        return {"feed": feed_id, "status": "deferred", "wait": wait}
    if wait > 0:
        time.sleep(wait)
    headers = {}
    if previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    try:
        with services.politeness().slot(host) as got:
            if not got:
                raise FetchError("transient", f"{host} is busy (all politeness slots taken)")
            response = services.fetcher().get(
                feed.url, headers=headers, max_bytes=settings.max_feed_bytes, accept=FEED_ACCEPT
            )
    except FetchError as exc:
        return _failed(
            feed, previous, exc.kind, exc.reason, status=exc.status, retry_after=exc.retry_after
        )

    changes: dict[str, Any] = {
        "last_attempt_at": now,
        "last_success_at": now,
        "last_status": response.status,
        "last_error": None,
        "last_error_kind": None,
        "failures": 0.0,
        "polls": int(previous.get("polls", 0)) + 1,
        "final_url": response.url,
        "etag": response.headers.get("etag") or previous.get("etag"),
        "last_modified": response.headers.get("last-modified") or previous.get("last_modified"),
    }
    interval = float(feed.interval or previous.get("interval") or settings.poll_default_interval)
    body_hash = (
        hashlib.blake2b(response.content, digest_size=16).hexdigest() if response.content else None
    )
    new = updated = 0
    feed_hint = previous.get("refresh_seconds")
    if response.status == 304 or (body_hash and body_hash == previous.get("body_hash")):
        changes.update(status="unchanged", items_seen=0, items_new=0)
        services.state().count(**{"polls": 1, "polls_unchanged": 1})
    else:
        try:
            parsed = parse_feed(
                response.content, response.headers, max_items=settings.max_items_per_poll
            )
        except NotAFeed as exc:
            return _failed(
                feed, previous, "permanent", exc.detail, status=response.status, body_hash=body_hash
            )
        feed_hint = parsed.refresh_seconds
        new, updated, unusable = _queue_items(feed, parsed.items)
        notes = [parsed.error] if parsed.error else []
        if unusable:
            notes.append(f"{unusable} items without a usable link were skipped")
        changes.update(
            status="ok",
            body_hash=body_hash,
            items_seen=len(parsed.items),
            items_new=new + updated,
            items_total=int(previous.get("items_total", 0)) + new,
            title=parsed.title,
            kind=parsed.kind,
            parse_error="; ".join(notes) or None,
            refresh_seconds=parsed.refresh_seconds,
        )
        services.state().count(polls=1, items_new=new, items_updated=updated)
    if not feed.adaptive:
        next_in = float(feed.interval or settings.poll_default_interval)
    else:
        next_in = schedule.after_success(
            interval,
            new + updated,
            bounds(),
            feed_hint=feed_hint,
            max_age=response.max_age,
            rand=random.random(),
        )
        changes["interval"] = next_in
    changes["next_poll_at"] = now + next_in
    store().record(feed_id, changes, next_at=now + next_in)
    return {"feed": feed_id, "status": changes["status"], "new": new, "updated": updated}


def _failed(
    feed: FeedConfig,
    previous: dict[str, Any],
    kind: str,
    reason: str,
    *,
    status: int | None = None,
    retry_after: float | None = None,
    body_hash: str | None = None,
) -> dict[str, Any]:
    now = time.time()
    failures = float(previous.get("failures", 0.0)) + schedule.failure_weight(kind)
    next_in = schedule.after_failure(
        failures, bounds(), retry_after=retry_after, rand=random.random()
    )
    store().record(
        feed.id,
        {
            "status": "failing",
            "last_attempt_at": now,
            "last_status": status,
            "last_error": reason,
            "last_error_kind": kind,
            "failures": failures,
            "polls": int(previous.get("polls", 0)) + 1,
            "next_poll_at": now + next_in,
            "body_hash": body_hash or previous.get("body_hash"),
        },
        next_at=now + next_in,
    )
    services.state().count(polls=1, **{f"polls_failed_{kind}": 1})
    log.warning(
        "feed poll failed",
        extra={"feed": feed.id, "kind": kind, "reason": reason, "status": status},
    )
    return {"feed": feed.id, "status": "failing", "kind": kind, "reason": reason}


def _queue_items(feed: FeedConfig, items: list[FeedItem]) -> tuple[int, int, int]:
    """Compare items with the seen-set; stage new and changed ones for fetch_articles.
    Returns (new, updated, items whose link is not a usable URL)."""
    candidates = []
    unusable = 0
    for item in items:
        if not item.url:
            continue
        try:
            canonical = canonical_url(item.url)
        except BadURL:
            unusable += 1
            continue
        candidates.append((doc_id(item.url, canonical=canonical), item))
    # one id per canonical URL: a feed that lists the same story twice yields one article
    unique = {ident: item for ident, item in reversed(candidates)}
    ids = list(unique)
    marks = store().seen(ids)
    new = updated = 0
    payloads, pending = [], {}
    for ident, mark in zip(ids, marks, strict=True):
        item = unique[ident]
        fingerprint = item.fingerprint()
        if mark is not None and mark.removeprefix("pending:") == fingerprint:
            continue
        if mark is None:
            new += 1
        else:
            updated += 1
        pending[ident] = "pending:" + fingerprint
        # Staged as what the pipeline takes (the item with the feed's own content), plus
        # what fetching its page needs; fetch_articles swaps in the page when it can.
        content = item.content_html or item.summary or ""
        raw = RawArticle(
            url=item.url,
            title=item.title or None,
            source=feed.source,
            source_name=feed.name,
            feed_id=feed.id,
            published_at=item.published or item.updated,
            region=feed.region,
            lang=feed.lang,
            html=f"<html><body><article>{content}</article></body></html>"
            if content.strip()
            else None,
            text_source="feed",
        )
        payloads.append(
            {
                **to_payload(raw),
                "doc_id": ident,
                "fingerprint": fingerprint,
                "fetch_page": settings.fetch_pages
                if feed.fetch_pages is None
                else feed.fetch_pages,
            }
        )
    if pending:
        # "pending" marks keep the next poll from queueing the same items again while
        # they wait; they expire, so an item whose fetch failed for good comes back.
        store().mark_seen(pending, ttl=int(settings.fetch_timeout * ARTICLE_BATCH * 4 + 3600))
        keys = services.state().stage(payloads)
        for start in range(0, len(keys), ARTICLE_BATCH):
            fetch_articles.delay(keys[start : start + ARTICLE_BATCH])
    return new, updated, unusable


# ------------------------------------------------------------------ articles
@app.task(name="mediamon.fetch_articles", **INDEXING_TASK)
def fetch_articles(self: Task, keys: list[str]) -> dict[str, Any]:
    """Fetch the pages of staged feed items, then run them through the write path.

    Whatever goes wrong with one item (its URL, its page, its processing) is that
    item's rejection. Past the soft time limit, the item at hand is rejected and the
    rest go to a new task."""
    payloads = services.state().staged(keys)
    inputs: list[RawArticle | Rejection] = []
    names: list[str] = []
    done_keys: list[str] = []
    marks: dict[str, str] = {}
    for index, (key, payload) in enumerate(zip(keys, payloads, strict=True)):
        if payload is None:
            continue  # indexed by an earlier run of this task
        out_of_time = False
        try:
            inputs.append(_fetched(payload))
        except _Deferred as deferred:
            fetch_articles.apply_async(args=[keys[index:]], countdown=deferred.wait)
            break
        except _Rejected as rejected:
            inputs.append(rejected.rejection)
        except SoftTimeLimitExceeded:
            limit = limits.soft_limit(self)
            inputs.append(_rejection(payload, "time_limit", f"the batch ran past {limit:g} s"))
            out_of_time = True
        names.append(payload["doc_id"])
        marks[payload["doc_id"]] = payload["fingerprint"]
        done_keys.append(key)
        if out_of_time:
            if keys[index + 1 :]:
                fetch_articles.delay(keys[index + 1 :])
            break
    result = write_batch(inputs, names)
    store().mark_seen(marks, ttl=settings.seen_ttl)
    services.state().count(indexed=len(result.created), updated=len(result.updated))
    services.state().unstage(done_keys)
    return {
        "indexed": len(result.created),
        "updated": len(result.updated),
        "rejected": len(result.rejected),
    }


def _fetched(payload: dict[str, Any]) -> RawArticle:
    """_article_input, with every failure of this one item turned into its rejection;
    a page whose fetch killed two processes (its memory) is not fetched a third time."""
    with services.state().attempt(f"fetch:{payload['doc_id']}") as died:
        if died >= QUARANTINE_AFTER:
            raise _Rejected(
                _rejection(
                    payload,
                    "quarantined",
                    f"fetching its page killed the worker {died} times; not tried again",
                )
            )
        try:
            return _article_input(payload)
        except (_Deferred, _Rejected, SoftTimeLimitExceeded):
            raise
        except MemoryError as exc:
            raise _Rejected(_rejection(payload, "too_large", "ran out of memory")) from exc
        except Exception as exc:  # a URL or page nobody foresaw: this item only
            log.exception("fetching an article failed", extra={"url": payload.get("url")})
            raise _Rejected(
                _rejection(payload, "fetch_error", f"{type(exc).__name__}: {exc}"[:300])
            ) from exc


def _rejection(payload: dict[str, Any], reason: str, detail: str) -> Rejection:
    return Rejection.of(_staged_item(payload), RejectArticle(reason, detail, stage="fetch"))


def _staged_item(payload: dict[str, Any]) -> RawArticle:
    """The item a payload holds, in today's form or in the one staged before."""
    return raw_from_payload(payload) if "text_source" in payload else _staged_before(payload)


class _Deferred(Exception):
    def __init__(self, wait: float):
        self.wait = wait


class _Rejected(Exception):
    def __init__(self, rejection: Rejection):
        self.rejection = rejection


def _article_input(payload: dict[str, Any]) -> RawArticle:
    """The staged item with its page if the page can be had politely, else with the
    feed's own content; _Rejected when neither can be had."""
    item = _staged_item(payload)
    reason = "feed content only (fetch_pages is off)"
    if payload.get("fetch_page") and item.url:
        url = item.url
        host = urlsplit(url).hostname or ""
        try:
            services.fetcher().precheck(url)
            if settings.respect_robots and not services.robots().allowed(url):
                raise FetchError("permanent", "disallowed by robots.txt")
            wait = services.politeness().reserve(host)
            if wait > LONG_WAIT:
                raise _Deferred(wait)
            if wait > 0:
                time.sleep(wait)
            with services.politeness().slot(host) as got:
                if not got:
                    raise FetchError("transient", f"{host} is busy")
                page = services.fetcher().get(
                    url,
                    max_bytes=settings.max_page_bytes,
                    accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                )
            return replace(
                item, html=None, content=page.content, headers=page.headers, text_source="page"
            )
        except Refused as exc:
            raise _Rejected(
                Rejection.of(item, RejectArticle("refused_url", exc.reason, stage="fetch"))
            ) from exc
        except FetchError as exc:
            reason = f"page not used: {exc.reason}"
    if not item.html:
        rejection = RejectArticle(
            "no_content", f"{reason}; the feed item has no content", stage="fetch"
        )
        raise _Rejected(Rejection.of(item, rejection))
    return item


def _staged_before(payload: dict[str, Any]) -> RawArticle:
    """An item staged by a version before items were staged as RawArticles (the staging
    TTL keeps such payloads up to a week after an upgrade)."""
    content = payload.get("content_html") or payload.get("summary") or ""
    return RawArticle(
        url=payload["url"],
        title=payload.get("title") or None,
        source=payload.get("source"),
        source_name=payload.get("source_name"),
        feed_id=payload.get("feed_id"),
        published_at=payload.get("published") or payload.get("updated"),
        region=payload.get("region"),
        lang=payload.get("lang"),
        html=f"<html><body><article>{content}</article></body></html>" if content.strip() else None,
        text_source="feed",
    )


# ------------------------------------------------------------------ feed health
@app.task(name="mediamon.sync_feed_health", ignore_result=True)
def sync_feed_health() -> int:
    """Write the state of feeds that changed to the ``feeds`` index (the health panel)."""
    feed_ids = store().take_dirty()
    if not feed_ids:
        return 0
    configs = store().configs()
    states = store().states(feed_ids)
    operations: list[dict[str, Any]] = []
    alias = settings.index("feeds")
    for feed_id in feed_ids:
        config = configs.get(feed_id)
        if config is None:
            operations.append({"delete": {"_index": alias, "_id": feed_id}})
            continue
        operations += [
            {"index": {"_index": alias, "_id": feed_id}},
            health_document(config, states[feed_id]),
        ]
    try:
        services.search_client().bulk(operations)
    except SearchError:
        store().mark_dirty(feed_ids)  # try again on the next tick
        raise
    return len(feed_ids)


def health_document(config: FeedConfig, st: dict[str, Any]) -> dict[str, Any]:
    def when(key: str) -> str | None:
        return _iso(st[key]) if st.get(key) else None

    doc = {
        "id": config.id,
        "url": config.url,
        "final_url": st.get("final_url"),
        "name": config.name,
        "title": st.get("title"),
        "source": config.source,
        "lang": config.lang,
        "region": config.region,
        "kind": st.get("kind"),
        "enabled": config.enabled,
        "status": st.get("status", "new"),
        "last_status": st.get("last_status"),
        "last_error": st.get("last_error"),
        "last_error_kind": st.get("last_error_kind"),
        "failures": float(st.get("failures", 0.0)),
        "failing": st.get("status") == "failing",
        "last_attempt_at": when("last_attempt_at"),
        "last_success_at": when("last_success_at"),
        "next_poll_at": when("next_poll_at"),
        "interval_s": st.get("interval"),
        "polls": st.get("polls", 0),
        "items_seen": st.get("items_seen"),
        "items_new": st.get("items_new"),
        "items_total": st.get("items_total", 0),
        "parse_error": st.get("parse_error"),
        "updated_at": _iso(time.time()),
    }
    return {k: v for k, v in doc.items() if v is not None}
