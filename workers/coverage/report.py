"""`mediamon report`: one self-contained HTML page (inline data, script and styles; no
network) with coverage per topic over the requested period, each topic's share of each
region's coverage, the names each region uses for the main people, top entities and
sources, and recent alerts.

Daily counts are noisy: they are drawn as faint dots, with a 7-day rolling mean as the
line (a checkbox shows the daily line instead). Entities are shown by name in the
reader's script (MEDIAMON_DISPLAY_LANG), topics by title, and each topic's articles are
counted as stories too (the copies of one wire story count once).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from html import escape
from typing import Any

from pipelines.alertevents import spike_numbers
from pipelines.coverage import forms_text
from pipelines.entities import Catalogue
from pipelines.periods import Period
from pipelines.regions import REGIONS, region_filters
from workers.coverage.queries import coverage, name_forms, selection, stories, top_terms
from workers.search.client import SearchClient

ROLLING = 7  # days in the rolling mean of a daily chart
NAMED = ("putin", "xi_jinping")  # whose name forms the report compares across regions

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mediamon report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}h3{font-size:15px;margin:14px 0 4px}
.chart{border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;font-size:13px}
.meta{color:#666}
</style></head><body>
<h1>mediamon coverage report</h1>
<p class="meta">__META__</p>
<h2>Topics</h2>__TOPICS__
<h2>Articles per __INTERVAL__ by topic</h2>
<label class="meta" id="roll-toggle"><input type="checkbox" id="daily"> daily line instead of the rolling mean</label>
<div class="chart" id="counts"></div>
<h2>Share of all coverage per __INTERVAL__</h2><div class="chart" id="shares"></div>
<h2>Who covers it: each topic's share of each region's coverage</h2><div id="regions"></div>
<h2>How each region names them</h2>__NAMES__
<h2>Top entities</h2><div class="chart" id="entities"></div>
<h2>Top sources</h2><div class="chart" id="sources"></div>
<h2>Recent alerts</h2>__ALERTS__
<script id="data" type="application/json">__DATA__</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById("data").textContent);
  var colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
  var NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  // The mean of the last n values (fewer at the start), as a ratio of sums when the
  // values are shares (parts over wholes), so a quiet day does not weigh like a busy one.
  function rolling(parts, wholes, n) {
    return parts.map(function (_, i) {
      var p = 0, w = 0, k = 0;
      for (var j = Math.max(0, i - n + 1); j <= i; j++) { p += parts[j]; w += wholes ? wholes[j] : 1; k++; }
      return wholes ? (w ? p / w : null) : p / k;
    });
  }
  function lines(box, labels, series, percent, roll) {
    var W = 1040, H = 240, L = 50, B = 30;
    var svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, "data-chart": box.id || "chart"}, box);
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) max = Math.max(max, v); }); });
    if (max === 0) max = 1;
    var x = function (i) { return L + (labels.length < 2 ? 0 : i * (W - L - 10) / (labels.length - 1)); };
    var y = function (v) { return H - B - v / max * (H - B - 10); };
    el("line", {x1: L, y1: H - B, x2: W - 10, y2: H - B, stroke: "#999"}, svg);
    [0, 0.5, 1].forEach(function (f) {
      var t = el("text", {x: 4, y: y(max * f) + 4, "font-size": 11, fill: "#666"}, svg);
      t.textContent = percent ? (max * f * 100).toFixed(1) + "%" : Math.round(max * f);
    });
    var step = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach(function (lab, i) {
      if (i % step) return;
      var t = el("text", {x: x(i) - 28, y: H - 10, "font-size": 11, fill: "#666"}, svg);
      t.textContent = lab;
    });
    var legend = document.createElement("div"); legend.className = "legend"; box.appendChild(legend);
    series.forEach(function (s, n) {
      var c = colors[n % colors.length];
      function path(values, cls, width) {
        // a bucket without data (null: the region published nothing) breaks the line
        var d = "", drawing = false;
        values.forEach(function (v, i) {
          if (v === null) { drawing = false; return; }
          d += (drawing ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1);
          drawing = true;
        });
        return el("path", {d: d, fill: "none", stroke: c, "stroke-width": width, "class": cls, "data-series": s.name}, svg);
      }
      var daily = path(s.values, "line", roll ? 1 : 2);
      if (roll) {
        daily.setAttribute("opacity", "0.25");
        daily.setAttribute("display", "none");
        path(s.smooth, "roll", 2.5);
      }
      s.values.forEach(function (v, i) {
        if (v === null) return;
        var p = el("circle", {cx: x(i), cy: y(v), r: roll ? 1.8 : 2.5, fill: c, "class": "pt", "data-series": s.name,
                              "data-value": v, opacity: roll ? 0.35 : 1}, svg);
        el("title", {}, p).textContent = s.title + " " + labels[i] + ": " + (percent ? (v * 100).toFixed(2) + "%" : v);
      });
      var item = document.createElement("span");
      item.innerHTML = '<i style="background:' + c + '"></i>';
      item.appendChild(document.createTextNode(s.title + (roll ? " (" + roll + "-day mean)" : "")));
      legend.appendChild(item);
    });
    return svg;
  }
  function bars(target, pairs) {
    var box = document.getElementById(target), W = 1040, row = 20, H = Math.max(1, pairs.length) * row + 10;
    var svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, "data-chart": target}, box);
    var max = pairs.reduce(function (m, p) { return Math.max(m, p[1]); }, 1);
    pairs.forEach(function (p, i) {
      var t = el("text", {x: 0, y: i * row + 14, "font-size": 12}, svg); t.textContent = p[0];
      el("rect", {x: 200, y: i * row + 3, height: row - 6, width: p[1] / max * (W - 280), fill: "#1f77b4",
                  "class": "bar", "data-label": p[0], "data-value": p[1]}, svg);
      var n = el("text", {x: 206 + p[1] / max * (W - 280), y: i * row + 14, "font-size": 11}, svg);
      n.textContent = p[1];
    });
  }
  var roll = data.rolling;
  var counts = data.series.map(function (s) {
    return {name: s.name, title: s.title, values: s.counts, smooth: rolling(s.counts, null, roll)};
  }).concat([{name: "all", title: "all articles", values: data.totals, smooth: rolling(data.totals, null, roll)}]);
  var shares = data.series.map(function (s) {
    return {name: s.name, title: s.title,
            values: s.counts.map(function (c, i) { return data.totals[i] ? c / data.totals[i] : 0; }),
            smooth: rolling(s.counts, data.totals, roll)};
  });
  lines(document.getElementById("counts"), data.buckets, counts, false, roll);
  lines(document.getElementById("shares"), data.buckets, shares, true, roll);
  data.regions.forEach(function (topic) {
    var box = document.createElement("div"); box.className = "chart"; box.id = "region-" + topic.topic;
    var title = document.createElement("h3"); title.textContent = topic.title;
    document.getElementById("regions").appendChild(title);
    document.getElementById("regions").appendChild(box);
    var present = topic.lines.filter(function (r) { return r.totals.some(function (t) { return t > 0; }); });
    var absent = topic.lines.filter(function (r) { return present.indexOf(r) < 0; });
    lines(box, data.buckets, present.map(function (r) {
      return {name: r.name, title: r.title,
              values: r.counts.map(function (c, i) { return r.totals[i] ? c / r.totals[i] : null; }),
              smooth: rolling(r.counts, r.totals, roll)};
    }), true, roll);
    if (absent.length) {
      var note = document.createElement("p"); note.className = "meta";
      note.textContent = "No articles in this period from: " + absent.map(function (r) { return r.title; }).join(", ") + ".";
      box.appendChild(note);
    }
  });
  document.getElementById("roll-toggle").style.display = roll ? "" : "none";
  document.getElementById("daily").addEventListener("change", function (e) {
    var on = e.target.checked;
    Array.prototype.forEach.call(document.querySelectorAll("path.roll"), function (p) { p.setAttribute("display", on ? "none" : ""); });
    Array.prototype.forEach.call(document.querySelectorAll("path.line"), function (p) { p.setAttribute("display", on ? "" : "none"); });
  });
  bars("entities", data.entities);
  bars("sources", data.sources);
  document.body.setAttribute("data-rendered", "yes");
})();
</script></body></html>
"""


