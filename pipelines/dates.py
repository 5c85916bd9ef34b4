"""dates: publication date hints -> one aware datetime, and where it came from.

Hints are strings keyed by origin: ``feed`` (the feed item's date), ``meta``,
``json_ld`` and ``time_tag`` (page metadata), ``text`` (a date in the article's
dateline or first lines), ``code`` (a date code such as CNA's 1110915) and ``url`` (a
day in the page's address: /2023-11/17/, /20230619/, story20230619-…). They are tried
in that order (precedence: feed, page metadata, text, the address). Formats: ISO 8601,
RFC 2822, English prose dates, Chinese dates (2022年9月14日 14:30), ROC years
(民國111年, 111年9月15日, the 7-digit code), and partial dates from datelines
(``--09-14``, ``---14``: 倫敦14日) completed from the other hints; a partial date with
no other date to complete it from is not used (a wrong year is worse than none).
A date without a zone takes the source region's (Asia/Taipei, Asia/Shanghai, … are
UTC+8; otherwise UTC). Impossible dates, before 1990 or in the future, are never
used; if every hint is impossible the article is rejected with ``bad_date``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

from pipelines.article import RejectArticle

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=2)
# Days that systems write when they have no date (.NET's and SQL's minimum, the
# spreadsheet and Unix epochs): such a date is no date, not an impossible one.
PLACEHOLDERS = {date(1, 1, 1), date(1900, 1, 1), date(1970, 1, 1)}
PRECEDENCE = (
    "feed", "meta", "json_ld", "time_tag", "text", "code", "visible", "sitemap", "url",
)  # fmt: skip
UTC8 = timezone(timedelta(hours=8))
REGION_TZ = {"TW": UTC8, "CN": UTC8, "HK": UTC8, "MO": UTC8, "SG": UTC8}

_CJK_DATE = re.compile(
    r"(?:(?:民國|民国)\s*)?(?P<year>\d{2,4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号號]"
    r"(?:\s*(?:(?P<ampm>上午|下午|晚上|凌晨)\s*)?(?P<hour>\d{1,2})\s*[:：時时点點]\s*(?P<minute>\d{1,2})?)?"
)
_CJK_PARTIAL = re.compile(r"(?:(?P<month>\d{1,2})\s*月\s*)?(?P<day>\d{1,2})\s*[日号號]")
_ROC_CODE = re.compile(r"^(1\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
_PARTIAL = re.compile(r"^--(?P<month>\d{2})?-(?P<day>\d{2})$")
_NUMERIC = re.compile(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})(.*)$")
# A day in a URL's path: 2023/11/17, 2023-11/17, 2023/1117, 20230619 (not inside a
# longer number).
_URL_DAY = re.compile(
    r"(?<!\d)((?:19|20)\d{2})[-/_]?(0[1-9]|1[0-2])[-/_]?(0[1-9]|[12]\d|3[01])(?!\d)"
)


def fetch_time(value: str | None) -> datetime | None:
    """A raw article's ``fetched_at`` (ISO 8601; UTC when it names no zone), or None
    when it has none. Raises RejectArticle (``bad_input``) for anything else."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RejectArticle(
            "bad_input", f"fetched_at {value[:40]!r} is not an ISO 8601 time", stage="load"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def url_date(url: str | None) -> str | None:
    """The day a page's address names (``2023-11-17``), if it names one."""
    if not url:
        return None
    path = url.split("://", 1)[-1].partition("/")[2].split("?")[0]
    for match in _URL_DAY.finditer(path):
        year, month, day = map(int, match.groups())
        try:
            return datetime(year, month, day).date().isoformat()
        except ValueError:
            continue
    return None


