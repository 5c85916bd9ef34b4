"""Keyword alert rules: validated, compiled to percolator queries and stored in the
``alert-rules`` index, with each rule's webhook signing secret in Redis.

Matching a batch against them is workers/alerts/matching.py; routing and delivering what
fired, workers/alerts/outbox.py and workers/alerts/delivery.py.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator

from pipelines.alertquery import Compiler, QueryError, filters
from pipelines.spikes import SpikeParams, spike_form
from workers.config import build_pipeline
from workers.fetching.http import FetchError, address_allowed, check_url, is_ip, parse_networks
from workers.search.client import SearchClient
from workers.settings import Settings
from workers.state import State

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
CHANNEL_URLS = ("webhook", "slack")
# How long the number of enabled rules, kept in Redis, is trusted before the engine is
# asked again. A rule saved or deleted through Rules resets it at once; one written to
# the index by other means is seen within this time.
ENABLED_TTL = 60


# The rules a new article is percolated against: enabled keyword rules (a rule saved
# before spike rules existed has no kind, and is one).
KEYWORD_RULES: dict[str, Any] = {
    "bool": {"filter": [{"term": {"enabled": True}}], "must_not": [{"term": {"kind": "spike"}}]}
}


class RuleError(ValueError):
    """A rule that cannot be saved; the message says which field and why."""


class AlertRule(BaseModel):
    """A keyword rule fires for each new article its query matches; a spike rule
    (``kind="spike"``) for a period in which the articles its query matches stand out
    from their recent past (pipelines/spikes.py, workers/alerts/spikes.py)."""

    id: str
    name: str
    query: str
    kind: Literal["keyword", "spike"] = "keyword"
    spike: SpikeParams | None = None
    sources: list[str] = Field(default_factory=list)
    langs: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    mode: Literal["immediate", "digest"] = "immediate"
    digest_every: int = Field(3600, ge=60, description="Seconds between digests.")
    throttle: int = Field(0, ge=0, description="Seconds between two immediate notifications.")
    webhook: str | None = None
    slack: str | None = None
    email: list[str] = Field(default_factory=list)
    enabled: bool = True
    created_at: str | None = None
    updated_at: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id must be 1-64 of a-z, 0-9, _ and -")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^[^@\s]+@[^@\s]+$", value):
                raise ValueError(f"not an e-mail address: {value!r}")
        return values

    @model_validator(mode="before")
    @classmethod
    def _spike_form(cls, data: Any) -> Any:
        """A query written ``spike(QUERY, OPTION, ...)`` makes a spike rule of QUERY."""
        return written_spike(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _spike_params(self) -> AlertRule:
        if self.kind == "spike" and self.spike is None:
            self.spike = SpikeParams()
        if self.kind == "keyword":
            self.spike = None
        return self

    def channels(self) -> list[str]:
        return [c for c in ("webhook", "slack", "email") if getattr(self, c)]


def written_spike(data: dict[str, Any]) -> dict[str, Any]:
    """A rule's data with a query written ``spike(QUERY, OPTION, ...)`` made a spike
    rule of QUERY, its options over the parameters it has; other data as it is."""
    found = spike_form(data.get("query") or "")
    if not found:
        return data
    query, options = found
    current = data.get("spike") or {}
    if not isinstance(current, dict):
        current = current.as_dict()
    return {**data, "query": query, "kind": "spike", "spike": {**current, **options}}


@lru_cache(maxsize=4)
def _compiler(config_dir: Path) -> Compiler:
    return Compiler.for_pipeline(build_pipeline(config_dir))


def compiler(settings: Settings) -> Compiler:
    return _compiler(settings.config_dir)


def compile_rule(rule: AlertRule, settings: Settings) -> dict[str, Any]:
    """The rule's percolator query: its query language text AND its filters."""
    query = compiler(settings).compile(rule.query)
    clauses = filters(
        sources=rule.sources, langs=rule.langs, topics=rule.topics, entities=rule.entities
    )
    if clauses:
        return {"bool": {"must": [query], "filter": clauses}}
    return query


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Rules:
    def __init__(self, client: SearchClient, state: State):
        self.client = client
        self.state = state
        self.index = client.index_name("alert-rules")

    def save(self, rule: AlertRule, *, new: bool) -> str | None:
        """Validate, compile and store a rule. Returns the signing secret of a new rule."""
        try:
            compiled = compile_rule(rule, self.client.settings)
        except QueryError as exc:
            raise RuleError(str(exc)) from exc
        exists = self.get(rule.id) is not None
        if new and exists:
            raise RuleError(f"a rule with id {rule.id!r} exists; use `alerts edit`")
        if not new and not exists:
            raise RuleError(f"no rule {rule.id!r}")
        urls: dict[str, str | None] = {}
        for channel in CHANNEL_URLS:
            given, stored = getattr(rule, channel), self.channel_url(rule.id, channel)
            if given and stored and given in (stored, mask_url(stored)):
                urls[channel] = stored  # unchanged (an edit shows and keeps the masked form)
            elif given:
                self._check_url(channel, given)
                urls[channel] = given
            else:
                urls[channel] = None
        rule.updated_at = _now()
        rule.created_at = rule.created_at or rule.updated_at
        doc = document(rule, compiled, urls)
        self.client.request(
            "PUT", f"/{self.index}/_doc/{rule.id}", doc, params={"refresh": "wait_for"}
        )
        forget_enabled(self.state)
        previous_webhook = self.channel_url(rule.id, "webhook")
        self._store_urls(rule.id, urls)
        secret = None
        key = self.state.key("alert-secrets")
        if urls["webhook"] and previous_webhook and urls["webhook"] != previous_webhook:
            # a new receiver gets a new key: the old one may be known where it went before
            secret = secrets.token_hex(32)
            self.state.redis.hset(key, rule.id, secret)
        elif self.state.redis.hsetnx(key, rule.id, secrets.token_hex(32)):
            secret = str(self.state.redis.hget(key, rule.id))
        return secret

    def _check_url(self, channel: str, url: str) -> None:
        try:
            host, _ = check_url(url)
        except FetchError as exc:
            raise RuleError(f"{channel} URL refused: {exc.reason}") from exc
        allowed = parse_networks(self.client.settings.allow_private_addresses)
        if is_ip(host) and not address_allowed(host.strip("[]"), allowed):
            raise RuleError(f"{channel} URL refused: {host} is not a public address")

    def _store_urls(self, rule_id: str, urls: dict[str, str | None]) -> None:
        key = self.state.key("alert-channels")
        for channel, url in urls.items():
            if url:
                self.state.redis.hset(key, f"{rule_id}:{channel}", url)
            else:
                self.state.redis.hdel(key, f"{rule_id}:{channel}")

    def channel_url(self, rule_id: str, channel: str) -> str | None:
        """The whole URL of a rule's webhook or Slack channel (the index has it masked;
        a rule saved before URLs moved to Redis still has it whole there)."""
        value = self.state.redis.hget(self.state.key("alert-channels"), f"{rule_id}:{channel}")
        if value:
            return str(value)
        found = self.client.request("GET", f"/{self.index}/_doc/{rule_id}", ignore=(404,))
        legacy = ((found.get("_source") or {}).get("channels") or {}).get(channel)
        return legacy if legacy and "…" not in legacy else None

    def get(self, rule_id: str) -> AlertRule | None:
        found = self.client.request("GET", f"/{self.index}/_doc/{rule_id}", ignore=(404,))
        return _rule(found["_source"]) if found.get("found") else None

    def all(self) -> list[AlertRule]:
        body = {"query": {"match_all": {}}, "size": 10_000, "sort": [{"rule_id": "asc"}]}
        hits = self.client.request("POST", f"/{self.index}/_search", body)["hits"]["hits"]
        return [_rule(h["_source"]) for h in hits]

    def delete(self, rule_id: str) -> bool:
        found = self.client.request(
            "DELETE", f"/{self.index}/_doc/{rule_id}", params={"refresh": "wait_for"}, ignore=(404,)
        )
        forget_enabled(self.state)
        self.state.redis.hdel(self.state.key("alert-secrets"), rule_id)
        self._store_urls(rule_id, dict.fromkeys(CHANNEL_URLS))
        return found.get("result") == "deleted"

    def secret(self, rule_id: str) -> str | None:
        value = self.state.redis.hget(self.state.key("alert-secrets"), rule_id)
        return str(value) if value else None


