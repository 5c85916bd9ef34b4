"""robots.txt, fetched once a day per host and kept in Redis for every worker; each
process keeps the parsed rules of the hosts it fetches from for a few minutes."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import redis

from workers.fetching.http import Fetcher, FetchError, Refused
from workers.fetching.kept import Kept

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
        self._parsed: Kept[str, RobotFileParser | None] = Kept(cache_seconds, LOCAL_SIZE)

    def allowed(self, url: str) -> bool:
        """May ``url`` be fetched? A missing robots.txt allows everything; one that cannot
        be fetched (network error, 5xx) disallows for now, as RFC 9309 asks."""
        parts = urlsplit(url)
        parser = self._rules(f"{parts.scheme}://{parts.netloc}")
        return parser is not None and parser.can_fetch(self.agent, url)

    def _rules(self, origin: str) -> RobotFileParser | None:
        """The origin's parsed robots.txt; None while it cannot be fetched."""
        if kept := self._parsed.get(origin):
            return kept[0]
        key = f"{self.prefix}robots:{origin}"
        body = self.redis.get(key)
        if body is None:
            body = self._fetch(origin)
            self.redis.set(key, body, ex=TTL)
        parser = None
        if body != UNREACHABLE:
            parser = RobotFileParser()
            parser.parse(str(body).splitlines())
        self._parsed.put(origin, parser)
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
