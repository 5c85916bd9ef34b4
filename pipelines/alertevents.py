"""Alert events: what one rule matching one story records, and why; and what a spike
rule records for the period in which it fired (``spike_event``).

An event's id is a hash of the rule and the story cluster, so a rule fires once per story
however many outlets carry it. ``why`` names the words the engine highlighted and the
catalogued entities (with the aliases the article used) that the rule asked for. The
event carries the part of its rule that routing needs (``routing``: mode, throttle,
digest period, channel names), so its deliveries can be queued from the event alone,
again after a crash, without reading the rule.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.spikes import Firing, SpikeParams, sparkline

CHANNELS = ("webhook", "slack", "email")
_HIGHLIGHT = re.compile(r"<em>(.*?)</em>")


def event_id(rule_id: str, story_id: str) -> str:
    return hashlib.sha256(f"{rule_id}\x1f{story_id}".encode()).hexdigest()[:32]


def entity_terms(query: Any) -> set[str]:
    """Entity ids a compiled rule asks for (``entity:ID`` and catalogued names)."""
    found: set[str] = set()
    if isinstance(query, dict):
        for key, value in query.items():
            if key in ("term", "terms") and isinstance(value, dict) and "entities.id" in value:
                ids = value["entities.id"]
                found |= set(ids) if isinstance(ids, list) else {ids}
            else:
                found |= entity_terms(value)
    elif isinstance(query, list):
        for item in query:
            found |= entity_terms(item)
    return found


def news(docs: list[dict[str, Any]], max_age_days: float, now: datetime) -> list[dict[str, Any]]:
    """The documents an alert may announce: those published at most ``max_age_days``
    before ``now`` (0: of any age). A backfill, an archive or a new feed's first poll
    brings old stories into the index; they are found by search and counted on the
    dashboards, not announced as news. A document of unknown date counts as new."""
    if not max_age_days:
        return docs
    oldest = now - timedelta(days=max_age_days)
    return [doc for doc in docs if (_published(doc) or now) >= oldest]


def _published(doc: dict[str, Any]) -> datetime | None:
    """The document's date; one without a zone is UTC, as the pipeline writes dates."""
    try:
        day = datetime.fromisoformat(doc.get("published_at") or "")
    except (TypeError, ValueError):
        return None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def routing(rule: dict[str, Any]) -> dict[str, Any]:
    """What routing needs of a stored rule (the ``alert-rules`` document's source)."""
    channels = rule.get("channels") or {}
    return {
        "mode": rule.get("mode", "immediate"),
        "throttle_s": int(rule.get("throttle_s") or 0),
        "digest_every_s": int(rule.get("digest_every_s") or 3600),
        "channels": [c for c in CHANNELS if channels.get(c)],
    }


def build_event(
    rule: dict[str, Any], doc: dict[str, Any], fragments: list[str], *, matched_at: str
) -> dict[str, Any]:
    """The event for stored ``rule`` matching document ``doc``; ``fragments`` are the
    engine's highlights (matched words in <em>). Every channel starts ``pending``."""
    wanted = entity_terms(rule.get("query", {}))
    named = [e for e in doc.get("entities", []) if e["id"] in wanted]
    story = doc.get("story_id") or doc["id"]
    route = routing(rule)
    event = {
        "id": event_id(rule["rule_id"], story),
        "rule_id": rule["rule_id"],
        "rule_name": rule["name"],
        "mode": route["mode"],
        "routing": route,
        "article_id": doc["id"],
        "story_id": story,
        "title": doc.get("title"),
        "url": doc.get("url"),
        "source": doc.get("source"),
        "lang": doc.get("lang"),
        "published_at": doc.get("published_at"),
        "matched_at": matched_at,
        "why": {
            "terms": sorted({t for f in fragments for t in _HIGHLIGHT.findall(f)}),
            "entities": sorted({e["id"] for e in named}),
            "aliases": sorted({a for e in named for a in e.get("aliases", [])}),
            "fragments": fragments[:4],
        },
        "delivery": {
            channel: {"status": "pending", "attempts": 0} for channel in route["channels"]
        },
    }
    return {k: v for k, v in event.items() if v not in (None, {})}


def spike_event(
    rule: dict[str, Any],
    params: SpikeParams,
    firing: Firing,
    period_start: str,
    *,
    matched_at: str,
) -> dict[str, Any]:
    """The event for stored spike ``rule`` firing in one period: its id is the rule and
    the period, so a period fires once; it carries the numbers (now, baseline, factor,
    robust score) and the recent values as a sparkline."""
    route = routing(rule)
    unit = "of coverage" if params.measure == "share" else "articles"
    now = f"{firing.value:.1%}" if params.measure == "share" else str(firing.count)
    base = f"{firing.baseline:.1%}" if params.measure == "share" else f"{firing.baseline:g}"
    times = f"{firing.factor:g}×" if firing.factor is not None else "up from none"
    event = {
        "id": event_id(rule["rule_id"], f"spike\x1f{params.per}\x1f{firing.period}"),
        "kind": "spike",
        "rule_id": rule["rule_id"],
        "rule_name": rule["name"],
        "mode": route["mode"],
        "routing": route,
        "title": (
            f"Coverage spike: {rule['name']}: {now} {unit} {'on' if params.per == 'day' else 'at'} "
            f"{firing.period} ({times}; baseline {base})"
        ),
        "published_at": period_start,
        "matched_at": matched_at,
        "spike": {
            "query": rule.get("query_text"),
            "per": params.per,
            "measure": params.measure,
            "period": period_start,
            "label": firing.period,
            "count": firing.count,
            "total": firing.total,
            "value": firing.value,
            "baseline": firing.baseline,
            "deviation": firing.deviation,
            "score": firing.score,
            "factor": firing.factor,
            "recent": firing.recent,
            "sparkline": sparkline(firing.recent),
        },
        "delivery": {
            channel: {"status": "pending", "attempts": 0} for channel in route["channels"]
        },
    }
    return {k: v for k, v in event.items() if v not in (None, {})}


def spike_numbers(event: dict[str, Any]) -> str:
    """A spike's figures in one line: ``now=14 baseline=2 factor=7 ▁▁▂▁▁█``."""
    spike = event.get("spike") or {}
    share = spike.get("measure") == "share"
    show = (lambda v: f"{v:.1%}") if share else (lambda v: f"{v:g}")
    factor = spike.get("factor")
    return (
        f"now={show(spike.get('value', 0))} baseline={show(spike.get('baseline', 0))} "
        f"factor={f'{factor:g}' if factor is not None else 'new'} {spike.get('sparkline', '')}"
    )
