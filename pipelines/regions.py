"""Regions of the Chinese-language press, for comparing who covers what and how.

A document's ``region`` is where its source publishes (ISO 3166 codes from
sources.yaml and feeds.yaml). Coverage is compared across five groups: the mainland,
Taiwan, Hong Kong (with Macau), Singapore, and everything else with a known region
(international: BBC, DW, RFI, VOA and the English press). The same person is named
differently across them: 普京 on the mainland and in Singapore, 普丁 in Taiwan, 蒲亭
at the Central News Agency, Putin abroad.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Region:
    id: str
    title: str
    codes: tuple[str, ...]  # empty: every known region not in another group


REGIONS = (
    Region("mainland", "Mainland China", ("CN",)),
    Region("taiwan", "Taiwan", ("TW",)),
    Region("hong_kong", "Hong Kong & Macau", ("HK", "MO")),
    Region("singapore", "Singapore", ("SG",)),
    Region("international", "International", ()),
)
_NAMED = tuple(code for region in REGIONS for code in region.codes)


def region_of(code: str | None) -> str | None:
    """The group of a region code (None for a document without a region)."""
    if not code:
        return None
    upper = code.upper()
    return next((r.id for r in REGIONS if upper in r.codes), "international")


def region_filter(region: Region) -> dict[str, Any]:
    """The engine's query for a group's documents."""
    if region.codes:
        return {"terms": {"region": list(region.codes)}}
    return {
        "bool": {
            "filter": [{"exists": {"field": "region"}}],
            "must_not": [{"terms": {"region": list(_NAMED)}}],
        }
    }


def region_filters() -> dict[str, dict[str, Any]]:
    """A ``filters`` aggregation's filters, one per group, in display order."""
    return {region.id: region_filter(region) for region in REGIONS}


def region_kql(region: Region) -> str:
    """The group as a Kibana (KQL) filter, for the dashboards."""
    if region.codes:
        return "region : (" + " or ".join(f'"{c}"' for c in region.codes) + ")"
    return "region : * and not region : (" + " or ".join(f'"{c}"' for c in _NAMED) + ")"
