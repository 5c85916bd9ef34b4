"""Spike judgements: robust baselines, a minimum count, a cool-down, weekday seasons,
and the events they write."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipelines.alertevents import spike_event
from pipelines.spikes import SpikeParams, judge, latest


def days(n: int, first: date = date(2023, 1, 1)) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def test_a_burst_fires_once_and_only_after_enough_history() -> None:
    counts = [2, 1, 3, 2, 2, 1, 2, 3, 2, 2, 1, 2, 2, 3, 2, 14, 16, 12, 3, 2, 2]
    totals = [100] * len(counts)
    fired = judge(days(len(counts)), counts, totals, SpikeParams(window=14))
    assert [f.period for f in fired] == ["2023-01-16"]  # the 17th and 18th: cool-down
    first = fired[0]
    assert (first.count, first.baseline, first.factor) == (14, 2.0, 7.0)
    assert first.score >= 3 and len(first.recent) == 15
    # fewer than half a window of history before the first article: not judged
    assert judge(days(5), [0, 0, 0, 0, 9], [0, 0, 10, 10, 10], SpikeParams(window=14)) == []


def test_days_with_nothing_indexed_are_left_out_of_the_baseline() -> None:
    # a week in which nothing at all was collected (an outage), then a jump
    counts = [6, 5, 7, 6, 6, 5, 7] + [0] * 7 + [30]
    totals = [100] * 7 + [0] * 7 + [100]
    fired = judge(days(15), counts, totals, SpikeParams(window=14))
    assert [(f.period, f.baseline) for f in fired] == [("2023-01-15", 6.0)]  # not 2.5


def test_a_quiet_source_is_known_while_the_index_is_not_empty() -> None:
    # a rule on one source that published nothing for twenty days, while others did
    counts, universe, indexed = [0] * 20 + [5], [0] * 20 + [5], [90] * 21
    assert judge(days(21), counts, universe, SpikeParams()) == []  # all unknown
    fired = judge(days(21), counts, universe, SpikeParams(), indexed=indexed)
    assert [(f.period, f.baseline) for f in fired] == [("2023-01-21", 0.0)]


def test_a_quiet_series_needs_the_minimum_count() -> None:
    counts = [0] * 20 + [2]
    totals = [50] * 21
    assert judge(days(21), counts, totals, SpikeParams(min_count=3)) == []
    fired = judge(days(21), counts, totals, SpikeParams(min_count=2, threshold=2))
    assert [f.factor for f in fired] == [None]  # up from a baseline of 0
    assert "factor=new" in fired[0].numbers("count")


def test_a_noisy_series_raises_the_bar() -> None:
    noisy = [30, 62, 41, 70, 48, 35, 66, 52, 28, 58, 44, 73, 50, 37, 61, 46, 55, 32, 68, 50]
    params = SpikeParams(window=14, min_factor=1.5)
    assert judge(days(21), [*noisy, 80], [400] * 21, params) == []
    assert len(judge(days(21), [50] * 20 + [80], [400] * 21, params)) == 1


def test_share_follows_attention_not_volume() -> None:
    # twice the articles on the last day, and twice the topic: the same share
    counts = [3] * 20 + [6]
    totals = [100] * 20 + [200]
    assert judge(days(21), counts, totals, SpikeParams(measure="share")) == []
    assert len(judge(days(21), counts, totals, SpikeParams(measure="count", threshold=1))) == 1
    fired = latest(days(21), [3] * 20 + [12], [*totals[:20], 100], SpikeParams(measure="share"))
    assert fired is not None and "now=12.0%" in fired.numbers("share")


def test_a_share_waits_until_enough_of_the_period_is_seen() -> None:
    counts = [2] * 20 + [3]
    early = judge(days(21), counts, [100] * 20 + [5], SpikeParams(measure="share"))
    assert early == []  # 3 of the first 5 articles of the day: 60%, but too early
    later = judge(days(21), [2] * 20 + [12], [100] * 20 + [30], SpikeParams(measure="share"))
    assert len(later) == 1  # 12 of 30, with 30 being over a quarter of a usual day


def test_the_weekday_baseline_knows_quiet_weekends() -> None:
    # five busy weekdays and a quiet weekend for eight weeks; then a busy Sunday
    week = [20, 20, 20, 20, 20, 2, 2]
    counts = week * 8 + [20, 20, 20, 20, 20, 2, 20]
    totals = [200] * len(counts)
    labels = days(len(counts), date(2023, 1, 2))  # a Monday
    flat = judge(labels, counts, totals, SpikeParams(window=28, cooldown=0))
    seasonal = judge(labels, counts, totals, SpikeParams(window=56, baseline="weekday"))
    assert labels[-1] in [f.period for f in seasonal]
    assert [f.period for f in seasonal] == [labels[-1]]
    assert labels[-1] not in [f.period for f in flat]  # 20 is the median of any 28 days


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="weekday baseline"):
        SpikeParams(baseline="weekday", window=10)
    with pytest.raises(ValueError, match="per must be"):
        SpikeParams(per="week")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_count"):
        SpikeParams(min_count=0)


def test_the_event_carries_the_numbers_and_fires_once_per_period() -> None:
    counts = [1] * 20 + [9]
    params = SpikeParams()
    firing = latest(days(21), counts, [40] * 21, params)
    assert firing is not None
    rule = {
        "rule_id": "xi-spike",
        "name": "Xi–Putin spike",
        "query_text": "topic:xi_putin",
        "channels": {"webhook": "https://example.org/…"},
    }
    event = spike_event(rule, params, firing, "2023-01-21T00:00:00+00:00", matched_at="now")
    again = spike_event(rule, params, firing, "2023-01-21T00:00:00+00:00", matched_at="later")
    assert event["id"] == again["id"] and event["kind"] == "spike"
    assert event["spike"]["count"] == 9 and event["spike"]["baseline"] == 1.0
    assert event["spike"]["factor"] == 9.0 and len(event["spike"]["sparkline"]) == 21
    assert event["delivery"] == {"webhook": {"status": "pending", "attempts": 0}}
    assert "9 articles on 2023-01-21" in event["title"]


def test_a_spike_rule_in_the_rule_language() -> None:
    from pipelines.spikes import spike_form
    from workers.alerts.rules import AlertRule

    assert spike_form("spike(topic:xi_putin, per: day, share)") == (
        "topic:xi_putin",
        {"per": "day", "measure": "share"},
    )
    # commas inside the query's own functions and phrases stay in the query
    query, options = spike_form('spike(sentence(entity:a, entity:b) "a, b", min count: 5)')
    assert query == 'sentence(entity:a, entity:b) "a, b"' and options == {"min_count": 5}
    assert spike_form("普京 烏克蘭") is None
    rule = AlertRule(id="s", name="s", query="spike(entity:putin, per: hour, threshold: 2.5)")
    assert (rule.kind, rule.query) == ("spike", "entity:putin")
    assert rule.spike == SpikeParams(per="hour", threshold=2.5)
    for bad, says in (
        ("spike(, per: day)", "needs a query first"),
        ("spike(x, per)", "'per' is not an option"),
        ("spike(x, window: many)", "window takes a number"),
        ("spike(x, per: week)", "should be 'day' or 'hour'"),
    ):
        with pytest.raises(ValueError, match=says):
            AlertRule(id="s", name="s", query=bad)
