"""Periods of analysis: ``--since`` and ``--until`` read as moments in a time zone.

A moment is a duration back from now (``90d``, ``12h``, ``30m``), a day
(``2023-03-20``: its start for ``since``, its end for ``until``), a day and time
(``2023-03-20T08:00``, ``2023-03-20 08:00``, with or without a zone), or ``now``.
A year of backfilled history is read with ``--since 2023-01-01 --until 2023-12-31``.
Days begin at midnight in the reader's zone (MEDIAMON_TIMEZONE, UTC unless set), the
zone the day buckets of coverage and spikes are counted in too: a Singapore paper's
story of 20 March is dated 2023-03-20T00:00+08:00, which is still 19 March in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class PeriodError(ValueError):
    """A moment or period that cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        """Whole days covered, at least one."""
        return max(1, -(-int((self.end - self.start).total_seconds()) // 86_400))

    def label(self) -> str:
        """``2023-01-01 to 2023-12-31`` (days), or with times when not whole days."""
        whole = self.start.time() == time(0) and self.end.time() in (time(0), _LAST)
        if whole:
            last = self.end - timedelta(microseconds=1) if self.end.time() == time(0) else self.end
            return f"{self.start.date()} to {last.date()}"
        return f"{self.start.isoformat(timespec='minutes')} to {self.end.isoformat(timespec='minutes')}"

    def range(self, field: str = "published_at") -> dict[str, object]:
        """The engine's range filter for this period (both ends included)."""
        return {"range": {field: {"gte": self.start.isoformat(), "lte": self.end.isoformat()}}}


_LAST = time(23, 59, 59, 999_999)


def zone(name: str | None) -> tzinfo:
    """An IANA time zone (``Asia/Singapore``), or UTC for None, ``UTC`` or ``Z``."""
    if not name or name.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError(f"{name!r} is not a time zone (e.g. UTC, Asia/Singapore)") from exc


def moment(text: str, *, now: datetime, end: bool = False, tz: tzinfo = UTC) -> datetime:
    """``text`` as a moment in zone ``tz``; a bare day is its first instant, or its last
    when ``end`` (so ``--until 2023-12-31`` includes the 31st)."""
    value = (text or "").strip()
    if not value:
        raise PeriodError("empty: give a duration (30d), a day (2023-03-20) or now")
    now = now.astimezone(tz)
    if value.lower() == "now":
        return now
    if match := re.fullmatch(r"(?:\d+\s*[smhdw]\s*)+", value):
        seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(match.group(0)))
        return now - timedelta(seconds=seconds)
    if value.isdigit():  # plain seconds, as the durations of older versions
        return now - timedelta(seconds=int(value))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return datetime.combine(day, _LAST if end else time(0), tzinfo=tz)
        if re.fullmatch(r"\d{4}-\d{2}", value):
            first = date.fromisoformat(value + "-01")
            if not end:
                return datetime.combine(first, time(0), tzinfo=tz)
            following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            return datetime.combine(following - timedelta(days=1), _LAST, tzinfo=tz)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PeriodError(f"{text!r}: not a date ({exc})") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(tz)


def period(since: str, until: str | None = None, *, now: datetime, tz: tzinfo = UTC) -> Period:
    """The period from ``since`` to ``until`` (default: now), in zone ``tz``."""
    start = moment(since, now=now, tz=tz)
    end = moment(until, now=now, end=True, tz=tz) if until else now.astimezone(tz)
    if start >= end:
        raise PeriodError(
            f"--since {since} ({start.isoformat(timespec='minutes')}) is not before "
            f"--until {until or 'now'} ({end.isoformat(timespec='minutes')})"
        )
    return Period(start, end)
