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

from workers.fetching.kept import Kept

TTL = 30.0
SIZE = 4096  # names kept; the oldest answers go first when full


class Resolver:
    def __init__(self, ttl: float = TTL, size: int = SIZE):
        self._answers: Kept[tuple[str, int], list[str]] = Kept(ttl, size)

    def addresses(self, host: str, port: int) -> list[str]:
        """The host's addresses, in the resolver's order, without repeats. Raises
        socket.gaierror when the name does not resolve."""
        if kept := self._answers.get((host, port)):
            return kept[0]
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._answers.put((host, port), found)
        return found
