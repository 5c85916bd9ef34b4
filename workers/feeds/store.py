"""The feed registry and each feed's state, in Redis (AOF: survives restarts).

Config comes from ``config/feeds.yaml`` (``sync``) or ``mediamon feeds add``; state is
what polling learns (validators, body hash, failures, next poll). The ``due`` sorted
set orders feeds by their next poll; ``claim_due`` takes the due ones atomically, so two
schedulers (two beat replicas, or a beat and a manual run) never enqueue a feed twice.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Literal

import redis
from pydantic import BaseModel, Field, ValidationError, field_validator

from workers.config import ConfigError, load_yaml

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")

# Take due feeds atomically: move each one's score a lease into the future.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
end
return due
"""


class FeedConfig(BaseModel):
    """One feed, as a user configures it."""

    id: str
    url: str
    name: str | None = None
    source: str | None = None
    lang: str | None = None
    region: str | None = None
    interval: float | None = Field(None, gt=0, description="Seconds to the first re-poll.")
    adaptive: bool = Field(True, description="Adapt the interval to how often items appear.")
    documented_at: str | None = None
    fetch_pages: bool | None = None
    enabled: bool = True
    notes: str | None = None
    kind: Literal["feed", "sitemap"] = Field(
        "feed",
        description="feed (RSS, Atom, JSON Feed) or sitemap (a sitemap, a sitemap index, "
        "or a site's robots.txt that lists its sitemaps)",
    )
    parent: str | None = Field(None, description="The sitemap index this sitemap was found in.")
    depth: int = Field(0, ge=0, description="Sitemap indexes above this one.")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "id must be 1-64 of a-z, 0-9, _ and -, starting with a letter or digit"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
            raise ValueError("url must be an absolute http(s) URL")
        return value


def load_feeds_file(path: Path) -> list[FeedConfig]:
    data = load_yaml(path)
    entries = data.get("feeds") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a list of feeds under 'feeds:'")
    feeds, seen = [], set()
    for n, entry in enumerate(entries, 1):
        try:
            feed = FeedConfig.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            name = entry.get("id", "?") if isinstance(entry, dict) else repr(entry)
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{path}: feed {n} ({name}): {where}: {message}") from exc
        if feed.id in seen:
            raise ConfigError(f"{path}: feed id {feed.id!r} appears twice")
        seen.add(feed.id)
        feeds.append(feed)
    return feeds


