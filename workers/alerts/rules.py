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

from pydantic import BaseModel, Field, field_validator

from pipelines.alertquery import Compiler, QueryError, filters
from workers.config import build_pipeline
from workers.fetching.http import FetchError, address_allowed, check_url, is_ip, parse_networks
from workers.search.client import SearchClient
from workers.settings import Settings
from workers.state import State

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


class RuleError(ValueError):
    """A rule that cannot be saved; the message says which field and why."""


class AlertRule(BaseModel):
    id: str
    name: str
    query: str
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

    def channels(self) -> list[str]:
        return [c for c in ("webhook", "slack", "email") if getattr(self, c)]


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
        for channel in ("webhook", "slack"):
            url = getattr(rule, channel)
            if url:
                try:
                    host, _ = check_url(url)
                except FetchError as exc:
                    raise RuleError(f"{channel} URL refused: {exc.reason}") from exc
                allowed = parse_networks(self.client.settings.allow_private_addresses)
                if is_ip(host) and not address_allowed(host.strip("[]"), allowed):
                    raise RuleError(f"{channel} URL refused: {host} is not a public address")
        exists = self.get(rule.id) is not None
        if new and exists:
            raise RuleError(f"a rule with id {rule.id!r} exists; use `alerts edit`")
        if not new and not exists:
            raise RuleError(f"no rule {rule.id!r}")
        rule.updated_at = _now()
        rule.created_at = rule.created_at or rule.updated_at
        doc = {
            "query": compiled,
            "rule_id": rule.id,
            "name": rule.name,
            "query_text": rule.query,
            "filters": {
                "sources": rule.sources,
                "langs": rule.langs,
                "topics": rule.topics,
                "entities": rule.entities,
            },
            "mode": rule.mode,
            "digest_every_s": rule.digest_every,
            "throttle_s": rule.throttle,
            "channels": {"webhook": rule.webhook, "slack": rule.slack, "email": rule.email},
            "enabled": rule.enabled,
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
        }
        self.client.request(
            "PUT", f"/{self.index}/_doc/{rule.id}", doc, params={"refresh": "wait_for"}
        )
        secret = None
        key = self.state.key("alert-secrets")
        if self.state.redis.hsetnx(key, rule.id, secrets.token_hex(32)):
            secret = str(self.state.redis.hget(key, rule.id))
        return secret

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
        self.state.redis.hdel(self.state.key("alert-secrets"), rule_id)
        return found.get("result") == "deleted"

    def secret(self, rule_id: str) -> str | None:
        value = self.state.redis.hget(self.state.key("alert-secrets"), rule_id)
        return str(value) if value else None


def _rule(src: dict[str, Any]) -> AlertRule:
    channels = src.get("channels") or {}
    flt = src.get("filters") or {}
    return AlertRule(
        id=src["rule_id"],
        name=src["name"],
        query=src["query_text"],
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
