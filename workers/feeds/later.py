"""Requests that wait for their host's booked slot, kept in Redis rather than in a
worker: a sorted set of polls and page fetches scored by the time of their slot.
Beat's tick (``mediamon.release_waiting``, every second) takes what is due and queues
it, page fetches in batches; a waiting request holds no thread, process or message.
Page fetches under way in an I/O process sit here too, leased until their result is
staged: if the process dies, the tick takes them when the lease ends.
"""

from __future__ import annotations

import redis
from redis.client import Pipeline

from workers.state import State

# Take up to ARGV[2] members due by ARGV[1], with their scores.
_TAKE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do redis.call('ZREM', KEYS[1], due[i]) end
return due
"""
POLL, FETCH = "poll", "fetch"


class Later:
    def __init__(self, state: State):
        self.redis: redis.Redis = state.redis
        self.key = state.key("waiting")
        self._take = self.redis.register_script(_TAKE)

    def add(self, kind: str, slots: dict[str, float]) -> None:
        """Queue ``kind`` work (a feed id to poll, or staged keys to fetch) for its slot
        time (epoch seconds)."""
        if slots:
            self.redis.zadd(self.key, {f"{kind} {name}": at for name, at in slots.items()})

    def done(self, kind: str, names: list[str], pipe: Pipeline | None = None) -> None:
        """Drop ``kind`` work that no longer waits (a leased fetch that has ended); on
        ``pipe``, sent when the caller executes it."""
        if names:
            (pipe or self.redis).zrem(self.key, *(f"{kind} {name}" for name in names))

    def take(self, now: float, limit: int = 2000) -> list[tuple[str, str, float]]:
        """Remove and return what is due: (kind, name, slot time)."""
        flat = self._take(keys=[self.key], args=[now, limit])
        due = []
        for member, score in zip(flat[::2], flat[1::2], strict=True):
            kind, _, name = str(member).partition(" ")
            due.append((kind, name, float(score)))
        return due

    def waiting(self) -> int:
        return int(self.redis.zcard(self.key))  # type: ignore[arg-type]
