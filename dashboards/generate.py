"""Generate the dashboards' saved objects from one description of the panels.

    .venv/bin/python dashboards/generate.py        # rewrites kibana/ and opensearch-dashboards/

Kibana (8.x format, imports into 9.x): Lens panels, saved searches, data views.
OpenSearch Dashboards (forked at Kibana 7.10, no Lens): the same panels as legacy
visualizations. The committed NDJSON files are this script's output; a test checks
that they match it, and that every field a panel uses exists in the index templates.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import yaml

from pipelines.regions import REGIONS as ALL_REGIONS
from pipelines.regions import region_kql

HERE = Path(__file__).resolve().parent
REGIONS = [(r.title, region_kql(r)) for r in ALL_REGIONS]
NS = uuid.UUID("6f1d3d1e-8c5a-4c1e-9a57-6d2b7f0a1c01")
KIBANA_CORE = "8.8.0"
TOPICS = ("xi_putin", "ukraine_war")

# alias -> (data view id, time field)
DATA_VIEWS = {
    "articles": ("mediamon-articles", "published_at"),
    "alert-events": ("mediamon-alert-events", "matched_at"),
    "feeds": ("mediamon-feeds", "updated_at"),
    "rejected": ("mediamon-rejected", "rejected_at"),
}


def names_of(entity: str) -> list[str]:
    """An entity's names and aliases in config/entities.yaml: the name forms a panel
    counts (the field also holds the other entities' names of the same articles)."""
    entries = yaml.safe_load((HERE.parent / "config" / "entities.yaml").read_text("utf-8"))
    entry = next(e for e in entries if e["id"] == entity)
    return sorted({*entry["names"].values(), *entry.get("aliases", [])})


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


# ------------------------------------------------------------------ panel descriptions
# kind: "xy" (x = date histogram on `time`, y = count, split by `split`), "share"
# (each topic's share of all articles per day), "bars" (count by `terms`), "cloud",
# "pie", "search" (a list with columns). `where` is a KQL filter of the panel.
COVERAGE: list[dict[str, Any]] = [
    {
        "id": "per-day-by-topic",
        "title": "Articles per day by topic",
        "kind": "xy",
        "view": "articles",
        "time": "published_at",
        "interval": "1d",
        "split": {"terms": "topics", "size": 5},
    },
    {
        "id": "topic-share",
        "title": "Share of all coverage per day, by topic",
        "kind": "share",
        "view": "articles",
        "time": "published_at",
        "interval": "1d",
    },
    {
        "id": "xi-putin-co-mentions",
        "title": "Xi–Putin co-mentions: same sentence vs same article",
        "kind": "xy",
        "view": "articles",
        "time": "published_at",
        "interval": "1d",
        "where": 'topics : "xi_putin"',
        "split": {
            "filters": [
                ("same sentence", 'topic_details.rule : "same_sentence"'),
                ("same article only", 'topic_details.rule : "same_article"'),
            ]
        },
    },
    *(
        {
            "id": f"{topic.replace('_', '-')}-share-by-region",
            "title": f"{title}: share of each region's coverage, per week",
            "kind": "region-share",
            "topic": topic,
            "view": "articles",
            "time": "published_at",
            "interval": "1w",
        }
        for topic, title in (("xi_putin", "Xi–Putin"), ("ukraine_war", "Ukraine war"))
    ),
    {
        "id": "putin-names-by-region",
        "title": "How each region names Putin (蒲亭 / 普丁 / 普京 / Putin)",
        "kind": "names",
        "entity": "putin",
        "view": "articles",
        "where": 'entities.id : "putin"',
    },
    {
        "id": "named-with-putin",
        "title": "Named with Putin, by stories (wire copies count once)",
        "kind": "related",
        "entity": "putin",
        "view": "articles",
        "where": 'entities.id : "putin"',
        "size": 15,
    },
    {
        "id": "top-entities",
        "title": "Top entities",
        "kind": "bars",
        "view": "articles",
        "terms": "entities.id",
        "size": 20,
    },
    {
        "id": "keyword-cloud",
        "title": "Keywords",
        "kind": "cloud",
        "view": "articles",
        "terms": "keywords",
        "size": 60,
    },
    {
        "id": "by-source",
        "title": "Coverage by source",
        "kind": "bars",
        "view": "articles",
        "terms": "source",
        "size": 20,
    },
    {
        "id": "by-script-region",
        "title": "Coverage by script and region",
        "kind": "pie",
        "view": "articles",
        "terms": ["lang", "region"],
    },
    {
        "id": "latest-articles",
        "title": "Latest articles",
        "kind": "search",
        "view": "articles",
        "columns": ["title", "source", "lang", "region", "topics", "entities.id", "url"],
        "sort": "published_at",
    },
    {
        "id": "recent-alert-events",
        "title": "Recent alert events",
        "kind": "search",
        "view": "alert-events",
        "columns": [
            "rule_name",
            "title",
            "source",
            "why.terms",
            "delivery.webhook.status",
            "delivery.email.status",
            "url",
        ],
        "sort": "matched_at",
    },
]
HEALTH: list[dict[str, Any]] = [
    {
        "id": "indexed-per-hour",
        "title": "Articles indexed per hour",
        "kind": "xy",
        "view": "articles",
        "time": "indexed_at",
        "interval": "1h",
        "split": {"terms": "text_source", "size": 4},
    },
    {
        "id": "failing-feeds",
        "title": "Failing feeds",
        "kind": "search",
        "view": "feeds",
        "where": "failing : true",
        "columns": [
            "id",
            "status",
            "failures",
            "last_status",
            "last_error",
            "last_success_at",
            "next_poll_at",
            "url",
        ],
        "sort": "updated_at",
    },
    {
        "id": "feed-status",
        "title": "Feeds by status",
        "kind": "bars",
        "view": "feeds",
        "terms": "status",
        "size": 6,
    },
    {
        "id": "rejected-by-reason",
        "title": "Rejected articles by reason",
        "kind": "bars",
        "view": "rejected",
        "terms": "reason",
        "size": 15,
    },
    {
        "id": "rejected-articles",
        "title": "Rejected articles",
        "kind": "search",
        "view": "rejected",
        "columns": ["stage", "reason", "detail", "source", "feed_id", "url"],
        "sort": "rejected_at",
    },
    {
        "id": "alert-deliveries",
        "title": "Alert deliveries",
        "kind": "xy",
        "view": "alert-events",
        "time": "matched_at",
        "interval": "1h",
        "split": {
            "filters": [
                (
                    "delivered",
                    'delivery.webhook.status : "delivered" or delivery.slack.status : "delivered" or delivery.email.status : "delivered"',
                ),
                (
                    "failed",
                    'delivery.webhook.status : "failed" or delivery.slack.status : "failed" or delivery.email.status : "failed"',
                ),
                (
                    "retrying or pending",
                    'delivery.webhook.status : ("retrying" or "pending") or delivery.slack.status : ("retrying" or "pending") or delivery.email.status : ("retrying" or "pending")',
                ),
            ]
        },
    },
]
DASHBOARDS = [
    (
        "mediamon-coverage",
        "Xi–Putin & Ukraine war coverage",
        "Attention over time, share of all coverage, co-mentions, who and what is named, by source and script.",
        COVERAGE,
    ),
    (
        "mediamon-pipeline-health",
        "Pipeline health",
        "Indexing rate, failing feeds, rejected articles and alert deliveries.",
        HEALTH,
    ),
]


# ------------------------------------------------------------------ Kibana (Lens)
def _count(col: str) -> dict[str, Any]:
    return {
        col: {
            "label": "Articles",
            "dataType": "number",
            "operationType": "count",
            "isBucketed": False,
            "scale": "ratio",
            "sourceField": "___records___",
            "params": {"emptyAsNull": False},
            "customLabel": True,
        }
    }


def _stories(col: str) -> dict[str, Any]:
    """Distinct stories: the copies of one wire story count once."""
    column = {**_count(col)[col], "label": "Stories", "operationType": "unique_count"}
    return {col: {**column, "sourceField": "story_id"}}


def _date(col: str, field: str, interval: str) -> dict[str, Any]:
    return {
        col: {
            "label": field,
            "dataType": "date",
            "operationType": "date_histogram",
            "sourceField": field,
            "isBucketed": True,
            "scale": "interval",
            "params": {"interval": interval, "includeEmptyRows": True, "dropPartials": False},
        }
    }


def _terms(col: str, field: str, size: int, order_by: str) -> dict[str, Any]:
    return {
        col: {
            "label": f"Top {field}",
            "dataType": "string",
            "operationType": "terms",
            "sourceField": field,
            "isBucketed": True,
            "scale": "ordinal",
            "params": {
                "size": size,
                "orderBy": {"type": "column", "columnId": order_by},
                "orderDirection": "desc",
                "otherBucket": False,
                "missingBucket": False,
            },
        }
    }


def _filters(col: str, filters: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        col: {
            "label": "Filters",
            "dataType": "string",
            "operationType": "filters",
            "isBucketed": True,
            "scale": "ordinal",
            "params": {
                "filters": [
                    {"label": label, "input": {"query": query, "language": "kuery"}}
                    for label, query in filters
                ]
            },
        }
    }


def _share(col: str, topic: str) -> dict[str, Any]:
    """count(kql='topics : "<topic>"') / count(): a Lens formula with its parts."""
    formula = f"count(kql='topics : \"{topic}\"') / count()"
    x0, x1, x2 = f"{col}X0", f"{col}X1", f"{col}X2"
    part = f"Part of {formula}"
    share_of = {**_count(x0)[x0], "label": part}
    share_of["filter"] = {"query": f'topics : "{topic}"', "language": "kuery"}
    return {
        x0: share_of,
        x1: {**_count(x1)[x1], "label": part},
        x2: {
            "label": part,
            "dataType": "number",
            "operationType": "math",
            "isBucketed": False,
            "scale": "ratio",
            "params": {
                "tinymathAst": {
                    "type": "function",
                    "name": "divide",
                    "args": [x0, x1],
                    "location": {"min": 0, "max": len(formula)},
                    "text": formula,
                }
            },
            "references": [x0, x1],
            "customLabel": True,
        },
        col: {
            "label": f"{topic} share",
            "dataType": "number",
            "operationType": "formula",
            "isBucketed": False,
            "scale": "ratio",
            "params": {
                "formula": formula,
                "isFormulaBroken": False,
                "format": {"id": "percent", "params": {"decimals": 1}},
            },
            "references": [x2],
            "customLabel": True,
        },
    }


def _xy(
    layer: str,
    series: str,
    x: str,
    accessors: list[str],
    *,
    split: str | None = None,
    legend: bool = True,
    labels: bool = False,
) -> dict[str, Any]:
    """A Lens XY chart of one data layer."""
    return {
        "legend": {"isVisible": legend, "position": "right"},
        "valueLabels": "show" if labels else "hide",
        "preferredSeriesType": series,
        "layers": [
            {
                "layerId": layer,
                "layerType": "data",
                "seriesType": series,
                "xAccessor": x,
                "accessors": accessors,
                **({"splitAccessor": split} if split else {}),
            }
        ],
    }


def _lens(panel: dict[str, Any]) -> dict[str, Any]:
    layer = uid(panel["id"], "layer")
    c = lambda name: uid(panel["id"], name)  # noqa: E731 - short column ids
    kind = panel["kind"]
    columns: dict[str, Any] = {}
    if kind == "region-share":
        columns.update(_date(c("x"), panel["time"], panel["interval"]))
        columns.update(_filters(c("split"), REGIONS))
        columns.update(_share(c("share"), panel["topic"]))
        order = [c("x"), c("split")] + [k for k in columns if k not in (c("x"), c("split"))]
        vis = _xy(layer, "line", c("x"), [c("share")], split=c("split"))
        vis_type = "lnsXY"
    elif kind in ("names", "related"):
        if kind == "names":
            columns.update(_count(c("y")))
            columns.update(_filters(c("x"), REGIONS))
            columns.update(_terms(c("split"), "entities.aliases", 8, c("y")))
            columns[c("split")]["params"].update(
                include=names_of(panel["entity"]), includeIsRegex=False
            )
            order = [c("x"), c("split"), c("y")]
            series, split = "bar_percentage_stacked", c("split")
        else:
            columns.update(_stories(c("y")))
            columns.update(_terms(c("x"), "entities.id", panel["size"], c("y")))
            columns[c("x")]["params"].update(exclude=[panel["entity"]], excludeIsRegex=False)
            order = [c("x"), c("y")]
            series, split = "bar_horizontal", None
        vis = _xy(
            layer, series, c("x"), [c("y")], split=split, legend=kind == "names", labels=not split
        )
        vis_type = "lnsXY"
    elif kind in ("xy", "share"):
        columns.update(_date(c("x"), panel["time"], panel["interval"]))
        if kind == "share":
            accessors = [c(t) for t in TOPICS]
            for topic in TOPICS:
                columns.update(_share(c(topic), topic))
            split = None
        else:
            columns.update(_count(c("y")))
            accessors = [c("y")]
            split = panel.get("split")
            if split and "terms" in split:
                columns.update(_terms(c("split"), split["terms"], split["size"], c("y")))
            elif split:
                columns.update(_filters(c("split"), split["filters"]))
        order = (
            [c("x")]
            + ([c("split")] if split else [])
            + [k for k in columns if k not in (c("x"), c("split"))]
        )
        series = "line" if kind == "share" else "bar_stacked"
        vis = _xy(layer, series, c("x"), accessors, split=c("split") if split else None)
        vis_type = "lnsXY"
    elif kind == "bars":
        columns.update(_count(c("y")))
        columns.update(_terms(c("x"), panel["terms"], panel["size"], c("y")))
        order = [c("x"), c("y")]
        vis = _xy(layer, "bar_horizontal", c("x"), [c("y")], legend=False, labels=True)
        vis_type = "lnsXY"
    elif kind == "cloud":
        columns.update(_count(c("y")))
        columns.update(_terms(c("x"), panel["terms"], panel["size"], c("y")))
        order = [c("x"), c("y")]
        vis = {
            "layerId": layer,
            "tagAccessor": c("x"),
            "valueAccessor": c("y"),
            "maxFontSize": 72,
            "minFontSize": 14,
            "orientation": "single",
            "showLabel": False,
        }
        vis_type = "lnsTagcloud"
    elif kind == "pie":
        columns.update(_count(c("y")))
        groups = []
        for field in panel["terms"]:
            columns.update(_terms(c(field), field, 10, c("y")))
            groups.append(c(field))
        order = [*groups, c("y")]
        vis = {
            "shape": "treemap",
            "layers": [
                {
                    "layerId": layer,
                    "layerType": "data",
                    "primaryGroups": groups,
                    "metrics": [c("y")],
                    "numberDisplay": "percent",
                    "categoryDisplay": "default",
                    "legendDisplay": "default",
                }
            ],
        }
        vis_type = "lnsPie"
    else:
        raise ValueError(kind)
    view_id = DATA_VIEWS[panel["view"]][0]
    where = panel.get("where", "")
    return {
        "id": uid("lens", panel["id"]),
        "type": "lens",
        "coreMigrationVersion": KIBANA_CORE,
        "typeMigrationVersion": "8.9.0",
        "attributes": {
            "title": panel["title"],
            "description": "",
            "visualizationType": vis_type,
            "state": {
                "visualization": vis,
                "query": {"query": where, "language": "kuery"},
                "filters": [],
                "datasourceStates": {
                    "formBased": {
                        "layers": {
                            layer: {
                                "columns": columns,
                                "columnOrder": order,
                                "incompleteColumns": {},
                            }
                        }
                    }
                },
                "internalReferences": [],
                "adHocDataViews": {},
            },
        },
        "references": [
            {
                "type": "index-pattern",
                "id": view_id,
                "name": f"indexpattern-datasource-layer-{layer}",
            }
        ],
    }


def _search_source(view: str, where: str) -> dict[str, Any]:
    return {
        "query": {"query": where, "language": "kuery"},
        "filter": [],
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
    }


def _search(panel: dict[str, Any]) -> dict[str, Any]:
    view_id = DATA_VIEWS[panel["view"]][0]
    return {
        "id": uid("search", panel["id"]),
        "type": "search",
        "coreMigrationVersion": KIBANA_CORE,
        "typeMigrationVersion": "8.0.0",
        "attributes": {
            "title": panel["title"],
            "description": "",
            "columns": panel["columns"],
            "sort": [[panel["sort"], "desc"]],
            "grid": {},
            "hideChart": True,
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(
                    _search_source(panel["view"], panel.get("where", ""))
                )
            },
        },
        "references": [
            {
                "type": "index-pattern",
                "id": view_id,
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            }
        ],
    }


