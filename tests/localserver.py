"""A threaded HTTP server on 127.0.0.1 that tests run as a context manager."""

from __future__ import annotations

import http.server
import sys
import threading
from typing import Self


class _QuietServer(http.server.ThreadingHTTPServer):
    """Clients that hang up early (fetch caps, deadlines) are expected here, not errors."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class LocalServer:
    """Serves ``handler`` on 127.0.0.1 (a free port unless given) in a daemon thread."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler], port: int = 0) -> None:
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path
