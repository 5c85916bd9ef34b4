"""Limits on one article inside a batch: one that outlives its time budget, and one that
kills every process that touches it, cost that article alone; the rest of the batch is
indexed, and the bad one is recorded as rejected with its reason, once."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import ROOT
from tests.integration.conftest import refresh, wait_until
from tests.processes import start_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _worker(name: str, **env: str) -> subprocess.Popen[bytes]:
    log = ROOT / ".state" / f"test-fault-worker-{name}.log"
    return start_worker(name, log, concurrency=1, env={**os.environ, **env})


def _enqueue(source: str, texts: list[str]) -> None:
    from pipelines.article import RawArticle
    from workers.articles.staging import to_payload
    from workers.articles.tasks import process_articles
    from workers.settings import get_settings
    from workers.state import State

    raws = [
        RawArticle(url=f"https://{source}.example/{i}", source=source, text=text)
        for i, text in enumerate(texts)
    ]
    process_articles.delay(State(get_settings()).stage([to_payload(r) for r in raws]))


def _hits(search, index: str, source: str) -> list[dict]:  # type: ignore[no-untyped-def]
    refresh(search)
    body = {"query": {"term": {"source": source}}, "size": 100}
    found = search.request("POST", f"/{search.index_name(index)}/_search", body)
    return [h["_source"] for h in found["hits"]["hits"]]


NORMAL = "烏克蘭局勢：基輔今天表示，北約援助持續抵達，外交部呼籲各方克制。" * 10


def test_an_article_past_its_time_budget_is_rejected_alone(search, redis_client, workers) -> None:  # type: ignore[no-untyped-def]
    workers.append(_worker("budget", MEDIAMON_ITEM_TIME_LIMIT="0.3"))
    _enqueue("budget-warm", [NORMAL])  # the first article of a process loads the pipeline
    wait_until(lambda: _hits(search, "articles", "budget-warm") or _hits(search, "rejected", "budget-warm"), 60)  # fmt: skip
    slow = "Talks on Ukraine continued in Kyiv. 普京與習近平會談。 " * 40_000  # seconds of work
    _enqueue("budget", [NORMAL, slow, NORMAL + "第二篇。"])
    rejected = wait_until(lambda: _hits(search, "rejected", "budget"), 60)
    assert [r["reason"] for r in rejected] == ["time_limit"]
    assert "longer than 0.3 s" in rejected[0]["detail"]
    assert len(wait_until(lambda: len(_hits(search, "articles", "budget")) == 2, 30) and _hits(search, "articles", "budget")) == 2  # fmt: skip


def test_an_article_that_kills_its_worker_twice_is_quarantined(
    search, redis_client, workers
) -> None:  # type: ignore[no-untyped-def]
    from workers.articles.batch import POISON

    workers.append(_worker("poison", MEDIAMON_FAULT_POINTS="poison_article"))
    _enqueue("poison", [NORMAL, f"{NORMAL} {POISON}", NORMAL + "第二篇。"])
    rejected = wait_until(lambda: _hits(search, "rejected", "poison"), 120)
    assert [r["reason"] for r in rejected] == ["quarantined"]
    assert "killed the worker 2 times" in rejected[0]["detail"]
    assert len(wait_until(lambda: (a := _hits(search, "articles", "poison")) and len(a) == 2 and a, 30)) == 2  # fmt: skip
    assert workers[0].poll() is None  # the worker itself lives on (its pool replaced the child)
