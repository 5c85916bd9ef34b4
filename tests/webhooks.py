"""A webhook receiver on 127.0.0.1 for alert tests and the alert benchmark.

POST /ok answers 200, /fail answers 500, /flaky/<n> fails n times then answers 200.
Every request is kept in ``receiver.received`` as (path, headers, body, time).
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import threading
import time

from tests.localserver import LocalServer


def signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether a received alert carries the signature ``secret`` makes of its body (the
    receiver's side of docs/alerts.md)."""
    mac = hmac.new(
        secret.encode(), f"{headers['x-mediamon-timestamp']}.".encode() + body, hashlib.sha256
    )
    return hmac.compare_digest(headers["x-mediamon-signature"], "sha256=" + mac.hexdigest())


def secret_in(output: str) -> str:
    """The signing secret `mediamon alerts add` prints once."""
    return output.split("secret")[-1].split(":", 1)[1].strip().split()[0]


class Receiver(LocalServer):
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes, float]] = []
        self.failures: dict[str, int] = {}
        self.event = threading.Condition()
        super().__init__(_handler(self))

    def on(self, path: str) -> list[tuple[str, dict[str, str], bytes, float]]:
        return [r for r in self.received if r[0] == path]


def _handler(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *_: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(
                (self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
            )
            status = 200
            if self.path == "/fail":
                status = 500
            elif self.path.startswith("/flaky/"):
                left = receiver.failures.setdefault(self.path, int(self.path.rsplit("/", 1)[1]))
                if left > 0:
                    receiver.failures[self.path] = left - 1
                    status = 503
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return Handler
