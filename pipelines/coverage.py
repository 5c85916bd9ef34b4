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


def sparkline(values: list[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in values
    )
