"""`mediamon report`: one self-contained HTML page (inline data, script and styles; no
network) with coverage per topic over time, top entities and sources, recent alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from workers.coverage.queries import coverage, selection, top_terms
from workers.search.client import SearchClient

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mediamon report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.chart{border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;font-size:13px}
.meta{color:#666}
</style></head><body>
<h1>mediamon coverage report</h1>
<p class="meta">__META__</p>
<h2>Articles per __INTERVAL__ by topic</h2><div class="chart" id="counts"></div>
<h2>Share of all coverage per __INTERVAL__</h2><div class="chart" id="shares"></div>
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
  function lines(target, labels, series, percent) {
    var box = document.getElementById(target), W = 1040, H = 240, L = 50, B = 30;
    var svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, "data-chart": target}, box);
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { max = Math.max(max, v); }); });
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
      var c = colors[n % colors.length], d = "";
      s.values.forEach(function (v, i) { d += (i ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1); });
      el("path", {d: d, fill: "none", stroke: c, "stroke-width": 2, "class": "line", "data-series": s.name}, svg);
      s.values.forEach(function (v, i) {
        var p = el("circle", {cx: x(i), cy: y(v), r: 2.5, fill: c, "class": "pt", "data-series": s.name,
                              "data-value": v}, svg);
        el("title", {}, p).textContent = s.name + " " + labels[i] + ": " + (percent ? (v * 100).toFixed(2) + "%" : v);
      });
      var item = document.createElement("span");
      item.innerHTML = '<i style="background:' + c + '"></i>' + s.name;
      legend.appendChild(item);
    });
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
  lines("counts", data.buckets, data.series.map(function (s) { return {name: s.name, values: s.counts}; })
        .concat([{name: "all articles", values: data.totals}]), false);
  lines("shares", data.buckets, data.series.map(function (s) {
    return {name: s.name, values: s.counts.map(function (c, i) { return data.totals[i] ? c / data.totals[i] : 0; })};
  }), true);
  bars("entities", data.entities);
  bars("sources", data.sources);
  document.body.setAttribute("data-rendered", "yes");
})();
</script></body></html>
"""


def render(
    client: SearchClient,
    *,
    topics: list[str],
    interval: str = "day",
    since_days: int = 90,
    now: datetime | None = None,
) -> str:
    now = now or datetime.now(UTC)
    series = {t: selection(t, None) for t in topics}
    cov = coverage(client, series=series, interval=interval, since_days=since_days, now=now)
    data: dict[str, Any] = {
        "buckets": cov.buckets,
        "totals": cov.totals,
        "series": [{"name": s.name, "counts": s.counts} for s in cov.series],
        "entities": top_terms(client, "entities.id", since_days=since_days, size=20),
        "sources": top_terms(client, "source", since_days=since_days, size=15),
    }
    body = {
        "size": 20,
        "sort": [{"matched_at": "desc"}],
        "query": {"range": {"matched_at": {"gte": f"now-{since_days}d"}}},
    }
    hits = client.request(
        "POST", f"/{client.index_name('alert-events')}/_search", body, ignore=(404,)
    )
    alerts = [h["_source"] for h in (hits.get("hits") or {}).get("hits", [])]
    rows = "".join(
        f"<tr><td>{escape(a.get('matched_at', '')[:16])}</td><td>{escape(a.get('rule_name', ''))}</td>"
        f'<td><a href="{escape(a.get("url") or "")}">{escape(a.get("title") or a.get("url") or "")}</a></td>'
        f"<td>{escape(', '.join((a.get('why') or {}).get('terms', [])))}</td></tr>"
        for a in alerts
    )
    alerts_html = (
        f"<table><tr><th>when</th><th>rule</th><th>article</th><th>matched</th></tr>{rows}</table>"
        if alerts
        else '<p class="meta">No alerts in this period.</p>'
    )
    meta = (
        f"{sum(cov.totals)} articles, {cov.buckets[0] if cov.buckets else '-'} to "
        f"{cov.buckets[-1] if cov.buckets else '-'}; made {now.isoformat(timespec='minutes')}"
    )
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        PAGE.replace("__DATA__", blob)
        .replace("__ALERTS__", alerts_html)
        .replace("__META__", escape(meta))
        .replace("__INTERVAL__", interval)
    )
