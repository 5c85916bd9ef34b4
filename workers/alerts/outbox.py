"""Routing alert events to their channels, at least once across crashes: an outbox.

The write path writes a batch's new events pending (workers/alerts/matching.py), then
``route`` queues each one's deliveries: at once, or into its rule's next digest (a
digest rule, or an immediate one inside its throttle window). Routing reads the rule's
snapshot in the event, not the rule. Only after queueing is the event marked routed in
Redis. A worker that dies between writing and routing (kill -9, out of memory, a
deploy) leaves events pending and unmarked, and the write path's retry finds them
written already; ``sweep_outbox`` (beat, every 30 s) routes every pending event older
than MEDIAMON_ALERT_OUTBOX_DEADLINE that is not marked. Routing an event twice is
harmless: a delivery claims its (event, channel) in Redis before it sends, so a
receiver gets each event once (workers/alerts/delivery.py).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.alertevents import CHANNELS
from workers import services
from workers.alerts.delivery import DELIVER, digest_due_key, digest_key
from workers.app import app

log = logging.getLogger(__name__)
# How long the routed marks are kept; pending events older than this are left alone.
ROUTED_TTL = 7 * 86_400
SWEEP_BATCH = 500


def _routed_key(event_id: str) -> str:
    return services.state().key("alerts", "routed", event_id)


def _routing(event: dict[str, Any]) -> dict[str, Any]:
    # Events written before the routing snapshot existed carry their channels only in
    # the delivery statuses, and mode at the top.
    return event.get("routing") or {
        "mode": event.get("mode", "immediate"),
        "throttle_s": 0,
        "digest_every_s": 3600,
        "channels": [c for c in CHANNELS if c in (event.get("delivery") or {})],
    }


def route(events: list[dict[str, Any]]) -> None:
    """Queue the deliveries of these events, then mark them routed."""
    if not events:
        return
    redis, now = services.state().redis, time.time()
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_rule.setdefault(event["rule_id"], []).append(event)
    for rule_id, found in by_rule.items():
        ids = [e["id"] for e in found]
        routing = _routing(found[0])
        if routing["mode"] == "digest":
            _to_digest(rule_id, ids, due=now + routing["digest_every_s"])
            continue
        if routing["throttle_s"]:
            last_key = services.state().key("alerts", "last", rule_id)
            last = float(redis.get(last_key) or 0)
            if now - last < routing["throttle_s"]:
                _to_digest(rule_id, ids, due=last + routing["throttle_s"])
                continue
            redis.set(last_key, now, ex=routing["throttle_s"] * 2)
        for channel in routing["channels"]:
            DELIVER[channel].delay(rule_id, ids)
    pipe = redis.pipeline(transaction=False)
    for event in events:
        pipe.set(_routed_key(event["id"]), 1, ex=ROUTED_TTL)
    pipe.execute()


def _to_digest(rule_id: str, ids: list[str], *, due: float) -> None:
    redis = services.state().redis
    redis.rpush(digest_key(rule_id), *ids)
    # NX: the first event of a period sets when the digest goes out
    redis.zadd(digest_due_key(), {rule_id: due}, nx=True)


def unrouted(limit: int = SWEEP_BATCH) -> list[dict[str, Any]]:
    """Pending events past the deadline that were never routed, oldest first."""
    client, settings = services.search_client(), services.settings()
    now = datetime.now(UTC)
    body = {
        "query": {
            "bool": {
                "filter": [
                    {
                        "range": {
                            "matched_at": {
                                "lte": (
                                    now - timedelta(seconds=settings.alert_outbox_deadline)
                                ).isoformat(),
                                "gte": (now - timedelta(seconds=ROUTED_TTL)).isoformat(),
                            }
                        }
                    }
                ],
                "should": [{"term": {f"delivery.{c}.status": "pending"}} for c in CHANNELS],
                "minimum_should_match": 1,
            }
        },
        "sort": [{"matched_at": "asc"}],
        "size": limit,
    }
    hits = client.request("POST", f"/{client.index_name('alert-events')}/_search", body)
    events = [hit["_source"] for hit in hits["hits"]["hits"]]
    if not events:
        return []
    marks = services.state().redis.mget([_routed_key(e["id"]) for e in events])
    return [event for event, mark in zip(events, marks, strict=True) if not mark]


@app.task(name="mediamon.sweep_alert_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Beat's tick: route the events a crash left between writing and routing."""
    events = unrouted()
    if events:
        log.warning("routing %d alert events left unrouted", len(events))
        services.state().count(alerts_swept=len(events))
        route(events)
    return len(events)
