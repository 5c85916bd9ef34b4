"""robots.txt, fetched once a day per host and kept in Redis for every worker."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import redis

from workers.fetching.http import Fetcher, FetchError, Refused

TTL = 86_400
UNREACHABLE = "\x00unreachable"


class Robots:
    def __init__(self, client: redis.Redis, prefix: str, fetcher: Fetcher, agent: str):
        self.redis = client
        self.prefix = prefix
        self.fetcher = fetcher
        self.agent = agent.split("/")[0]

    def allowed(self, url: str) -> bool:
        """May ``url`` be fetched? A missing robots.txt allows everything; one that cannot
        be fetched (network error, 5xx) disallows for now, as RFC 9309 asks."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        key = f"{self.prefix}robots:{origin}"
        body = self.redis.get(key)
        if body is None:
            body = self._fetch(origin)
            self.redis.set(key, body, ex=TTL)
        if body == UNREACHABLE:
            return False
        parser = RobotFileParser()
        parser.parse(str(body).splitlines())
        return parser.can_fetch(self.agent, url)

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
