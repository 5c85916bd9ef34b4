"""Coverage series: articles per bucket, as counts and as a share of all coverage, and
the sparklines that draw them in a terminal. workers/coverage/queries.py fills them
from the engine's aggregations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass
class Series:
    name: str
    counts: list[int] = field(default_factory=list)

    def shares(self, totals: list[int]) -> list[float]:
        return [c / t if t else 0.0 for c, t in zip(self.counts, totals, strict=True)]


@dataclass
class Coverage:
    interval: str
    buckets: list[str]
    totals: list[int]
    series: list[Series]

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for i, bucket in enumerate(self.buckets):
            row: dict[str, Any] = {"bucket": bucket, "total": self.totals[i]}
            for s in self.series:
                row[s.name] = s.counts[i]
                row[f"{s.name}_share"] = (
                    round(s.counts[i] / self.totals[i], 6) if self.totals[i] else 0.0
                )
            out.append(row)
        return out


def regional_rows(cov: Coverage, names: list[str], groups: list[str]) -> list[dict[str, Any]]:
    """A coverage split by groups (``coverage(..., by=...)``: series ``<name>@<group>``
    and totals ``@<group>``) as one row per bucket and group: the group's articles, and
    each series' count and share of them."""
    found = {s.name: s.counts for s in cov.series}
    out = []
    for i, bucket in enumerate(cov.buckets):
        for group in groups:
            whole = found[f"@{group}"][i]
            row: dict[str, Any] = {"bucket": bucket, "region": group, "total": whole}
            for name in names:
                part = found[f"{name}@{group}"][i]
                row[name] = part
                row[f"{name}_share"] = round(part / whole, 6) if whole else 0.0
            out.append(row)
    return out


def percent(part: float) -> str:
    """A share as a reader takes it in: 75%, 4.2%, 0.3%, <0.1% (never a share above 0
    shown as 0%)."""
    if part <= 0:
        return "0%"
    if part >= 0.1:
        return f"{part:.0%}"
    if part >= 0.001:
        return f"{part:.1%}"
    return "<0.1%"


def forms_text(forms: list[tuple[str, int]], sep: str = "  ", most: int = 6) -> str:
    """Name forms with the share and number of articles using each, most used first:
    ``普丁 75% (3)  蒲亭 25% (1)``; ``-`` for none."""
    total = sum(n for _, n in forms)
    return sep.join(f"{form} {percent(n / total)} ({n})" for form, n in forms[:most]) or "-"


def sparkline(values: list[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in values
    )