def _data_view(alias: str, legacy: bool = False) -> dict[str, Any]:
    view_id, time_field = DATA_VIEWS[alias]
    obj: dict[str, Any] = {
        "id": view_id,
        "type": "index-pattern",
        "attributes": {"title": alias, "timeFieldName": time_field},
        "references": [],
    }
    if legacy:
        obj["migrationVersion"] = {"index-pattern": "7.6.0"}
    else:
        obj["attributes"]["name"] = f"mediamon {alias}"
        obj.update(coreMigrationVersion=KIBANA_CORE, typeMigrationVersion="8.0.0")
    return obj


def _grid(panels: list[dict[str, Any]]) -> list[dict[str, int]]:
    """Two panels a row; lists take the full width."""
    out, x, y = [], 0, 0
    for panel in panels:
        wide = panel["kind"] in ("search", "share", "region-share") or panel["id"] in (
            "per-day-by-topic",
            "indexed-per-hour",
        )
        w, h = (48, 14) if wide else (24, 14)
        if x + w > 48:
            x, y = 0, y + 14
        out.append({"x": x, "y": y, "w": w, "h": h})
        x += w
        if x >= 48:
            x, y = 0, y + 14
    return out


def _dashboard(
    ident: str, title: str, description: str, panels: list[dict[str, Any]], kibana: bool
) -> dict[str, Any]:
    entries, references = [], []
    for n, (panel, grid) in enumerate(zip(panels, _grid(panels), strict=True), 1):
        if kibana:
            ptype = "search" if panel["kind"] == "search" else "lens"
        else:
            ptype = "search" if panel["kind"] == "search" else "visualization"
        target = uid(ptype if ptype != "visualization" else "lens", panel["id"])
        entry = {
            "type": ptype,
            "gridData": {**grid, "i": str(n)},
            "panelIndex": str(n),
            "embeddableConfig": {},
            "panelRefName": f"panel_{n}",
            "title": panel["title"],
        }
        entry["version"] = "8.9.0" if kibana else "7.10.0"
        entries.append(entry)
        references.append(
            {"name": f"{n}:panel_{n}" if kibana else f"panel_{n}", "type": ptype, "id": target}
        )
    obj: dict[str, Any] = {
        "id": ident,
        "type": "dashboard",
        "attributes": {
            "title": title,
            "description": description,
            "panelsJSON": json.dumps(entries, ensure_ascii=False),
            "optionsJSON": json.dumps({"useMargins": True, "hidePanelTitles": False}),
            "timeRestore": True,
            "timeFrom": "now-90d",
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 60000},
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(
                    {"query": {"query": "", "language": "kuery"}, "filter": []}
                )
            },
        },
        "references": references,
    }
    if kibana:
        obj.update(coreMigrationVersion=KIBANA_CORE, typeMigrationVersion="8.9.0")
    else:
        obj["migrationVersion"] = {"dashboard": "7.9.3"}
    return obj


