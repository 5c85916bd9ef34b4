"""The real stack for integration tests: Redis and OpenSearch from `make services`,
and a real Celery worker process started here."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from email import policy

import pytest

from tests import processes
from tests.conftest import ROOT


def _services_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("MEDIAMON_REQUIRE_SERVICES"))


@pytest.fixture(scope="session")
def settings():  # type: ignore[no-untyped-def]
    from workers.settings import get_settings

    return get_settings()


@pytest.fixture(scope="session")
def redis_client(settings):  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(settings.redis_dsn, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        message = f"Redis is not running at {settings.redis_dsn}: run `make services` ({exc})"
        if _services_required():
            pytest.fail(message)
        pytest.skip(message)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def search(settings, redis_client):  # type: ignore[no-untyped-def]
    from workers.search import templates
    from workers.search.client import SearchUnavailable, connect

    try:
        client = connect(settings)
    except SearchUnavailable as exc:
        message = f"the search engine is not running: run `make services` ({exc})"
        if _services_required():
            pytest.fail(message)
        pytest.skip(message)
    templates.apply(client)
    yield client
    templates.drop(client)
    client.close()


def start_worker(name: str) -> subprocess.Popen[bytes]:
    """`mediamon worker` as users run it: an I/O pool and a CPU pool."""
    return processes.start_pools(name, ROOT / ".state" / f"test-worker-{name}.log")


def start_beat(name: str) -> subprocess.Popen[bytes]:
    state = ROOT / ".state"
    return processes.start_beat(state / f"test-beat-{name}.db", state / f"test-beat-{name}.log")


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(
                f"condition not met within {timeout}s: {getattr(predicate, '__name__', predicate)}"
            )
        time.sleep(interval)


def wait_ready(timeout: float = 30.0, pools: int = 2) -> None:
    """Until both pools (or ``pools`` workers) answer a ping."""
    from workers.app import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5)
        if len(replies) >= pools:
            return
    raise RuntimeError(f"{pools} Celery workers did not answer a ping within {timeout:.0f} s")


def stop_worker(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def worker(search) -> Iterator[subprocess.Popen[bytes]]:  # type: ignore[no-untyped-def]
    (ROOT / ".state").mkdir(exist_ok=True)
    proc = start_worker("test")
    try:
        wait_ready()
        yield proc
    finally:
        stop_worker(proc)


def refresh(search) -> None:  # type: ignore[no-untyped-def]
    search.request("POST", f"/{search.index_name('articles')}/_refresh")
    search.request("POST", f"/{search.index_name('rejected')}/_refresh")


@pytest.fixture(scope="module")
def store(worker):  # type: ignore[no-untyped-def]
    """The feed registry, with the worker running to poll what is in it."""
    from workers.feeds.polling import store as make_store

    return make_store()


def poll(store, feed_id: str, timeout: float = 30.0) -> dict:  # type: ignore[no-untyped-def]
    """Queue one poll through the worker and wait for it to be recorded (once the CPU
    pool has drained what earlier polls fetched: a poll made while it is behind waits
    for beat's release tick, which most of these tests do not run)."""
    from workers.feeds.polling import poll_feed, ready

    wait_until(lambda: ready().waiting() == 0, timeout)
    before = int(store.state(feed_id).get("polls", 0))
    poll_feed.delay(feed_id)
    wait_until(lambda: int(store.state(feed_id).get("polls", 0)) > before, timeout)
    return store.state(feed_id)


def indexed(search, **terms) -> list[dict]:  # type: ignore[no-untyped-def]
    """The articles whose fields equal ``terms`` (after a refresh), up to 200."""
    refresh(search)
    query = {"bool": {"filter": [{"term": {k: v}} for k, v in terms.items()]}}
    hits = search.request(
        "POST", f"/{search.index_name('articles')}/_search", {"query": query, "size": 200}
    )
    return [h["_source"] for h in hits["hits"]["hits"]]


class MailSink:
    """A local SMTP server's inbox (``smtp``): every message it was sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[MailSink]:
    """An SMTP server on MEDIAMON_SMTP_PORT for the e-mail channel."""
    from aiosmtpd.controller import Controller

    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=int(os.environ["MEDIAMON_SMTP_PORT"]))
    controller.start()
    yield sink
    controller.stop()
