"""`mediamon alerts`: keyword alert rules, and trying them on the index."""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import click

from workers.cli.common import (
    duration,
    engine,
    load_settings,
    period_options,
    print_hit,
    read_period,
    said_period,
    table,
)
from workers.search.client import SearchError

if TYPE_CHECKING:
    from pipelines.periods import Period
    from pipelines.spikes import SpikeParams
    from workers.alerts.rules import AlertRule


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


# A spike rule's parameters (pipelines/spikes.py); unset ones keep their value, or the
# default on a new rule.
_SPIKE_OPTIONS = [
    click.option(
        "--spike",
        help="Make a spike rule watching this query's articles (topic:xi_putin, entity:putin, "
        "any query): it fires when a period's count or share stands out from its recent past.",
    ),
    click.option("--per", type=click.Choice(["day", "hour"]), help="Spike period [day]."),
    click.option(
        "--share/--count",
        "share",
        default=None,
        help="Watch the share of all articles (of the rule's sources and languages, when "
        "given), or the count [count].",
    ),
    click.option("--window", type=int, help="Periods in the trailing baseline [28]."),
    click.option(
        "--baseline",
        type=click.Choice(["median", "weekday"]),
        help="Median of the window, or of the same weekday (hour) in it [median].",
    ),
    click.option("--threshold", type=float, help="Robust deviations above the baseline [3]."),
    click.option("--min-factor", type=float, help="Times the baseline, at least [2]."),
    click.option("--min-count", type=int, help="Articles in the period, at least [3]."),
    click.option("--cooldown", type=int, help="Periods after a firing without another [3]."),
]


def _rule_options(func):  # type: ignore[no-untyped-def]
    for option in reversed(_RULE_OPTIONS + _SPIKE_OPTIONS):
        func = option(func)
    return func


def _spike_options(func):  # type: ignore[no-untyped-def]
    for option in reversed(_SPIKE_OPTIONS):
        func = option(func)
    return func


def _apply_spike(
    rule_data: dict[str, Any], spike: str | None, share: bool | None, **given: Any
) -> None:
    """Spike options onto a rule's data: --spike makes it a spike rule with that query,
    and so does a query written spike(QUERY, OPTION, ...)."""
    from workers.alerts.rules import written_spike

    if spike:
        rule_data.update(kind="spike", query=spike)
    try:
        rule_data.update(written_spike(rule_data))  # spike(QUERY, ...) in the rule language
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    changes = {k: v for k, v in given.items() if v is not None}
    if share is not None:
        changes["measure"] = "share" if share else "count"
    if rule_data.get("kind") != "spike":
        if changes:
            raise click.UsageError(
                f"--{next(iter(changes)).replace('_', '-')} is for spike rules: add --spike QUERY"
            )
        return
    current = rule_data.get("spike") or {}
    rule_data["spike"] = {
        **(current if isinstance(current, dict) else current.as_dict()),
        **changes,
    }


