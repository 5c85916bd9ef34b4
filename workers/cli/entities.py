"""`mediamon entities`: the catalogue's entities, and who is named with whom."""

from __future__ import annotations

import click

from workers.cli.common import (
    display_lang,
    engine,
    load_settings,
    period_options,
    read_period,
    said_period,
    table,
)


@click.group()
def entities() -> None:
    """Entities of the catalogue (config/entities.yaml) and their co-occurrence."""


@entities.command("related")
@click.argument("entity_id")
@period_options("30d")
@click.option("-n", "--size", default=20, show_default=True, help="Entities listed.")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh-Hant", "zh-Hans"]),
    help="The script of names (default MEDIAMON_DISPLAY_LANG).",
)
def entities_related(
    entity_id: str, since: str, until: str | None, tz: str | None, size: int, lang: str | None
) -> None:
    """The entities most often named with ENTITY_ID, counted per story: the copies of
    one wire story count once (articles are shown beside).

    mediamon entities related putin --since 30d
    """
    from pipelines.coverage import percent
    from workers.config import build_pipeline
    from workers.coverage.queries import related, stories

    catalogue = build_pipeline(load_settings().config_dir).catalogue
    entity = catalogue.entities.get(entity_id)
    if entity is None:
        raise click.ClickException(
            f"no entity {entity_id!r} in entities.yaml (ids are snake_case: putin, xi_jinping)"
        )
    shown = display_lang(lang)
    window, _ = read_period(since, until, tz)
    client = engine()
    articles, total = stories(client, {"term": {"entities.id": entity_id}}, period=window)
    found = related(client, entity_id, period=window, size=size)
    click.echo(
        f"{entity.display(shown)} ({entity_id}): {total} stories, {articles} articles "
        f"{said_period(window, since, until)}"
    )
    rows = []
    for other, n_stories, n_articles in found:
        known = catalogue.entities.get(other)
        rows.append(
            [
                known.display(shown) if known else other,
                other,
                known.type if known else "-",
                str(n_stories),
                percent(n_stories / total) if total else "-",
                str(n_articles),
            ]
        )
    table(rows, ["named with", "id", "type", "stories", "of its stories", "articles"])