def document(
    rule: AlertRule, compiled: dict[str, Any], urls: dict[str, str | None]
) -> dict[str, Any]:
    """A rule as the ``alert-rules`` index stores it: its compiled query for the
    percolator (keyword rules) or the spike check (spike rules), with its channel URLs
    masked (``urls`` are the whole ones, kept in Redis)."""
    return {
        "query": compiled,
        "rule_id": rule.id,
        "name": rule.name,
        "query_text": rule.query,
        "kind": rule.kind,
        **({"spike": rule.spike.as_dict()} if rule.spike else {}),
        "filters": {
            "sources": rule.sources,
            "langs": rule.langs,
            "topics": rule.topics,
            "entities": rule.entities,
        },
        "mode": rule.mode,
        "digest_every_s": rule.digest_every,
        "throttle_s": rule.throttle,
        # Channel URLs are credentials (a Slack URL is its own key): the index, which
        # dashboards and queries read, has them masked; Redis has them whole.
        "channels": {
            "webhook": mask_url(urls.get("webhook")),
            "slack": mask_url(urls.get("slack")),
            "email": rule.email,
        },
        "enabled": rule.enabled,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def enabled_rules(client: SearchClient, state: State) -> int:
    """How many keyword rules are enabled: kept in Redis for ENABLED_TTL seconds, else counted
    by the engine. A batch is matched only when there is one: percolating costs the
    engine about as much as indexing the batch, with or without rules."""
    key = state.key("alert-rules", "enabled")
    known = state.redis.get(key)
    if known is not None:
        return int(str(known))
    index = client.index_name("alert-rules")
    body = {"query": KEYWORD_RULES}
    count = int(client.request("POST", f"/{index}/_count", body, ignore=(404,)).get("count", 0))
    state.redis.set(key, count, ex=ENABLED_TTL)
    return count


def forget_enabled(state: State) -> None:
    """Have the next batch count the enabled rules again (a rule changed)."""
    state.redis.delete(state.key("alert-rules", "enabled"))


def mask_url(url: str | None) -> str | None:
    """A channel URL fit to show: its scheme and host, the rest hidden
    (``https://hooks.slack.com/…``)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def _rule(src: dict[str, Any]) -> AlertRule:
    channels = src.get("channels") or {}
    flt = src.get("filters") or {}
    return AlertRule(
        id=src["rule_id"],
        name=src["name"],
        query=src["query_text"],
        kind=src.get("kind", "keyword"),
        spike=SpikeParams(**src["spike"]) if src.get("spike") else None,
        sources=flt.get("sources") or [],
        langs=flt.get("langs") or [],
        topics=flt.get("topics") or [],
        entities=flt.get("entities") or [],
        mode=src.get("mode", "immediate"),
        digest_every=src.get("digest_every_s", 3600),
        throttle=src.get("throttle_s", 0),
        webhook=channels.get("webhook"),
        slack=channels.get("slack"),
        email=channels.get("email") or [],
        enabled=src.get("enabled", True),
        created_at=src.get("created_at"),
        updated_at=src.get("updated_at"),
    )