def _apply(
    rule_data: dict[str, Any],
    query,
    spike,
    per,
    share,
    window,
    baseline,
    threshold,
    min_factor,
    min_count,
    cooldown,
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
    _apply_spike(
        rule_data,
        spike,
        share,
        per=per,
        window=window,
        baseline=baseline,
        threshold=threshold,
        min_factor=min_factor,
        min_count=min_count,
        cooldown=cooldown,
    )
    return rule_data


def _save(rule_data: dict[str, Any], *, new: bool) -> None:
    from pydantic import ValidationError

    from pipelines.alertquery import QueryError
    from workers.alerts.rules import AlertRule, RuleError, compile_rule

    try:
        rule = AlertRule.model_validate(rule_data)
    except ValidationError as exc:
        raise click.ClickException(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
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
    """Alerts: keyword rules, matched against every new article, and spike rules, which
    fire when the coverage a query selects jumps (per day or hour, count or share).

    \b
    Query language:
      普京 烏克蘭                     both words (in either script)
      "上海合作組織" OR SCO            a phrase, or a word
      習近平 AND NOT 台灣              also -台灣; +word requires a word
      "習近平 普京"~10                 within 10 words; 习近平 NEAR/5 普京 in any order
      ukrain*                        a prefix (3+ letters, 2+ Chinese characters)
      entity:putin topic:ukraine_war source:cna lang:zh-Hant region:TW
      spike(topic:xi_putin, per: day, share)  a spike rule (or --spike QUERY)
    """


@alerts.command("add")
@click.argument("rule_id")
@click.option("--name", help="A name for people (default: the id).")
@_rule_options
def alerts_add(rule_id: str, name: str | None, **options: Any) -> None:
    """Add a rule: mediamon alerts add xi-putin -q '習近平 普京' --webhook URL

    A spike rule: mediamon alerts add xi-putin-spike --spike 'topic:xi_putin' --per day --share
    """
    if not options.get("query") and not options.get("spike"):
        raise click.UsageError("--query (a keyword rule) or --spike (a spike rule) is required")
    if options.get("query") and options.get("spike"):
        raise click.UsageError("give --query or --spike, not both: --spike takes the query")
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
            f"spike/{r.spike.per}/{r.spike.measure}" if r.spike else "keyword",
            ",".join(r.channels()) or "-",
            r.query[:60],
        ]
        for r in _rules().all()
    ]
    table(rows, ["rule", "enabled", "mode", "kind", "channels", "query"])
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
@_spike_options
@period_options("30d")
@click.option("-n", "--size", default=20, show_default=True, help="Articles shown.")
def alerts_test(
    rule_id: str | None,
    query: str | None,
    since: str,
    until: str | None,
    tz: str | None,
    size: int,
    **spike_options: Any,
) -> None:
    """Run a rule over the articles already indexed, with matched terms [marked].

    For a spike rule (or --spike QUERY), every day or hour of the period in which it
    would have fired, with its numbers; spike options given here override the rule's,
    to tune it: mediamon alerts test xi-putin-spike --since 2023-01-01 --until 2023-12-31
    """
    from pipelines.alertquery import QueryError
    from workers.alerts.rules import AlertRule, compile_rule

    data: dict[str, Any]
    if rule_id:
        rule = _rules().get(rule_id)
        if rule is None:
            raise click.ClickException(f"no rule {rule_id!r}")
        data = rule.model_dump()
    elif query or spike_options.get("spike"):
        data = {"id": "adhoc", "name": "ad hoc", "query": query or ""}
    else:
        raise click.UsageError("give a RULE_ID, --query or --spike")
    spike, share = spike_options.pop("spike"), spike_options.pop("share")
    _apply_spike(data, spike, share, **spike_options)
    try:
        rule = AlertRule.model_validate(data)
        compiled = compile_rule(rule, load_settings())
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    window, zone = read_period(since, until, tz)
    if rule.spike is not None:
        _test_spike(rule, rule.spike, compiled, window, zone)
        return
    from workers.search.queries import recent_body

    body = recent_body(compiled, period=window, size=size)
    client = engine()
    try:
        response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    except SearchError as exc:
        raise click.ClickException(f"the engine refused the query: {exc}") from exc
    hits = response["hits"]["hits"]
    click.echo(
        f"{response['hits']['total']['value']} article(s) {said_period(window, since, until)} "
        f"match {rule.query!r}"
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


def _test_spike(
    rule: AlertRule, params: SpikeParams, compiled: dict[str, Any], window: Period, zone: tzinfo
) -> None:
    """When a spike rule would have fired over ``window``: one line a firing."""
    from pipelines.spikes import sparkline, values
    from workers.alerts.spikes import replay, universe

    within = universe(rule.sources, rule.langs)
    try:
        series, firings, begin = replay(
            engine(), compiled, params, period=window, tz=zone, within=within
        )
    except SearchError as exc:
        raise click.ClickException(f"the engine refused the query: {exc}") from exc
    shown = values(series.counts, series.totals, params.measure)[begin:]
    click.echo(
        f"{rule.id}: {rule.query!r} per {params.per}, {params.measure}; window {params.window} "
        f"({params.baseline}), threshold {params.threshold:g}, min factor {params.min_factor:g}, "
        f"min count {params.min_count}, cooldown {params.cooldown}"
    )
    click.echo(
        f"{window.label()}: {len(shown)} {params.per}s, {sum(series.totals[begin:])} articles"
        f"{' of its sources and languages' if within else ''}, "
        f"{sum(series.counts[begin:])} selected"
    )
    step = max(1, -(-len(shown) // 100))  # at most 100 characters: a mean per character
    means = [
        sum(shown[i : i + step]) / len(shown[i : i + step]) for i in range(0, len(shown), step)
    ]
    click.echo(sparkline(means) + (f"  (one character: {step} {params.per}s)" if step > 1 else ""))
    for firing in firings:
        click.echo(
            f"fired {firing.period} {firing.numbers(params.measure)} "
            f"({firing.count} of {firing.total} articles)"
        )
    click.echo(f"{len(firings)} firing(s)")
