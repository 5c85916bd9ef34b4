"""Keyword alert rules (stored as percolator queries) and matching at ingest.

After every indexed batch, ``match`` sends one percolate request with the whole batch;
each (rule, story) match becomes an ``alert-events`` document whose id is a hash of the
rule and the story cluster, written create-only: a rule fires at most once per story,
however many outlets carry it. New events go to delivery (workers/delivery.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from pipelines.alertquery import Compiler, QueryError, filters
from workers.config import build_pipeline
from workers.http import FetchError, address_allowed, check_url, parse_networks
from workers.search.client import SearchClient, SearchError
from workers.settings import Settings
from workers.state import State

MIRRORED = (
    "text_tokens",
    "text_norm",
    "title",
    "entities",
    "topics",
    "source",
    "lang",
    "region",
    "feed_id",
)
RULE_SOURCE = [
    "rule_id",
    "name",
    "query_text",
    "query",
    "mode",
    "digest_every_s",
    "throttle_s",
    "channels",
    "enabled",
]
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


def _is_ip_literal(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


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
                if _is_ip_literal(host) and not address_allowed(host.strip("[]"), allowed):
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


def event_id(rule_id: str, story_id: str) -> str:
    return hashlib.sha256(f"{rule_id}\x1f{story_id}".encode()).hexdigest()[:32]


def _entity_terms(node: Any) -> set[str]:
    """Entity ids a compiled rule asks for (entity:ID and catalogued names)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("term", "terms") and isinstance(value, dict) and "entities.id" in value:
                ids = value["entities.id"]
                found |= set(ids) if isinstance(ids, list) else {ids}
            else:
                found |= _entity_terms(value)
    elif isinstance(node, list):
        for item in node:
            found |= _entity_terms(item)
    return found


def _strip(fragment: str) -> list[str]:
    return re.findall(r"<em>(.*?)</em>", fragment)


def match(client: SearchClient, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Percolate a batch; write new events (create-only). Returns the created events."""
    if not docs:
        return []
    documents = [{k: d[k] for k in MIRRORED if k in d} for d in docs]
    for document in documents:  # only the entity fields the rules index mirrors
        document["entities"] = [
            {"id": e["id"], "type": e["type"]} for e in document.get("entities", [])
        ]
    body = {
        "query": {
            "bool": {
                "must": [{"percolate": {"field": "query", "documents": documents}}],
                "filter": [{"term": {"enabled": True}}],
            }
        },
        "highlight": {
            "fields": {
                "text_tokens": {"number_of_fragments": 3, "fragment_size": 80},
                "text_norm": {"number_of_fragments": 3, "fragment_size": 80},
            }
        },
        "_source": RULE_SOURCE,
        "size": 10_000,
    }
    hits = client.request("POST", f"/{client.index_name('alert-rules')}/_search", body)["hits"][
        "hits"
    ]
    now = _now()
    events: list[dict[str, Any]] = []
    for hit in hits:
        rule = hit["_source"]
        highlight = hit.get("highlight", {})
        slots = hit.get("fields", {}).get("_percolator_document_slot", [])
        for slot in slots:
            doc = docs[slot]
            fragments = highlight.get(f"{slot}_text_tokens", []) + highlight.get(
                f"{slot}_text_norm", []
            )
            if len(slots) == 1 and not fragments:
                fragments = highlight.get("text_tokens", []) + highlight.get("text_norm", [])
            wanted = _entity_terms(rule.get("query", {}))
            named = [e for e in doc.get("entities", []) if e["id"] in wanted]
            event = {
                "id": event_id(rule["rule_id"], doc.get("story_id") or doc["id"]),
                "rule_id": rule["rule_id"],
                "rule_name": rule["name"],
                "mode": rule.get("mode", "immediate"),
                "article_id": doc["id"],
                "story_id": doc.get("story_id") or doc["id"],
                "title": doc.get("title"),
                "url": doc.get("url"),
                "source": doc.get("source"),
                "lang": doc.get("lang"),
                "published_at": doc.get("published_at"),
                "matched_at": now,
                "why": {
                    "terms": sorted({t for f in fragments for t in _strip(f)}),
                    "entities": sorted({e["id"] for e in named}),
                    "aliases": sorted({a for e in named for a in e.get("aliases", [])}),
                    "fragments": fragments[:4],
                },
            }
            for channel in ("webhook", "slack", "email"):
                if (rule.get("channels") or {}).get(channel):
                    event.setdefault("delivery", {})[channel] = {"status": "pending", "attempts": 0}
            events.append({k: v for k, v in event.items() if v is not None})
    if not events:
        return []
    operations: list[dict[str, Any]] = []
    alias = client.index_name("alert-events")
    for event in events:
        operations += [{"create": {"_index": alias, "_id": event["id"]}}, event]
    response = client.bulk(operations)
    created = []
    for event, item in zip(events, response.get("items", []), strict=True):
        status = item.get("create", {}).get("status")
        if status == 201:
            created.append(event)
        elif status != 409:  # 409: this rule already fired for this story
            raise SearchError(f"alert event not written: {item}", status=status)
    return created
