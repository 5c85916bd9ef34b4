"""Feed polling, article fetching and feed health: the Celery tasks of the ``feeds``
and ``articles`` queues. Decisions (parsing, intervals, processing) live in pipelines/;
this module moves bytes and records what happened."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from pydantic import ValidationError
from redis.client import Pipeline

from pipelines import schedule
from pipelines.article import RawArticle, RejectArticle
from pipelines.dates import parse_date
from pipelines.feeds import FeedItem, NotAFeed, parse_feed
from pipelines.ids import BadURL, canonical_url, doc_id
from pipelines.sitemaps import NotASitemap, parse_sitemap, sitemaps_in_robots
from workers import limits, services
from workers.app import app, settings
from workers.articles.batch import QUARANTINE_AFTER
from workers.articles.staging import raw_from_payload, to_payload
from workers.articles.tasks import INDEXING_TASK, RecordingTask, run_staged
from workers.feeds.later import FETCH, POLL, Later
from workers.feeds.ready import Ready
from workers.feeds.store import FeedConfig, FeedStore
from workers.fetching.http import FetchError, Refused
from workers.search.client import SearchError

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
# Politeness never holds a thread: a request that must wait for its host's next slot
# books it and waits in Redis (workers/feeds/later.py) until beat's tick releases it; a
# poll whose slot is more than LONG_WAIT away goes back to beat's schedule instead. A
# request whose host has all its request slots taken for BUSY_PATIENCE books the next one.
LONG_WAIT = 120.0
SLOT_EARLY = 0.05  # a slot this close is taken at once
# Seconds a request waits for one of its host's concurrency slots (a green thread,
# woken when a request to the host ends) before it books a later slot instead.
BUSY_PATIENCE = 5.0
FETCH_BATCH = 20  # pages a fetch task takes, fetched side by side
# A drain of fetched items starts this long after the first of them is ready, so that
# pages fetched close together go through the pipeline (and the engine) in one batch.
DRAIN_GATHER = 0.1
# Pages an I/O process has queued to fetch that no green thread has begun, and its
# requests waiting for a slot of a host that is answering (Politeness.queued). While
# there are more of them than a quarter of its green threads (50 of 200), its polls
# wait BACKLOG_WAIT in Redis instead of queueing more pages: a backlog fetches no more
# pages a second, it only makes each wait longer (without a bound, past its lease, so
# that it is fetched twice); the feeds wait in Redis instead, as they do for their
# hosts. Requests in flight never count, however slow, nor those waiting for a host
# whose requests all hang.
BACKLOG_SHARE = 0.25
BACKLOG_WAIT = 1.0
# Fetched pages waiting for the CPU pool (the ready list) past which no I/O process
# takes polls, as drains' worth for each CPU process: past capacity the CPU pool sets
# the pace, and the items wait unseen in their feeds rather than fetched in Redis.
READY_DRAINS = 2
# Items a drain takes at most: a page waits for its whole batch to be processed and
# indexed, so smaller batches keep that wait short; the engine's cost per batch is
# shared by this many.
DRAIN_BATCH = 15
_unbegun: set[str] = set()
# Sitemaps an index (or a robots.txt) lists that are polled: the newest this many; and
# how deep indexes of indexes are followed.
SITEMAP_CHILDREN = 50
SITEMAP_DEPTH = 3
# How long a queued item keeps the next polls from queueing it again: longer than any
# wait for its host and its fetch; an item whose fetch never ended comes back after it.
PENDING_TTL = 6 * 3600


def fetch_lease() -> float:
    """How long a batch of pages fetched in the I/O process that polled them (no trip
    through the broker) is leased in the waiting set: if the process dies first, beat's
    tick fetches them again. Longer than any page fetch: its deadline (robots.txt may
    take one too) and the wait for one of its host's request slots."""
    return settings.fetch_timeout * 2 + BUSY_PATIENCE + 10


