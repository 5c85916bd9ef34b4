"""Per-host politeness shared by every worker process, kept in Redis.

``reserve(host)`` books the host's next free slot (at least ``host_min_interval`` after
the previous request from any process) and says how long to wait for it; ``slot(host)``
holds one of ``host_max_concurrency`` leases while a request is in flight, and refuses
a request that would start within 0.9 × the spacing of the host's last one (a slot handed
out late must not bring the next one close). A caller that must wait books a slot and
waits for it in Redis (workers/feeds/later.py), not in a thread.

Polls (of feeds and sitemaps) go before page fetches: they book in a lane of their own,
spaced among themselves but not behind the pages already booked (a sitemap poll that
queues 500 pages would otherwise hold the host's next poll back by 500 slots), and a
poll whose turn has come waits out the spacing after the last request instead of
booking again. The page whose slot it took is refused as too soon and books again:
each poll costs the pages one slot, and the host still gets one request per spacing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

# Book the next ARGV[3] slots: start = max(now, next_free); next_free = start + spacing.
# Returns each slot's wait (ms) from now.
_RESERVE = """
local now = tonumber(ARGV[1])
local spacing = tonumber(ARGV[2])
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local waits = {}
for i = 1, tonumber(ARGV[3]) do
  waits[i] = tostring(start - now)
  start = start + spacing
end
redis.call('SET', KEYS[1], tostring(start), 'PX', math.floor(start - now + 60000))
return waits
"""

# A counting semaphore with leases that expire (a crashed worker frees its slot), which
# also keeps requests to the host at least ARGV[5] ms apart however late or early their
# booked slots were handed out: 1 acquired, 0 all taken, -1 too soon after the last one.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local gap = tonumber(ARGV[5])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if gap > 0 and now - last < gap then
  return -1
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[3])))
  if gap > 0 then
    redis.call('SET', KEYS[2], tostring(now), 'PX', math.floor(gap + 60000))
  end
  return 1
end
return 0
"""
# Requests may start this share of the spacing apart (booked slots are handed out on a
# one-second tick, a little early or late): closer than that, the request books again.
MIN_GAP = 0.9


LOCAL_HOSTS = 10_000  # hosts with a semaphore in this process before idle ones are forgotten
# A host one of whose requests ended this recently is answering: requests waiting for
# its slots are a queue that moves (Politeness.queued).
MOVING = 1.0


class Politeness:
    def __init__(self, client: redis.Redis, prefix: str, spacing: float, concurrency: int):
        self.redis = client
        self.prefix = prefix
        self.spacing = spacing
        self.concurrency = concurrency
        self._reserve = client.register_script(_RESERVE)
        self._acquire = client.register_script(_ACQUIRE)
        self._gates: dict[str, _Gate] = {}
        self._crowded: set[str] = set()  # hosts with requests waiting for a slot
        self._lock = threading.Lock()

    def reserve(self, host: str, *, first: bool = False) -> float:
        """Seconds to wait before this request to ``host`` may start; ``first`` books
        in the polls' lane, ahead of the pages already booked."""
        return self.book(host, 1, first=first)[0]

    def book(self, host: str, count: int, *, first: bool = False) -> list[float]:
        """Book ``count`` requests to ``host``, one after the other: the seconds to wait
        before each may start."""
        if self.spacing <= 0 or count <= 0:
            return [0.0] * max(count, 0)
        lane = "polls" if first else "next"
        waits = self._reserve(
            keys=[f"{self.prefix}host:{host}:{lane}"],
            args=[time.time() * 1000, self.spacing * 1000, count],
        )
        return [float(wait) / 1000 for wait in waits]

    @contextmanager
    def slot(
        self, host: str, *, lease: float = 60.0, patience: float = 30.0, first: bool = False
    ) -> Iterator[bool]:
        """Hold one of the host's concurrency slots; yields False if none freed in time,
        or at once when the host's last request started less than the spacing ago
        (``first``, a poll's request: when it has not passed in time either).

        Requests of this process wait their turn here, on a semaphore of the host's
        concurrency (waking as soon as one ends, without asking Redis); the lease in
        Redis then keeps the limit across processes."""
        deadline = time.monotonic() + patience
        gate = self._gate(host)
        if not self._enter(host, gate, patience):
            yield False
            return
        try:
            key = f"{self.prefix}host:{host}:inflight"
            token = uuid.uuid4().hex
            gap = self.spacing * MIN_GAP * 1000
            while True:
                answer = int(
                    self._acquire(
                        keys=[key, f"{self.prefix}host:{host}:last"],
                        args=[time.time() * 1000, self.concurrency, lease * 1000, token, gap],
                    )
                )
                acquired = answer == 1
                if acquired or (answer < 0 and not first) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            try:
                yield acquired
            finally:
                if acquired:
                    self.redis.zrem(key, token)
                    gate.ended_at = time.monotonic()
        finally:
            gate.semaphore.release()

    def queued(self) -> int:
        """Requests of this process waiting for a slot of a host that is answering
        (one of its requests ended in the last ``MOVING`` seconds): a queue that moves,
        which more requests only lengthen. Those waiting for a host whose requests all
        hang are not counted; they book a later slot when their patience ends."""
        now = time.monotonic()
        with self._lock:
            gates = [self._gates.get(host) for host in self._crowded]
        return sum(g.waiting for g in gates if g is not None and now - g.ended_at < MOVING)

    def _enter(self, host: str, gate: _Gate, patience: float) -> bool:
        """Take one of ``gate``'s slots within ``patience`` seconds, counted as
        waiting meanwhile."""
        if gate.semaphore.acquire(blocking=False):
            return True
        with self._lock:
            gate.waiting += 1
            self._crowded.add(host)
        try:
            return gate.semaphore.acquire(timeout=patience)
        finally:
            with self._lock:
                gate.waiting -= 1
                if not gate.waiting:
                    self._crowded.discard(host)

    def _gate(self, host: str) -> _Gate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                if len(self._gates) >= LOCAL_HOSTS:  # forget the hosts now idle
                    self._gates = {h: g for h, g in self._gates.items() if g.busy(self.concurrency)}
                gate = self._gates[host] = _Gate(self.concurrency)
            return gate


class _Gate:
    """A host's requests in this process: a semaphore of its concurrency, how many
    wait for it, and when one last ended."""

    __slots__ = ("ended_at", "semaphore", "waiting")

    def __init__(self, concurrency: int):
        self.semaphore = threading.BoundedSemaphore(concurrency)
        self.waiting = 0
        self.ended_at = float("-inf")  # when a request that went out last ended

    def busy(self, concurrency: int) -> bool:
        return self.waiting > 0 or self.semaphore._value < concurrency  # type: ignore[attr-defined]