def kibana_objects() -> list[dict[str, Any]]:
    objects = [_data_view(alias) for alias in DATA_VIEWS]
    for _, _, _, panels in DASHBOARDS:
        for panel in panels:
            objects.append(_search(panel) if panel["kind"] == "search" else _lens(panel))
    objects += [_dashboard(i, t, d, p, kibana=True) for i, t, d, p in DASHBOARDS]
    return objects


# ------------------------------------------------------------------ OpenSearch Dashboards
def _agg_terms(n: int, field: str, size: int, schema: str, missing: bool = False) -> dict[str, Any]:
    return {
        "id": str(n),
        "enabled": True,
        "type": "terms",
        "schema": schema,
        "params": {
            "field": field,
            "size": size,
            "order": "desc",
            "orderBy": "1",
            "otherBucket": False,
            "missingBucket": missing,
            "missingBucketLabel": "no topic",
        },
    }


def _agg_filters(n: int, schema: str, filters: list[tuple[str, str]]) -> dict[str, Any]:
    """A legacy filters aggregation: one bucket a (label, KQL query)."""
    return {
        "id": str(n),
        "enabled": True,
        "type": "filters",
        "schema": schema,
        "params": {
            "filters": [
                {"input": {"query": q, "language": "kuery"}, "label": label} for label, q in filters
            ]
        },
    }


