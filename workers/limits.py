"""Time limits: how long each kind of task, and each article inside a batch, may run.

Three layers, so that no input holds a worker slot past a known time:

- **Per article:** fetching a page has the fetch deadline (workers/fetching/http.py);
  running it through the pipeline has ``item_time_limit`` seconds (``item_budget``),
  after which the article alone is rejected as ``time_limit`` and the batch goes on.
- **Per task (soft):** Celery raises SoftTimeLimitExceeded in the task; a poll records
  it as a failure of the feed (which backs off), a page fetch as the item's rejection,
  a batch is split in two. (On the I/O pool, gevent, the fetch deadline ends every
  network wait long before these limits.)
- **Per task (hard):** the pool kills the process. A page that kills its process twice
  is quarantined (workers/state.py ``attempt``): rejected, not delivered forever.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from workers.settings import Settings, get_settings


@dataclass(frozen=True)
class Limit:
    soft: float
    hard: float


def task_limits(settings: Settings) -> dict[str, Limit]:
    """Seconds each task kind may run. A fetch is bounded by ``fetch_timeout`` and an
    article's processing by ``item_time_limit``; the rest is slack for Redis and the
    engine, and the hard limit leaves a minute to record what the soft one stopped."""
    fetch, item = settings.fetch_timeout, settings.item_time_limit
    # A batch: its articles through the pipeline (each within ``item``; a few slow ones
    # at most), then stories, indexing and matching.
    batch = 4 * item + 300
    table = {
        "mediamon.poll_feed": fetch * 2 + 60,  # robots.txt and the feed
        "mediamon.fetch_articles": fetch * 2 + 60,  # robots.txt and one page
        "mediamon.process_articles": batch,
        "mediamon.process_ready": batch,
        "mediamon.deliver_webhook": 60.0,
        "mediamon.deliver_slack": 60.0,
        "mediamon.deliver_email": 120.0,
        "mediamon.send_digests": 300.0,
        "mediamon.sweep_alert_outbox": 300.0,
        "mediamon.schedule_feeds": 60.0,
        "mediamon.sync_feed_health": 120.0,
        "mediamon.record_heartbeat": 30.0,
    }
    return {name: Limit(soft, soft + 60) for name, soft in table.items()}


def of(task_name: str) -> Limit:
    return task_limits(get_settings())[task_name]


def soft_limit(task: Any) -> float:
    """The soft limit a running task has: the one sent with its message, else its kind's."""
    timelimit = getattr(task.request, "timelimit", None) or (None, None)
    return float(timelimit[1] or task.soft_time_limit or of(task.name).soft)


def celery_annotations(settings: Settings) -> dict[str, dict[str, float]]:
    """The table as Celery's task annotations."""
    return {
        name: {"soft_time_limit": limit.soft, "time_limit": limit.hard}
        for name, limit in task_limits(settings).items()
    }


class ItemTimeout(BaseException):
    """One article took longer than its budget. A BaseException, like an interrupt:
    raised wherever the article's code happens to be, it must pass through the
    pipeline's own ``except Exception`` (which turns bugs into rejections) untouched."""


@contextmanager
def item_budget(seconds: float) -> Iterator[None]:
    """Raise ItemTimeout in the block after ``seconds`` of wall time. Works where
    signals can be delivered: the main thread of a process (prefork children and the
    CLI); elsewhere the task's own limits still hold."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise ItemTimeout(f"processing took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
