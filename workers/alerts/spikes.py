"""Spike rules, checked by beat's task on the engine's aggregations.

Each check reads, for every enabled spike rule, its series over the periods a judgement
needs (the window and the cool-down, per day or per hour) and the number of all
articles in each period: one date histogram whose buckets hold one filter per rule,
so many rules share a request and no document is read. pipelines/spikes.py judges the
latest period; one that fires becomes an ``alert-events`` document (id: the rule and
the period, written create-only, so a period fires once however often it is checked)
and is routed to the rule's channels like a keyword alert (workers/alerts/outbox.py).

`mediamon alerts test RULE --since 365d` judges every period of a span with the same
function (``replay``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pipelines.alertevents import spike_event
from pipelines.alertquery import filters
from pipelines.periods import Period
from pipelines.spikes import Firing, SpikeParams, judge, latest
from workers import services
from workers.alerts.matching import write_new
from workers.app import app
from workers.coverage.queries import coverage
from workers.search.client import SearchClient, SearchError

log = logging.getLogger(__name__)
# Buckets one request may make: a rule's filter in each period, and the period itself.
# The engines refuse a request past 65,535 (search.max_buckets).
MAX_BUCKETS = 20_000
STEP = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
OF = "\x1fall"  # the name of a rule's universe filter: its id and this
SPIKE_RULES: dict[str, Any] = {
    "bool": {"filter": [{"term": {"enabled": True}}, {"term": {"kind": "spike"}}]}
}


@dataclass
class Counted:
    """A rule's series: bucket labels and starts, its counts, the counts of the articles
    its share is taken of (its universe), and of all articles indexed."""

    labels: list[str]
    starts: list[str]
    counts: list[int]
    totals: list[int]
    indexed: list[int]


def start_of(moment: datetime, per: str, tz: tzinfo) -> datetime:
    """The start of the day or hour ``moment`` falls in, in zone ``tz``."""
    local = moment.astimezone(tz)
    if per == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def universe(sources: list[str], langs: list[str]) -> dict[str, Any] | None:
    """The articles a rule's share is taken of: those of its sources and languages
    (``--source``, ``--lang``), or all of them (None). A share of CNA's coverage, for a
    rule watching CNA."""
    clauses = filters(sources=sources, langs=langs)
    return {"bool": {"filter": clauses}} if clauses else None


def _universe(rule: dict[str, Any]) -> dict[str, Any] | None:
    flt = rule.get("filters") or {}
    return universe(flt.get("sources") or [], flt.get("langs") or [])


def count(
    client: SearchClient,
    queries: dict[str, dict[str, Any]],
    *,
    per: str,
    period: Period,
    tz: tzinfo,
    universes: dict[str, dict[str, Any] | None] | None = None,
) -> dict[str, Counted]:
    """Each named query's articles per day or hour over ``period``, with the articles of
    its universe (``universes``; all articles where it has none): as few requests as the
    bucket limit allows (one for up to MAX_BUCKETS buckets)."""
    universes = universes or {}
    periods = int((period.end - period.start) / STEP[per]) + 2
    size = max(1, MAX_BUCKETS // (2 * periods) - 1)
    names = list(queries)
    out: dict[str, Counted] = {}
    for at in range(0, len(names), size):
        chunk = {name: queries[name] for name in names[at : at + size]}
        wholes = {f"{n}{OF}": u for n in chunk if (u := universes.get(n))}
        found = coverage(client, series={**chunk, **wholes}, period=period, interval=per, tz=tz)
        counts = {s.name: s.counts for s in found.series}
        # a bucket's label is its start in zone tz (yyyy-MM-dd, or with 'T'HH:mm)
        starts = [datetime.fromisoformat(b).replace(tzinfo=tz).isoformat() for b in found.buckets]
        for name in chunk:
            whole = counts.get(f"{name}{OF}", found.totals)
            out[name] = Counted(found.buckets, starts, counts[name], whole, found.totals)
    return out


def replay(
    client: SearchClient,
    query: dict[str, Any],
    params: SpikeParams,
    *,
    period: Period,
    tz: tzinfo,
    within: dict[str, Any] | None = None,
) -> tuple[Counted, list[Firing], int]:
    """Every period of ``period`` in which the rule would have fired, judged as the live
    check judges (with the window before the span read too). Returns the series, the
    firings and the index of the span's first period in the series. ``within``: the
    articles shares are taken of (``universe``; all when None)."""
    first = start_of(period.start, params.per, tz)
    wider = Period(first - STEP[params.per] * params.history, period.end)
    series = count(
        client, {"rule": query}, per=params.per, period=wider, tz=tz, universes={"rule": within}
    )["rule"]
    begin = _first_at_or_after(series.starts, first)
    fired = judge(
        series.labels, series.counts, series.totals, params, first=begin, indexed=series.indexed
    )
    return series, fired, begin


def _first_at_or_after(starts: list[str], first: datetime) -> int:
    for i, start in enumerate(starts):
        if datetime.fromisoformat(start) >= first:
            return i
    return len(starts)


def rules(client: SearchClient) -> list[dict[str, Any]]:
    """The enabled spike rules as stored (compiled query included)."""
    body = {"query": SPIKE_RULES, "size": 10_000, "sort": [{"rule_id": "asc"}]}
    hits = client.request(
        "POST", f"/{client.index_name('alert-rules')}/_search", body, ignore=(404,)
    )
    return [h["_source"] for h in (hits.get("hits") or {}).get("hits", [])]


def check(
    client: SearchClient, *, now: datetime | None = None, tz: tzinfo = UTC
) -> tuple[list[dict[str, Any]], int]:
    """Judge the latest period of every enabled spike rule. Returns the events of the
    rules that fire (not yet written) and the number of rules checked."""
    now = now or datetime.now(UTC)
    stored = rules(client)
    groups: dict[str, list[tuple[dict[str, Any], SpikeParams]]] = {}
    for rule in stored:
        try:
            params = SpikeParams(**(rule.get("spike") or {}))
        except (TypeError, ValueError) as exc:
            log.error("spike rule skipped", extra={"rule": rule.get("rule_id"), "reason": str(exc)})
            continue
        groups.setdefault(params.per, []).append((rule, params))
    events: list[dict[str, Any]] = []
    matched_at = now.isoformat()
    for per, members in groups.items():
        longest = max(p.history for _, p in members)
        period = Period(start_of(now, per, tz) - STEP[per] * longest, now)
        series = _count_each(client, members, per=per, period=period, tz=tz)
        for rule, params in members:
            found = series.get(rule["rule_id"])
            if found is None:
                continue
            keep = params.history + 1  # each rule reads its own history only
            firing = latest(
                found.labels[-keep:],
                found.counts[-keep:],
                found.totals[-keep:],
                params,
                indexed=found.indexed[-keep:],
            )
            if firing is not None:
                start = found.starts[-keep:][firing.index]
                events.append(spike_event(rule, params, firing, start, matched_at=matched_at))
    return events, len(stored)


def _count_each(
    client: SearchClient,
    members: list[tuple[dict[str, Any], SpikeParams]],
    *,
    per: str,
    period: Period,
    tz: tzinfo,
) -> dict[str, Counted]:
    """The rules' series, together; when the engine refuses the request (a stored query
    it no longer accepts), rule by rule, so one bad rule is logged and skipped and the
    others are still judged. A transient failure (engine busy or away) is raised: the
    task is retried at the next tick."""
    queries = {r["rule_id"]: r["query"] for r, _ in members}
    universes = {r["rule_id"]: _universe(r) for r, _ in members}
    try:
        return count(client, queries, per=per, period=period, tz=tz, universes=universes)
    except SearchError as exc:
        if exc.transient:
            raise
    found: dict[str, Counted] = {}
    for rule_id, query in queries.items():
        try:
            found.update(
                count(
                    client,
                    {rule_id: query},
                    per=per,
                    period=period,
                    tz=tz,
                    universes={rule_id: universes[rule_id]},
                )
            )
        except SearchError as exc:
            if exc.transient:
                raise
            log.error("spike rule not checked", extra={"rule": rule_id, "reason": str(exc)})
            services.state().count(spike_rules_failed=1)
    return found


@app.task(name="mediamon.check_spikes", ignore_result=True)
def check_spikes() -> int:
    """Beat's tick: judge every spike rule's latest period; route what fires."""
    from workers.alerts.outbox import route

    client = services.search_client()
    events, checked = check(client, tz=services.settings().tz)
    created = write_new(client, events)
    route(created)
    services.state().count(spike_rules_checked=checked, spike_events=len(created))
    if created:
        log.info("coverage spikes", extra={"rules": [e["rule_id"] for e in created]})
    return len(created)
