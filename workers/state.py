"""Redis state beside the broker: staged payloads, counters, dead letters, heartbeats.

Task messages stay small: an ingested article is staged here under a key and the
message carries the key. Counters live in one hash, so there is one place to read them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import redis
from redis.client import Pipeline

from workers.settings import Settings

ATTEMPT_TTL = 7 * 86_400  # a mark outlives any redelivery of its task


# A staged payload's page bytes are kept beside it, under its key and this suffix, as
# they are: a 150 KB page cost about 3 ms of CPU to stage and read back as base64 in
# JSON. The payload then says so under BESIDE.
CONTENT = ":content"
BESIDE = "content_beside"


@lru_cache(maxsize=4)
def _client(url: str, decode: bool = True) -> redis.Redis:
    # The I/O pool runs hundreds of tasks at once, each may hold a connection
    return redis.Redis.from_url(
        url, decode_responses=decode, health_check_interval=30, max_connections=2048
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
            self._put(pipe, key, payload)
            keys.append(key)
        pipe.execute()
        return keys

    def staged(self, keys: list[str]) -> list[dict[str, Any] | None]:
        """The payloads under ``keys`` (None where there is none), each with its page
        bytes as ``content``."""
        if not keys:
            return []
        payloads = [json.loads(raw) if raw else None for raw in self.redis.mget(keys)]
        beside = [n for n, p in enumerate(payloads) if p is not None and p.pop(BESIDE, False)]
        if beside:
            raw = _client(self.settings.redis_dsn, decode=False)
            for n, content in zip(
                beside, raw.mget([keys[n] + CONTENT for n in beside]), strict=True
            ):
                if content is None:  # expired between the two reads: as if both had
                    payloads[n] = None
                else:
                    payloads[n]["content"] = content  # type: ignore[index]
        return payloads

    def restage(self, key: str, payload: dict[str, Any], pipe: Pipeline | None = None) -> None:
        """Replace a staged payload (a feed item with its fetched page); on ``pipe``, sent
        when the caller executes it."""
        target = pipe if pipe is not None else self.redis.pipeline(transaction=False)
        if not isinstance(payload.get("content"), bytes):
            target.delete(key + CONTENT)
        self._put(target, key, payload)
        if pipe is None:
            target.execute()

    def unstage(self, keys: list[str]) -> None:
        if keys:
            self.redis.delete(*keys, *(key + CONTENT for key in keys))

    def _put(self, pipe: Pipeline, key: str, payload: dict[str, Any]) -> None:
        ttl = self.settings.staging_ttl
        content = payload.get("content")
        if isinstance(content, bytes):
            pipe.set(key + CONTENT, content, ex=ttl)
            payload = {k: v for k, v in payload.items() if k != "content"}
            payload[BESIDE] = True
        pipe.set(key, json.dumps(payload, ensure_ascii=False), ex=ttl)

    # -- attempts: work on one article that a dead process never finished
    def begin(self, names: list[str], *, ending: list[str] | None = None) -> list[int]:
        """Mark work on each of ``names`` as begun (and clear the marks of ``ending``),
        in one round trip; for each, how many earlier attempts began and never ended.
        ``end`` clears the marks."""
        if not names:
            self.end(ending or [])
            return []
        pipe = self.redis.pipeline(transaction=False)
        self.end(ending or [], pipe)
        for name in names:
            pipe.incr(self.key("attempt", name))
            pipe.expire(self.key("attempt", name), ATTEMPT_TTL)
        answers = pipe.execute()[1 if ending else 0 :]
        return [int(begun) - 1 for begun in answers[::2]]

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
