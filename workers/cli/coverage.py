"""`mediamon coverage` and `mediamon report`: coverage over time."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from workers.cli.common import (
    duration,
    engine,
    load_settings,
    table,
)


@click.command("coverage")
@click.option("--topic", help="A topic id (default: every topic in config/topics.yaml).")
@click.option("--entity", help="An entity id (combined with --topic when both are given).")
@click.option("--interval", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--since", default="90d", show_default=True, help="How far back (e.g. 30d).")
@click.option("--source", "sources", multiple=True, help="Only these sources (repeatable).")
@click.option(
    "--normalize", is_flag=True, help="Sparklines of the share of all coverage, not counts."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def coverage_cmd(
    topic: str | None,
    entity: str | None,
    interval: str,
    since: str,
    sources: tuple[str, ...],
    normalize: bool,
    fmt: str,
) -> None:
    """Articles per day or week, and their share of all coverage, with sparklines."""
    import csv

    from workers.config import build_pipeline
    from workers.coverage.queries import coverage, selection, sparkline

    days = max(1, duration(since) // 86400)
    if topic or entity:
        name = "+".join(x for x in (topic, entity) if x)
        series = {name: selection(topic, entity)}
    else:
        series = {
            t.id: selection(t.id, None) for t in build_pipeline(load_settings().config_dir).topics
        }
    result = coverage(
        engine(), series=series, interval=interval, since_days=days, sources=list(sources) or None
    )
    rows = result.rows()
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        writer = csv.DictWriter(
            sys.stdout, fieldnames=list(rows[0]) if rows else ["bucket", "total"]
        )
        writer.writeheader()
        writer.writerows(rows)
        return
    header = ["bucket", "total"] + [h for s in result.series for h in (s.name, "share")]
    lines = [
        [r["bucket"], str(r["total"])]
        + [v for s in result.series for v in (str(r[s.name]), f"{r[s.name + '_share']:.1%}")]
        for r in rows
    ]
    table(lines, header)
    click.echo("")
    click.echo(
        f"{'all articles':<16} {sparkline([float(t) for t in result.totals])}  {sum(result.totals)}"
    )
    for s in result.series:
        values = s.shares(result.totals) if normalize else [float(c) for c in s.counts]
        total = sum(s.counts)
        share = total / sum(result.totals) if sum(result.totals) else 0.0
        click.echo(f"{s.name:<16} {sparkline(values)}  {total} ({share:.1%} of all)")


@click.command("report")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
)
@click.option("--interval", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--since", default="90d", show_default=True)
def report_cmd(out: Path, interval: str, since: str) -> None:
    """Write a self-contained HTML report (charts work offline)."""
    from workers.config import build_pipeline
    from workers.coverage.report import render

    topics = [t.id for t in build_pipeline(load_settings().config_dir).topics]
    html = render(
        engine(), topics=topics, interval=interval, since_days=max(1, duration(since) // 86400)
    )
    out.write_text(html, encoding="utf-8")
    click.echo(f"wrote {out} ({len(html) // 1024} KiB)")
