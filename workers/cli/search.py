"""`mediamon search`: find articles, and manage the indices."""

from __future__ import annotations

import json

import click

from workers.cli.common import (
    engine,
    load_settings,
    print_hit,
)
from workers.settings import redact


class _SearchGroup(click.Group):
    """`mediamon search QUERY` searches; `mediamon search init|status` manage indices."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_SearchGroup)
def search() -> None:
    """Search the index (`mediamon search 習近平`), or manage it (init, status)."""


@search.command("init")
def search_init() -> None:
    """Apply index templates and create indices and aliases (idempotent)."""
    from workers.search import templates

    client = engine()
    click.echo(f"engine: {client.engine}")
    for line in templates.apply(client):
        click.echo(line)


@search.command("app-user")
@click.argument("user", default="mediamon_app")
def search_app_user(user: str) -> None:
    """Create the workers' user with a role limited to mediamon's indices
    (Elasticsearch; run as a superuser). Its password is read from
    MEDIAMON_APP_PASSWORD, never from the command line."""
    from workers.search.access import ensure_writer
    from workers.search.client import SearchError

    secret = load_settings().app_password
    password = secret.get_secret_value() if secret else ""
    if not password:
        raise click.ClickException("set MEDIAMON_APP_PASSWORD to the workers' password")
    try:
        for line in ensure_writer(engine(), user, password):
            click.echo(line)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc


@search.command("status")
def search_status() -> None:
    """Engine, version, indices and document counts."""
    from workers.search import templates

    client = engine()
    health = client.request("GET", "/_cluster/health")
    click.echo(f"engine:  {client.engine} at {redact(', '.join(client.settings.search_hosts))}")
    click.echo(f"cluster: {health.get('cluster_name')} ({health.get('status')})")
    prefix = client.settings.index_prefix
    for name in templates.NAMES:
        template = templates.load(name)
        alias, physical = template.alias(prefix), template.physical(prefix)
        if not client.exists(f"/{physical}"):
            click.echo(f"{alias:<20} missing (run `mediamon search init`)")
            continue
        count = client.request("GET", f"/{alias}/_count").get("count", "?")
        click.echo(f"{alias:<20} -> {physical:<24} {count} documents")


@search.command("query")
@click.argument("words", nargs=-1, required=True)
@click.option("-n", "--size", default=10, show_default=True, help="How many hits.")
@click.option("--lang", help="Only this language (zh-Hant, zh-Hans, en).")
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON lines.")
def search_query(words: tuple[str, ...], size: int, lang: str | None, as_json: bool) -> None:
    """Find articles, in the query language of alerts (`mediamon alerts --help`).

    Words match in either script, and a catalogued name matches every spelling of it
    (普丁 finds 普京, 蒲亭 and Putin), in phrases and proximity too; exact:WORD asks for
    the word as written. AND, OR, NOT, "phrases", "a b"~10, entity:, topic:, source:.
    """
    from pipelines.alertquery import QueryError
    from workers.alerts.rules import compiler
    from workers.search.client import SearchError
    from workers.search.queries import search_body

    query_text = " ".join(words)
    if query_text.lstrip().startswith("spike("):
        raise click.UsageError(
            "spike(...) is a spike rule, not a search: try it with "
            f"`mediamon alerts test -q '{query_text}' --since 90d`"
        )
    try:
        compiled = compiler(load_settings()).compile(query_text)
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    body = search_body(compiled, size=size, lang=lang)
    client = engine()
    try:
        response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    except SearchError as exc:
        raise click.ClickException(f"search failed: {exc}") from exc
    hits = response.get("hits", {}).get("hits", [])
    total = response.get("hits", {}).get("total", {})
    if as_json:
        for hit in hits:
            click.echo(
                json.dumps(
                    {"id": hit["_id"], "score": hit["_score"], **hit["_source"]}, ensure_ascii=False
                )
            )
        return
    click.echo(f"{total.get('value', len(hits))} match(es) for {query_text!r}")
    for hit in hits:
        print_hit(hit["_source"], hit.get("highlight", {}), list(words))
