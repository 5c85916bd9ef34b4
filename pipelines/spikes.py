"""Coverage spikes: when the latest period of a series stands out from its own past.

A series is the articles a query selects per day or per hour, as a count or as a share
of all articles in that period. A period fires when all of these hold:

- its count is at least ``min_count`` (a quiet series going from 0 to 2 is not news);
- its value is ``threshold`` robust deviations above the baseline: the median of the
  trailing ``window`` periods (``baseline="median"``), or of the same weekday (per day)
  or the same hour (per hour) within the window (``baseline="weekday"``). A deviation
  is 1.4826 × the median absolute deviation, and never less than the counting noise
  of the baseline (√baseline articles), so a series that is flat at 0 or 1 does not fire
  on every extra article;
- its value is at least ``min_factor`` times the baseline (any value, when the
  baseline is 0);
- no period of the ``cooldown`` periods before it fired: one event fires once;
- for a share, the period holds at least a quarter of the articles of a usual period
  (the median of the window): the first minutes of a day are not judged on a handful.

A period in which no article at all was indexed (before the index begins, or while
nothing was collected) is unknown, not empty: it is left out of the baseline, and a
period needs half a window of known periods behind it to be judged.

The same function judges a whole year (`alerts test`) and the latest period (the beat
task), so what the test lists is what the live rule would have sent.

In the rule language, a spike rule is written ``spike(QUERY, OPTION, ...)``, an option
being ``per: hour``, ``share`` (or ``count``), ``window: 56``, ``baseline: weekday``,
``threshold: 2``, ``min factor: 1.5``, ``min count: 2`` or ``cooldown: 5``:

    spike(topic:xi_putin, per: day, share)
    spike(entity:putin region:TW, per: hour, min count: 5)
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields
from statistics import median
from typing import Any, Literal

from pipelines.coverage import sparkline

__all__ = ["Firing", "SpikeParams", "judge", "latest", "sparkline", "spike_form", "values"]

MAD_SCALE = 1.4826  # a normal distribution's standard deviation per median absolute deviation
# A share is judged once its period holds a quarter of a usual period's articles: at
# 00:10, three of five articles are 60% of a day that has barely begun.
EARLY = 4


@dataclass(frozen=True)
class SpikeParams:
    per: Literal["day", "hour"] = "day"
    measure: Literal["count", "share"] = "count"
    window: int = 28
    baseline: Literal["median", "weekday"] = "median"
    threshold: float = 3.0
    min_factor: float = 2.0
    min_count: int = 3
    cooldown: int = 3

    def __post_init__(self) -> None:
        if self.per not in ("day", "hour"):
            raise ValueError(f"per must be day or hour, not {self.per!r}")
        if self.measure not in ("count", "share"):
            raise ValueError(f"measure must be count or share, not {self.measure!r}")
        if self.baseline not in ("median", "weekday"):
            raise ValueError(f"baseline must be median or weekday, not {self.baseline!r}")
        if not 3 <= self.window <= 1000:
            raise ValueError("window must be 3 to 1000 periods")
        if self.baseline == "weekday" and self.window < 2 * self.season:
            raise ValueError(
                f"a weekday baseline needs a window of at least {2 * self.season} periods"
            )
        if self.threshold < 0 or self.min_factor < 0 or self.min_count < 1 or self.cooldown < 0:
            raise ValueError("threshold and min_factor are >= 0, min_count >= 1, cooldown >= 0")

    @property
    def season(self) -> int:
        """Periods in one cycle of the seasonal baseline: a week of days, a day of hours."""
        return 7 if self.per == "day" else 24

    @property
    def history(self) -> int:
        """Periods read before the one judged: the cool-down, and a whole window behind
        each period of it and behind the window itself, so that whether a period in the
        cool-down fired is judged as `alerts test` judges it."""
        return 2 * self.window + self.cooldown

    @property
    def needed(self) -> int:
        """Known periods a judgement needs behind it: half of what the window holds."""
        held = self.window // self.season if self.baseline == "weekday" else self.window
        return max(2, held // 2)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Firing:
    index: int
    period: str
    count: int
    total: int
    value: float
    baseline: float
    deviation: float
    score: float
    factor: float | None  # None: the baseline was 0
    recent: list[float]  # the window's values and this one, oldest first

    def numbers(self, measure: str) -> str:
        """``now=14 baseline=2 factor=7.0 z=12.0`` (shares in percent)."""
        now, base = (
            (f"{self.value:.1%}", f"{self.baseline:.1%}")
            if measure == "share"
            else (str(self.count), f"{self.baseline:g}")
        )
        factor = f"{self.factor:.1f}" if self.factor is not None else "new"
        return f"now={now} baseline={base} factor={factor} z={self.score:.1f}"


_FORM = re.compile(r"\s*spike\s*\((.*)\)\s*", re.S)


def spike_form(text: str) -> tuple[str, dict[str, Any]] | None:
    """``spike(QUERY, OPTION, ...)`` as (query, parameters); None for any other text.
    A malformed form is a ValueError that says what is accepted."""
    found = _FORM.fullmatch(text or "")
    if not found:
        return None
    parts = _top_level(found.group(1))
    query = parts[0].strip()
    if not query:
        raise ValueError("spike(...) needs a query first: spike(topic:xi_putin, per: day)")
    known = {f.name: f.type for f in fields(SpikeParams)}
    options: dict[str, Any] = {}
    for part in parts[1:]:
        key, _, value = part.partition(":")
        name = "_".join(key.lower().split()).replace("-", "_")
        value = value.strip()
        if name in ("share", "count") and not value:
            options["measure"] = name
        elif name in known and value:
            kind = str(known[name])
            try:
                options[name] = (
                    int(value) if "int" in kind else float(value) if "float" in kind else value
                )
            except ValueError as exc:
                raise ValueError(f"spike(...): {name} takes a number, not {value!r}") from exc
        else:
            raise ValueError(
                f"spike(...): {part.strip()!r} is not an option; options are share or count, "
                "per: day|hour, window: N, baseline: median|weekday, threshold: Z, "
                "min factor: F, min count: N, cooldown: N"
            )
    return query, options


def _top_level(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def values(counts: list[int], totals: list[int], measure: str) -> list[float]:
    if measure == "share":
        return [c / t if t else 0.0 for c, t in zip(counts, totals, strict=True)]
    return [float(c) for c in counts]


def judge(
    labels: list[str],
    counts: list[int],
    totals: list[int],
    params: SpikeParams,
    *,
    first: int = 0,
    indexed: list[int] | None = None,
) -> list[Firing]:
    """Every period from index ``first`` on that fires, oldest first. ``totals`` are
    the articles a share is taken of; ``indexed``, all articles of each period (when
    they differ): a period without any is unknown."""
    series = values(counts, totals, params.measure)
    known = indexed or totals
    fired: list[Firing] = []
    last = -(10**9)
    for i in range(len(series)):
        behind = [j for j in _behind(i, params) if known[j] > 0]
        if len(behind) < params.needed:
            continue
        if i - last <= params.cooldown:
            continue
        firing = _judge(i, labels, counts, totals, series, behind, params)
        if firing is None:
            continue
        last = i
        if i >= first:
            fired.append(firing)
    return fired


def latest(
    labels: list[str],
    counts: list[int],
    totals: list[int],
    params: SpikeParams,
    *,
    indexed: list[int] | None = None,
) -> Firing | None:
    """The last period's firing, if it fires (the live check)."""
    found = judge(labels, counts, totals, params, first=len(labels) - 1, indexed=indexed)
    return found[0] if found else None


