"""Spike rules end to end: articles through the real worker, the spike check run by the
worker as beat would send it, the event in the real index, the delivery signed to a
local webhook receiver; and the retroactive test on the same series."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from tests.integration.conftest import refresh, wait_until
from tests.integration.test_alerts import _add, _events, _ingest
from tests.webhooks import Receiver, secret_in, signed
from workers.cli import main

pytestmark = pytest.mark.integration

STORY = (
    "中国国家主席习近平第{n}次同俄罗斯总统普京通电话，双方讨论了{topic}。"
    "这是{place}方面{day}日发布的消息，编号{n}。"
)
PLACES = ("北京", "莫斯科", "新加坡", "台北", "香港", "伦敦")
TOPICS = ("能源合作", "乌克兰局势", "上海合作组织峰会", "贸易往来", "边境安全", "粮食运输")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _story(n: int, day: datetime) -> dict[str, str]:
    return {
        "url": f"https://spike.example/{n}",
        "title": f"习近平与普京通话（{n}）",
        "text": STORY.format(
            n=n, topic=TOPICS[n % len(TOPICS)], place=PLACES[n % len(PLACES)], day=day.day
        ),
        "source": "t-spike",
        "published_at": day.isoformat(),
    }


@pytest.fixture(scope="module")
def burst(search, worker, tmp_path_factory) -> datetime:  # type: ignore[no-untyped-def]
    """Twenty quiet days (one story a day), then eight stories today; four stories of
    something else every day, so that shares move too; and one of a third source every
    hour of the last day and a half (hours in which nothing at all is indexed are
    unknown to an hourly rule, not empty)."""
    now = datetime.now(UTC)
    today = max(now - timedelta(minutes=2), now.replace(hour=0, minute=0, second=1))
    articles = [
        _story(n, (now - timedelta(days=n)).replace(hour=12, minute=0)) for n in range(1, 21)
    ]
    articles += [_story(100 + n, today) for n in range(8)]
    for n in range(21):
        day = today if n == 0 else (now - timedelta(days=n)).replace(hour=12, minute=0)
        articles += [
            {
                "url": f"https://other.example/{n}/{k}",
                "title": f"Harbour report {n}-{k}",
                "text": f"The harbour office said on day {n} that ferry line {k} runs "
                f"{'late' if k % 2 else 'early'} after storm number {n * 4 + k}.",
                "source": "t-other",
                "published_at": day.isoformat(),
            }
            for k in range(4)
        ]
    articles += [
        {
            "url": f"https://hourly.example/{h}",
            "title": f"Market note {h}",
            "text": f"Traders in hour {h} watched grain number {h * 7} and freight rate {h}.",
            "source": "t-hourly",
            "published_at": (now - timedelta(hours=h)).isoformat(),
        }
        for h in range(1, 37)
    ]
    _ingest(tmp_path_factory.mktemp("spike"), articles)
    refresh(search)
    return today


def _check() -> None:
    from workers.app import app

    app.send_task("mediamon.check_spikes")


def test_a_burst_fires_once_delivered_with_its_numbers(search, worker, receiver, burst) -> None:  # type: ignore[no-untyped-def]
    out = _add(
        "t-spike",
        "--spike",
        "topic:xi_putin",
        "--source",
        "t-spike",
        "--per",
        "day",
        "--webhook",
        receiver.url("/spike"),
    )
    secret = secret_in(out)
    listed = CliRunner().invoke(main, ["alerts", "list"])
    assert "spike/day/count" in listed.stdout
    _check()
    _, headers, body, _ = wait_until(lambda: receiver.on("/spike") and receiver.on("/spike")[0], 30)
    assert signed(secret, headers, body)
    event = json.loads(body)["events"][0]
    assert event["kind"] == "spike"
    spike = event["spike"]
    assert (spike["count"], spike["baseline"], spike["factor"]) == (8, 1.0, 8.0)
    assert spike["label"] == burst.date().isoformat() and spike["sparkline"].endswith("█")
    assert "8 articles on" in event["title"]
    stored = wait_until(
        lambda: (
            (e := _events(search, "t-spike"))
            and e[0]["delivery"]["webhook"]["status"] == "delivered"
            and e
        ),
        20,
    )
    assert len(stored) == 1 and stored[0]["spike"]["score"] >= 3
    # the next checks find the same period: no second event, no second message
    _check()
    _check()
    time.sleep(3)
    assert len(_events(search, "t-spike")) == 1 and len(receiver.on("/spike")) == 1


def test_keyword_alerts_do_not_percolate_spike_rules(search, worker, receiver, burst) -> None:  # type: ignore[no-untyped-def]
    from workers.alerts.matching import match

    _add("t-spike-only", "--spike", "source:t-spike", "--webhook", receiver.url("/spike-only"))
    doc = {"id": "x", "story_id": "x", "source": "t-spike", "text_tokens": "普京", "topics": []}
    assert not [e for e in match(search, [doc]) if e["rule_id"].startswith("t-spike")]


def test_the_retroactive_test_lists_the_same_firing(search, worker, burst) -> None:  # type: ignore[no-untyped-def]
    day = burst.date().isoformat()
    _add("t-replay", "--spike", "topic:xi_putin", "--source", "t-spike")
    result = CliRunner().invoke(main, ["alerts", "test", "t-replay", "--since", "30d"])
    assert result.exit_code == 0, result.output
    fired = [line for line in result.stdout.splitlines() if line.startswith("fired ")]
    assert len(fired) == 1 and fired[0].startswith(f"fired {day} now=8 baseline=1 factor=8.0")
    # absolute dates, and a parameter tried without saving it: min count 9 never fires
    since = (burst - timedelta(days=25)).date().isoformat()
    tuned = CliRunner().invoke(
        main, ["alerts", "test", "t-replay", "--since", since, "--until", day, "--min-count", "9"]
    )
    assert tuned.exit_code == 0, tuned.output
    assert "0 firing(s)" in tuned.stdout
    adhoc = CliRunner().invoke(
        main, ["alerts", "test", "--spike", "topic:xi_putin source:t-spike", "--since", "30d"]
    )
    assert adhoc.exit_code == 0 and f"fired {day}" in adhoc.stdout, adhoc.output
    # the same rule written in the rule language
    _add("t-spike-form", "-q", "spike(topic:xi_putin source:t-spike, per: day, min count: 3)")
    written = CliRunner().invoke(main, ["alerts", "test", "t-spike-form", "--since", "30d"])
    assert f"fired {day} now=8 baseline=1 factor=8.0" in written.stdout, written.output
    hourly = CliRunner().invoke(
        main, ["alerts", "test", "t-replay", "--per", "hour", "--since", "2d", "--window", "24"]
    )
    assert hourly.exit_code == 0, hourly.output
    hour = burst.strftime("%Y-%m-%dT%H:00")
    assert f"fired {hour} now=8 baseline=0 factor=new" in hourly.stdout
    bad = CliRunner().invoke(main, ["alerts", "test", "t-replay", "--since", "last year"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_a_rule_the_engine_refuses_is_skipped_and_the_others_are_judged(search, burst) -> None:  # type: ignore[no-untyped-def]
    from pipelines.periods import Period
    from pipelines.spikes import SpikeParams
    from workers.alerts.spikes import _count_each

    now = datetime.now(UTC)
    good = ({"rule_id": "good", "query": {"term": {"source": "t-spike"}}}, SpikeParams())
    bad = (
        {"rule_id": "bad", "query": {"range": {"published_at": {"gte": "not a date"}}}},
        SpikeParams(),
    )
    found = _count_each(
        search, [good, bad], per="day", period=Period(now - timedelta(days=30), now), tz=UTC
    )
    assert set(found) == {"good"} and sum(found["good"].counts) == 28


def test_spike_rules_edit_show_and_slack(search, worker, receiver, burst) -> None:  # type: ignore[no-untyped-def]
    _add(
        "t-spike-slack",
        "--spike",
        "topic:xi_putin",
        "--source",
        "t-spike",
        "--source",
        "t-other",
        "--share",
        "--min-count",
        "2",
        "--slack",
        receiver.url("/spike-slack"),
    )
    edited = CliRunner().invoke(main, ["alerts", "edit", "t-spike-slack", "--min-count", "4"])
    assert edited.exit_code == 0, edited.output
    shown = CliRunner().invoke(main, ["alerts", "show", "t-spike-slack"])
    rule = json.loads(shown.stdout.split("compiled:")[0])
    assert rule["kind"] == "spike" and rule["spike"]["min_count"] == 4
    assert rule["spike"]["measure"] == "share"  # kept from add
    refused = CliRunner().invoke(main, ["alerts", "add", "t-kw", "-q", "普京", "--per", "hour"])
    assert refused.exit_code == 2 and "--per is for spike rules" in refused.output
    _check()
    _, _, body, _ = wait_until(
        lambda: receiver.on("/spike-slack") and receiver.on("/spike-slack")[0], 30
    )
    text = json.loads(body)["text"]
    # the share of the rule's sources' articles: 8 of 12 today, 1 of 5 on other days
    assert "Coverage spike: t-spike-slack: 66.7% of coverage on" in text
    assert "baseline 20.0%" in text
    assert "now=" in text and "baseline=" in text and "factor=" in text and "█" in text


def test_topics_test_reads_an_absolute_period(search, worker, burst) -> None:  # type: ignore[no-untyped-def]
    day = burst.date().isoformat()
    result = CliRunner().invoke(
        main, ["topics", "test", "xi_putin", "--since", day, "--until", day, "-n", "1"]
    )
    assert result.exit_code == 0, result.output
    assert f"from {day} to {day}" in result.stdout
    earlier = (burst - timedelta(days=40)).date().isoformat()
    none = CliRunner().invoke(
        main, ["topics", "test", "xi_putin", "--since", earlier, "--until", earlier]
    )
    assert "0 article(s)" in none.stdout


def test_a_spike_arrives_by_email_with_its_numbers(search, worker, smtp, burst) -> None:  # type: ignore[no-untyped-def]
    _add("t-spike-mail", "--spike", "topic:xi_putin source:t-spike", "--email", "desk@example.org")
    _check()
    message = wait_until(
        lambda: [m for m in smtp.messages if m["X-Mediamon-Rule"] == "t-spike-mail"], 30
    )[0]
    assert message["Subject"].startswith("[mediamon] t-spike-mail: Coverage spike: ")
    assert "8 articles on" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "now=8 baseline=1 factor=8" in text and "█" in text