def _polite_wait(host: str, slot_at: float | None) -> float:
    """Seconds until this poll of ``host`` may go: 0 when the task comes back for a
    slot it booked, else the wait for a newly booked one (in the polls' lane, ahead of
    the host's booked pages)."""
    if slot_at is not None and time.time() >= slot_at - SLOT_EARLY:
        return 0.0
    return services.politeness().reserve(host, first=True)


@lru_cache(maxsize=1)
def later() -> Later:
    return Later(services.state())


@lru_cache(maxsize=1)
def ready() -> Ready:
    return Ready(services.state())


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
def poll_feed(self: Task, feed_id: str, slot_at: float | None = None) -> dict[str, Any]:
    """Fetch one feed, find new and changed items, queue their articles, reschedule.

    Every poll is recorded: one that fails in any way, or outlives its time limit,
    counts as a failure of the feed, which backs off."""
    feed = store().config(feed_id)
    if feed is None:
        return {"feed": feed_id, "status": "removed"}
    previous = store().state(feed_id)
    try:
        return _poll(feed, previous, slot_at)
    except SoftTimeLimitExceeded:
        limit = limits.soft_limit(self)
        return _failed(feed, previous, "timeout", f"the poll took longer than {limit:g} s")
    except Exception as exc:  # a bug or a case nobody foresaw: recorded, then backed off
        log.exception("feed poll failed unexpectedly", extra={"feed": feed.id})
        return _failed(feed, previous, "error", f"{type(exc).__name__}: {exc}"[:300])


def _behind() -> str | None:
    """Why this process should take no poll now: ``backlog`` while its pages wait for
    green threads, ``processing`` while fetched pages wait for the CPU pool."""
    if len(_unbegun) + services.politeness().queued() > settings.io_concurrency * BACKLOG_SHARE:
        return "backlog"
    if ready().waiting() > READY_DRAINS * DRAIN_BATCH * settings.cpu_workers:
        return "processing"
    return None


