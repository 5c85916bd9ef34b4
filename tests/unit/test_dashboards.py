"""Static checks of the dashboards against the index templates, and the import client
against a local stand-in for the Kibana saved-objects API (no Kibana runs here)."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from workers.search import templates
from workers.settings import Settings

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
SETS = {
    "kibana": DASHBOARDS / "kibana" / "mediamon.ndjson",
    "opensearch-dashboards": DASHBOARDS / "opensearch-dashboards" / "mediamon.ndjson",
}
AGGREGATABLE = {"keyword", "date", "integer", "long", "float", "double", "boolean"}
KQL_FIELD = re.compile(r"([a-z_][a-z_.]*)\s*:")


def _objects(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _fields(alias: str) -> dict[str, str]:
    return templates.field_paths(templates.load(alias).properties())


def _views(objects: list[dict]) -> dict[str, dict]:
    return {o["id"]: o for o in objects if o["type"] == "index-pattern"}


@pytest.mark.parametrize("kind", SETS)
def test_every_line_parses_and_every_reference_resolves(kind: str) -> None:
    objects = _objects(SETS[kind])
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects), "duplicate objects"
    for obj in objects:
        assert {"id", "type", "attributes", "references"} <= set(obj)
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, (obj["id"], ref)
        if obj["type"] == "dashboard":
            panels = json.loads(obj["attributes"]["panelsJSON"])
            names = {r["name"] for r in obj["references"]}
            for panel in panels:
                expected = (
                    f"{panel['panelIndex']}:{panel['panelRefName']}"
                    if kind == "kibana"
                    else panel["panelRefName"]
                )
                assert expected in names


@pytest.mark.parametrize("kind", SETS)
def test_data_views_name_the_aliases_and_their_time_fields(kind: str) -> None:
    for view in _views(_objects(SETS[kind])).values():
        alias = view["attributes"]["title"]
        assert alias in templates.NAMES  # the alias itself, not a physical index
        assert _fields(alias)[view["attributes"]["timeFieldName"]] == "date"


def _kql_fields(query: str) -> list[str]:
    return KQL_FIELD.findall(query or "")


def test_kibana_panels_use_fields_that_exist_with_the_right_type() -> None:
    objects = _objects(SETS["kibana"])
    views = _views(objects)
    checked = 0
    for obj in objects:
        ref = next((r for r in obj["references"] if r["type"] == "index-pattern"), None)
        if ref is None:
            continue
        fields = _fields(views[ref["id"]]["attributes"]["title"])
        if obj["type"] == "lens":
            state = obj["attributes"]["state"]
            for field in _kql_fields(state["query"]["query"]):
                assert field in fields, field
            for layer in state["datasourceStates"]["formBased"]["layers"].values():
                for column in layer["columns"].values():
                    source = column.get("sourceField")
                    if source and source != "___records___":
                        assert source in fields, source
                        if column["operationType"] == "date_histogram":
                            assert fields[source] == "date", source
                        if column["operationType"] == "terms":
                            assert fields[source] in AGGREGATABLE, source
                        checked += 1
                    for item in column.get("params", {}).get("filters", []):
                        assert all(f in fields for f in _kql_fields(item["input"]["query"]))
                    if column.get("filter"):
                        assert all(f in fields for f in _kql_fields(column["filter"]["query"]))
        if obj["type"] == "search":
            for column in obj["attributes"]["columns"]:
                assert column in fields, column
            sort_field = obj["attributes"]["sort"][0][0]
            assert fields[sort_field] == "date"
            source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
            assert all(f in fields for f in _kql_fields(source["query"]["query"]))
    assert checked >= 12


def test_opensearch_visualizations_use_fields_that_exist_with_the_right_type() -> None:
    objects = _objects(SETS["opensearch-dashboards"])
    views = _views(objects)
    for obj in objects:
        if obj["type"] != "visualization":
            continue
        ref = next(r for r in obj["references"] if r["type"] == "index-pattern")
        fields = _fields(views[ref["id"]]["attributes"]["title"])
        for agg in json.loads(obj["attributes"]["visState"])["aggs"]:
            field = agg["params"].get("field")
            if field:
                assert field in fields, field
                assert (
                    fields[field] == "date"
                    if agg["type"] == "date_histogram"
                    else fields[field] in AGGREGATABLE
                )
            for item in agg["params"].get("filters", []):
                assert all(f in fields for f in _kql_fields(item["input"]["query"]))


def test_both_sets_have_the_same_dashboards_and_panels() -> None:
    def panels(kind: str) -> dict[str, list[str]]:
        return {
            o["id"]: [p["title"] for p in json.loads(o["attributes"]["panelsJSON"])]
            for o in _objects(SETS[kind])
            if o["type"] == "dashboard"
        }

    kibana = panels("kibana")
    assert kibana == panels("opensearch-dashboards")
    coverage = kibana["mediamon-coverage"]
    for title in (
        "Articles per day by topic",
        "Share of all coverage per day, by topic",
        "Xi–Putin co-mentions: same sentence vs same article",
        "Top entities",
        "Keywords",
        "Coverage by source",
        "Coverage by script and region",
        "Latest articles",
        "Recent alert events",
    ):
        assert title in coverage
    assert {
        "Articles indexed per hour",
        "Failing feeds",
        "Rejected articles",
        "Alert deliveries",
    } <= set(kibana["mediamon-pipeline-health"])


# ------------------------------------------------------------------ the import client
class _StandIn(http.server.BaseHTTPRequestHandler):
    """Answers like the saved-objects API: /api/status, then _import (multipart)."""

    calls: ClassVar[list[tuple[str, str, dict, bytes]]] = []
    ready_after = 2
    osd = False

    def log_message(self, *_: object) -> None:
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("osd-name" if self.osd else "kbn-name", "stand-in")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        type(self).calls.append(("GET", self.path, dict(self.headers), b""))
        if sum(1 for c in self.calls if c[1] == "/api/status") < self.ready_after:
            self._reply(503, {"status": {"overall": {"level": "unavailable"}}})
        else:
            self._reply(200, {"version": {"number": "2.19.1" if self.osd else "9.4.4"}})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append(("POST", self.path, dict(self.headers), body))
        count = body.count(b'"type"')
        self._reply(200, {"success": True, "successCount": count})


@pytest.fixture
def stand_in() -> Iterator[str]:
    _StandIn.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("osd", [False, True])
def test_import_waits_detects_and_posts_the_right_set(stand_in: str, osd: bool) -> None:
    from workers.dashboards import import_objects, wait

    _StandIn.osd = osd
    settings = Settings(index_prefix="prod-")
    target = wait(settings, stand_in, timeout=20)
    assert target.kind == ("opensearch-dashboards" if osd else "kibana")
    import_objects(settings, target)
    method, path, headers, body = _StandIn.calls[-1]
    assert (method, path) == ("POST", "/api/saved_objects/_import?overwrite=true")
    assert headers.get("osd-xsrf" if osd else "kbn-xsrf") == "true"
    assert b'"title": "prod-articles"' in body  # data views follow the index prefix
    assert (b'"type": "lens"' in body) is (not osd)
