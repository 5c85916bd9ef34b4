"""robots.txt, fetched once a day per host and kept in Redis for every worker; each
process keeps the parsed rules of the hosts it fetches from for a few minutes."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import redis

from workers.fetching.http import Fetcher, FetchError, Refused

TTL = 86_400
UNREACHABLE = "\x00unreachable"
LOCAL_SIZE = 2048  # hosts whose rules a process keeps


class Robots:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        fetcher: Fetcher,
        agent: str,
        *,
        cache_seconds: float = 300.0,
    ):
        self.redis = client
        self.prefix = prefix
        self.fetcher = fetcher
        self.agent = agent.split("/")[0]
        self.cache_seconds = cache_seconds
        self._parsed: dict[str, tuple[float, RobotFileParser | None]] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        """May ``url`` be fetched? A missing robots.txt allows everything; one that cannot
        be fetched (network error, 5xx) disallows for now, as RFC 9309 asks."""
        parts = urlsplit(url)
        parser = self._rules(f"{parts.scheme}://{parts.netloc}")
        return parser is not None and parser.can_fetch(self.agent, url)

    def _rules(self, origin: str) -> RobotFileParser | None:
        """The origin's parsed robots.txt; None while it cannot be fetched."""
        now = time.monotonic()
        known = self._parsed.get(origin)
        if known is not None and known[0] > now:
            return known[1]
        key = f"{self.prefix}robots:{origin}"
        body = self.redis.get(key)
        if body is None:
            body = self._fetch(origin)
            self.redis.set(key, body, ex=TTL)
        parser = None
        if body != UNREACHABLE:
            parser = RobotFileParser()
            parser.parse(str(body).splitlines())
        with self._lock:
            if len(self._parsed) >= LOCAL_SIZE:
                self._parsed = {o: v for o, v in self._parsed.items() if v[0] > now}
                while len(self._parsed) >= LOCAL_SIZE:
                    del self._parsed[next(iter(self._parsed))]
            if self.cache_seconds > 0:
                self._parsed[origin] = (now + self.cache_seconds, parser)
        return parser

    def _fetch(self, origin: str) -> str:
        try:
            response = self.fetcher.get(origin + "/robots.txt", max_bytes=512 * 1024, timeout=10)
        except Refused:
            raise
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return ""
            return UNREACHABLE
        return response.content.decode("utf-8", errors="replace")
