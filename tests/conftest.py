"""Shared fixtures. Integration tests get an isolated namespace on the real services:
their own Redis database, index prefix and Celery worker process."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED = ROOT.parent / "shared" / "seed" / "cna-xi-putin-2022-09-14.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Settings are read once per process (workers/settings.py), so the test namespace is
# fixed here, before any test imports the Celery app.
RUN_ID = uuid.uuid4().hex[:8]
os.environ.setdefault("MEDIAMON_INDEX_PREFIX", f"test-{RUN_ID}-")
os.environ.setdefault("MEDIAMON_REDIS_URL", "redis://127.0.0.1:6390/15")
os.environ.setdefault("MEDIAMON_LOG_JSON", "true")
# The tests' feeds live on the scripted server at 127.0.0.1, which only an explicit allow
# list lets through the SSRF guard; no politeness delay between the tests' requests.
os.environ.setdefault("MEDIAMON_ALLOW_PRIVATE_ADDRESSES", "127.0.0.1/32")
os.environ.setdefault("MEDIAMON_HOST_MIN_INTERVAL", "0")
os.environ.setdefault("MEDIAMON_HOST_MAX_CONCURRENCY", "8")
os.environ.setdefault("MEDIAMON_POLL_MIN_INTERVAL", "1")
os.environ.setdefault("MEDIAMON_POLL_DEFAULT_INTERVAL", "2")
os.environ.setdefault("MEDIAMON_FETCH_TIMEOUT", "3")
os.environ.setdefault("MEDIAMON_ROBOTS_CACHE_SECONDS", "0")  # tests change robots.txt
os.environ.setdefault("MEDIAMON_FEEDS_FILE", str(DATA / "feeds" / "empty.yaml"))
# Alert delivery: a local SMTP server (tests/integration) and quick retries.
os.environ.setdefault("MEDIAMON_SMTP_HOST", "127.0.0.1")
os.environ.setdefault("MEDIAMON_SMTP_PORT", str(free_port()))
os.environ.setdefault("MEDIAMON_ALERT_RETRY_BASE", "0.3")
os.environ.setdefault("MEDIAMON_ALERT_MAX_ATTEMPTS", "3")


def pytest_addoption(parser):  # type: ignore[no-untyped-def]
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/data/<case>/expected.json from the current output (on purpose).",
    )


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    """The scripted feed and page server on 127.0.0.1, one per test module."""
    from tests.feedserver import FeedServer

    with FeedServer() as s:
        yield s
