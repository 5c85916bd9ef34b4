"""Backfill: a site's sitemaps walked for a date range, and the pages found queued
for the I/O pool as a feed's items are (the same seen-set, staging, per-host booking
and ids), so pages that live polling also finds stay one document.

The walk fetches each sitemap through the fetcher (SSRF guard, caps) in its host's
booked slot, waiting for it here (a command, not a worker). A sitemap whose lastmod is
before the range holds no page in it and is not fetched. The sitemaps of pages whose
pages were queued are kept in Redis: a walk stopped by Ctrl-C or a crash reads the
indexes again and goes on with the sitemaps it had not walked.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from pipelines.feeds import FeedItem
from pipelines.sitemaps import NotASitemap, parse_sitemap, sitemaps_in_robots
from workers import services
from workers.feeds.polling import (
    FEED_ACCEPT,
    SITEMAP_DEPTH,
    host_of,
    poll_target,
    queue_items,
    settings,
    sitemap_time,
)
from workers.feeds.store import FeedConfig
from workers.fetching.http import FetchError

QUEUE_BATCH = 500  # pages staged and booked at once


@dataclass
class Walk:
    """What a walk found: sitemaps read (and skipped as older than the range, or failed),
    pages in the range, out of it and undated, and pages queued."""

    sitemaps: int = 0
    older: int = 0
    failed: list[str] = field(default_factory=list)
    found: int = 0
    outside: int = 0
    undated: int = 0
    queued: int = 0
    resumed: int = 0  # sitemaps an earlier run had walked


def backfill_id(url: str) -> str:
    """The id its pages are recorded under (``feed_id``), one per starting URL."""
    host = (urlsplit(url).hostname or "site").replace(".", "-")[:40]
    return f"backfill-{host}-{hashlib.blake2b(url.encode(), digest_size=4).hexdigest()}"


def walk(
    url: str,
    since: datetime,
    until: datetime,
    *,
    dry_run: bool = False,
    restart: bool = False,
    progress: Callable[[Walk], None] | None = None,
    lang: str | None = None,
    region: str | None = None,
    source: str | None = None,
) -> Walk:
    """Walk the sitemaps of ``url`` (a site, a sitemap index or a sitemap) for pages
    dated in [since, until]; queue them unless ``dry_run``."""
    state = services.state()
    feed = FeedConfig(
        id=backfill_id(url), url=url, kind="sitemap", lang=lang, region=region, source=source
    )
    done_key = state.key("backfill", feed.id, f"{since:%Y%m%d}-{until:%Y%m%d}", "walked")
    if restart:
        state.redis.delete(done_key)
    result = Walk()
    pending: list[FeedItem] = []
    todo: list[tuple[str, int]] = [(poll_target(feed), 0)]
    seen: set[str] = set()
    while todo:
        target, depth = todo.pop(0)
        if target in seen:
            continue
        seen.add(target)
        if not dry_run and state.redis.sismember(done_key, target):
            result.resumed += 1
            continue
        body = _fetch(target, result)
        if body is None:
            continue
        result.sitemaps += 1
        if target.endswith("/robots.txt") and target != url:
            todo += [(child, depth + 1) for child in sitemaps_in_robots(_text(body))]
        else:
            try:
                parsed = parse_sitemap(body)
            except NotASitemap as exc:
                result.failed.append(f"{target}: {exc.detail}")
                continue
            if parsed.kind == "index":
                if depth < SITEMAP_DEPTH:
                    host = host_of(target)
                    for entry in parsed.entries:
                        when = sitemap_time(entry.lastmod)
                        if when is not None and when < since:
                            result.older += 1
                        elif host_of(entry.url) == host:
                            todo.append((entry.url, depth + 1))
            else:
                for entry in parsed.entries:
                    when = sitemap_time(entry.published or entry.lastmod)
                    if when is None:
                        result.undated += 1
                    elif not since <= when <= until:
                        result.outside += 1
                    else:
                        result.found += 1
                        if dry_run:
                            continue
                        pending.append(
                            FeedItem(
                                url=entry.url,
                                guid=None,
                                title=entry.title,
                                published=entry.published or entry.lastmod,
                            )
                        )
        if not dry_run and pending:  # a sitemap of pages: marked walked once queued
            while pending:
                batch, pending = pending[:QUEUE_BATCH], pending[QUEUE_BATCH:]
                new, updated, _ = queue_items(feed, batch)
                result.queued += new + updated
            state.redis.sadd(done_key, target)
            state.redis.expire(done_key, 90 * 86_400)
        if progress:
            progress(result)
    return result


def _fetch(url: str, result: Walk) -> bytes | None:
    """A sitemap's bytes, fetched in its host's booked slot (in the polls' lane: the
    pages the walk queued do not hold it back); None (noted) on failure."""
    host = host_of(url) or ""
    polite = services.politeness()
    for _ in range(10):
        time.sleep(polite.reserve(host, first=True))
        with polite.slot(host, patience=30, first=True) as got:
            if not got:
                continue
            try:
                return (
                    services.fetcher()
                    .get(url, max_bytes=settings.max_feed_bytes, accept=FEED_ACCEPT)
                    .content
                )
            except FetchError as exc:
                result.failed.append(f"{url}: {exc.reason}")
                return None
    result.failed.append(f"{url}: its host had no free slot")
    return None


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")
