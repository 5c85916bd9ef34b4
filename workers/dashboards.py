"""Importing and exporting the dashboards' saved objects (Kibana or OpenSearch Dashboards)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from workers.search import templates
from workers.settings import Settings

KIND_DIRS = {"kibana": "kibana", "opensearch-dashboards": "opensearch-dashboards"}
DASHBOARD_IDS = ("mediamon-coverage", "mediamon-pipeline-health")


class DashboardsError(Exception):
    """Kibana / OpenSearch Dashboards could not be reached or refused the objects."""


@dataclass
class Target:
    url: str
    kind: str  # "kibana" or "opensearch-dashboards"
    version: str

    @property
    def xsrf(self) -> dict[str, str]:
        return (
            {"osd-xsrf": "true"} if self.kind == "opensearch-dashboards" else {"kbn-xsrf": "true"}
        )


def _client(settings: Settings) -> httpx.Client:
    auth = None
    if settings.dashboards_username:
        password = (
            settings.dashboards_password.get_secret_value() if settings.dashboards_password else ""
        )
        auth = (settings.dashboards_username, password)
    verify: Any = (
        str(settings.search_ca_certs) if settings.search_ca_certs else settings.search_verify_certs
    )
    return httpx.Client(auth=auth, verify=verify, timeout=30)


def wait(
    settings: Settings,
    url: str | None = None,
    *,
    timeout: float = 300.0,
    progress: Callable[[str, float, str], None] | None = None,
    every: float = 10.0,
) -> Target:
    """Wait until the dashboards app answers /api/status as available; say which it is.
    ``progress(url, seconds waited, last answer)`` is called every ``every`` seconds."""
    base = (url or settings.dashboards_url).rstrip("/")
    started = time.monotonic()
    deadline = started + timeout
    told = started
    last = "no answer"
    with _client(settings) as client:
        while True:
            try:
                response = client.get(f"{base}/api/status")
                if response.status_code == 200:
                    body = response.json()
                    kind = "opensearch-dashboards" if "osd-name" in response.headers else "kibana"
                    version = str((body.get("version") or {}).get("number", "?"))
                    return Target(base, kind, version)
                last = f"HTTP {response.status_code}"
                if response.status_code in (401, 403):
                    raise DashboardsError(
                        f"{base} refused the credentials (HTTP {response.status_code})"
                    )
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            now = time.monotonic()
            if now > deadline:
                raise DashboardsError(f"{base} was not available within {timeout:.0f}s ({last})")
            if progress is not None and now - told >= every:
                progress(base, now - started, last)
                told = now
            time.sleep(2)


def saved_objects_path(settings: Settings, kind: str) -> Path:
    return settings.dashboards_dir / KIND_DIRS[kind] / "mediamon.ndjson"


def read_objects(path: Path) -> list[dict[str, Any]]:
    """One saved object per NDJSON line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DashboardsError(f"{path}: no saved objects there (MEDIAMON_DASHBOARDS_DIR)") from exc
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def objects_for(settings: Settings, kind: str) -> list[dict[str, Any]]:
    """The bundled NDJSON for this kind, with data view titles carrying the index prefix."""
    objects = read_objects(saved_objects_path(settings, kind))
    for obj in objects:
        if obj["type"] == "index-pattern":
            obj["attributes"]["title"] = settings.index(obj["attributes"]["title"])
    return objects


def import_objects(settings: Settings, target: Target) -> dict[str, Any]:
    """POST /api/saved_objects/_import?overwrite=true: idempotent, same ids every time."""
    body = "".join(
        json.dumps(o, ensure_ascii=False) + "\n" for o in objects_for(settings, target.kind)
    )
    with _client(settings) as client:
        response = client.post(
            f"{target.url}/api/saved_objects/_import",
            params={"overwrite": "true"},
            headers=target.xsrf,
            files={"file": ("mediamon.ndjson", body.encode(), "application/ndjson")},
        )
    if response.status_code != 200:
        raise DashboardsError(f"import refused: HTTP {response.status_code}: {response.text[:500]}")
    result = response.json()
    if not result.get("success", False):
        errors = "; ".join(
            f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type')}"
            for e in result.get("errors", [])
        )
        raise DashboardsError(
            f"import incomplete ({result.get('successCount', 0)} objects imported): {errors}"
        )
    return result


