"""`mediamon coverage` and `mediamon report`: coverage over time."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipelines.coverage import sparkline
from workers.cli.common import (
    display_lang,
    engine,
    load_settings,
    period_options,
    read_period,
    table,
)

if TYPE_CHECKING:
    from pipelines.periods import Period


@click.command("coverage")
@click.option("--topic", help="A topic id (default: every topic in config/topics.yaml).")
@click.option("--entity", help="An entity id (combined with --topic when both are given).")
@click.option(
    "--interval", type=click.Choice(["day", "week", "month"]), default="day", show_default=True
)
@period_options("90d")
@click.option("--source", "sources", multiple=True, help="Only these sources (repeatable).")
@click.option(
    "--by",
    type=click.Choice(["region"]),
    help="Each series per region (mainland, Taiwan, Hong Kong, Singapore, international): "
    "its share of that region's coverage, and the name forms each region uses.",
)
@click.option(
    "--names",
    "name_ids",
    multiple=True,
    help="With --by region: the entities whose name forms are counted [putin].",
)
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
    until: str | None,
    tz: str | None,
    sources: tuple[str, ...],
    by: str | None,
    name_ids: tuple[str, ...],
    normalize: bool,
    fmt: str,
) -> None:
    """Articles per day, week or month, and their share of all coverage, with sparklines.

    \b
    mediamon coverage --since 2023-01-01 --until 2023-12-31 --interval week
    mediamon coverage --topic xi_putin --by region --names putin --names xi_jinping
    """
    from pipelines.coverage import regional_rows
    from pipelines.regions import REGIONS, region_filters
    from workers.config import build_pipeline
    from workers.coverage.queries import coverage, selection

    window, zone = read_period(since, until, tz)
    if topic or entity:
        name = "+".join(x for x in (topic, entity) if x)
        series = {name: selection(topic, entity)}
    else:
        series = {
            t.id: selection(t.id, None) for t in build_pipeline(load_settings().config_dir).topics
        }
    result = coverage(
        engine(),
        series=series,
        interval=interval,
        period=window,
        tz=zone,
        sources=list(sources) or None,
        by=region_filters() if by else None,
    )
    regions = [r.id for r in REGIONS]
    rows = regional_rows(result, list(series), regions) if by else result.rows()
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
    if by:
        _by_region(rows, result.buckets, list(series), regions, normalize)
        _name_forms(list(name_ids) or ["putin"], window, display_lang(None))
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


def _by_region(
    rows: list[dict[str, Any]],
    buckets: list[str],
    names: list[str],
    regions: list[str],
    counts: bool,
) -> None:
    """Per series, a table of each region's share (its articles of the series over all of
    its articles) per bucket, then a sparkline a region."""
    cell = {(r["bucket"], r["region"]): r for r in rows}
    for name in names:
        click.secho(f"{name}: share of each region's coverage", bold=True)
        lines = [
            [bucket]
            + [
                f"{c[name]}/{c['total']} {c[name + '_share']:.1%}" if c["total"] else "-"
                for c in (cell[bucket, region] for region in regions)
            ]
            for bucket in buckets
        ]
        table(lines, ["bucket", *regions])
        click.echo("")
        for region in regions:
            mine = [cell[bucket, region] for bucket in buckets]
            values = [float(c[name]) if counts else c[name + "_share"] for c in mine]
            total, all_ = sum(c[name] for c in mine), sum(c["total"] for c in mine)
            share = f"{total / all_:.2%}" if all_ else "-"
            click.echo(f"{region:<14} {sparkline(values)}  {total} of {all_} ({share})")
        click.echo("")


def _name_forms(entity_ids: list[str], window: Period, lang: str) -> None:
    """Which names each region's articles use for each entity, with the articles using
    each (the aliases the entity's mentions matched)."""
    from pipelines.coverage import forms_text
    from pipelines.regions import REGIONS, region_filters
    from workers.config import build_pipeline
    from workers.coverage.queries import name_forms

    catalogue = build_pipeline(load_settings().config_dir).catalogue
    for entity_id in entity_ids:
        entity = catalogue.entities.get(entity_id)
        if entity is None:
            raise click.ClickException(f"no entity {entity_id!r} in entities.yaml")
        found = name_forms(
            engine(), entity_id, period=window, by=region_filters(), owner=catalogue.owner
        )
        click.secho(f"How each region names {entity.display(lang)} ({entity_id})", bold=True)
        rows = [[r.title, forms_text(found.get(r.id, []))] for r in REGIONS]
        table(rows, ["region", "names used (share of the mentions' articles)"])
        click.echo("")


@click.command("report")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
)
@click.option(
    "--interval", type=click.Choice(["day", "week", "month"]), default="day", show_default=True
)
@period_options("90d")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh-Hant", "zh-Hans"]),
    help="The script of names and titles (default MEDIAMON_DISPLAY_LANG).",
)
def report_cmd(
    out: Path, interval: str, since: str, until: str | None, tz: str | None, lang: str | None
) -> None:
    """Write a self-contained HTML report (charts work offline).

    \b
    mediamon report --since 2023-01-01 --until 2023-12-31 --tz Asia/Singapore
    """
    from workers.config import build_pipeline
    from workers.coverage.report import render

    window, zone = read_period(since, until, tz)
    pipeline = build_pipeline(load_settings().config_dir)
    html = render(
        engine(),
        topics=[(t.id, t.name) for t in pipeline.topics],
        interval=interval,
        period=window,
        tz=zone,
        catalogue=pipeline.catalogue,
        lang=display_lang(lang),
    )
    out.write_text(html, encoding="utf-8")
    click.echo(f"wrote {out} ({len(html) // 1024} KiB, {window.label()})")
