"""When to poll a feed next: adaptive intervals, the feed's own hints, and backoff.

Pure arithmetic on seconds; the worker supplies the random number for jitter.

- After a poll that found new items the interval shrinks (×0.7), after one that found
  none it grows (×1.3), always within [min_interval, max_interval].
- The feed's hints are floors: ``<ttl>``/``sy:updatePeriod``, Cache-Control max-age,
  Retry-After (capped at the maximum, so a hint can never park a feed for a month).
- Failures add weight (a timeout or 5xx 1, a 429 0.5, a 404/410 or a non-feed 2) and
  back off exponentially to at most ``max_backoff`` (24 h). A failing feed is never
  dropped: it is polled at least once per ``max_backoff``. Success resets the weight.
"""

from __future__ import annotations

from dataclasses import dataclass

FAILURE_WEIGHTS = {"transient": 1.0, "throttled": 0.5, "permanent": 2.0}


@dataclass(frozen=True)
class Bounds:
    min_interval: float = 600.0
    max_interval: float = 86_400.0
    default_interval: float = 3_600.0
    max_backoff: float = 86_400.0
    jitter: float = 0.1


def after_success(
    current: float,
    new_items: int,
    bounds: Bounds,
    *,
    feed_hint: float | None = None,
    max_age: float | None = None,
    rand: float = 0.5,
) -> float:
    """Seconds until the next poll of a feed that answered."""
    interval = current * (0.7 if new_items else 1.3)
    interval = min(max(interval, bounds.min_interval), bounds.max_interval)
    for floor in (feed_hint, max_age):
        if floor:
            interval = max(interval, min(floor, bounds.max_interval))
    return _jitter(interval, bounds, rand)


def failure_weight(kind: str) -> float:
    return FAILURE_WEIGHTS.get(kind, 1.0)


def after_failure(
    failures: float, bounds: Bounds, *, retry_after: float | None = None, rand: float = 0.5
) -> float:
    """Seconds until the next try of a feed with ``failures`` weighted failures."""
    interval = bounds.min_interval * (2 ** max(0.0, failures - 1))
    interval = min(interval, bounds.max_backoff)
    if retry_after:
        interval = max(interval, min(retry_after, bounds.max_backoff))
    return _jitter(interval, bounds, rand)


def _jitter(interval: float, bounds: Bounds, rand: float) -> float:
    """Spread polls of feeds that were added together (±jitter, rand in [0, 1))."""
    return interval * (1 + bounds.jitter * (2 * rand - 1))
