"""HTTP fetching for feeds and pages: guarded, bounded and polite.

- SSRF guard: only http and https; no credentials in URLs; every connection, including
  each redirect hop and each DNS answer, must go to a public address unless the network
  is listed in MEDIAMON_ALLOW_PRIVATE_ADDRESSES. The check runs where the socket is
  opened, so a redirect or a DNS answer that changes between check and connect is caught.
- Bounds: a total deadline (not just a per-read timeout: a server that drips one byte a
  second is cut off), a size cap on the decoded body (a gzip bomb stops at the cap), a
  redirect limit.
- Conditional GET headers are the caller's; the response keeps ETag, Last-Modified,
  Cache-Control and Retry-After for scheduling.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from workers.settings import Settings

REDIRECTS = frozenset({301, 302, 303, 307, 308})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class FetchError(Exception):
    """A fetch that failed, with how the scheduler should treat it.

    kind: ``transient`` (retry soon), ``throttled`` (429/503 with Retry-After),
    ``permanent`` (404, 410, not a feed) or ``refused`` (the SSRF guard or a bad URL).
    """

    def __init__(
        self,
        kind: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        url: str | None = None,
    ):
        super().__init__(reason)
        self.kind, self.reason, self.status, self.retry_after, self.url = (
            kind,
            reason,
            status,
            retry_after,
            url,
        )


class Refused(FetchError):
    def __init__(self, reason: str, url: str | None = None):
        super().__init__("refused", reason, url=url)


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes
    elapsed: float
    redirects: list[str] = field(default_factory=list)

    @property
    def max_age(self) -> float | None:
        for part in self.headers.get("cache-control", "").split(","):
            key, _, value = part.strip().partition("=")
            if key.lower() == "max-age" and value.strip().isdigit():
                return float(value)
        return None


def parse_networks(values: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


def address_allowed(address: str, allowed: list[Network]) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return True
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def check_url(url: str) -> tuple[str, int]:
    """Refuse what no fetch should touch; returns (host, port)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused(
            f"scheme {parts.scheme or '(none)'!r} is not allowed (http and https only)", url
        )
    if parts.username or parts.password:
        raise Refused("URLs with credentials are not fetched", url)
    if not parts.hostname:
        raise Refused("URL without a host", url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused(f"bad port: {exc}", url) from exc
    return parts.hostname, port


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to allowed addresses."""

    def __init__(self, allowed: list[Network]):
        self.allowed = allowed

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        permitted = [a for a in addresses if address_allowed(a, self.allowed)]
        if not permitted:
            raise _GuardRefusal(f"{host} resolves to {', '.join(addresses)}: not a public address")
        return super().connect_tcp(permitted[0], port, timeout, local_address, socket_options)


class _GuardRefusal(httpcore.ConnectError):
    pass


class Fetcher:
    """One per worker process; thread-safe like the httpx client it wraps."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.allowed = parse_networks(settings.allow_private_addresses)
        transport = httpx.HTTPTransport(retries=0)
        # httpx does not expose httpcore's network backend; the pool has kept it under
        # this name through httpcore 1.x (checked in tests/unit/test_http.py).
        transport._pool._network_backend = GuardedBackend(self.allowed)
        self.client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self.client.close()

    def precheck(self, url: str) -> None:
        """Refuse a URL before anything is sent for it (its robots.txt included): a bad
        scheme, credentials, or a host with no public address."""
        host, port = check_url(url)
        try:
            infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            return  # unresolvable: the fetch itself will fail and say so
        addresses = {str(info[4][0]) for info in infos}
        if not any(address_allowed(a, self.allowed) for a in addresses):
            raise Refused(
                f"{host} resolves to {', '.join(sorted(addresses))}: not a public address", url
            )

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
        accept: str = "*/*",
    ) -> Response:
        """GET with redirects followed by hand (each hop checked), a total deadline and a
        decoded-size cap. Raises FetchError."""
        total = timeout or self.settings.fetch_timeout
        cap = max_bytes or self.settings.max_page_bytes
        deadline = time.monotonic() + total
        started = time.monotonic()
        hops: list[str] = []
        current = url
        while True:
            host, _ = check_url(current)
            if is_ip(host) and not address_allowed(host, self.allowed):
                raise Refused(f"{host} is not a public address", current)
            response = self._one(current, headers or {}, accept, cap, deadline)
            if response.status in REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(
                        "permanent",
                        f"HTTP {response.status} without Location",
                        status=response.status,
                        url=current,
                    )
                if len(hops) >= self.settings.max_redirects:
                    raise FetchError(
                        "permanent",
                        f"more than {self.settings.max_redirects} redirects",
                        status=response.status,
                        url=current,
                    )
                nxt = urljoin(current, location.strip())
                if nxt in hops or nxt == current:
                    raise FetchError(
                        "permanent", "redirect loop", status=response.status, url=current
                    )
                hops.append(current)
                current = nxt
                continue
            response.redirects = hops
            response.elapsed = time.monotonic() - started
            return response

    def post(
        self, url: str, body: bytes, *, headers: dict[str, str], timeout: float = 10.0
    ) -> Response:
        """POST without following redirects (a webhook that redirects is misconfigured);
        the same guard as GET. Raises FetchError for any non-2xx answer."""
        host, _ = check_url(url)
        if is_ip(host) and not address_allowed(host, self.allowed):
            raise Refused(f"{host} is not a public address", url)
        started = time.monotonic()
        with _translated_errors(url):
            resp = self.client.post(url, content=body, headers=headers, timeout=timeout)
        elapsed = time.monotonic() - started
        result = Response(url, resp.status_code, _headers(resp), resp.content[:65536], elapsed)
        if resp.status_code in REDIRECTS:
            raise FetchError(
                "permanent",
                f"HTTP {resp.status_code}: webhooks are not redirected",
                status=resp.status_code,
                url=url,
            )
        if resp.status_code >= 400:
            raise _status_error(result)
        return result

    def _one(
        self, url: str, headers: dict[str, str], accept: str, cap: int, deadline: float
    ) -> Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("transient", "deadline passed before the request", url=url)
        timeout = httpx.Timeout(min(10.0, remaining), connect=min(10.0, remaining))
        with (
            _translated_errors(url),
            self.client.stream(
                "GET", url, headers={"Accept": accept, **headers}, timeout=timeout
            ) as resp,
        ):
            chunks, size = [], 0
            if resp.status_code in REDIRECTS or resp.status_code == 304:
                return Response(url, resp.status_code, _headers(resp), b"", 0.0)
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise FetchError(
                        "permanent",
                        f"body larger than {cap} bytes",
                        status=resp.status_code,
                        url=url,
                    )
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FetchError(
                        "transient",
                        f"slower than the {self.settings.fetch_timeout:.0f}s deadline",
                        url=url,
                    )
            result = Response(url, resp.status_code, _headers(resp), b"".join(chunks), 0.0)
        if result.status >= 400:
            raise _status_error(result)
        return result


