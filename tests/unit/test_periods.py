"""--since and --until: durations, days, months and moments, in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipelines.periods import Period, PeriodError, moment, period, zone

NOW = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)


def test_durations_count_back_from_now_without_overflowing() -> None:
    assert moment("90d", now=NOW) == NOW - timedelta(days=90)
    assert moment("1d12h", now=NOW) == NOW - timedelta(hours=36)
    assert moment("2w", now=NOW) == NOW - timedelta(days=14)
    # 100 years: sent as a date, never as a count of seconds the engine reads as 32 bits
    assert moment("36500d", now=NOW).year == 1926
    assert moment("now", now=NOW) == NOW


def test_a_day_is_whole_at_both_ends() -> None:
    year = period("2023-01-01", "2023-12-31", now=NOW)
    assert year.start == datetime(2023, 1, 1, tzinfo=UTC)
    assert year.end.date().isoformat() == "2023-12-31" and year.end.hour == 23
    assert year.days == 365
    assert year.label() == "2023-01-01 to 2023-12-31"
    assert year.range() == {
        "range": {"published_at": {"gte": year.start.isoformat(), "lte": year.end.isoformat()}}
    }


def test_months_and_moments() -> None:
    february = period("2024-02", "2024-02", now=NOW)
    assert (february.start.day, february.end.day) == (1, 29)
    assert moment("2023-03-20T08:00", now=NOW) == datetime(2023, 3, 20, 8, tzinfo=UTC)
    assert moment("2023-03-20T08:00+08:00", now=NOW) == datetime(2023, 3, 20, 0, tzinfo=UTC)


def test_days_begin_in_the_readers_zone() -> None:
    singapore = zone("Asia/Singapore")
    day = period("2023-03-20", "2023-03-20", now=NOW, tz=singapore)
    # a Singapore story of 20 March, dated midnight there, is still the 19th in UTC
    assert day.start.astimezone(UTC) == datetime(2023, 3, 19, 16, tzinfo=UTC)
    assert day.label() == "2023-03-20 to 2023-03-20"
    assert zone("UTC") is UTC and zone(None) is UTC


@pytest.mark.parametrize(
    ("since", "until", "said"),
    [
        ("yesterday", None, "not a date"),
        ("2023-02-30", None, "not a date"),
        ("2023-12-31", "2023-01-01", "is not before"),
        ("", None, "empty"),
    ],
)
def test_bad_input_says_what_is_accepted(since: str, until: str | None, said: str) -> None:
    with pytest.raises(PeriodError, match=said):
        period(since, until, now=NOW)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(PeriodError, match="not a time zone"):
        zone("Mars/Olympus")


def test_period_is_a_value() -> None:
    assert Period(NOW - timedelta(hours=1), NOW).days == 1
