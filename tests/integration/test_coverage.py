"""Coverage numbers from the engine equal counts made independently here; the HTML
report renders its charts in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from tests.integration.conftest import refresh
from workers.cli import main

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture(scope="module")
def corpus(search):  # type: ignore[no-untyped-def]
    """30 days of synthetic documents with known topics, written straight to the index."""
    from workers.articles.indexing import index_documents

    docs = []
    for day in range(30):
        for n in range(day % 5 + 1):
            topics = []
            if n % 2 == 0:
                topics.append("xi_putin")
            if n % 3 == 0:
                topics.append("ukraine_war")
            docs.append(
                {
                    "id": f"cov-{day}-{n}",
                    "source": "coverage-fixture",
                    "lang": "en",
                    "body": "x",
                    "published_at": (NOW - timedelta(days=day)).isoformat(),
                    "topics": topics,
                    "entities": [{"id": "putin", "type": "person"}] if n == 1 else [],
                }
            )
    index_documents(search, docs)
    refresh(search)
    return docs


def test_coverage_counts_match_an_independent_count(search, corpus) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["coverage", "--since", "40d", "--format", "json", "--source", "coverage-fixture"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["bucket"]: r for r in json.loads(result.stdout)}
    fixture = corpus
    totals = Counter(d["published_at"][:10] for d in fixture)
    xi = Counter(d["published_at"][:10] for d in fixture if "xi_putin" in d["topics"])
    war = Counter(d["published_at"][:10] for d in fixture if "ukraine_war" in d["topics"])
    for day, total in totals.items():
        row = rows[day]
        assert row["total"] == total, day
        assert row["xi_putin"] == xi[day] and row["ukraine_war"] == war[day], day
        assert row["xi_putin_share"] == pytest.approx(xi[day] / total, abs=1e-6)


def test_coverage_for_an_entity_and_weeks(search, corpus) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main,
        [
            "coverage",
            "--entity",
            "putin",
            "--interval",
            "week",
            "--since",
            "35d",
            "--format",
            "csv",
            "--source",
            "coverage-fixture",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "bucket,total,putin,putin_share"
    counted = sum(int(line.split(",")[2]) for line in lines[1:])
    assert counted == sum(1 for d in corpus if d["entities"])
    table = CliRunner().invoke(
        main, ["coverage", "--topic", "xi_putin", "--since", "10d", "--normalize"]
    )
    assert "xi_putin" in table.stdout and any(c in table.stdout for c in "▁▂▃▄▅▆▇█")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_with_data_in_headless_chromium(search, corpus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--out", str(out), "--since", "40d"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert (
        "http://" not in html.split("<body>")[0] and "<script src" not in html
    )  # nothing to fetch
    browser = _chromium()
    if browser is None:
        pytest.fail("chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            out.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'data-rendered="yes"' in dom
    # one point per day per series in both time charts, with the fixture's counts in them
    days = 41
    for series in ("xi_putin", "ukraine_war"):
        assert dom.count(f'class="pt" data-series="{series}"') == 2 * days
    assert dom.count('class="bar"') >= 2  # top entities and sources
    assert 'data-label="coverage-fixture"' in dom