def render(
    client: SearchClient,
    *,
    topics: list[tuple[str, str]],
    period: Period,
    interval: str = "day",
    tz: tzinfo = UTC,
    catalogue: Catalogue | None = None,
    lang: str = "en",
    now: datetime | None = None,
) -> str:
    """The report over ``period``; ``topics`` are (id, title) pairs."""
    now = now or datetime.now(UTC)
    catalogue = catalogue or Catalogue([])
    series = {t: selection(t, None) for t, _ in topics}
    titles = dict(topics)
    cov = coverage(
        client, series=series, interval=interval, period=period, tz=tz, by=region_filters()
    )
    found = {s.name: s for s in cov.series}

    def name(entity_id: str) -> str:
        entity = catalogue.entities.get(entity_id)
        return entity.display(lang) if entity else entity_id

    counted = {t: stories(client, selection(t, None), period=period) for t, _ in topics}
    data: dict[str, Any] = {
        "buckets": cov.buckets,
        "totals": cov.totals,
        "rolling": ROLLING if interval == "day" else 0,
        "series": [{"name": t, "title": titles[t], "counts": found[t].counts} for t, _ in topics],
        "regions": [
            {
                "topic": t,
                "title": titles[t],
                "lines": [
                    {
                        "name": r.id,
                        "title": r.title,
                        "counts": found[f"{t}@{r.id}"].counts,
                        "totals": found[f"@{r.id}"].counts,
                    }
                    for r in REGIONS
                ],
            }
            for t, _ in topics
        ],
        "entities": [
            (name(key), n) for key, n in top_terms(client, "entities.id", period=period, size=20)
        ],
        "sources": top_terms(client, "source", period=period, size=15),
    }
    body = {
        "size": 20,
        "sort": [{"matched_at": "desc"}],
        "query": {
            "range": {
                "matched_at": {"gte": period.start.isoformat(), "lte": period.end.isoformat()}
            }
        },
    }
    hits = client.request(
        "POST", f"/{client.index_name('alert-events')}/_search", body, ignore=(404,)
    )
    alerts = [h["_source"] for h in (hits.get("hits") or {}).get("hits", [])]
    rows = "".join(
        f"<tr><td>{escape(a.get('matched_at', '')[:16])}</td><td>{escape(a.get('rule_name', ''))}</td>"
        + (
            f"<td>{escape(a.get('title') or '')}</td><td>{escape(spike_numbers(a))}</td></tr>"
            if a.get("kind") == "spike"
            else f'<td><a href="{escape(a.get("url") or "")}">{escape(a.get("title") or a.get("url") or "")}</a></td>'
            f"<td>{escape(', '.join((a.get('why') or {}).get('terms', [])))}</td></tr>"
        )
        for a in alerts
    )
    alerts_html = (
        f"<table><tr><th>when</th><th>rule</th><th>article or spike</th><th>matched</th></tr>{rows}</table>"
        if alerts
        else '<p class="meta">No alerts in this period.</p>'
    )
    topic_rows = "".join(
        f"<tr><td>{escape(titles[t])}</td><td>{escape(t)}</td><td>{counted[t][0]}</td>"
        f"<td>{counted[t][1]}</td></tr>"
        for t, _ in topics
    )
    topics_html = (
        "<table><tr><th>topic</th><th>id</th><th>articles</th><th>stories</th></tr>"
        f"{topic_rows}</table>"
    )
    meta = (
        f"{sum(cov.totals)} articles from {period.label()} ({getattr(tz, 'key', 'UTC')}); "
        f"made {now.isoformat(timespec='minutes')}"
    )
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        PAGE.replace("__DATA__", blob)
        .replace("__ALERTS__", alerts_html)
        .replace("__TOPICS__", topics_html)
        .replace("__NAMES__", _names_html(client, period, catalogue, lang))
        .replace("__META__", escape(meta))
        .replace("__INTERVAL__", interval)
    )


def _names_html(client: SearchClient, period: Period, catalogue: Catalogue, lang: str) -> str:
    """A table a person: the names each region's articles use for them."""
    parts = []
    for entity_id in NAMED:
        entity = catalogue.entities.get(entity_id)
        if entity is None:
            continue
        found = name_forms(
            client, entity_id, period=period, by=region_filters(), owner=catalogue.owner
        )
        rows = "".join(
            f"<tr><td>{escape(r.title)}</td><td>{escape(forms_text(found.get(r.id, []), ', '))}</td></tr>"
            for r in REGIONS
        )
        parts.append(
            f'<h3>{escape(entity.display(lang))}</h3><table data-names="{escape(entity_id)}">'
            f"<tr><th>region</th><th>names used (share of the articles naming them)</th></tr>"
            f"{rows}</table>"
        )
    return "".join(parts) or '<p class="meta">No catalogued people.</p>'
