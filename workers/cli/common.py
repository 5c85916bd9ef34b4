"""What the `mediamon` commands share: exit codes, settings, the engine connection,
tables, durations, and how a hit is shown."""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import click

from workers.settings import Settings, get_settings

if TYPE_CHECKING:
    from pipelines.periods import Period

EXIT_PARTIAL = 1  # some input was rejected or failed; the rest went through
EXIT_USAGE = 2


def load_settings() -> Settings:
    return get_settings()


def engine() -> Any:
    from workers.search.client import SearchError, connect

    try:
        return connect(load_settings())
    except SearchError as exc:
        raise click.ClickException(
            f"{exc}\nIs the engine running? `make services` starts the local one."
        ) from exc


def width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo(
            "  ".join(
                str(cell) + " " * (size - width(str(cell)))
                for cell, size in zip(row, widths, strict=True)
            ).rstrip()
        )


def ago(ts: float | None) -> str:
    if not ts:
        return "never"
    delta = time.time() - ts
    sign = "" if delta >= 0 else "in "
    delta = abs(delta)
    unit = next((u for u in ((86400, "d"), (3600, "h"), (60, "m")) if delta >= u[0]), (1, "s"))
    text = f"{delta / unit[0]:.0f}{unit[1]}"
    return f"{sign}{text}" if sign else f"{text} ago"


def duration(text: str) -> int:
    """'90s', '10m', '1h', '7d' (or plain seconds) -> seconds."""
    import re as _re

    match = _re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text or "")
    if not match:
        raise click.BadParameter(f"{text!r}: use a number with s, m, h or d (e.g. 30m, 1h, 7d)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def period_options(since: str):  # type: ignore[no-untyped-def]
    """--since, --until and --tz, for commands that read a period of the index."""

    def decorate(func):  # type: ignore[no-untyped-def]
        for option in reversed(
            [
                click.option(
                    "--since",
                    default=since,
                    show_default=True,
                    help="Start: a duration back from now (30d, 12h) or a date (2023-01-01).",
                ),
                click.option(
                    "--until",
                    default=None,
                    help="End: a date (2023-12-31, included), a date and time, or a duration "
                    "back from now (default: now).",
                ),
                click.option(
                    "--tz",
                    default=None,
                    help="The zone days begin in (default MEDIAMON_TIMEZONE, or UTC).",
                ),
            ]
        ):
            func = option(func)
        return func

    return decorate


def read_period(since: str, until: str | None, tz: str | None) -> tuple[Period, tzinfo]:
    """(Period, zone) from the options of ``period_options``; bad input is a usage error."""
    from datetime import UTC, datetime

    from pipelines.periods import PeriodError, period, zone

    try:
        where = zone(tz) if tz else load_settings().tz
        return period(since, until, now=datetime.now(UTC), tz=where), where
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from exc


def said_period(window: Period, since: str, until: str | None) -> str:
    """``in the last 30d``, or ``from 2023-01-01 to 2023-12-31`` for dates."""
    if until is None and not re.match(r"\d{4}-", since.strip()):
        return f"in the last {since}"
    return f"from {window.label()}"


def display_lang(lang: str | None) -> str:
    """The script names are shown in: --lang, else MEDIAMON_DISPLAY_LANG."""
    return lang or load_settings().display_lang


def em_terms(fragments: list[str]) -> list[str]:
    return [m for frag in fragments for m in re.findall(r"<em>(.*?)</em>", frag)]


def print_hit(source: dict[str, Any], highlight: dict[str, list[str]], terms: list[str]) -> None:
    """One article of a result: its title, where and when it appeared, and a snippet with
    the matched words [marked] (the engine's highlights, else ``terms``)."""
    from pipelines.highlight import snippet

    matched = [t for fragments in highlight.values() for t in em_terms(fragments)]
    text = f"{source.get('title') or ''}\n{source.get('body') or ''}".strip()
    click.echo("")
    click.secho(source.get("title") or text[:60], bold=True)
    meta = [
        source.get("source_name") or source.get("source") or "-",
        (source.get("published_at") or "no date")[:16],
        source.get("lang") or "",
    ]
    where = f"  {source['url']}" if source.get("url") else ""
    click.echo("  " + " · ".join(m for m in meta if m) + where)
    click.echo("  " + snippet(text, matched + terms))
