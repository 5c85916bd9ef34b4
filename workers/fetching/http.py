"""HTTP fetching for feeds and pages: guarded, bounded and polite.

- SSRF guard: only http and https; no credentials in URLs; every connection, including
  each redirect hop and each DNS answer, must go to a public address unless the network
  is listed in MEDIAMON_ALLOW_PRIVATE_ADDRESSES. The check runs where the socket is
  opened, so a redirect or a DNS answer that changes between check and connect is caught.
  Besides Python's own tables, an explicit deny list (``DENIED``) covers the ranges that
  embed or reach a private address (6to4, NAT64, Teredo, site-local, 192.0.0.0/24).
- Time: a total deadline on every exchange, headers included, kept by a watchdog thread
  that shuts the socket of an exchange past its deadline; a server that drips its
  headers or body a byte at a time is cut off on time, not per read.
- Memory: the body is read raw and decoded here, at most one content coding (gzip or
  deflate), with a running cap on the decoded bytes: a gzip bomb or stacked codings
  cost at most the cap. MemoryError never escapes; a bad URL is a FetchError.
- Conditional GET headers are the caller's; the response keeps ETag, Last-Modified,
  Cache-Control and Retry-After for scheduling.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import ipaddress
import os
import select
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from workers.fetching.resolve import Resolver
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


# Never fetched unless allowed by MEDIAMON_ALLOW_PRIVATE_ADDRESSES, whatever Python's
# tables say of them: ranges that are private, special, or carry another address
# inside them (a 6to4 address of 127.0.0.1 is 2002:7f00:1::).
DENIED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "2001::/32", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    )
)  # fmt: skip


def address_allowed(address: str, allowed: list[Network]) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return True
    if any(ip.version == network.version and ip in network for network in DENIED):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def check_url(url: str) -> tuple[str, int]:
    """Refuse what no fetch should touch; returns (host, port)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed IPv6 bracket
        raise Refused(f"not a URL: {exc}", url) from exc
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

    def __init__(self, allowed: list[Network], resolver: Resolver):
        self.allowed = allowed
        self.resolver = resolver

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        try:
            addresses = self.resolver.addresses(host, port)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        permitted = [a for a in addresses if address_allowed(a, self.allowed)]
        if not permitted:
            raise _GuardRefusal(f"{host} resolves to {', '.join(addresses)}: not a public address")
        stream = super().connect_tcp(permitted[0], port, timeout, local_address, socket_options)
        return WatchedStream(stream)


class _Exchange:
    """One request and its answer, with the moment it must be over."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.expired = False
        self.sock: socket.socket | None = None
        self.lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        with self.lock:
            self.sock = sock
            if self.expired:
                _shut(sock)

    def cut(self) -> None:
        with self.lock:
            self.expired = True
            _shut(self.sock)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        # wakes a thread blocked in recv() or send() on it (TLS too: the raw socket)
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "mediamon_exchange", default=None
)


class Watchdog:
    """One thread per process that cuts off exchanges past their deadline."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._active: set[_Exchange] = set()
        self._pid = 0

    @contextmanager
    def watch(self, deadline: float) -> Iterator[_Exchange]:
        exchange = _Exchange(deadline)
        with self._wake:
            if self._pid != os.getpid():  # first use in this process (or after a fork)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="fetch-watchdog", daemon=True).start()
            self._active.add(exchange)
            self._wake.notify()
        token = _current.set(exchange)
        try:
            yield exchange
        finally:
            _current.reset(token)
            with self._wake:
                self._active.discard(exchange)

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                for exchange in [e for e in self._active if e.deadline <= now]:
                    self._active.discard(exchange)
                    exchange.cut()
                soonest = min((e.deadline for e in self._active), default=None)
                self._wake.wait(None if soonest is None else max(0.0, soonest - now) + 0.01)


WATCHDOG = Watchdog()


class WatchedStream(httpcore.NetworkStream):
    """A connection whose socket belongs, for each read and write, to the exchange
    under way, so that the watchdog can cut it off (a pooled connection serves many
    exchanges one after another)."""

    def __init__(self, inner: httpcore.NetworkStream):
        self.inner = inner

    def _claim(self) -> None:
        exchange = _current.get()
        if exchange is not None and exchange.sock is None:
            exchange.attach(self.inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._claim()
        return self.inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._claim()
        self.inner.write(buffer, timeout)

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):  # type: ignore[no-untyped-def]
        self._claim()
        return WatchedStream(self.inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked of each idle connection whenever one is freed
            return _readable(self.inner.get_extra_info("socket"))
        return self.inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """Has the connection's socket data or an end of file waiting (an idle connection the
    server closed)? The system's own poll, also on the green pool: gevent's version makes
    and drops an event watcher on each call, which made a large share of a fetch's CPU."""
    if sock is None or sock.fileno() == -1:
        return True
    poller = _system_poll()()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


@functools.cache
def _system_poll() -> Any:
    """``select.poll`` as the system has it (gevent keeps the original when it patches)."""
    from gevent import monkey

    return monkey.get_original("select", "poll")


class _GuardRefusal(httpcore.ConnectError):
    pass


class Fetcher:
    """One per worker process; thread-safe like the httpx client it wraps."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.allowed = parse_networks(settings.allow_private_addresses)
        # No cap on connections beyond the pool's own concurrency (a cap would queue
        # fetches behind hosts that hang); few kept alive, as each is scanned per request.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=8)
        transport = httpx.HTTPTransport(retries=0, limits=limits)
        # httpx does not expose httpcore's network backend; the pool has kept it under
        # this name through httpcore 1.x (checked in tests/unit/test_http.py).
        self.resolver = Resolver()
        transport._pool._network_backend = GuardedBackend(self.allowed, self.resolver)
        self.client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            # decoded by _decoded(), one layer, under the cap
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self.client.close()

    def precheck(self, url: str) -> None:
        """Refuse a URL before anything is sent for it (its robots.txt included): a bad
        scheme, credentials, or a host with no public address."""
        host, port = check_url(url)
        try:
            addresses = self.resolver.addresses(host.strip("[]"), port)
        except socket.gaierror:
            return  # unresolvable: the fetch itself will fail and say so
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
            response = self._one(current, headers or {}, accept, cap, deadline, total)
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
                try:
                    nxt = urljoin(current, location.strip())
                except ValueError as exc:
                    raise FetchError(
                        "permanent", f"redirect to a bad URL: {exc}", url=current
                    ) from exc
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
        the same guard and deadline as GET. Raises FetchError for any non-2xx answer."""
        host, _ = check_url(url)
        if is_ip(host) and not address_allowed(host, self.allowed):
            raise Refused(f"{host} is not a public address", url)
        started = time.monotonic()
        deadline = started + timeout
        with (
            WATCHDOG.watch(deadline) as exchange,
            _translated_errors(url, exchange, timeout),
            self.client.stream(
                "POST", url, content=body, headers=headers, timeout=_timeout(deadline)
            ) as resp,
        ):
            answer = b"".join(_decoded(resp, 65536, url, truncate=True))
        elapsed = time.monotonic() - started
        result = Response(url, resp.status_code, _headers(resp), answer, elapsed)
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
        self,
        url: str,
        headers: dict[str, str],
        accept: str,
        cap: int,
        deadline: float,
        total: float,
    ) -> Response:
        if deadline - time.monotonic() <= 0:
            raise FetchError("transient", "deadline passed before the request", url=url)
        with (
            WATCHDOG.watch(deadline) as exchange,
            _translated_errors(url, exchange, total),
            self.client.stream(
                "GET", url, headers={"Accept": accept, **headers}, timeout=_timeout(deadline)
            ) as resp,
        ):
            if resp.status_code in REDIRECTS or resp.status_code == 304:
                return Response(url, resp.status_code, _headers(resp), b"", 0.0)
            content = b"".join(_decoded(resp, cap, url))
            result = Response(url, resp.status_code, _headers(resp), content, 0.0)
        if result.status >= 400:
            raise _status_error(result)
        return result


def _timeout(deadline: float) -> httpx.Timeout:
    """Per-operation timeouts inside the exchange's deadline (the watchdog keeps the
    deadline itself): a silent server is noticed within 10 s."""
    remaining = max(0.001, deadline - time.monotonic())
    return httpx.Timeout(min(10.0, remaining), connect=min(10.0, remaining))


def _decoded(
    resp: httpx.Response, cap: int, url: str, *, truncate: bool = False
) -> Iterator[bytes]:
    """The body, decoded here from the raw stream: at most one content coding, never
    more than ``cap`` decoded bytes held (nor ``cap`` raw ones). Past the cap: FetchError,
    or the first ``cap`` bytes with ``truncate``."""
    inflate = inflater(resp.headers.get("content-encoding", ""), url)
    size = raw_size = 0
    for raw in resp.iter_raw():
        raw_size += len(raw)
        pieces = inflate(raw) if inflate else [raw]
        for piece in pieces:
            size += len(piece)
            if size > cap or raw_size > cap:
                if truncate:
                    yield piece[: max(0, cap - (size - len(piece)))]
                    return
                raise FetchError(
                    "permanent", f"body larger than {cap} bytes", status=resp.status_code, url=url
                )
            yield piece


def inflater(header: str, url: str) -> Any:
    """A function from raw chunks to decoded pieces for the response's content coding
    (None for identity). Each piece is at most 1 MiB, so a bomb is noticed at the cap."""
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise FetchError(
            "permanent", f"stacked content codings ({header}): only one layer is decoded", url=url
        )
    coding = codings[0]
    if coding in ("gzip", "x-gzip"):
        return _Inflater(16 + zlib.MAX_WBITS, url).pieces
    if coding == "deflate":  # zlib-wrapped; raw deflate is tried if that fails
        return _Inflater(zlib.MAX_WBITS, url, raw_fallback=True).pieces
    raise FetchError("permanent", f"unsupported content coding {coding!r}", url=url)


class _Inflater:
    """One content coding, inflated in pieces of at most 1 MiB."""

    def __init__(self, wbits: int, url: str, *, raw_fallback: bool = False):
        self.wbits, self.url, self.raw_fallback = wbits, url, raw_fallback
        self.inflater = zlib.decompressobj(wbits)
        self.started = False

    def pieces(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                piece = self.inflater.decompress(data, 2**20)
            except zlib.error as exc:
                if self.raw_fallback and not self.started:  # a server sending raw deflate
                    self.inflater, self.raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise FetchError(
                    "permanent", f"cannot decode the body: {exc}", url=self.url
                ) from exc
            self.started = True
            yield piece
            if self.inflater.unconsumed_tail:
                data = self.inflater.unconsumed_tail
            elif self.inflater.eof and self.inflater.unused_data.strip(b"\0"):
                data = self.inflater.unused_data.lstrip(b"\0")  # another gzip member
                self.inflater = zlib.decompressobj(self.wbits)
            else:
                data = b""


@contextmanager
def _translated_errors(url: str, exchange: _Exchange, total: float) -> Iterator[None]:
    """httpx's failures as the fetcher's: an exchange the watchdog cut off, refusals by
    the address guard, timeouts (transient), a URL that cannot be sent (permanent), other
    transport failures (transient), memory exhausted (permanent)."""
    try:
        yield
    except FetchError:
        raise
    except Exception as exc:
        if exchange.expired:
            raise FetchError(
                "transient", f"slower than the {total:.0f}s deadline", url=url
            ) from exc
        raise _translated(exc, url) from exc


def _translated(exc: Exception, url: str) -> FetchError:
    if isinstance(exc, _GuardRefusal):
        return Refused(str(exc), url)
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("transient", f"timeout: {type(exc).__name__}", url=url)
    if isinstance(exc, httpx.DecodingError):
        return FetchError("permanent", f"cannot decode the body: {exc}", url=url)
    if isinstance(exc, httpx.TransportError):
        # httpx re-raises httpcore's errors "from" them: the guard's refusal is the cause
        if isinstance(exc.__cause__, _GuardRefusal):
            return Refused(str(exc.__cause__), url)
        return FetchError("transient", f"{type(exc).__name__}: {exc}", url=url)
    if isinstance(exc, httpx.InvalidURL | UnicodeError | ValueError):  # IDNA, bad ports
        return FetchError("permanent", f"not a usable URL: {exc}"[:300], url=url)
    if isinstance(exc, MemoryError):
        return FetchError("permanent", "ran out of memory reading the body", url=url)
    if isinstance(exc, httpx.HTTPError):
        return FetchError("transient", f"{type(exc).__name__}: {exc}", url=url)
    raise exc


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
