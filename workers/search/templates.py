"""Index templates: the JSON files beside this module are the schema.

Every index is reached through an alias (``articles``) over a versioned physical index
(``articles-v1``), so a mapping change is a new physical index, a reindex and an atomic
alias swap. The CLI, the workers and the tests all load templates through ``load``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from workers.search.client import SearchClient

TEMPLATE_DIR = Path(str(files("workers.search") / "templates"))
NAMES = ("articles", "rejected", "feeds", "alert-rules", "alert-events")
# Index settings that can change on a live index: ``apply`` sets them on an existing
# physical index to the template's value, and resets the ones the template leaves out
# to the engine's default. ``refresh_interval`` is left out on purpose: unset, a shard
# refreshes every second while it is being searched, and not at all once no search has
# come for 30 s (``index.search.idle.after``); the first search after that waits for
# the refresh, so it still sees every document written. Bulk writes with nobody
# searching (an archive, a backfill) then cost the engine about half the CPU.
LIVE_SETTINGS = ("refresh_interval",)


@dataclass(frozen=True)
class Template:
    name: str
    version: int
    settings: dict[str, Any]
    mappings: dict[str, Any]
    description: str

    def alias(self, prefix: str) -> str:
        return f"{prefix}{self.name}"

    def physical(self, prefix: str) -> str:
        return f"{prefix}{self.name}-v{self.version}"

    def body(self, prefix: str) -> dict[str, Any]:
        """A composable index template, accepted by Elasticsearch 7.8+ and OpenSearch 1+."""
        return {
            "index_patterns": [f"{prefix}{self.name}-v*"],
            "priority": 100,
            "version": self.version,
            "template": {"settings": self.settings, "mappings": self.mappings},
            "_meta": {"managed_by": "mediamon", "description": self.description},
        }

    def properties(self) -> dict[str, Any]:
        return dict(self.mappings["properties"])


@cache
def load(name: str) -> Template:
    """Read ``templates/<name>.json``."""
    path = TEMPLATE_DIR / f"{name}.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    meta = raw["_meta"]
    if raw["mappings"].get("dynamic") != "strict":
        raise ValueError(f'{path}: mappings must be "dynamic": "strict"')
    if meta.get("mirrors"):
        # Fields another index's documents are matched against (the percolator's) are
        # copied from that index's template, with its analyzers.
        source = load(meta["mirrors"])
        for field in meta.get("mirror_fields", []):
            raw["mappings"]["properties"][field] = source.mappings["properties"][field]
        raw.setdefault("settings", {})["analysis"] = source.settings.get("analysis", {})
    return Template(
        name=meta["alias"],
        version=int(meta["version"]),
        settings=raw.get("settings", {}),
        mappings=raw["mappings"],
        description=meta.get("description", ""),
    )


def field_paths(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten a mapping to ``{"entities.id": "keyword", ...}`` (objects included)."""
    out: dict[str, str] = {}
    for key, spec in properties.items():
        path = prefix + key
        out[path] = spec.get("type", "object")
        if "properties" in spec:
            out.update(field_paths(spec["properties"], path + "."))
        for sub, subspec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = subspec.get("type", "object")
    return out


def apply(client: SearchClient, names: tuple[str, ...] = NAMES) -> list[str]:
    """Put templates, create missing physical indices and aliases. Idempotent.

    Returns lines describing what was done, for the CLI.
    """
    prefix = client.settings.index_prefix
    report = []
    for name in names:
        template = load(name)
        client.request("PUT", f"/_index_template/{prefix}{name}", template.body(prefix))
        alias, physical = template.alias(prefix), template.physical(prefix)
        if not client.exists(f"/{physical}"):
            client.request(
                "PUT",
                f"/{physical}",
                {"aliases": {alias: {"is_write_index": True}}},
                ignore=(400,),  # created meanwhile by another process
            )
            report.append(f"created {physical} with alias {alias}")
        else:
            # New fields reach an existing index too (adding fields is always allowed; a
            # changed field is an error here and needs a new version and a reindex).
            client.request("PUT", f"/{physical}/_mapping", template.mappings)
            client.request(
                "PUT",
                f"/{physical}/_settings",
                {"index": {key: template.settings.get(key) for key in LIVE_SETTINGS}},
            )
            client.request(
                "POST",
                "/_aliases",
                {"actions": [{"add": {"index": physical, "alias": alias, "is_write_index": True}}]},
            )
            report.append(f"{physical} exists; alias {alias} points at it")
    return report


def drop(client: SearchClient, names: tuple[str, ...] = NAMES) -> None:
    """Delete the physical indices and templates (tests and `mediamon search reset`)."""
    prefix = client.settings.index_prefix
    for name in names:
        template = load(name)
        client.request("DELETE", f"/{template.physical(prefix)}", ignore=(404,))
        client.request("DELETE", f"/_index_template/{prefix}{name}", ignore=(404,))
