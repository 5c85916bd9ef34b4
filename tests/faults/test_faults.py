"""Faults: a worker killed mid-batch, the engine gone for a minute, Redis restarted.
After each, every article is indexed exactly once and nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.conftest import ROOT
from tests.integration.conftest import refresh, wait_until
from tests.processes import start_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SERVICES = ROOT / "devstack" / "services.sh"


def _worker(name: str, *, concurrency: int = 1, visibility: int = 30) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MEDIAMON_VISIBILITY_TIMEOUT": str(visibility)}
    log = ROOT / ".state" / f"test-fault-worker-{name}.log"
    return start_worker(name, log, concurrency=concurrency, env=env)


def _enqueue(prefix: str, count: int, batch: int = 10) -> list[str]:
    """Stage ``count`` articles and queue them; returns their document ids."""
    from pipelines.article import RawArticle
    from pipelines.ids import doc_id
    from workers.articles.staging import to_payload
    from workers.articles.tasks import process_articles
    from workers.settings import get_settings
    from workers.state import State

    state = State(get_settings())
    raws = [
        RawArticle(
            url=f"https://{prefix}.example/{i}",
            source=prefix,
            text=f"烏克蘭局勢第{i}篇報導：基輔今天表示，北約援助持續抵達。" * 20,
        )
        for i in range(count)
    ]
    keys = state.stage([to_payload(r) for r in raws])
    for start in range(0, len(keys), batch):
        process_articles.delay(keys[start : start + batch])
    return [doc_id(r.url) for r in raws]


def _ids(search, source: str) -> list[str]:  # type: ignore[no-untyped-def]
    refresh(search)
    body = {"query": {"term": {"source": source}}, "size": 10_000, "_source": False}
    return [
        h["_id"]
        for h in search.request("POST", f"/{search.index_name('articles')}/_search", body)["hits"][
            "hits"
        ]
    ]


def _rejected(search, source: str) -> int:  # type: ignore[no-untyped-def]
    refresh(search)
    body = {"query": {"term": {"source": source}}}
    return int(search.request("POST", f"/{search.index_name('rejected')}/_count", body)["count"])


def test_kill_9_mid_batch_then_restart_indexes_everything_once(
    search, redis_client, workers
) -> None:  # type: ignore[no-untyped-def]
    expected = _enqueue("kill9", 300)
    first = _worker("kill9-a")
    workers.append(first)
    wait_until(lambda: len(_ids(search, "kill9")) >= 40, 60)
    os.killpg(first.pid, signal.SIGKILL)  # no warm shutdown: its reserved batches are unacked
    first.wait()
    partial = len(_ids(search, "kill9"))
    assert partial < 300, "the worker finished before it was killed; the test proves nothing"
    second = _worker("kill9-b")
    workers.append(second)
    found = wait_until(lambda: (ids := _ids(search, "kill9")) and len(ids) >= 300 and ids, 120)
    assert sorted(found) == sorted(expected)  # each id once: a document per id
    assert _rejected(search, "kill9") == 0


def test_search_engine_down_for_a_minute_waits_retries_and_drains(
    search, redis_client, workers
) -> None:  # type: ignore[no-untyped-def]
    worker = _worker("outage", concurrency=2, visibility=600)
    workers.append(worker)
    expected = _enqueue("outage", 100)
    wait_until(lambda: len(_ids(search, "outage")) >= 20, 60)
    subprocess.run(["bash", str(SERVICES), "search-down"], check=True)
    try:
        expected += _enqueue("outage2", 100)  # work that arrives during the outage
        time.sleep(60)
    finally:
        subprocess.run(["bash", str(SERVICES), "search-up"], check=True)
    wait_until(
        lambda: len(_ids(search, "outage")) >= 100 and len(_ids(search, "outage2")) >= 100, 300, 2
    )
    assert sorted(_ids(search, "outage") + _ids(search, "outage2")) == sorted(expected)
    assert _rejected(search, "outage") == 0 and _rejected(search, "outage2") == 0
    assert worker.poll() is None  # the worker rode it out


def test_queued_work_survives_a_redis_restart(search, redis_client, workers) -> None:  # type: ignore[no-untyped-def]
    expected = _enqueue("redis-restart", 120)  # queued; no worker yet
    time.sleep(1.5)  # AOF fsync happens every second
    subprocess.run(["bash", str(SERVICES), "redis-down"], check=True)
    subprocess.run(["bash", str(SERVICES), "redis-up"], check=True)
    worker = _worker("after-restart", concurrency=2)
    workers.append(worker)
    found = wait_until(
        lambda: (ids := _ids(search, "redis-restart")) and len(ids) >= 120 and ids, 120
    )
    assert sorted(found) == sorted(expected)
