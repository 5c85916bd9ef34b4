"""`mediamon alerts`: keyword alert rules, and trying them on the index."""

from __future__ import annotations

import json
from typing import Any

import click

from workers.cli.common import (
    duration,
    engine,
    load_settings,
    print_hit,
    table,
)
from workers.search.client import SearchError


def _rules():  # type: ignore[no-untyped-def]
    from workers.alerts.rules import Rules
    from workers.state import State

    return Rules(engine(), State(load_settings()))


_RULE_OPTIONS = [
    click.option("--query", "-q", help="The rule's query (see `mediamon alerts --help`)."),
    click.option("--source", "sources", multiple=True, help="Only these sources (repeatable)."),
    click.option(
        "--lang", "langs", multiple=True, help="Only these languages: zh-Hant, zh-Hans, en."
    ),
    click.option("--topic", "topics", multiple=True, help="Only articles with these topics."),
    click.option(
        "--entity", "entities", multiple=True, help="Only articles naming these entities."
    ),
    click.option("--webhook", help="POST signed JSON here."),
    click.option("--slack", help="A Slack-compatible incoming-webhook URL."),
    click.option(
        "--email", "emails", multiple=True, help="Send e-mail to this address (repeatable)."
    ),
    click.option("--digest", help="Send a digest every period (e.g. 1h, 1d) instead of at once."),
    click.option("--throttle", help="At most one immediate notification per period (e.g. 10m)."),
]


def _rule_options(func):  # type: ignore[no-untyped-def]
    for option in reversed(_RULE_OPTIONS):
        func = option(func)
    return func


def _apply(
    rule_data: dict[str, Any],
    query,
    sources,
    langs,
    topics,
    entities,
    webhook,
    slack,
    emails,
    digest,
    throttle,
):  # type: ignore[no-untyped-def]
    updates = {"query": query, "webhook": webhook, "slack": slack}
    rule_data.update({k: v for k, v in updates.items() if v is not None})
    for key, values in (
        ("sources", sources),
        ("langs", langs),
        ("topics", topics),
        ("entities", entities),
        ("email", emails),
    ):
        if values:
            rule_data[key] = list(values)
    if digest:
        rule_data.update(mode="digest", digest_every=duration(digest))
    if throttle:
        rule_data["throttle"] = duration(throttle)
    return rule_data


def _save(rule_data: dict[str, Any], *, new: bool) -> None:
    from pydantic import ValidationError

    from pipelines.alertquery import QueryError
    from workers.alerts.rules import AlertRule, RuleError, compile_rule

    try:
        rule = AlertRule.model_validate(rule_data)
    except ValidationError as exc:
        raise click.ClickException(
            "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        ) from exc
    try:  # the query first: a typo is reported without the engine
        compile_rule(rule, load_settings())
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        secret = _rules().save(rule, new=new)
    except RuleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{'added' if new else 'saved'} rule {rule.id} ({rule.mode}; channels: {', '.join(rule.channels()) or 'none: events only'})"
    )
    if secret and rule.webhook:
        click.echo(
            f"webhook signing secret (shown once; `alerts show {rule.id} --secret` shows it again): {secret}"
        )


@click.group()
def alerts() -> None:
    """Keyword alerts: rules matched against every new article.

    \b
    Query language:
      普京 烏克蘭                     both words (in either script)
      "上海合作組織" OR SCO            a phrase, or a word
      習近平 AND NOT 台灣              also -台灣; +word requires a word
      "習近平 普京"~10                 within 10 words; 习近平 NEAR/5 普京 in any order
      ukrain*                        a prefix (3+ letters, 2+ Chinese characters)
      entity:putin topic:ukraine_war source:cna lang:zh-Hant region:TW
    """


@alerts.command("add")
@click.argument("rule_id")
@click.option("--name", help="A name for people (default: the id).")
@_rule_options
def alerts_add(rule_id: str, name: str | None, **options: Any) -> None:
    """Add a rule: mediamon alerts add xi-putin -q '習近平 普京' --webhook URL"""
    if not options.get("query"):
        raise click.UsageError("--query is required")
    data = _apply({"id": rule_id, "name": name or rule_id}, **options)
    _save(data, new=True)


@alerts.command("edit")
@click.argument("rule_id")
@click.option("--name")
@_rule_options
def alerts_edit(rule_id: str, name: str | None, **options: Any) -> None:
    """Change a rule's query, filters, channels or mode (options not given stay)."""
    rule = _rules().get(rule_id)
    if rule is None:
        raise click.ClickException(f"no rule {rule_id!r}")
    data = _apply(rule.model_dump(), **options)
    if name:
        data["name"] = name
    _save(data, new=False)