class Partial:
    """A day (and maybe month) with the rest to be inferred."""

    def __init__(self, day: int, month: int | None = None):
        self.day, self.month = day, month

    def complete(self, reference: datetime, tz: timezone) -> datetime | None:
        """The latest such date on or before the reference day (datelines are never
        later than the story's other dates)."""
        ref = reference.astimezone(tz)
        year, month = ref.year, self.month or ref.month
        for _ in range(13):
            try:
                candidate = datetime(year, month, self.day, 12, tzinfo=tz)
            except ValueError:
                candidate = None
            if candidate is not None and candidate.date() <= ref.date():
                return candidate
            if self.month:
                year -= 1
            else:
                month, year = (12, year - 1) if month == 1 else (month - 1, year)
        return None


def parse_date(value: str, tz: timezone = UTC) -> datetime | Partial | None:
    """One hint -> aware datetime, a Partial, or None if no format fits."""
    value = value.strip()
    if not value:
        return None
    if match := _PARTIAL.match(value):
        return Partial(
            int(match.group("day")), int(match.group("month")) if match.group("month") else None
        )
    if match := _ROC_CODE.match(value):
        return _make(
            int(match.group(1)) + 1911, int(match.group(2)), int(match.group(3)), 12, 0, UTC8
        )
    if match := _CJK_DATE.search(value):
        year = int(match.group("year"))
        if year < 1000:  # ROC year: 民國111年 = 2022
            year += 1911
        # A date without a time is taken as local noon, so it stays the same day in UTC.
        hour = int(match.group("hour")) if match.group("hour") else 12
        if match.group("ampm") in ("下午", "晚上") and hour < 12:
            hour += 12
        return _make(
            year,
            int(match.group("month")),
            int(match.group("day")),
            hour,
            int(match.group("minute") or 0),
            tz,
        )
    if match := _NUMERIC.match(value):
        value = (
            f"{match.group(1)}-{int(match.group(2)):02d}-{int(match.group(3)):02d}{match.group(4)}"
        )
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            try:
                parsed = dateutil_parser.parse(value, fuzzy=False)
            except (ValueError, OverflowError):
                match = _CJK_PARTIAL.search(value)
                if match:
                    month = match.group("month")
                    return Partial(int(match.group("day")), int(month) if month else None)
                return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _make(year: int, month: int, day: int, hour: int, minute: int, tz: timezone) -> datetime | None:
    try:
        return datetime(year, month, day, hour % 24, minute % 60, tzinfo=tz)
    except ValueError:
        return None


def check(value: datetime, *, now: datetime) -> str | None:
    """Why a date is impossible, or None if it is plausible."""
    if value < EARLIEST:
        return f"{value.date()} is before 1990"
    if value > now + FUTURE_SLACK:
        return f"{value.date()} is in the future"
    return None


def resolve(
    hints: dict[str, str], *, now: datetime, region: str | None = None
) -> tuple[datetime | None, str | None, list[str]]:
    """(date, the hint it came from, notes on hints that were refused)."""
    tz = REGION_TZ.get(region or "", UTC)
    ordered = sorted(hints, key=lambda k: PRECEDENCE.index(k) if k in PRECEDENCE else 99)
    parsed = {key: parse_date(hints[key], tz) for key in ordered}
    notes: list[str] = []
    full: dict[str, datetime] = {}
    placeholders: list[str] = []
    for key in ordered:
        value = parsed[key]
        if isinstance(value, datetime):
            if value.date() in PLACEHOLDERS:
                placeholders.append(f"{key} date {value.date()} ignored: a stand-in for none")
                continue
            problem = check(value, now=now)
            if problem:
                notes.append(f"{key} date refused: {problem}")
            else:
                full[key] = value
    notes += placeholders
    reference = next(iter(full.values()), None)
    unused = ""
    for key in ordered:
        value = parsed[key]
        if key in full:
            return full[key], key, notes
        if isinstance(value, Partial):
            if reference is None:
                unused = f"{key} date {hints[key]!r} not used: no other date gives its year"
                continue
            completed = value.complete(reference, tz)
            if completed is not None and not check(completed, now=now):
                return completed, key, notes
    if len(notes) > len(placeholders):
        raise RejectArticle("bad_date", "; ".join(notes), stage="dates")
    return None, None, placeholders + ([unused] if unused else [])
