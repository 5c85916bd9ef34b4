"""Host names to addresses, remembered for a short while in each process.

A page fetch looks its host up twice (the URL's check before robots.txt, then the
connection) and a busy site is asked for many times a second; on the I/O pool each
lookup is a hand-off to one of gevent's system threads. The answer is kept for
``TTL`` seconds, so both checks and the connection see the same addresses (a name
cannot resolve to a public address for the check and to a private one for the
connection within that time). Failures are not kept.
"""

from __future__ import annotations

import socket
import threading
import time

TTL = 30.0
SIZE = 4096  # names kept; the oldest answers go first when full


class Resolver:
    def __init__(self, ttl: float = TTL, size: int = SIZE):
        self.ttl = ttl
        self.size = size
        self._answers: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def addresses(self, host: str, port: int) -> list[str]:
        """The host's addresses, in the resolver's order, without repeats. Raises
        socket.gaierror when the name does not resolve."""
        key = (host, port)
        now = time.monotonic()
        known = self._answers.get(key)
        if known is not None and known[0] > now:
            return known[1]
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        with self._lock:
            if len(self._answers) >= self.size:
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
                while len(self._answers) >= self.size:
                    del self._answers[next(iter(self._answers))]
            self._answers[key] = (now + self.ttl, found)
        return found