def _poll(feed: FeedConfig, previous: dict[str, Any], slot_at: float | None) -> dict[str, Any]:
    feed_id = feed.id
    now = time.time()
    if not feed.enabled:
        store().record(feed_id, {"status": "disabled"}, next_at=now + bounds().max_interval)
        return {"feed": feed_id, "status": "disabled"}
    behind = _behind()
    if behind:
        # released with that time as its slot, it books none; the slot it takes still
        # keeps the host's spacing (workers/fetching/politeness.py)
        later().add(POLL, {feed_id: now + BACKLOG_WAIT})
        services.state().count(**{f"polls_deferred_{behind}": 1})
        return {"feed": feed_id, "status": "deferred", "wait": BACKLOG_WAIT, "why": behind}
    host = urlsplit(feed.url).hostname or ""
    wait = _polite_wait(host, slot_at)
    if wait > LONG_WAIT:  # beyond the claim's lease: beat claims it again then
        store().record(feed_id, {}, next_at=now + wait)
        return {"feed": feed_id, "status": "deferred", "wait": wait}
    if wait > SLOT_EARLY:  # the slot is booked: wait for it in Redis, holding no thread
        later().add(POLL, {feed_id: now + wait})
        return {"feed": feed_id, "status": "deferred", "wait": wait}
    headers = {}
    if previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    try:
        with services.politeness().slot(host, patience=BUSY_PATIENCE, first=True) as got:
            if not got:  # every request slot of the host is taken: book the next one
                wait = _book_again(POLL, feed_id, host, first=True)
                return {"feed": feed_id, "status": "deferred", "wait": wait}
            response = services.fetcher().get(
                poll_target(feed),
                headers=headers,
                max_bytes=settings.max_feed_bytes,
                accept=FEED_ACCEPT,
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
    elif feed.kind == "sitemap":
        try:
            listing = sitemap_listing(feed, response)
        except NotASitemap as exc:
            return _failed(
                feed, previous, "permanent", exc.detail, status=response.status, body_hash=body_hash
            )
        new, updated, unusable = queue_items(feed, listing.pages)
        added, notes = _register_sitemaps(feed, listing.sitemaps)
        notes = ([listing.error] if listing.error else []) + notes
        if unusable:
            notes.append(f"{unusable} entries without a usable URL were skipped")
        changes.update(
            status="ok",
            body_hash=body_hash,
            items_seen=len(listing.pages) + len(listing.sitemaps),
            items_new=new + updated + added,
            items_total=int(previous.get("items_total", 0)) + new,
            kind=listing.kind,
            parse_error="; ".join(notes) or None,
        )
        services.state().count(polls=1, items_new=new, items_updated=updated)
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
        new, updated, unusable = queue_items(feed, parsed.items)
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


def queue_items(feed: FeedConfig, items: list[FeedItem]) -> tuple[int, int, int]:
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
        listed = item.published or item.updated
        raw = RawArticle(
            url=item.url,
            title=item.title or None,
            source=feed.source,
            source_name=feed.name,
            feed_id=feed.id,
            # a sitemap's date is the page's only when the page gives none
            published_at=listed if feed.kind != "sitemap" else None,
            sitemap_date=listed if feed.kind == "sitemap" else None,
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
        store().mark_seen(pending, ttl=PENDING_TTL)
        keys = services.state().stage(payloads)
        _book_pages({k: p["url"] for k, p in zip(keys, payloads, strict=True) if p["fetch_page"]})
        _ready([k for k, p in zip(keys, payloads, strict=True) if not p["fetch_page"]])
    return new, updated, unusable


@dataclass
class _Listing:
    """What a sitemap poll found: pages (newest first), sitemaps it lists, and why
    part of it could not be read."""

    kind: str
    pages: list[FeedItem] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    error: str | None = None


def poll_target(feed: FeedConfig) -> str:
    """What a poll asks for: the feed's URL, or for a sitemap entry that names a site
    (no path), the site's robots.txt, which lists its sitemaps."""
    parts = urlsplit(feed.url)
    if feed.kind == "sitemap" and parts.path in ("", "/") and not parts.query:
        return f"{parts.scheme}://{parts.netloc}/robots.txt"
    return feed.url


def sitemap_listing(feed: FeedConfig, response: Any) -> _Listing:
    """A sitemap poll's answer, read: a robots.txt's sitemaps, an index's sitemaps
    (newest first), or a sitemap's pages (at most a poll's items, newest first)."""
    if poll_target(feed).endswith("/robots.txt") and poll_target(feed) != feed.url:
        listed = sitemaps_in_robots(response.content.decode("utf-8", errors="replace"))
        if not listed:
            raise NotASitemap("not_a_sitemap", "the site's robots.txt lists no sitemap")
        return _Listing("robots", sitemaps=listed)
    parsed = parse_sitemap(response.content)
    if parsed.kind == "index":
        # an index lists sitemaps of its own host (the protocol's rule), no others
        host = urlsplit(feed.url).hostname
        ordered = sorted(parsed.entries, key=lambda e: _newest_first(e.lastmod), reverse=True)
        own = [e.url for e in ordered if host_of(e.url) == host]
        error = parsed.error
        if len(own) < len(ordered):
            note = f"{len(ordered) - len(own)} sitemaps on other hosts: not followed"
            error = f"{error}; {note}" if error else note
        return _Listing("index", sitemaps=own, error=error)
    pages = [
        FeedItem(url=e.url, guid=None, title=e.title, published=e.published or e.lastmod)
        for e in parsed.entries
    ]
    pages.sort(key=lambda item: _newest_first(item.published), reverse=True)
    return _Listing(
        f"sitemap-{parsed.kind}", pages[: settings.max_items_per_poll], [], parsed.error
    )


def host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # a malformed address (an unclosed IPv6 bracket)
        return None


def sitemap_time(value: str | None) -> datetime | None:
    """A date a sitemap gives (lastmod, news:publication_date), or None when it has
    none that can be read as a whole date."""
    when = parse_date(value) if value else None
    return when if isinstance(when, datetime) else None


def _newest_first(value: str | None) -> float:
    when = sitemap_time(value)
    return when.timestamp() if when else 0.0


def _register_sitemaps(feed: FeedConfig, urls: list[str]) -> tuple[int, list[str]]:
    """Register the sitemaps a sitemap index or a robots.txt lists (the newest
    SITEMAP_CHILDREN) as sitemap entries of their own, polled like feeds, each with its
    own health and interval. One that lists itself or a sitemap above it, and those
    nested deeper than SITEMAP_DEPTH, are not followed. Returns (added, notes)."""
    if not urls:
        return 0, []
    if feed.depth >= SITEMAP_DEPTH:
        return 0, [f"lists {len(urls)} sitemaps, nested deeper than {SITEMAP_DEPTH}: not followed"]
    above, config = {feed.url}, feed
    for _ in range(SITEMAP_DEPTH):
        parent = store().config(config.parent) if config.parent else None
        if parent is None:
            break
        above.add(parent.url)
        config = parent
    notes = []
    looping = [url for url in urls if url in above]
    if looping:
        notes.append(f"lists itself or a sitemap above it ({looping[0]}): not followed")
    wanted = [url for url in urls if url not in above]
    if len(wanted) > SITEMAP_CHILDREN:
        notes.append(f"{len(wanted)} sitemaps listed: the {SITEMAP_CHILDREN} newest are polled")
    added = unusable = 0
    for url in wanted[:SITEMAP_CHILDREN]:
        digest = hashlib.blake2b(url.encode(), digest_size=6).hexdigest()
        try:
            child = FeedConfig(
                id=f"{feed.id[:50]}-{digest}",
                url=url,
                kind="sitemap",
                parent=feed.id,
                depth=feed.depth + 1,
                name=feed.name,
                source=feed.source,
                lang=feed.lang,
                region=feed.region,
                fetch_pages=feed.fetch_pages,
            )
        except ValidationError:  # not an absolute http(s) URL
            unusable += 1
            continue
        if store().config(child.id) is None:
            store().upsert(child)
            added += 1
    if unusable:
        notes.append(f"{unusable} sitemaps without a usable URL were skipped")
    return added, notes


def _book_pages(urls: dict[str, str]) -> None:
    """Book each page's request with its host; queue those due now (in batches) and
    leave the others waiting for their slots."""
    by_host: dict[str, list[str]] = {}
    for key, url in urls.items():
        by_host.setdefault(urlsplit(url).hostname or "", []).append(key)
    now = time.time()
    due: list[str] = []
    waiting: dict[str, float] = {}
    for host, keys in by_host.items():
        for key, wait in zip(keys, services.politeness().book(host, len(keys)), strict=True):
            if wait <= SLOT_EARLY:
                due.append(key)
            else:
                waiting[key] = now + wait
    later().add(FETCH, waiting)
    _queue_fetches(due)


def _queue_fetches(keys: list[str]) -> None:
    """Fetch due pages in batches: on the I/O pool, at once in this process, each page
    leased in the waiting set until its result is staged; elsewhere as fetch tasks."""
    batches = [keys[start : start + FETCH_BATCH] for start in range(0, len(keys), FETCH_BATCH)]
    if not _green():
        for batch in batches:
            fetch_articles.delay(batch)
        return
    import gevent

    later().add(FETCH, dict.fromkeys(keys, time.time() + fetch_lease()))
    _unbegun.update(keys)
    for batch in batches:
        gevent.spawn(_fetch_leased, batch)


def _green() -> bool:
    """Is this process the gevent I/O pool (green threads, patched sockets)?"""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("socket"))


def _fetch_leased(keys: list[str]) -> None:
    """A batch fetched outside a task: whatever goes wrong is logged, and its pages
    come back when their lease ends."""
    try:
        # the lease runs from the batch's start: a batch that waited for a free green
        # thread is not fetched twice
        later().add(FETCH, dict.fromkeys(keys, time.time() + fetch_lease()))
        _fetch_batch(keys)
    except Exception:
        log.exception("a batch of page fetches failed; it is retried when its lease ends")
    finally:
        _unbegun.difference_update(keys)


def _book_again(kind: str, name: str, host: str, *, first: bool = False) -> float:
    """A request whose host was too busy books the host's next slot (a poll's: in the
    polls' lane) and waits for it in Redis; returns the wait."""
    wait = services.politeness().reserve(host, first=first)
    later().add(kind, {name: time.time() + wait})
    return wait


@app.task(name="mediamon.release_waiting", ignore_result=True)
def release_waiting() -> int:
    """Beat's tick, every second: queue the polls and page fetches whose booked slot
    has come (page fetches in batches)."""
    due = later().take(time.time() + SLOT_EARLY)
    pages = [name for kind, name, _ in due if kind == FETCH]
    for kind, name, at in due:
        if kind == POLL:
            poll_feed.delay(name, slot_at=at)
    _queue_fetches(pages)
    return len(due)


# ------------------------------------------------------------------ articles
@app.task(name="mediamon.fetch_articles", base=RecordingTask, bind=True, ignore_result=True)
def fetch_articles(self: Task, keys: list[str]) -> int:
    """Fetch the pages of staged feed items (queued by a process outside the I/O pool)."""
    return _fetch_batch(keys)


def _fetch_batch(keys: list[str]) -> int:
    """Fetch the pages of staged feed items, side by side (their requests were booked
    with their hosts), stage each item again with its page, or with the reason it has
    none, and hand them to the CPU pool (workers/feeds/ready.py). Whatever goes wrong
    with one item is that item's rejection; an item whose host has all its request
    slots taken books the next one and waits for it."""
    state = services.state()
    payloads = state.staged(keys)
    later().done(FETCH, [k for k, p in zip(keys, payloads, strict=True) if p is None])
    staged = [(k, p) for k, p in zip(keys, payloads, strict=True) if p is not None]
    # Each page is marked as begun (in one round trip), so that a page whose fetch
    # kills the process is known when the batch comes back; a page's mark is cleared
    # with its result, and every mark of the batch when it ends.
    names = {k: _attempt_name(p) for k, p in staged if not p.get("fetched")}
    died = dict(zip(names, state.begin(list(names.values())), strict=True))
    ended: set[str] = set()
    try:
        return sum(_side_by_side(lambda k, p: _fetch_one(k, p, died.get(k, 0), ended), staged))
    finally:  # the marks of pages whose fetch raised; the others ended on their own
        state.end([name for key, name in names.items() if key not in ended])


def _attempt_name(payload: dict[str, Any]) -> str:
    return f"fetch:{payload['doc_id']}"


def _fetch_one(key: str, payload: dict[str, Any], died: int, ended: set[str]) -> bool:
    """Fetch one staged item's page (``died``: earlier fetches of it that killed their
    process), stage it again and hand it to the CPU pool at once (a slow page of the
    batch holds up no other), in one round trip; False if it waits for its host. Either
    way its attempt ends here, and ``key`` is added to ``ended``: a page booked again
    may be begun by another batch while this one still waits for a slow page, and an
    attempt left open would count as a process it killed."""
    _unbegun.discard(key)
    pipe = services.state().redis.pipeline(transaction=False)
    if not payload.get("fetched"):
        try:
            payload = _fetched(payload, died)
        except _Busy as busy:
            services.state().end([_attempt_name(payload)])
            ended.add(key)
            _book_again(FETCH, key, busy.host)
            return False
        services.state().restage(key, payload, pipe)
        services.state().end([_attempt_name(payload)], pipe)
    later().done(FETCH, [key], pipe)
    _ready([key], pipe)
    ended.add(key)
    return True


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _side_by_side(work: Any, items: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """``work(*item)`` for each item at once, on threads (green ones on the gevent pool)."""
    global _pool
    if len(items) <= 1:
        return [work(*item) for item in items]
    if _pool is None or _pool[0] != os.getpid():  # one pool a process, made after a fork
        _pool = (os.getpid(), ThreadPoolExecutor(settings.io_concurrency, "fetch"))
    return list(_pool[1].map(lambda item: work(*item), items))


@app.task(name="mediamon.process_ready", **{**INDEXING_TASK, "ignore_result": True})
def process_ready(self: Task) -> int:
    """On the CPU pool: drain fetched feed items (workers/feeds/ready.py) in batches of
    ``DRAIN_BATCH`` (at most ``bulk_size``) through the write path, and mark them as
    seen; another drain is queued at once while more are waiting."""
    drain_id = self.request.id or "local"
    keys = ready().claim(drain_id, min(settings.bulk_size, DRAIN_BATCH))
    if ready().waiting():
        process_ready.delay()
    if not keys:
        return 0
    _, payloads = run_staged(keys)
    marks = {p["doc_id"]: p["fingerprint"] for p in payloads if p.get("fingerprint")}
    store().mark_seen(marks, ttl=settings.seen_ttl)
    ready().done(drain_id)
    return len(keys)


def _ready(keys: list[str], pipe: Pipeline | None = None) -> None:
    if ready().push(keys, pipe):
        process_ready.apply_async(countdown=DRAIN_GATHER)


def _fetched(payload: dict[str, Any], died: int) -> dict[str, Any]:
    """The payload with its page, or with the reason it has none (every failure of
    this one item is its own); a page whose fetch killed two processes is not fetched
    a third time. Raises _Busy when the host has all its request slots taken."""
    if died >= QUARANTINE_AFTER:
        detail = f"fetching its page killed the worker {died} times; not tried again"
        return _rejected(payload, RejectArticle("quarantined", detail, stage="fetch"))
    try:
        raw = _article_input(payload)
    except _Busy:
        raise
    except _Rejected as rejected:
        return _rejected(payload, rejected.rejection)
    except SoftTimeLimitExceeded as exc:
        return _rejected(
            payload,
            RejectArticle("time_limit", str(exc) or "the task's time limit", stage="fetch"),
        )
    except MemoryError:
        return _rejected(payload, RejectArticle("too_large", "ran out of memory", stage="fetch"))
    except Exception as exc:  # a URL or page nobody foresaw: this item only
        log.exception("fetching an article failed", extra={"url": payload.get("url")})
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return _rejected(payload, RejectArticle("fetch_error", detail, stage="fetch"))
    return {**to_payload(raw), **_item_keys(payload), "fetched": True}


def _item_keys(payload: dict[str, Any]) -> dict[str, Any]:
    return {"doc_id": payload["doc_id"], "fingerprint": payload["fingerprint"]}


def _rejected(payload: dict[str, Any], exc: RejectArticle) -> dict[str, Any]:
    reason = {"reason": exc.reason, "detail": exc.detail, "stage": exc.stage or "fetch"}
    return {**payload, "rejection": reason, "fetched": True}


class _Busy(Exception):
    def __init__(self, host: str):
        self.host = host


class _Rejected(Exception):
    def __init__(self, rejection: RejectArticle):
        self.rejection = rejection


def _article_input(payload: dict[str, Any]) -> RawArticle:
    """The staged item with its page if the page can be had politely, else with the
    feed's own content; _Rejected when neither can be had."""
    item = raw_from_payload(payload)
    reason = "feed content only (fetch_pages is off)"
    if payload.get("fetch_page") and item.url:
        url = item.url
        host = urlsplit(url).hostname or ""
        try:
            services.fetcher().precheck(url)
            if settings.respect_robots and not services.robots().allowed(url):
                raise FetchError("permanent", "disallowed by robots.txt")
            with services.politeness().slot(host, patience=BUSY_PATIENCE) as got:
                if not got:
                    raise _Busy(host)
                page = services.fetcher().get(
                    url,
                    max_bytes=settings.max_page_bytes,
                    accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                )
            return replace(
                item, html=None, content=page.content, headers=page.headers, text_source="page"
            )
        except Refused as exc:
            raise _Rejected(RejectArticle("refused_url", exc.reason, stage="fetch")) from exc
        except FetchError as exc:
            reason = f"page not used: {exc.reason}"
    if not item.html:
        raise _Rejected(
            RejectArticle("no_content", f"{reason}; the feed item has no content", stage="fetch")
        )
    return item


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
