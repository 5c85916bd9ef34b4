"""Per-host politeness shared by every worker process, kept in Redis.

``reserve(host)`` books the host's next free slot (at least ``host_min_interval`` after
the previous request from any process) and says how long to wait for it; ``slot(host)``
holds one of ``host_max_concurrency`` leases while a request is in flight. A caller that
would have to wait long re-queues its work with a countdown instead of sleeping.
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

# A counting semaphore with leases that expire (a crashed worker frees its slot).
_ACQUIRE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[3])))
  return 1
end
return 0
"""


LOCAL_HOSTS = 10_000  # hosts with a semaphore in this process before idle ones are forgotten


class Politeness:
    def __init__(self, client: redis.Redis, prefix: str, spacing: float, concurrency: int):
        self.redis = client
        self.prefix = prefix
        self.spacing = spacing
        self.concurrency = concurrency
        self._reserve = client.register_script(_RESERVE)
        self._acquire = client.register_script(_ACQUIRE)
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def reserve(self, host: str) -> float:
        """Seconds to wait before this request to ``host`` may start."""
        return self.book(host, 1)[0]

    def book(self, host: str, count: int) -> list[float]:
        """Book ``count`` requests to ``host``, one after the other: the seconds to wait
        before each may start."""
        if self.spacing <= 0 or count <= 0:
            return [0.0] * max(count, 0)
        waits = self._reserve(
            keys=[f"{self.prefix}host:{host}:next"],
            args=[time.time() * 1000, self.spacing * 1000, count],
        )
        return [float(wait) / 1000 for wait in waits]

    @contextmanager
    def slot(self, host: str, *, lease: float = 60.0, patience: float = 30.0) -> Iterator[bool]:
        """Hold one of the host's concurrency slots; yields False if none freed in time.

        Requests of this process wait their turn here, on a semaphore of the host's
        concurrency (waking as soon as one ends, without asking Redis); the lease in
        Redis then keeps the limit across processes."""
        deadline = time.monotonic() + patience
        local = self._local(host)
        if not local.acquire(timeout=patience):
            yield False
            return
        try:
            key = f"{self.prefix}host:{host}:inflight"
            token = uuid.uuid4().hex
            while True:
                acquired = bool(
                    self._acquire(
                        keys=[key], args=[time.time() * 1000, self.concurrency, lease * 1000, token]
                    )
                )
                if acquired or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            try:
                yield acquired
            finally:
                if acquired:
                    self.redis.zrem(key, token)
        finally:
            local.release()

    def _local(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            semaphore = self._semaphores.get(host)
            if semaphore is None:
                if len(self._semaphores) >= LOCAL_HOSTS:  # forget the hosts now idle
                    self._semaphores = {
                        h: s for h, s in self._semaphores.items() if s._value < self.concurrency
                    }
                semaphore = self._semaphores[host] = threading.BoundedSemaphore(self.concurrency)
            return semaphore
