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
    # the 40 days hold no article with a region: no flat zero line a region, a note
    assert "No articles in this period from: " in dom
    assert dom.count('class="roll"') >= 3  # the 7-day means of the count chart


def _mention(entity: str, *aliases: str) -> dict:
    return {"id": entity, "type": "person", "aliases": list(aliases)}


@pytest.fixture(scope="module")
def regional(search):  # type: ignore[no-untyped-def]
    """March 2001: the same meeting covered by region, each naming Putin its own way; one
    wire story carried by three Taiwanese outlets."""
    from workers.articles.indexing import index_documents

    xi = _mention("xi_jinping", "习近平")
    plan = [
        # (region, Putin as written, xi_putin?, story, copies)
        ("CN", "普京", True, "s-cn-1", 1),
        ("CN", "普京", False, "s-cn-2", 1),
        ("TW", "普丁", True, "s-tw-wire", 3),
        ("TW", "蒲亭", True, "s-tw-cna", 1),
        ("HK", "普京", False, "s-hk-1", 1),
        ("SG", "普京", True, "s-sg-1", 1),
        ("GB", "Putin", True, "s-gb-1", 1),
        ("US", "Putin", False, "s-us-1", 1),
    ]
    docs = []
    for n, (region, alias, topic, story, copies) in enumerate(plan):
        for copy in range(copies):
            docs.append(
                {
                    "id": f"reg-{n}-{copy}",
                    "source": f"region-fixture-{region.lower()}-{copy}",
                    "region": region,
                    "lang": "en" if alias == "Putin" else "zh-Hans",
                    "body": "x",
                    "story_id": story,
                    "published_at": f"2001-03-{20 + n % 3:02d}T04:00:00+00:00",
                    "topics": ["xi_putin"] if topic else [],
                    "entities": [_mention("putin", alias), xi]
                    if topic
                    else [_mention("putin", alias)],
                }
            )
    # a quiet filler article a region, so shares have a whole to be part of
    for region in ("CN", "TW", "HK", "SG", "GB"):
        docs.append(
            {
                "id": f"reg-filler-{region}",
                "source": "region-fixture-filler",
                "region": region,
                "lang": "en",
                "body": "x",
                "story_id": f"s-filler-{region}",
                "published_at": "2001-03-21T04:00:00+00:00",
                "topics": [],
                "entities": [],
            }
        )
    index_documents(search, docs)
    refresh(search)
    return docs


MARCH = ["--since", "2001-03-01", "--until", "2001-03-31"]


def test_coverage_by_region_gives_shares_and_each_regions_names(search, regional) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main,
        ["coverage", "--topic", "xi_putin", "--by", "region", *MARCH, "--interval", "month"],
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    bucket = next(line for line in out.splitlines() if line.startswith("2001-03-01"))
    # mainland 1 of 3, Taiwan 4 of 5 (three wire copies and CNA), HK 0 of 2, SG 1 of 2,
    # international (GB, US) 1 of 3
    assert bucket.split()[1:] == [
        "1/3", "33.3%", "4/5", "80.0%", "0/2", "0.0%", "1/2", "50.0%", "1/3", "33.3%",
    ]  # fmt: skip
    names = {
        line.split()[0]: line
        for line in out.split("How each region names")[1].splitlines()[2:]
        if line.strip()
    }
    assert "普丁 75% (3)" in names["Taiwan"] and "蒲亭 25% (1)" in names["Taiwan"]
    assert "普京 100% (2)" in names["Mainland"] and "Putin 100% (2)" in names["International"]
    assert "xi" not in names["Taiwan"] and "习近平" not in out.split("How each region")[1]


def test_entities_related_counts_stories_not_copies(search, regional) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["entities", "related", "putin", *MARCH])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "xi_jinping" in line)
    # xi_putin stories: cn-1, tw-wire (3 copies), tw-cna, sg-1, gb-1: 5 stories, 7 articles
    assert row.split()[-4:] == ["person", "5", "62%", "7"]
    assert "8 stories, 10 articles" in result.stdout
    names = CliRunner().invoke(main, ["entities", "related", "putin", *MARCH, "--lang", "zh-Hant"])
    assert "習近平" in names.stdout
    unknown = CliRunner().invoke(main, ["entities", "related", "nobody"])
    assert unknown.exit_code == 1 and "no entity 'nobody'" in unknown.output


def test_report_charts_the_requested_span_with_names_and_stories(
    search, regional, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "march.html"
    result = CliRunner().invoke(main, ["report", "--out", str(out), *MARCH, "--lang", "zh-Hans"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    data = json.loads(
        html.split('<script id="data" type="application/json">')[1].split("</script>")[0]
    )
    assert data["buckets"][0] == "2001-03-01" and data["buckets"][-1] == "2001-03-31"
    assert len(data["buckets"]) == 31 and data["rolling"] == 7
    assert {s["title"] for s in data["series"]} >= {"Xi–Putin relations"}
    assert ("习近平", 7) in [tuple(e) for e in data["entities"]]  # a name, not an id
    taiwan = next(
        line for topic in data["regions"] if topic["topic"] == "xi_putin" for line in topic["lines"]
        if line["name"] == "taiwan"
    )  # fmt: skip
    assert sum(taiwan["counts"]) == 4 and sum(taiwan["totals"]) == 5
    assert '<table data-names="putin">' in html and "普丁 75% (3)" in html
    topics = html.split("<h2>Topics</h2>")[1].split("</table>")[0]
    assert "<td>xi_putin</td><td>7</td><td>5</td>" in topics  # articles, stories


def test_coverage_by_region_as_json_has_a_row_per_region(search, regional) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main,
        ["coverage", "--topic", "xi_putin", "--by", "region", *MARCH, "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.stdout) if r["total"]]
    taiwan = [r for r in rows if r["region"] == "taiwan"]
    assert sum(r["xi_putin"] for r in taiwan) == 4 and sum(r["total"] for r in taiwan) == 5
    assert all(r["xi_putin_share"] == pytest.approx(r["xi_putin"] / r["total"]) for r in rows)
    assert {r["region"] for r in json.loads(result.stdout)} == {
        "mainland", "taiwan", "hong_kong", "singapore", "international",
    }  # fmt: skip
