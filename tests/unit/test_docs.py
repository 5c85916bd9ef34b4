"""docs/fields.md documents every mapped field of the articles index."""

from __future__ import annotations

import re
from pathlib import Path

from workers.search import templates

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_mapped_field_is_documented() -> None:
    text = (DOCS / "fields.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", text, re.MULTILINE))
    mapped = set(templates.field_paths(templates.load("articles").properties()))
    assert mapped - documented == set(), "mapped but not documented"
    assert documented - mapped == set(), "documented but not mapped"
