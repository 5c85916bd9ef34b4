"""Alerts across crashes: a worker killed between writing a batch's alert events and
queueing their deliveries, and a rule lookup that fails once. Every event reaches the
receiver, and none twice."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from tests.integration.conftest import wait_until
from tests.processes import start_worker
from tests.webhooks import Receiver
from workers.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]
STORIES = [
    "中国国家主席习近平{n}日在莫斯科同俄罗斯总统普京举行会谈，双方讨论了乌克兰局势。",
    "俄羅斯總統蒲亭{n}日抵達撒馬爾罕，將與中國國家主席習近平會談，討論烏克蘭戰事。",
    "Xi Jinping and Vladimir Putin met in Beijing on day {n} to talk about the war in Ukraine.",
    "習近平與普丁{n}日通電話，雙方就烏克蘭問題交換意見，並談及能源合作與貿易。",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _worker(name: str, fault: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MEDIAMON_FAULT_POINTS": fault,
        "MEDIAMON_ALERT_OUTBOX_DEADLINE": "2",
        "MEDIAMON_ALERT_RETRY_BASE": "0.5",
    }
    log = ROOT / ".state" / f"test-fault-worker-{name}.log"
    return start_worker(name, log, concurrency=1, env=env)


def _add_rule(rule_id: str, url: str) -> None:
    query = "entity:xi_jinping AND entity:putin"
    result = CliRunner().invoke(main, ["alerts", "add", rule_id, "-q", query, "--webhook", url])
    assert result.exit_code == 0, result.output


def _ingest(tmp_path, tag: str, count: int) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{tag}.jsonl"
    lines = [
        {"url": f"https://{tag}.example/{n}", "source": tag, "text": STORIES[n % 4].format(n=n)}
        for n in range(count)
    ]
    path.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in lines), encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", str(path), "--no-wait"])
    assert result.exit_code == 0, result.output


def _events(search, rule_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    search.request("POST", f"/{search.index_name('alert-events')}/_refresh")
    body = {"query": {"term": {"rule_id": rule_id}}, "size": 1000, "_source": False}
    hits = search.request("POST", f"/{search.index_name('alert-events')}/_search", body)
    return {h["_id"] for h in hits["hits"]["hits"]}


def _received(receiver: Receiver, path: str) -> list[str]:
    """Every event id the receiver got on ``path``, once per time it got it."""
    return [e["id"] for _, _, body, _ in receiver.on(path) for e in json.loads(body)["events"]]


def _sweep() -> None:
    from workers.app import app

    app.send_task("mediamon.sweep_alert_outbox")


def _assert_each_event_arrived_once(search, receiver: Receiver, rule_id: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """Sweep until every event of the rule arrived, sweep more, and give any duplicate
    time to arrive: then each event id was received exactly once."""

    def all_arrived() -> bool:
        _sweep()
        time.sleep(1)
        events = _events(search, rule_id)
        return bool(events) and set(_received(receiver, path)) >= events

    wait_until(all_arrived, 90, interval=1)
    for _ in range(4):
        _sweep()
        time.sleep(1)
    assert sorted(_received(receiver, path)) == sorted(_events(search, rule_id)), "lost or twice"


def _start(name: str, fault: str, receiver: Receiver, workers, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A worker with ``fault`` armed, a rule ``name`` posting to the receiver, and 8
    matching articles ingested. Returns the receiver's path for the rule."""
    workers.append(_worker(name, fault))
    path = f"/ok/{name}"
    _add_rule(name, receiver.url(path))
    _ingest(tmp_path, name, 8)
    return path


def _fired(redis_client, point: str) -> bool:  # type: ignore[no-untyped-def]
    from workers.settings import get_settings
    from workers.state import State

    return bool(redis_client.exists(State(get_settings()).key("fault-fired", point)))


def test_a_worker_killed_between_writing_events_and_queueing_deliveries_loses_none(
    search, redis_client, receiver: Receiver, workers, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = _start("outbox-crash", "after_alert_events", receiver, workers, tmp_path)
    wait_until(lambda: _fired(redis_client, "after_alert_events"), 60)
    events = wait_until(lambda: _events(search, "outbox-crash"), 60)

    assert len(events) >= 4
    # The batch ran again in a new process and found its events written (409): only the
    # sweeper can route them now.
    _assert_each_event_arrived_once(search, receiver, "outbox-crash", path)
    log = (ROOT / ".state" / "test-fault-worker-outbox-crash.log").read_text(errors="replace")
    assert "signal 9" in log  # the pool process did die, as under kill -9


def test_a_rule_lookup_that_fails_once_is_retried_and_delivers_once(
    search, redis_client, receiver: Receiver, workers, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = _start("outbox-lookup", "rule_lookup_fails", receiver, workers, tmp_path)
    _assert_each_event_arrived_once(search, receiver, "outbox-lookup", path)
    assert _fired(redis_client, "rule_lookup_fails")


def test_events_routed_twice_reach_the_receiver_once(
    search, receiver: Receiver, workers, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """What a crash after queueing and before marking leaves: two queuings of the same
    events. Each delivery claims its (event, channel) first, so the second sends none."""
    from workers.alerts import outbox

    path = _start("outbox-twice", "", receiver, workers, tmp_path)

    def events() -> list[dict]:
        search.request("POST", f"/{search.index_name('alert-events')}/_refresh")
        body = {"query": {"term": {"rule_id": "outbox-twice"}}, "size": 100}
        hits = search.request("POST", f"/{search.index_name('alert-events')}/_search", body)
        return [h["_source"] for h in hits["hits"]["hits"]]

    def settled() -> list[dict]:
        """The rule's events once no more are being written and all have arrived (the
        eight articles may be matched in more than one batch)."""
        before = events()
        time.sleep(2)
        now = events()
        ids = {e["id"] for e in now}
        done = now and len(now) == len(before) and set(_received(receiver, path)) >= ids
        return now if done else []

    found = wait_until(settled, 90, interval=0.5)
    outbox.route(found)  # routed again by hand: queued a second time
    outbox.route(found)  # and a third
    time.sleep(4)
    received = _received(receiver, path)
    assert sorted(received) == sorted(e["id"] for e in found)