def _behind(i: int, params: SpikeParams) -> list[int]:
    """The periods of the window behind period ``i`` (the same weekday or hour only,
    for a seasonal baseline)."""
    start = max(0, i - params.window)
    if params.baseline == "weekday":
        return list(range(i - params.season, start - 1, -params.season))[::-1]
    return list(range(start, i))


def _judge(
    i: int,
    labels: list[str],
    counts: list[int],
    totals: list[int],
    series: list[float],
    behind: list[int],
    params: SpikeParams,
) -> Firing | None:
    count, value = counts[i], series[i]
    if count < params.min_count:
        return None
    if params.measure == "share" and totals[i] * EARLY < median(totals[j] for j in behind):
        return None  # too little of the period seen yet for its share to mean much
    past = [series[j] for j in behind]
    base = median(past)
    mad = median(abs(v - base) for v in past)
    if params.measure == "share":
        total = totals[i] or 1
        noise = math.sqrt(max(base * total, 1.0)) / total
    else:
        noise = math.sqrt(max(base, 1.0))
    deviation = max(MAD_SCALE * mad, noise)
    score = (value - base) / deviation
    factor = value / base if base > 0 else None
    if score < params.threshold or (factor is not None and factor < params.min_factor):
        return None
    recent = series[max(0, i - params.window) : i + 1]
    return Firing(
        index=i,
        period=labels[i],
        count=count,
        total=totals[i],
        value=round(value, 6),
        baseline=round(base, 6),
        deviation=round(deviation, 6),
        score=round(score, 2),
        factor=round(factor, 2) if factor is not None else None,
        recent=[round(v, 6) for v in recent],
    )