@contextmanager
def _translated_errors(url: str) -> Iterator[None]:
    """httpx's failures as the fetcher's: refusals by the address guard, timeouts (transient),
    undecodable bodies (permanent), other transport failures (transient)."""
    try:
        yield
    except _GuardRefusal as exc:
        raise Refused(str(exc), url) from exc
    except httpx.TimeoutException as exc:
        raise FetchError("transient", f"timeout: {type(exc).__name__}", url=url) from exc
    except httpx.DecodingError as exc:
        raise FetchError("permanent", f"cannot decode the body: {exc}", url=url) from exc
    except httpx.TransportError as exc:
        # httpx re-raises httpcore's errors "from" them: the guard's refusal is the cause
        if isinstance(exc.__cause__, _GuardRefusal):
            raise Refused(str(exc.__cause__), url) from exc
        raise FetchError("transient", f"{type(exc).__name__}: {exc}", url=url) from exc


def _headers(resp: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headers.items()}


def is_ip(host: str) -> bool:
    """Whether ``host`` (bracketed or not) is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _status_error(response: Response) -> FetchError:
    status = response.status
    wait = retry_after(response.headers.get("retry-after"))
    if status in (429, 503) and (wait is not None or status == 429):
        return FetchError(
            "throttled", f"HTTP {status}", status=status, retry_after=wait, url=response.url
        )
    if status in (404, 410, 401, 403, 451):
        return FetchError("permanent", f"HTTP {status}", status=status, url=response.url)
    return FetchError(
        "transient", f"HTTP {status}", status=status, retry_after=wait, url=response.url
    )
