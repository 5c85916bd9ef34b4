"""The Celery application: Redis broker, JSON messages, explicit queues.

Network waits and CPU work run apart:

- I/O queues, served by a gevent pool with high concurrency (hundreds of requests in
  flight): ``feeds`` (polls, robots.txt, feed health), ``fetch`` (article pages),
  ``alerts`` (deliveries);
- the CPU queue ``articles`` (the pipeline, indexing, matching), served by prefork
  processes sized to the cores.

`mediamon worker` starts both pools; `mediamon worker --pool io` or `--pool cpu` starts
one, to split them across machines.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, signals
from kombu import Queue

from workers import limits, logs
from workers.settings import get_settings, redact

settings = get_settings()

IO_QUEUES = ("feeds", "fetch", "alerts")
CPU_QUEUES = ("articles",)
QUEUES = IO_QUEUES + CPU_QUEUES

# The Redis transport re-delivers a message that was reserved but not acknowledged
# after this many seconds. With acks_late, a task is acknowledged when it ends, so this
# must exceed the longest task plus the longest retry countdown (retries back off to 5
# minutes; the default is 2 hours); otherwise a slow task would run twice. A worker that
# was killed gets its tasks back after this time (MEDIAMON_VISIBILITY_TIMEOUT).
VISIBILITY_TIMEOUT = settings.visibility_timeout

app = Celery("mediamon", broker=settings.redis_dsn, backend=settings.redis_dsn)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    # Soft and hard time limits per task kind (workers/limits.py).
    task_annotations=limits.celery_annotations(settings),
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # The I/O pool acknowledges and publishes from hundreds of green threads at once:
    # the transport's Redis pool (10 connections by default) must not run dry, or
    # acknowledgements fail and messages come back after the visibility timeout.
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT, "max_connections": 1024},
    broker_pool_limit=64,
    result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    result_expires=24 * 3600,
    broker_connection_retry_on_startup=True,
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue="articles",
    task_routes={
        "mediamon.poll_*": {"queue": "feeds"},
        "mediamon.schedule_feeds": {"queue": "feeds"},
        "mediamon.release_waiting": {"queue": "feeds"},
        "mediamon.sync_feed_health": {"queue": "feeds"},
        "mediamon.record_heartbeat": {"queue": "feeds"},
        "mediamon.fetch_articles": {"queue": "fetch"},
        "mediamon.deliver_*": {"queue": "alerts"},
        "mediamon.send_digests": {"queue": "alerts"},
        "mediamon.sweep_alert_outbox": {"queue": "alerts"},
        "mediamon.check_spikes": {"queue": "alerts"},
        "mediamon.*": {"queue": "articles"},
    },
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_track_started=False,
    timezone="UTC",
    enable_utc=True,
    beat_schedule={
        "heartbeat": {"task": "mediamon.record_heartbeat", "schedule": 30.0},
        # The tick is cheap (one Redis script); due feeds are enqueued within 5 s.
        "schedule-feeds": {"task": "mediamon.schedule_feeds", "schedule": 5.0},
        # Polls and page fetches whose host's booked slot has come (feeds/later.py).
        "release-waiting": {"task": "mediamon.release_waiting", "schedule": 1.0},
        "feed-health": {"task": "mediamon.sync_feed_health", "schedule": 30.0},
        "digests": {"task": "mediamon.send_digests", "schedule": 15.0},
        # Events a crash left between being written and being routed (alerts/outbox.py).
        "alert-outbox": {"task": "mediamon.sweep_alert_outbox", "schedule": 30.0},
        # Spike rules: each one's latest period against its recent past (alerts/spikes.py).
        "spikes": {"task": "mediamon.check_spikes", "schedule": settings.spike_check_every},
        # Fetched articles whose processing was never queued (workers/feeds/ready.py).
        "ready-articles": {"task": "mediamon.process_ready", "schedule": 5.0},
    },
    beat_scheduler="redbeat.RedBeatScheduler",
    redbeat_redis_url=settings.redis_dsn,
    redbeat_key_prefix=f"{settings.index_prefix}redbeat:",
    # One beat leads; a second one waits for the lock, so two replicas never double-poll.
    redbeat_lock_timeout=90,
    beat_max_loop_interval=5,
    # Every module with tasks or signal handlers: the worker and beat import them all.
    include=[
        "workers.articles.tasks",
        "workers.feeds.polling",
        "workers.alerts.delivery",
        "workers.alerts.outbox",
        "workers.alerts.spikes",
        "workers.beat",
    ],
)


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    logs.configure(settings.log_level, json_lines=settings.log_json)


@signals.worker_init.connect
def _one_result_backend(**_: Any) -> None:
    """Celery keeps a result backend per thread, and on the I/O pool every green thread
    is one: each task that queues another would build a backend (and a Redis connection
    pool) of its own. One, thread-safe, serves the whole process."""
    backend = app.backend
    for task in app.tasks.values():
        task.backend = backend


@signals.task_prerun.connect
def _task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    logs.task_context.set({"task_id": task_id or "", "task_name": getattr(task, "name", "")})


@signals.task_postrun.connect
def _clear_context(**_: Any) -> None:
    logs.task_context.set({})


logging.getLogger(__name__).debug("celery app configured for %s", redact(settings.redis_dsn))