def _tsvb_share(panel: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A TSVB time series (OpenSearch Dashboards' way to chart a ratio): the topic's
    share of each region's articles, one line a region (a filter ratio, split by
    filters)."""
    ident = panel["id"]
    series = {
        "id": uid(ident, "series"),
        "split_mode": "filters",
        "split_filters": [
            {"id": uid(ident, label), "label": label, "filter": {"query": q, "language": "kuery"}}
            for label, q in REGIONS
        ],
        "split_color_mode": "rainbow",
        "metrics": [
            {
                "id": uid(ident, "ratio"),
                "type": "filter_ratio",
                "numerator": {"query": f'topics : "{panel["topic"]}"', "language": "kuery"},
                "denominator": {"query": "*", "language": "kuery"},
                "metric_agg": "count",
            }
        ],
        "chart_type": "line",
        "line_width": 2,
        "point_size": 2,
        "fill": 0,
        "stacked": "none",
        "formatter": "percent",
        "axis_position": "right",
        "separate_axis": 0,
        "label": "",
    }
    return "metrics", {
        "id": uid(ident, "panel"),
        "type": "timeseries",
        "series": [series],
        "time_field": panel["time"],
        "index_pattern": panel["view"],
        "interval": panel["interval"],
        "axis_position": "left",
        "axis_formatter": "number",
        "show_legend": 1,
        "show_grid": 1,
        "time_range_mode": "entire_time_range",
    }


def _legacy_vis(panel: dict[str, Any]) -> dict[str, Any]:
    count = {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}
    kind = panel["kind"]
    params: dict[str, Any] = {"addTooltip": True, "addLegend": True, "legendPosition": "right"}
    if kind == "region-share":
        vis_type, params = _tsvb_share(panel)
        aggs = []
    elif kind == "names":
        regions = _agg_filters(2, "segment", REGIONS)
        forms = _agg_terms(3, "entities.aliases", 8, "group")
        forms["params"]["include"] = "|".join(re.escape(n) for n in names_of(panel["entity"]))
        aggs = [count, regions, forms]
        vis_type, params["mode"] = "histogram", "percentage"
    elif kind == "related":
        stories = {
            "id": "1",
            "enabled": True,
            "type": "cardinality",
            "schema": "metric",
            "params": {"field": "story_id", "customLabel": "Stories"},
        }
        named = _agg_terms(2, "entities.id", panel["size"], "segment")
        named["params"]["exclude"] = panel["entity"]
        aggs = [stories, named]
        vis_type = "horizontal_bar"
    elif kind in ("xy", "share"):
        date = {
            "id": "2",
            "enabled": True,
            "type": "date_histogram",
            "schema": "segment",
            "params": {
                "field": panel["time"],
                "interval": "d" if panel["interval"] == "1d" else "h",
                "min_doc_count": 1,
                "extended_bounds": {},
            },
        }
        aggs = [count, date]
        if kind == "share":
            aggs.append(_agg_terms(3, "topics", 5, "group", missing=True))
            vis_type, params["mode"] = "area", "percentage"
            params["valueAxes"] = [
                {
                    "id": "ValueAxis-1",
                    "type": "value",
                    "position": "left",
                    "show": True,
                    "scale": {"type": "linear", "mode": "percentage"},
                    "labels": {"show": True},
                    "title": {"text": "share of all articles"},
                }
            ]
        else:
            split = panel.get("split") or {}
            if "terms" in split:
                aggs.append(_agg_terms(3, split["terms"], split["size"], "group"))
            elif split:
                aggs.append(_agg_filters(3, "group", split["filters"]))
            vis_type = "histogram"
    elif kind in ("bars", "cloud", "pie"):
        fields = panel["terms"] if isinstance(panel["terms"], list) else [panel["terms"]]
        aggs = [count] + [
            _agg_terms(n, f, panel.get("size", 10), "segment", False)
            for n, f in enumerate(fields, 2)
        ]
        vis_type = {"bars": "horizontal_bar", "cloud": "tagcloud", "pie": "pie"}[kind]
        if kind == "cloud":
            params = {
                "scale": "linear",
                "orientation": "single",
                "minFontSize": 14,
                "maxFontSize": 72,
            }
    else:
        raise ValueError(kind)
    return {
        "id": uid("lens", panel["id"]),
        "type": "visualization",
        "migrationVersion": {"visualization": "7.10.0"},
        "attributes": {
            "title": panel["title"],
            "description": "",
            "uiStateJSON": "{}",
            "version": 1,
            "visState": json.dumps(
                {"title": panel["title"], "type": vis_type, "params": params, "aggs": aggs},
                ensure_ascii=False,
            ),
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(
                    _search_source(panel["view"], panel.get("where", ""))
                )
            },
        },
        "references": [
            {
                "type": "index-pattern",
                "id": DATA_VIEWS[panel["view"]][0],
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            }
        ],
    }


def opensearch_objects() -> list[dict[str, Any]]:
    objects = [_data_view(alias, legacy=True) for alias in DATA_VIEWS]
    for _, _, _, panels in DASHBOARDS:
        for panel in panels:
            if panel["kind"] == "search":
                search = _search(panel)
                search.pop("coreMigrationVersion")
                search.pop("typeMigrationVersion")
                search["migrationVersion"] = {"search": "7.9.3"}
                search["attributes"].pop("grid")
                search["attributes"].pop("hideChart")
                objects.append(search)
            else:
                objects.append(_legacy_vis(panel))
    objects += [_dashboard(i, t, d, p, kibana=False) for i, t, d, p in DASHBOARDS]
    return objects


def ndjson(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects)


OUTPUTS = {
    HERE / "kibana" / "mediamon.ndjson": kibana_objects,
    HERE / "opensearch-dashboards" / "mediamon.ndjson": opensearch_objects,
}

if __name__ == "__main__":
    for path, build in OUTPUTS.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(ndjson(build()), encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)} ({len(build())} objects)")
