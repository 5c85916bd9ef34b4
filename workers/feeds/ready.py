"""Articles fetched and waiting for the pipeline: a Redis list between the I/O pool,
which fetches pages as their hosts allow, and the CPU pool, which processes them in
batches.

A fetch pushes its staged keys here and makes sure one drain is queued
(``mediamon.process_ready``, workers/feeds/polling.py); a drain claims up to a batch of
keys into a list of its own, named by its task id, so that a drain whose process dies is delivered again
(acks_late) and finds the keys it had claimed. Beat queues a drain every 5 s as well,
for keys whose drain was never queued.
"""

from __future__ import annotations

import redis
from redis.client import Pipeline

from workers.state import State

# Move up to ARGV[1] keys from the ready list to the claimed one; returns them.
_CLAIM = """
local moved = {}
for i = 1, tonumber(ARGV[1]) do
  local key = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not key then break end
  moved[#moved + 1] = key
end
if #moved > 0 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2])) end
return moved
"""
FLAG_TTL_MS = 2000  # a drain queued but not begun this long ago may be queued again
CLAIM_TTL = 7 * 86_400


class Ready:
    def __init__(self, state: State):
        self.redis: redis.Redis = state.redis
        self.list = state.key("ready")
        self.flag = state.key("ready", "drain-queued")
        self.state = state
        self._claim = self.redis.register_script(_CLAIM)

    def push(self, keys: list[str], pipe: Pipeline | None = None) -> bool:
        """Add fetched keys (after what the caller put on ``pipe``, in one round trip);
        True when the caller should queue a drain (none is queued)."""
        if not keys:
            if pipe is not None:
                pipe.execute()
            return False
        pipe = pipe if pipe is not None else self.redis.pipeline(transaction=False)
        pipe.rpush(self.list, *keys)
        pipe.set(self.flag, 1, nx=True, px=FLAG_TTL_MS)
        return bool(pipe.execute()[-1])

    def claim(self, drain_id: str, limit: int) -> list[str]:
        """The keys this drain holds: those it claimed before it was interrupted, or up
        to ``limit`` new ones."""
        claimed = self.state.key("ready", "claimed", drain_id)
        held: list[str] = self.redis.lrange(claimed, 0, -1)  # type: ignore[assignment]
        if held:
            return held
        self.redis.delete(self.flag)  # fetches from now on queue the next drain
        return list(self._claim(keys=[self.list, claimed], args=[limit, CLAIM_TTL]))

    def done(self, drain_id: str) -> None:
        self.redis.delete(self.state.key("ready", "claimed", drain_id))

    def waiting(self) -> int:
        return int(self.redis.llen(self.list))  # type: ignore[arg-type]