@alerts.command("list")
def alerts_list() -> None:
    """Every rule, one a line."""
    rows = [
        [
            r.id,
            "on" if r.enabled else "off",
            r.mode + (f"/{r.digest_every}s" if r.mode == "digest" else ""),
            ",".join(r.channels()) or "-",
            r.query[:60],
        ]
        for r in _rules().all()
    ]
    table(rows, ["rule", "enabled", "mode", "channels", "query"])
    click.echo(f"{len(rows)} rule(s)")


@alerts.command("show")
@click.argument("rule_id")
@click.option("--secret", is_flag=True, help="Also print the webhook signing secret.")
def alerts_show(rule_id: str, secret: bool) -> None:
    """A rule, its compiled query, and its recent events."""
    from workers.alerts.rules import compile_rule

    store = _rules()
    rule = store.get(rule_id)
    if rule is None:
        raise click.ClickException(f"no rule {rule_id!r}")
    click.echo(json.dumps(rule.model_dump(exclude_none=True), ensure_ascii=False, indent=2))
    click.echo("compiled: " + json.dumps(compile_rule(rule, load_settings()), ensure_ascii=False))
    if secret:
        click.echo(f"secret: {store.secret(rule_id)}")
    client = store.client
    body = {"query": {"term": {"rule_id": rule_id}}, "sort": [{"matched_at": "desc"}], "size": 10}
    hits = client.request("POST", f"/{client.index_name('alert-events')}/_search", body)["hits"][
        "hits"
    ]
    for hit in hits:
        e = hit["_source"]
        status = ", ".join(
            f"{c}={v.get('status')}/{v.get('attempts')}"
            for c, v in (e.get("delivery") or {}).items()
        )
        click.echo(
            f"  {e['matched_at'][:19]}  {e.get('title') or e.get('url')}  [{status or 'no channels'}]"
        )


def _set_enabled(rule_id: str, enabled: bool) -> None:
    store = _rules()
    rule = store.get(rule_id)
    if rule is None:
        raise click.ClickException(f"no rule {rule_id!r}")
    rule.enabled = enabled
    store.save(rule, new=False)
    click.echo(f"{'enabled' if enabled else 'disabled'} {rule_id}")


@alerts.command("enable")
@click.argument("rule_id")
def alerts_enable(rule_id: str) -> None:
    """Match the rule again."""
    _set_enabled(rule_id, True)


@alerts.command("disable")
@click.argument("rule_id")
def alerts_disable(rule_id: str) -> None:
    """Stop matching the rule (it is kept)."""
    _set_enabled(rule_id, False)


@alerts.command("delete")
@click.argument("rule_id")
def alerts_delete(rule_id: str) -> None:
    """Delete a rule (its events stay)."""
    if not _rules().delete(rule_id):
        raise click.ClickException(f"no rule {rule_id!r}")
    click.echo(f"deleted {rule_id}")


@alerts.command("test")
@click.argument("rule_id", required=False)
@click.option("--query", "-q", help="Test a query without saving a rule.")
@click.option("--since", default="30d", show_default=True, help="How far back (e.g. 7d, 12h).")
@click.option("-n", "--size", default=20, show_default=True)
def alerts_test(rule_id: str | None, query: str | None, since: str, size: int) -> None:
    """Run a rule over the articles already indexed, with matched terms [marked]."""
    from pipelines.alertquery import QueryError
    from workers.alerts.rules import AlertRule, compile_rule

    if rule_id:
        rule = _rules().get(rule_id)
        if rule is None:
            raise click.ClickException(f"no rule {rule_id!r}")
    elif query:
        rule = AlertRule(id="adhoc", name="ad hoc", query=query)
    else:
        raise click.UsageError("give a RULE_ID or --query")
    try:
        compiled = compile_rule(rule, load_settings())
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    from workers.search.queries import recent_body

    body = recent_body(compiled, seconds=duration(since), size=size)
    client = engine()
    try:
        response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    except SearchError as exc:
        raise click.ClickException(f"the engine refused the query: {exc}") from exc
    hits = response["hits"]["hits"]
    click.echo(
        f"{response['hits']['total']['value']} article(s) in the last {since} match {rule.query!r}"
    )
    for hit in hits:
        src = hit["_source"]
        aliases = [
            a
            for e in src.get("entities", [])
            for a in e.get("aliases", [])
            if f"entity:{e['id']}" in rule.query
        ]
        print_hit(src, hit.get("highlight", {}), aliases or [rule.query])
