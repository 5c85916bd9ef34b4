"""Static checks of the dashboards against the index templates, and the import client
against a local stand-in for the Kibana saved-objects API (no Kibana runs here)."""

from __future__ import annotations

import copy
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from workers import dashboards
from workers.dashboards import problems, read_objects
from workers.settings import Settings

SETS = {kind: dashboards.saved_objects_path(Settings(), kind) for kind in dashboards.KIND_DIRS}


def _objects(path: Path) -> list[dict]:
    return read_objects(path)


@pytest.mark.parametrize("kind", SETS)
def test_the_bundled_objects_read_as_the_apps_would(kind: str) -> None:
    """References, Lens layers and accessors, formulas, orderBy, and every field in the
    index templates with a type its operation can aggregate."""
    objects = _objects(SETS[kind])
    assert len(objects) >= 20
    assert problems(objects, kind) == []


def test_the_committed_ndjson_is_what_generate_writes() -> None:
    from workers.bundled.dashboards import generate

    for path, build in generate.OUTPUTS.items():
        assert path.read_text(encoding="utf-8") == generate.ndjson(build()), (
            f"{path} differs from dashboards/generate.py's output: run `make dashboards`"
        )


def _first(objects: list[dict], kind: str) -> dict:
    return next(o for o in objects if o["type"] == kind)


def _lens_layer(obj: dict) -> tuple[str, dict]:
    return next(iter(obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].items()))


def _break_accessor(objects: list[dict]) -> None:
    _first(objects, "lens")["attributes"]["state"]["visualization"]["layers"][0]["accessors"] = [
        "gone"
    ]


def _break_layer_reference(objects: list[dict]) -> None:
    _first(objects, "lens")["references"] = [
        {**r, "name": "indexpattern-datasource-layer-other"}
        for r in _first(objects, "lens")["references"]
    ]


def _lens_column(objects: list[dict], wanted) -> dict:  # type: ignore[no-untyped-def]
    """The first column of any Lens layer for which ``wanted(column)`` holds."""
    return next(
        column
        for obj in objects
        if obj["type"] == "lens"
        for column in _lens_layer(obj)[1]["columns"].values()
        if wanted(column)
    )


def _break_order_by(objects: list[dict]) -> None:
    _lens_column(objects, lambda c: "orderBy" in c.get("params", {}))["params"]["orderBy"][
        "columnId"
    ] = "gone"


def _break_formula(objects: list[dict]) -> None:
    _lens_column(objects, lambda c: c.get("references"))["references"] = ["gone"]


def _break_panel_reference(objects: list[dict]) -> None:
    _first(objects, "dashboard")["references"].pop(0)


def _break_field(objects: list[dict]) -> None:
    _lens_column(objects, lambda c: c.get("operationType") == "terms")["sourceField"] = (
        "no_such_field"
    )


def _break_field_type(objects: list[dict]) -> None:
    # analysed text cannot be a terms bucket
    _lens_column(objects, lambda c: c.get("operationType") == "terms")["sourceField"] = "body"


def _break_view(objects: list[dict]) -> None:
    _first(objects, "index-pattern")["attributes"]["title"] = "articles-v1"


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_break_accessor, "accessor gone is not a column"),
        (_break_layer_reference, "has no data view reference"),
        (_break_order_by, "orderBy column gone does not exist"),
        (_break_formula, "references gone, which is not a column"),
        (_break_panel_reference, "no reference named"),
        (_break_field, "'no_such_field' is not in the template"),
        (_break_field_type, "(not aggregatable)"),
        (_break_view, "is not one of the aliases"),
    ],
)
def test_each_kind_of_damage_is_reported(damage, says: str) -> None:  # type: ignore[no-untyped-def]
    objects = copy.deepcopy(_objects(SETS["kibana"]))
    damage(objects)
    found = problems(objects, "kibana")
    assert any(says in p for p in found), found


def _tsvb(objects: list[dict]) -> tuple[dict, dict]:
    obj = next(
        o
        for o in objects
        if o["type"] == "visualization" and '"type": "metrics"' in o["attributes"]["visState"]
    )
    return obj, json.loads(obj["attributes"]["visState"])


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda p: p.update(time_field="fetched"), "TSVB time field 'fetched' is not a date"),
        (lambda p: p.update(index_pattern="articles-*"), "TSVB index 'articles-*'"),
        (
            lambda p: p["series"][0]["split_filters"][0]["filter"].update(query="regoin : CN"),
            "'regoin' is not in the template",
        ),
        (
            lambda p: p["series"][0]["metrics"][0].update(numerator='topics : "xi_putin"'),
            "must be a query object",
        ),
    ],
)
def test_the_regional_tsvb_chart_is_checked(damage, says: str) -> None:  # type: ignore[no-untyped-def]
    objects = copy.deepcopy(_objects(SETS["opensearch-dashboards"]))
    obj, state = _tsvb(objects)
    assert state["params"]["series"][0]["split_mode"] == "filters"
    assert [f["label"] for f in state["params"]["series"][0]["split_filters"]] == [
        "Mainland China", "Taiwan", "Hong Kong & Macau", "Singapore", "International",
    ]  # fmt: skip
    damage(state["params"])
    obj["attributes"]["visState"] = json.dumps(state)
    assert any(says in p for p in problems(objects, "opensearch-dashboards"))


def test_name_forms_and_co_occurrence_panels_count_the_right_things() -> None:
    kibana = _objects(SETS["kibana"])
    names = next(o for o in kibana if o["attributes"].get("title", "").startswith("How each"))
    _, layer = _lens_layer(names)
    include = next(
        c for c in layer["columns"].values() if c.get("sourceField") == "entities.aliases"
    )
    assert {"蒲亭", "普丁", "普京", "Putin"} <= set(include["params"]["include"])
    related = next(o for o in kibana if o["attributes"].get("title", "").startswith("Named with"))
    _, layer = _lens_layer(related)
    kinds = {c["operationType"]: c for c in layer["columns"].values()}
    assert kinds["unique_count"]["sourceField"] == "story_id"
    assert kinds["terms"]["params"]["exclude"] == ["putin"]


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
        "Xi–Putin: share of each region's coverage, per week",
        "Ukraine war: share of each region's coverage, per week",
        "How each region names Putin (蒲亭 / 普丁 / 普京 / Putin)",
        "Named with Putin, by stories (wire copies count once)",
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


def test_import_says_what_it_waits_for(stand_in: str) -> None:
    from workers.dashboards import wait

    _StandIn.osd, _StandIn.ready_after = False, 3
    said: list[tuple[str, str]] = []
    try:
        wait(
            Settings(),
            stand_in,
            timeout=20,
            every=0.0,
            progress=lambda u, s, last: said.append((u, last)),
        )
    finally:
        _StandIn.ready_after = 2
    assert said and said[0] == (stand_in, "HTTP 503")


def test_export_never_writes_over_the_bundled_file(stand_in: str) -> None:
    from workers.dashboards import DashboardsError, export_objects, saved_objects_path, wait

    _StandIn.osd = False
    settings = Settings()
    target = wait(settings, stand_in, timeout=20)
    bundled = saved_objects_path(settings, "kibana")
    before = bundled.read_bytes()
    with pytest.raises(DashboardsError, match="bundled file"):
        export_objects(settings, target, bundled)
    assert bundled.read_bytes() == before