class FeedStore:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis = client
        self.prefix = prefix
        self._claim = client.register_script(_CLAIM)

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # ------------------------------------------------------------ registry
    def upsert(self, feed: FeedConfig, *, due_at: float | None = None) -> bool:
        """Add or update a feed's config; a new feed is due at once. True if it was new."""
        new = not self.redis.hexists(self._k("feeds"), feed.id)
        pipe = self.redis.pipeline()
        pipe.hset(self._k("feeds"), feed.id, feed.model_dump_json(exclude_none=True))
        pipe.srem(self._k("feeds", "removed"), feed.id)
        if new or due_at is not None:
            pipe.zadd(
                self._k("feeds", "due"), {feed.id: due_at if due_at is not None else time.time()}
            )
        pipe.sadd(self._k("feeds", "dirty"), feed.id)
        pipe.execute()
        return new

    def remove(self, feed_id: str) -> bool:
        pipe = self.redis.pipeline()
        pipe.hdel(self._k("feeds"), feed_id)
        pipe.zrem(self._k("feeds", "due"), feed_id)
        pipe.sadd(self._k("feeds", "removed"), feed_id)
        pipe.delete(self._k("feed", feed_id))
        removed = pipe.execute()[0]
        return bool(removed)

    def removed(self) -> set[str]:
        return set(self.redis.smembers(self._k("feeds", "removed")))  # type: ignore[arg-type]

    def sync(self, feeds: list[FeedConfig], *, prune: bool = False) -> dict[str, list[str]]:
        """Load a feed list: add new feeds, update changed ones; ``prune`` removes feeds
        that are not in the list. A feed removed with `feeds remove` stays removed."""
        report: dict[str, list[str]] = {
            "added": [],
            "updated": [],
            "unchanged": [],
            "skipped": [],
            "pruned": [],
        }
        gone = self.removed()
        current = self.configs()
        for feed in feeds:
            if feed.id in gone:
                report["skipped"].append(feed.id)
            elif feed.id not in current:
                self.upsert(feed)
                report["added"].append(feed.id)
            elif current[feed.id] != feed:
                self.upsert(feed)
                report["updated"].append(feed.id)
            else:
                report["unchanged"].append(feed.id)
        if prune:  # the sitemaps an index lists stay while the index does
            wanted = {f.id for f in feeds}
            grown = True
            while grown:
                found = {i for i, c in current.items() if c.parent in wanted} - wanted
                wanted |= found
                grown = bool(found)
            for feed_id in set(current) - wanted:
                self.remove(feed_id)
                report["pruned"].append(feed_id)
        return report

    def configs(self) -> dict[str, FeedConfig]:
        raw: dict[str, str] = self.redis.hgetall(self._k("feeds"))  # type: ignore[assignment]
        return {fid: FeedConfig.model_validate_json(value) for fid, value in raw.items()}

    def config(self, feed_id: str) -> FeedConfig | None:
        raw = self.redis.hget(self._k("feeds"), feed_id)
        return FeedConfig.model_validate_json(raw) if raw else None  # type: ignore[arg-type]

    # ------------------------------------------------------------ state
    def state(self, feed_id: str) -> dict[str, Any]:
        raw: dict[str, str] = self.redis.hgetall(self._k("feed", feed_id))  # type: ignore[assignment]
        return {k: json.loads(v) for k, v in raw.items()}

    def states(self, feed_ids: list[str]) -> dict[str, dict[str, Any]]:
        pipe = self.redis.pipeline(transaction=False)
        for feed_id in feed_ids:
            pipe.hgetall(self._k("feed", feed_id))
        return {
            fid: {k: json.loads(v) for k, v in raw.items()}
            for fid, raw in zip(feed_ids, pipe.execute(), strict=True)
        }

    def record(
        self, feed_id: str, changes: dict[str, Any], *, next_at: float | None = None
    ) -> None:
        """Save state fields (JSON values) and, if given, the next poll time."""
        pipe = self.redis.pipeline()
        if changes:
            pipe.hset(
                self._k("feed", feed_id), mapping={k: json.dumps(v) for k, v in changes.items()}
            )
        if next_at is not None and self.redis.hexists(self._k("feeds"), feed_id):
            pipe.zadd(self._k("feeds", "due"), {feed_id: next_at})
        pipe.sadd(self._k("feeds", "dirty"), feed_id)
        pipe.execute()

    def claim_due(self, *, now: float, lease: float, limit: int) -> list[str]:
        return list(self._claim(keys=[self._k("feeds", "due")], args=[now, lease, limit]))

    def next_polls(self) -> dict[str, float]:
        pairs: list[tuple[str, float]] = self.redis.zrange(  # type: ignore[assignment]
            self._k("feeds", "due"), 0, -1, withscores=True
        )
        return dict(pairs)

    def take_dirty(self, limit: int = 5000) -> list[str]:
        return list(self.redis.spop(self._k("feeds", "dirty"), limit) or [])  # type: ignore[arg-type]

    def mark_dirty(self, feed_ids: list[str]) -> None:
        if feed_ids:
            self.redis.sadd(self._k("feeds", "dirty"), *feed_ids)

    # ------------------------------------------------------------ seen-set
    def seen(self, ids: list[str]) -> list[str | None]:
        if not ids:
            return []
        return list(self.redis.mget([self._k("seen", i) for i in ids]))  # type: ignore[arg-type]

    def mark_seen(self, marks: dict[str, str], ttl: int) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for doc_id, fingerprint in marks.items():
            pipe.set(self._k("seen", doc_id), fingerprint, ex=ttl)
        pipe.execute()
