"""Redis state beside the broker: staged payloads, counters, dead letters, heartbeats.

Task messages stay small: an ingested article is staged here under a key and the
message carries the key. Counters live in one hash, so there is one place to read them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import redis
from redis.client import Pipeline

from workers.settings import Settings

ATTEMPT_TTL = 7 * 86_400  # a mark outlives any redelivery of its task


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # The I/O pool runs hundreds of tasks at once, each may hold a connection
    return redis.Redis.from_url(
        url, decode_responses=True, health_check_interval=30, max_connections=2048
    )


class State:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.redis = _client(settings.redis_dsn)
        self.prefix = f"mediamon:{settings.index_prefix}"

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # -- staged payloads
    def stage(self, payloads: Iterable[dict[str, Any]]) -> list[str]:
        keys = []
        pipe = self.redis.pipeline(transaction=False)
        for payload in payloads:
            key = self.key("staged", uuid.uuid4().hex)
            pipe.set(key, json.dumps(payload, ensure_ascii=False), ex=self.settings.staging_ttl)
            keys.append(key)
        pipe.execute()
        return keys

    def staged(self, keys: list[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        return [json.loads(raw) if raw else None for raw in self.redis.mget(keys)]

    def restage(self, key: str, payload: dict[str, Any], pipe: Pipeline | None = None) -> None:
        """Replace a staged payload (a feed item with its fetched page); on ``pipe``, sent
        when the caller executes it."""
        (pipe or self.redis).set(
            key, json.dumps(payload, ensure_ascii=False), ex=self.settings.staging_ttl
        )

    def unstage(self, keys: list[str]) -> None:
        if keys:
            self.redis.delete(*keys)

    # -- attempts: work on one article that a dead process never finished
    @contextmanager
    def attempt(self, name: str) -> Iterator[int]:
        """Mark work on ``name`` as begun for the block; yields how many earlier
        attempts began and never ended (their process died: killed for memory or by
        the hard time limit). Work that ends, by an exception too, clears the mark."""
        died = self.begin([name])[0]
        try:
            yield died
        finally:
            self.end([name])

    def begin(self, names: list[str]) -> list[int]:
        """Mark work on each of ``names`` as begun, in one round trip; for each, how many
        earlier attempts began and never ended. ``end`` clears the marks."""
        if not names:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.incr(self.key("attempt", name))
            pipe.expire(self.key("attempt", name), ATTEMPT_TTL)
        return [int(begun) - 1 for begun in pipe.execute()[::2]]

    def end(self, names: list[str], pipe: Pipeline | None = None) -> None:
        """Clear the marks of work that ended (on ``pipe``: when the caller executes it)."""
        if names:
            (pipe or self.redis).delete(*(self.key("attempt", name) for name in names))

    # -- counters: indexed, duplicate, rejected.<reason>, retried, failed
    def count(self, **amounts: int) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for name, amount in amounts.items():
            if amount:
                pipe.hincrby(self.key("counters"), name.replace("__", "."), amount)
        pipe.execute()

    def count_reasons(self, prefix: str, reasons: Iterable[str]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for reason in reasons:
            pipe.hincrby(self.key("counters"), f"{prefix}.{reason}", 1)
        pipe.execute()

    def counters(self) -> dict[str, int]:
        values: dict[str, str] = self.redis.hgetall(self.key("counters"))  # type: ignore[assignment]
        return {k: int(v) for k, v in values.items()}

    # -- dead letters: work that failed after all retries, kept for a human
    def dead_letter(self, task: str, args: Any, error: str) -> None:
        entry = {"task": task, "args": args, "error": error, "at": time.time()}
        self.redis.lpush(self.key("dead"), json.dumps(entry, ensure_ascii=False))
        self.redis.ltrim(self.key("dead"), 0, 9999)

    def dead_letters(self, limit: int = 50) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.redis.lrange(self.key("dead"), 0, limit - 1)]

    # -- fallback list for rejections the engine could not take
    def park_rejections(self, items: list[dict[str, Any]]) -> None:
        if items:
            self.redis.lpush(
                self.key("rejected"), *(json.dumps(i, ensure_ascii=False) for i in items)
            )
            self.redis.ltrim(self.key("rejected"), 0, 99_999)

    def heartbeat(self, name: str) -> None:
        self.redis.set(self.key("heartbeat", name), str(time.time()), ex=600)

    def last_heartbeat(self, name: str) -> float | None:
        value = self.redis.get(self.key("heartbeat", name))
        return float(value) if value else None
