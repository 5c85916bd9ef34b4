"""A threaded HTTP server on 127.0.0.1 that tests run as a context manager."""

from __future__ import annotations

import http.server
import socketserver
import sys
import threading
from typing import Self


class _QuietServer(http.server.ThreadingHTTPServer):
    """Clients that hang up early (fetch caps, deadlines) are expected here, not errors."""

    daemon_threads = True
    # socketserver listens with a backlog of 5: with dozens of clients connecting at
    # once the kernel drops the rest, and each retries its SYN a second later
    request_queue_size = 1024

    def server_bind(self) -> None:
        """As HTTPServer's, without its reverse DNS lookup of the address (seconds for
        each of many loopback addresses)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = (
            str(self.server_address[0]),
            int(self.server_address[1]),
        )

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class LocalServer:
    """Serves ``handler`` on 127.0.0.1 (a free port unless given) in a daemon thread;
    with ``hosts``, on each of those loopback addresses too (127.0.0.0/8 is all
    loopback on Linux), at the same port: many "sites" for per-host politeness."""

    def __init__(
        self,
        handler: type[http.server.BaseHTTPRequestHandler],
        port: int = 0,
        hosts: int = 0,
    ) -> None:
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.others = [_QuietServer((self.host(n), self.port), handler) for n in range(1, hosts)]
        self.threads = [
            threading.Thread(target=httpd.serve_forever, daemon=True)
            for httpd in [self.httpd, *self.others]
        ]

    @staticmethod
    def host(n: int) -> str:
        """The address of "site" ``n`` (0 is 127.0.0.1)."""
        return "127.0.0.1" if n == 0 else f"127.0.{1 + n // 250}.{1 + n % 250}"

    def site(self, n: int) -> str:
        return f"http://{self.host(n)}:{self.port}"

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        for httpd in [self.httpd, *self.others]:
            httpd.shutdown()
            httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path
