"""`mediamon topics`: the topic rules in use, and trying a rule on the index."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import click

from workers.cli.common import (
    engine,
    load_settings,
    period_options,
    print_hit,
    read_period,
    said_period,
)
from workers.search.client import SearchError


@click.group()
def topics() -> None:
    """Topic rules (topics.yaml): list them, try one on the articles already indexed.

    A rule is written in the query language of alerts and search (docs/fields.md,
    "Topic rules"), with sentence(...) and near(N chars, ...) besides.
    """


@topics.command("list")
def topics_list() -> None:
    """Every topic with its rules, in the order they are tried."""
    from workers.config import build_pipeline

    for topic in build_pipeline(load_settings().config_dir).topics:
        click.echo(f"{topic.id}: {topic.name}")
        for rule in topic.rules:
            span = _span(rule.since, rule.until)
            click.echo(f"  {rule.name} ({rule.strength}{span}): {' '.join(rule.source.split())}")


@topics.command("test")
@click.argument("rule")
@period_options("30d")
@click.option("-n", "--size", default=10, show_default=True, help="Articles shown per rule.")
def topics_test(rule: str, since: str, until: str | None, tz: str | None, size: int) -> None:
    """What RULE (a rule, or a topic id for all its rules) would tag in the index.

    The index keeps words and their order, not sentences or characters: sentence(...) is
    tried as "in the same article" and near(N chars, ...) as N/2 words, and the output
    says so. Each hit shows whether the article carries the topic now.
    """
    from pipelines.alertquery import QueryError, approximations, parse
    from workers.alerts.rules import compiler
    from workers.config import build_pipeline
    from workers.search.queries import recent_body

    known = {t.id: t for t in build_pipeline(load_settings().config_dir).topics}
    rules = (
        [(r.name, r.source, r.since, r.until) for r in known[rule].rules]
        if rule in known
        else [("rule", rule, None, None)]
    )
    approximate = replace(compiler(load_settings()), approximate=True)
    window, _ = read_period(since, until, tz)
    said = said_period(window, since, until)
    client = engine()
    for name, source, first, last in rules:
        try:
            query = approximate.compile(source)
            approximated = approximations(parse(source))
        except QueryError as exc:
            raise click.ClickException(f"{name}: {exc}") from exc
        body = recent_body(query, period=window, size=size, first=first, last=last)
        try:
            response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
        except SearchError as exc:
            raise click.ClickException(f"the engine refused the query: {exc}") from exc
        total = response["hits"]["total"]["value"]
        click.secho(f"{name}: {total} article(s) {said}{_span(first, last, ', ')}", bold=True)
        if approximated:
            click.echo(f"  (tried as {'; '.join(approximated)})")
        for hit in response["hits"]["hits"]:
            src = hit["_source"]
            tagged = rule in (src.get("topics") or []) if rule in known else None
            print_hit(src, hit.get("highlight", {}), [])
            if tagged is not None:
                click.echo(f"  tagged {rule} now: {'yes' if tagged else 'no'}")


def _span(since: date | None, until: date | None, sep: str = "; ") -> str:
    """A rule's days of publication, as `topics list` and `topics test` print them."""
    if since is None and until is None:
        return ""
    return sep + " ".join(
        part for part in (since and f"since {since}", until and f"until {until}") if part
    )
