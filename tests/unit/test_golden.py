"""Golden files: tests/data/<case>/input.* (+ meta.json) -> expected.json.

Regenerate on purpose with `pytest tests/unit/test_golden.py --update-golden` and read
the diff before committing it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.article import RawArticle
from tests.conftest import DATA
from workers.config import build_pipeline
from workers.settings import Settings

NOW = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
CASES = sorted(p.parent for p in DATA.glob("*/input.*"))
VOLATILE = ("fetched_at",)


def run_case(case: Path) -> dict:
    source = next(case.glob("input.*"))
    meta_path = case / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    raw = RawArticle(content=source.read_bytes(), text_source="file", **meta)
    doc = build_pipeline(Settings().config_dir).process(raw, now=NOW)
    return {k: v for k, v in doc.items() if k not in VOLATILE}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Path, request: pytest.FixtureRequest) -> None:
    actual = run_case(case)
    expected_path = case / "expected.json"
    if request.config.getoption("--update-golden") or not expected_path.exists():
        expected_path.write_text(
            json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        if not request.config.getoption("--update-golden"):
            pytest.fail(f"{expected_path} was missing and has been written: review and commit it")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected
