"""A scripted HTTP server on 127.0.0.1 for feed and page tests (and the benchmarks).

Routes:
  /feeds/<file>         a fixture from tests/data/feeds ({base} -> this server's URL),
                        with ETag / Last-Modified and 304 on a matching conditional GET
  /dyn/<name>           content set by the test: server.set(name, body, content_type)
  /articles/<case>.html the fixture article tests/data/<case>/input.* as a page
  /redirect/<n>/<path>  n 301 hops, then <path>
  /loop                 a redirect loop
  /to?url=<url>         302 to any URL (SSRF tests)
  /status/<code>        that status (429 and 503 with Retry-After: 120)
  /slow                 drips a byte every 0.5 s (longer than any test timeout)
  /big                  a 20 MiB body; /huge 100 MiB; /endless a chunked body that never ends
  /gzip/<file>          a fixture, gzip-encoded; /bomb 256 MiB of zeros, gzipped;
                        /bomb2 the same gzipped twice (Content-Encoding: gzip, gzip)
  /encoded/<kind>       the RSS fixture as deflate, raw-deflate, gzip-members, or labelled <kind>
  /hang                 never answers (until the client hangs up)
  /slow-headers         drips its status line and headers a byte every 0.5 s (GET, POST)
  /wrong-charset/<file> a UTF-8 fixture labelled ISO-8859-1
  /shared/<path>        a file of ../shared/data/feeds (gzip files served decompressed)
  /gen/<path>           whatever server.generator(path) returns (benchmarks' pages)
  /robots.txt           set with server.robots = "..."
Every request is logged in server.requests as (method, path, time).
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import math
import random
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable
from hashlib import md5
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.localserver import LocalServer
from workers.fetching.http import Fetcher
from workers.settings import Settings

DATA = Path(__file__).resolve().parent / "data"
SHARED_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
FEEDS = DATA / "feeds"
TYPES = {".xml": "application/rss+xml", ".json": "application/feed+json", ".html": "text/html"}


class Latency:
    """How a server on the internet answers: after a delay drawn from a lognormal
    distribution with the given median and a p99 of about 10 × the median, except
    that ``hang`` of the requests are never answered (the client's deadline ends them)
    and ``reset`` of the connections are reset."""

    SIGMA = math.log(10) / 2.326  # p99 / median = exp(2.326 σ) = 10

    def __init__(self, median: float, *, hang: float = 0.01, reset: float = 0.005, seed: int = 1):
        self.median, self.hang, self.reset = median, hang, reset
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def draw(self) -> tuple[str, float]:
        with self.lock:
            roll, gauss = self.rng.random(), self.rng.gauss(0.0, 1.0)
        if roll < self.hang:
            return "hang", 0.0
        if roll < self.hang + self.reset:
            return "reset", 0.0
        return "answer", self.median * math.exp(self.SIGMA * gauss)


class FeedServer(LocalServer):
    def __init__(self, port: int = 0, *, hosts: int = 0, latency: Latency | None = None) -> None:
        self.dynamic: dict[str, tuple[bytes, str]] = {}
        self.requests: list[tuple[str, str, float]] = []
        # requests that got no answer (hung or reset by ``latency``), as (path, time)
        self.unanswered: set[tuple[str, float]] = set()
        self.robots = ""
        self.generator: Callable[[str], bytes] | None = None  # serves /gen/... when set
        self.latency = latency
        super().__init__(_handler(self), port, hosts)

    def set(self, name: str, body: str | bytes, content_type: str = "application/rss+xml") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.dynamic[name] = (data.replace(b"{base}", self.base.encode()), content_type)

    def hits(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p.split("?")[0] == path)

    def fixture(self, name: str) -> bytes:
        return (FEEDS / name).read_bytes().replace(b"{base}", self.base.encode())


_BOMB: list[bytes] = []


def _bomb() -> bytes:
    """256 MiB of zeros, gzip-compressed to about 250 KB (made once)."""
    if not _BOMB:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"\0" * 2**20
        _BOMB.append(b"".join(compressor.compress(chunk) for _ in range(256)) + compressor.flush())
    return _BOMB[0]


def _encoded(body: bytes, kind: str) -> tuple[bytes, str]:
    """``body`` as a server might send it: deflate with or without the zlib wrapper,
    gzip in two members, or a coding nobody decodes."""
    if kind == "deflate":
        return zlib.compress(body), "deflate"
    if kind == "raw-deflate":
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return packer.compress(body) + packer.flush(), "deflate"
    if kind == "gzip-members":
        half = len(body) // 2
        return gzip.compress(body[:half]) + gzip.compress(body[half:]), "gzip"
    return body, kind  # e.g. "br" or "compress", sent as it is


def _handler(server: FeedServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def log_message(self, *_: object) -> None:
            pass

        def _send(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            headers = {"Content-Length": str(len(body)), **(headers or {})}
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def _conditional(self, body: bytes, content_type: str) -> None:
            etag = '"' + md5(body).hexdigest() + '"'
            modified = "Wed, 01 Jan 2025 00:00:00 GMT"
            if self.headers.get("If-None-Match") == etag:
                self._send(304, headers={"ETag": etag})
                return
            self._send(
                200, body, {"Content-Type": content_type, "ETag": etag, "Last-Modified": modified}
            )

        def _drip_headers(self) -> None:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Pad: " + b"a" * 200
            try:
                for byte in head:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            self.close_connection = True

        def do_POST(self) -> None:
            server.requests.append(("POST", self.path, time.time()))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/slow-headers":
                self._drip_headers()
            else:
                self._send(200, b"ok", {"Content-Type": "text/plain"})

        def _delay(self) -> bool:
            """Wait as a distant server would; False when the request gets no answer."""
            if server.latency is None or self.path == "/robots.txt":
                return True
            kind, seconds = server.latency.draw()
            if kind == "hang":  # until the client gives up (its deadline)
                self.connection.settimeout(120)
                with contextlib.suppress(OSError):
                    self.connection.recv(1)
                self.close_connection = True
                return False
            if kind == "reset":  # RST instead of an answer
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return False
            time.sleep(seconds)
            return True

        def do_GET(self) -> None:
            asked = time.time()
            server.requests.append(("GET", self.path, asked))
            if not self._delay():
                server.unanswered.add((self.path, asked))
                return
            parts = urlsplit(self.path)
            path = parts.path
            if path == "/robots.txt":
                self._send(
                    200 if server.robots else 404,
                    server.robots.encode(),
                    {"Content-Type": "text/plain"},
                )
            elif path.startswith("/feeds/"):
                name = path.removeprefix("/feeds/")
                if not (FEEDS / name).is_file():
                    self._send(404)
                    return
                suffix = Path(name).suffix
                self._conditional(server.fixture(name), TYPES.get(suffix, "application/xml"))
            elif path.startswith("/shared/"):
                target = (SHARED_FEEDS / path.removeprefix("/shared/")).resolve()
                if SHARED_FEEDS.resolve() not in target.parents or not target.is_file():
                    self._send(404)
                    return
                body = target.read_bytes()
                if target.suffix == ".gz":
                    body = gzip.decompress(body)
                self._send(200, body, {"Content-Type": "application/xml"})
            elif path.startswith("/gen/") and server.generator is not None:
                self._send(
                    200, server.generator(path), {"Content-Type": "text/html; charset=utf-8"}
                )
            elif path.startswith("/dyn/"):
                found = server.dynamic.get(path.removeprefix("/dyn/"))
                if found is None:
                    self._send(404)
                else:
                    self._conditional(*found)
            elif path.startswith("/articles/"):
                case = Path(path).stem
                source = (
                    next((DATA / case).glob("input.*"), None) if (DATA / case).is_dir() else None
                )
                if source is None:
                    self._send(404)
                    return
                body = source.read_bytes()
                if source.suffix == ".txt":
                    text = body.decode("utf-8")
                    body = (
                        "<html><body><article>"
                        + "".join(f"<p>{p}</p>" for p in text.split("\n") if p.strip())
                        + "</article></body></html>"
                    ).encode()
                    self._send(200, body, {"Content-Type": "text/html; charset=utf-8"})
                else:
                    self._send(200, body, {"Content-Type": "text/html"})
            elif path.startswith("/redirect/"):
                _, _, hops, rest = path.split("/", 3)
                left = int(hops) - 1
                location = f"/redirect/{left}/{rest}" if left > 0 else "/" + rest
                self._send(301, headers={"Location": location})
            elif path == "/loop":
                self._send(302, headers={"Location": "/loop2"})
            elif path == "/loop2":
                self._send(302, headers={"Location": "/loop"})
            elif path == "/to":
                self._send(302, headers={"Location": parse_qs(parts.query)["url"][0]})
            elif path.startswith("/status/"):
                code = int(path.rsplit("/", 1)[1])
                extra = {"Retry-After": "120"} if code in (429, 503) else {}
                self._send(code, f"status {code}".encode(), {"Content-Type": "text/plain", **extra})
            elif path == "/slow":
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    for _ in range(200):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:
                    pass
            elif path == "/big":
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(20 * 2**20))
                self.end_headers()
                try:
                    for _ in range(20):
                        self.wfile.write(b"x" * 2**20)
                except OSError:
                    pass
            elif path == "/huge":  # 100 MiB, announced
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(100 * 2**20))
                self.end_headers()
                try:
                    for _ in range(100):
                        self.wfile.write(b"<" * 2**20)
                except OSError:
                    pass
            elif path == "/endless":  # chunked, never ends
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    while True:
                        chunk = b"<item>" * 10_000
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                except OSError:
                    pass
            elif path.startswith("/gzip/"):
                body = gzip.compress(server.fixture(path.removeprefix("/gzip/")))
                self._send(
                    200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
                )
            elif path == "/bomb":
                self._send(
                    200,
                    _bomb(),
                    {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"},
                )
            elif path == "/bomb2":
                self._send(
                    200,
                    gzip.compress(_bomb(), 9),
                    {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip, gzip"},
                )
            elif path.startswith("/encoded/"):  # the RSS fixture in a content coding
                body, coding = _encoded(server.fixture("rss-zh-hant.xml"), path.rsplit("/", 1)[1])
                self._send(
                    200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": coding}
                )
            elif path == "/hang":  # never answers; waits until the client gives up
                self.connection.settimeout(120)
                with contextlib.suppress(OSError):
                    self.connection.recv(1)
                self.close_connection = True
            elif path == "/slow-headers":
                self._drip_headers()
            elif path.startswith("/wrong-charset/"):
                body = server.fixture(path.removeprefix("/wrong-charset/"))
                self._send(200, body, {"Content-Type": "application/rss+xml; charset=ISO-8859-1"})
            else:
                self._send(404, b"not found", {"Content-Type": "text/plain"})

    return Handler


if __name__ == "__main__":  # serve the fixtures by hand: python -m tests.feedserver [PORT]
    import sys

    with FeedServer(int(sys.argv[1]) if len(sys.argv) > 1 else 0) as s:
        print(s.base, flush=True)
        threading.Event().wait()


def local_fetcher(**limits: Any) -> Fetcher:
    """A guarded fetcher that may reach this server's 127.0.0.1 (and no other private
    address), with the given limits."""
    return Fetcher(Settings(allow_private_addresses=["127.0.0.1/32"], **limits))
