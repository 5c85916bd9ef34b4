"""The network's faults against the I/O pool (gevent): a host that must be waited for
holds no thread, hosts that hang or reset cost their own feeds only, and the pipeline
never runs on the I/O pool. Each test runs `mediamon worker` pools of its own."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT
from tests.feedserver import FeedServer
from tests.integration.conftest import stop_worker, wait_ready, wait_until
from tests.processes import start_pools

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ENV = {"MEDIAMON_ALLOW_PRIVATE_ADDRESSES": "127.0.0.0/8", "MEDIAMON_FETCH_TIMEOUT": "3"}


@pytest.fixture
def pools() -> Iterator[list[tuple[subprocess.Popen[bytes], int]]]:
    procs: list[tuple[subprocess.Popen[bytes], int]] = []
    yield procs
    for proc, _ in procs:
        stop_worker(proc)


def _start(procs: list, name: str, pool: str = "both", **env: str) -> None:  # type: ignore[type-arg]
    """Start `mediamon worker --pool POOL` and wait until every worker started so far
    answers (both pools are two Celery workers)."""
    log = ROOT / ".state" / f"test-io-{name}.log"
    proc = start_pools(name, log, pool=pool, env={**os.environ, **ENV, **env})
    procs.append((proc, 2 if pool == "both" else 1))
    wait_ready(pools=sum(count for _, count in procs))


def _feed(feed_id: str, url: str, **extra):  # type: ignore[no-untyped-def]
    from workers.feeds.polling import store
    from workers.feeds.store import FeedConfig

    store().upsert(FeedConfig(id=feed_id, url=url, adaptive=False, interval=2, **extra))
    return feed_id


def _rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>{t}</title><link>{u}</link><description>{t}: talks in Kyiv.</description></item>" for t, u in items)  # fmt: skip
    return f'<rss version="2.0"><channel><title>x</title>{entries}</channel></rss>'


def test_a_host_to_be_waited_for_holds_no_thread(search, redis_client, pools) -> None:  # type: ignore[no-untyped-def]
    """One I/O thread, 1 s between requests to a host: five pages of one host are
    fetched a second apart, and meanwhile a feed of another host is polled at once.
    A pool that slept through the waits would poll it after the five pages."""
    from tests.integration.conftest import start_beat
    from workers.feeds.polling import poll_feed, store

    with FeedServer(hosts=2) as server:
        busy, other = server.site(0), server.site(1)
        server.set("busy", _rss([(f"page {i}", f"{busy}/articles/en-page.html?n={i}") for i in range(5)]))  # fmt: skip
        server.set("other", _rss([("other", f"{other}/articles/en-front.html")]))
        _start(pools, "wait", MEDIAMON_IO_CONCURRENCY="1", MEDIAMON_HOST_MIN_INTERVAL="1")
        beat = start_beat("wait")  # its one-second tick releases what waited for a slot
        try:
            poll_feed.delay(_feed("t-busy", f"{busy}/dyn/busy"))
            wait_until(lambda: store().state("t-busy").get("polls"), 20)
            queued = time.time()
            poll_feed.delay(_feed("t-other", f"{other}/dyn/other"))
            state = wait_until(lambda: (s := store().state("t-other")).get("polls") and s, 20)
            assert state["status"] == "ok" and float(state["last_attempt_at"]) - queued < 3.0
            wait_until(lambda: server.hits("/articles/en-page.html") == 5, 30)
        finally:
            stop_worker(beat)
        times = sorted(t for _, p, t in server.requests if p.startswith("/articles/en-page.html"))
        assert times[-1] - times[0] >= 3.5  # the host's spacing held: 4 gaps of ~1 s
        assert float(state["last_attempt_at"]) < times[-1]  # polled while the host waited


def test_hosts_that_hang_or_reset_cannot_starve_the_rest(search, redis_client, pools) -> None:  # type: ignore[no-untyped-def]
    """20 feeds on 20 hosts, beat ticking; 2 hosts never answer (10%), all with a pool
    of 4 threads: the 18 others are polled on schedule (every 2 s, on beat's 5 s tick),
    the 2 are recorded as failing at the 3 s deadline and back off."""
    from tests.integration.conftest import start_beat
    from workers.feeds.polling import store

    with FeedServer(hosts=20) as server:
        for n in range(20):
            server.set(f"f{n}", _rss([(f"story {n}", f"{server.site(n)}/articles/en-page.html?f={n}")]))  # fmt: skip
            _feed(f"t-hang-{n}", f"{server.site(n)}/{'hang' if n < 2 else f'dyn/f{n}'}")
        _start(pools, "hang", MEDIAMON_IO_CONCURRENCY="4")
        beat = start_beat("hang")
        try:
            time.sleep(25)
        finally:
            stop_worker(beat)
        states = store().states([f"t-hang-{n}" for n in range(20)])
    healthy = [states[f"t-hang-{n}"] for n in range(2, 20)]
    assert all(s["status"] in ("ok", "unchanged") for s in healthy), healthy
    assert min(int(s["polls"]) for s in healthy) >= 3  # every ~5 s for 25 s
    for n in (0, 1):
        hung = states[f"t-hang-{n}"]
        assert hung["status"] == "failing" and hung["last_error_kind"] == "transient"
        assert int(hung["polls"]) <= 4  # backed off: 1, 2, 4, 8 s after each 3 s failure


def test_the_pipeline_never_runs_on_the_io_pool(search, redis_client, pools) -> None:  # type: ignore[no-untyped-def]
    """With only the I/O pool running, fetched items wait for the CPU pool: nothing is
    processed; the CPU pool, started later, processes them."""
    from tests.integration.conftest import refresh

    def indexed() -> int:
        refresh(search)
        body = {"query": {"term": {"feed_id": "t-split"}}}
        return int(
            search.request("POST", f"/{search.index_name('articles')}/_count", body)["count"]
        )

    from workers.feeds.polling import poll_feed
    from workers.settings import get_settings
    from workers.state import State

    with FeedServer(latency=None) as server:
        server.set("split", _rss([(f"story {i}", server.url(f"/articles/en-page.html?s={i}")) for i in range(3)]))  # fmt: skip
        _start(pools, "io-only", pool="io")
        poll_feed.delay(_feed("t-split", server.url("/dyn/split")))
        wait_until(lambda: server.hits("/articles/en-page.html") == 3, 20)
        time.sleep(2)
        state = State(get_settings())
        assert indexed() == 0 and state.redis.llen(state.key("ready")) == 3
        _start(pools, "cpu-only", pool="cpu")
        wait_until(lambda: indexed() == 3, 30)


def test_pages_of_an_io_process_killed_mid_fetch_are_fetched_again(
    search, redis_client, pools
) -> None:  # type: ignore[no-untyped-def]
    """The I/O process fetches the pages it polled itself, each leased in Redis: killed
    (SIGKILL) while its three pages hang, nothing is lost. Pools started again fetch
    them when the lease ends (2 × the 3 s deadline + 15 s), fall back to the feed's
    text at the deadline, and index each item once."""
    import signal

    from tests.integration.conftest import refresh, start_beat
    from workers.feeds.polling import fetch_lease, poll_feed

    def indexed() -> list[str]:
        refresh(search)
        body = {"query": {"term": {"feed_id": "t-lease"}}, "size": 10}
        hits = search.request("POST", f"/{search.index_name('articles')}/_search", body)
        return [hit["_id"] for hit in hits["hits"]["hits"]]

    with FeedServer(latency=None) as server:
        server.set("lease", _rss([(f"story {i}", server.url(f"/hang?n={i}")) for i in range(3)]))  # fmt: skip
        _start(pools, "lease-a")
        poll_feed.delay(_feed("t-lease", server.url("/dyn/lease")))
        wait_until(lambda: server.hits("/hang") == 3, 20)
        first, _ = pools.pop()
        os.killpg(first.pid, signal.SIGKILL)  # no warm shutdown: its green threads are gone
        first.wait()
        killed_at = time.time()
        assert indexed() == []
        _start(pools, "lease-b")
        beat = start_beat("lease")  # its one-second tick releases the pages whose lease ended
        try:
            found = wait_until(
                lambda: (ids := indexed()) and len(ids) == 3 and ids, fetch_lease() + 40
            )
        finally:
            stop_worker(beat)
        assert len(set(found)) == 3
        assert server.hits("/hang") == 6  # each page tried once more, not before its lease ended
        tried_again = [t for _, p, t in server.requests if p.startswith("/hang")][3:]
        assert min(tried_again) >= killed_at + fetch_lease() - 15
