"""Beat's own work: its heartbeat, and loading the feed list when it starts (so edits to
feeds.yaml take effect at the next start)."""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from workers import services
from workers.app import app
from workers.config import ConfigError
from workers.feeds.store import FeedStore, load_feeds_file

log = logging.getLogger(__name__)


@app.task(name="mediamon.record_heartbeat", ignore_result=True)
def record_heartbeat() -> None:
    """Beat's pulse, shown by `mediamon status`: a stalled scheduler is visible."""
    services.state().heartbeat("beat")


@signals.beat_init.connect
def _load_feeds(**_: Any) -> None:
    try:
        feeds = load_feeds_file(services.settings().feeds_path)
    except ConfigError as exc:
        log.error("feed list not loaded: %s", exc)
        return
    state = services.state()
    report = FeedStore(state.redis, state.prefix).sync(feeds)
    log.info("feed list loaded", extra={k: len(v) for k, v in report.items()})
