"""dates: publication date strings -> an aware datetime, with where it came from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from pipelines.article import RejectArticle

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Precedence: the feed's own date, then page metadata, then what the text says.
PRECEDENCE = ("feed", "meta", "json_ld", "time_tag", "text", "code")


def parse_date(value: str) -> datetime | None:
    """ISO 8601 or RFC 2822 -> aware datetime (naive values are taken as UTC)."""
    value = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def check(value: datetime, *, now: datetime) -> None:
    """Reject impossible dates instead of indexing them as 1246 or 2999."""
    if value < EARLIEST:
        raise RejectArticle("bad_date", f"{value.date()} is before 1990", stage="dates")
    if value > now + timedelta(days=2):
        raise RejectArticle("bad_date", f"{value.date()} is in the future", stage="dates")


def resolve(hints: dict[str, str], *, now: datetime) -> tuple[datetime | None, str | None]:
    """The first parseable hint in precedence order, checked for plausibility."""
    for key in sorted(hints, key=lambda k: PRECEDENCE.index(k) if k in PRECEDENCE else 99):
        parsed = parse_date(hints[key])
        if parsed is not None:
            check(parsed, now=now)
            return parsed, key
    return None, None