def export_objects(settings: Settings, target: Target, out: Path) -> Path:
    """Export the dashboards with everything they reference, as NDJSON, to ``out``."""
    if out.resolve() in {saved_objects_path(settings, k).resolve() for k in KIND_DIRS}:
        raise DashboardsError(
            f"{out} is the bundled file that dashboards/generate.py writes; export elsewhere"
        )
    with _client(settings) as client:
        response = client.post(
            f"{target.url}/api/saved_objects/_export",
            headers=target.xsrf,
            json={
                "objects": [{"type": "dashboard", "id": i} for i in DASHBOARD_IDS],
                "includeReferencesDeep": True,
            },
        )
    if response.status_code != 200:
        raise DashboardsError(f"export refused: HTTP {response.status_code}: {response.text[:500]}")
    lines = [
        line
        for line in response.text.splitlines()
        if line.strip() and '"exportedCount"' not in line
    ]
    objects = [json.loads(line) for line in lines]
    for obj in objects:  # back to plain alias names, whatever prefix this deployment uses
        if obj.get("type") == "index-pattern" and settings.index_prefix:
            obj["attributes"]["title"] = obj["attributes"]["title"].removeprefix(
                settings.index_prefix
            )
    path = out
    path.write_text(
        "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects),
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------- static check
# What Kibana (Lens) and OpenSearch Dashboards need to render a panel, checked without
# either of them: every reference resolves, every accessor is a column of its layer,
# every layer has its data view, formulas and orderBy point at columns, and every field
# exists in the index templates with a type the operation can aggregate.
AGGREGATABLE = {"keyword", "date", "integer", "long", "float", "double", "boolean", "short"}
KQL_FIELD = re.compile(r"([a-z_][a-z_.]*)\s*:")


def problems(objects: list[dict[str, Any]], kind: str) -> list[str]:
    """Everything in one set of saved objects that the app would fail on; empty if none."""
    found: list[str] = []
    ids = {(o.get("type"), o.get("id")) for o in objects}
    if len(ids) != len(objects):
        found.append("duplicate (type, id) pairs")
    views = {o["id"]: o for o in objects if o.get("type") == "index-pattern"}
    for obj in objects:
        where = f"{obj.get('type')}/{obj.get('id')}"
        missing = {"id", "type", "attributes", "references"} - set(obj)
        if missing:
            found.append(f"{where}: lacks {sorted(missing)}")
            continue
        for ref in obj["references"]:
            if (ref["type"], ref["id"]) not in ids:
                found.append(
                    f"{where}: reference {ref['name']} -> {ref['type']}/{ref['id']} missing"
                )
        found += [f"{where}: {p}" for p in _object_problems(obj, kind, views)]
    return found


def _object_problems(obj: dict[str, Any], kind: str, views: dict[str, Any]) -> Iterator[str]:
    kinds = {"index-pattern": _view_problems, "dashboard": _dashboard_problems}
    if obj["type"] in kinds:
        yield from kinds[obj["type"]](obj, kind)
        return
    view_refs = [r for r in obj["references"] if r["type"] == "index-pattern"]
    if not view_refs or view_refs[0]["id"] not in views:
        yield "no data view reference"
        return
    fields = _fields(views[view_refs[0]["id"]]["attributes"]["title"])
    if obj["type"] == "lens":
        yield from _lens_problems(obj, fields)
    elif obj["type"] == "search":
        yield from _search_problems(obj, fields)
    elif obj["type"] == "visualization":
        yield from _visualization_problems(obj, fields)


def _fields(alias: str) -> dict[str, str]:
    return (
        templates.field_paths(templates.load(alias).properties())
        if alias in templates.NAMES
        else {}
    )


def _kql(query: str | None, fields: dict[str, str]) -> Iterator[str]:
    for field in KQL_FIELD.findall(query or ""):
        if field not in fields:
            yield f"query field {field!r} is not in the template"


def _view_problems(obj: dict[str, Any], kind: str) -> Iterator[str]:
    alias = obj["attributes"].get("title")
    if alias not in templates.NAMES:
        yield f"data view title {alias!r} is not one of the aliases {templates.NAMES}"
    elif _fields(alias).get(obj["attributes"].get("timeFieldName", "")) != "date":
        yield f"time field {obj['attributes'].get('timeFieldName')!r} is not a date of {alias}"


def _dashboard_problems(obj: dict[str, Any], kind: str) -> Iterator[str]:
    names = {r["name"] for r in obj["references"]}
    for panel in json.loads(obj["attributes"]["panelsJSON"]):
        # Kibana 8+ prefixes the reference name with the panel index; OSD does not.
        name = (
            f"{panel['panelIndex']}:{panel['panelRefName']}"
            if kind == "kibana"
            else panel["panelRefName"]
        )
        if name not in names:
            yield f"panel {panel.get('title')!r}: no reference named {name!r}"


def _lens_problems(obj: dict[str, Any], fields: dict[str, str]) -> Iterator[str]:
    state = obj["attributes"]["state"]
    yield from _kql(state.get("query", {}).get("query"), fields)
    layers = state["datasourceStates"]["formBased"]["layers"]
    ref_names = {r["name"] for r in obj["references"] if r["type"] == "index-pattern"}
    for layer_id, layer in layers.items():
        if f"indexpattern-datasource-layer-{layer_id}" not in ref_names:
            yield f"layer {layer_id} has no data view reference"
        columns = layer["columns"]
        if set(layer.get("columnOrder", [])) != set(columns):
            yield f"layer {layer_id}: columnOrder and columns differ"
        for column_id, column in columns.items():
            yield from (
                f"column {column_id}: {p}" for p in _column_problems(column, columns, fields)
            )
    for layer_id, accessors in _accessors(state["visualization"]):
        if layer_id not in layers:
            yield f"visualization names layer {layer_id}, which the data source lacks"
            continue
        for accessor in accessors:
            if accessor not in layers[layer_id]["columns"]:
                yield f"accessor {accessor} is not a column of layer {layer_id}"


def _column_problems(
    column: dict[str, Any], columns: dict[str, Any], fields: dict[str, str]
) -> Iterator[str]:
    for ref in column.get("references", []):
        if ref not in columns:
            yield f"references {ref}, which is not a column"
    params = column.get("params", {})
    order = params.get("orderBy", {})
    if order.get("type") == "column" and order.get("columnId") not in columns:
        yield f"orderBy column {order.get('columnId')} does not exist"
    for arg in (
        params.get("tinymathAst", {}).get("args", [])
        if isinstance(params.get("tinymathAst"), dict)
        else []
    ):
        if isinstance(arg, str) and arg not in columns:
            yield f"formula argument {arg} is not a column"
    source = column.get("sourceField")
    operation = column.get("operationType")
    if source and source != "___records___":
        if source not in fields:
            yield f"field {source!r} is not in the template"
        elif operation == "date_histogram" and fields[source] != "date":
            yield f"date histogram on {source!r}, a {fields[source]}"
        elif operation in ("terms", "unique_count") and fields[source] not in AGGREGATABLE:
            yield f"{operation} on {source!r}, a {fields[source]} (not aggregatable)"
    for item in params.get("filters", []):
        yield from _kql(item["input"]["query"], fields)
    if column.get("filter"):
        yield from _kql(column["filter"]["query"], fields)


def _accessors(visualization: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """(layer id, column ids) for each layer of an XY, pie, tag cloud or metric chart."""
    layers = visualization.get("layers") or [visualization]
    for layer in layers:
        ids = [
            *layer.get("accessors", []),
            *layer.get("metrics", []),
            *layer.get("primaryGroups", []),
            *(
                layer[key]
                for key in (
                    "xAccessor",
                    "splitAccessor",
                    "tagAccessor",
                    "valueAccessor",
                    "metricAccessor",
                )
                if layer.get(key)
            ),
        ]
        yield layer["layerId"], ids


def _tsvb_problems(params: dict[str, Any], fields: dict[str, str]) -> Iterator[str]:
    """A TSVB chart names its index by title and its fields and filters in params."""
    if params.get("index_pattern") not in templates.NAMES:
        yield f"TSVB index {params.get('index_pattern')!r} is not one of the aliases"
    if fields.get(params.get("time_field", "")) != "date":
        yield f"TSVB time field {params.get('time_field')!r} is not a date"
    for series in params.get("series", []):
        for item in series.get("split_filters", []):
            yield from _kql(item["filter"]["query"], fields)
        for metric in series.get("metrics", []):
            for side in ("numerator", "denominator"):
                if isinstance(metric.get(side), dict):
                    yield from _kql(metric[side]["query"], fields)
                elif side in metric:
                    yield f"TSVB {side} must be a query object ({{query, language}})"


def _search_problems(obj: dict[str, Any], fields: dict[str, str]) -> Iterator[str]:
    for column in obj["attributes"].get("columns", []):
        if column not in fields:
            yield f"column {column!r} is not in the template"
    for sort_field, _ in obj["attributes"].get("sort", []):
        if sort_field not in fields:
            yield f"sort field {sort_field!r} is not in the template"
    source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    yield from _kql(source.get("query", {}).get("query"), fields)


def _visualization_problems(obj: dict[str, Any], fields: dict[str, str]) -> Iterator[str]:
    state = json.loads(obj["attributes"]["visState"])
    if state.get("type") == "metrics":
        yield from _tsvb_problems(state["params"], fields)
    for agg in state["aggs"]:
        field = agg["params"].get("field")
        if field:
            if field not in fields:
                yield f"aggregation field {field!r} is not in the template"
            elif agg["type"] == "date_histogram" and fields[field] != "date":
                yield f"date histogram on {field!r}, a {fields[field]}"
            elif agg["type"] != "date_histogram" and fields[field] not in AGGREGATABLE:
                yield f"{agg['type']} on {field!r}, a {fields[field]} (not aggregatable)"
        for item in agg["params"].get("filters", []):
            yield from _kql(item["input"]["query"], fields)
