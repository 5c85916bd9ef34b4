"""Coverage shown to a reader: regions, per-region rows, shares and tables with Chinese."""

from __future__ import annotations

from pipelines.coverage import Coverage, Series, forms_text, percent, regional_rows
from pipelines.regions import REGIONS, region_filters, region_kql, region_of


def test_every_region_code_has_one_group() -> None:
    assert [region_of(c) for c in ("CN", "tw", "HK", "MO", "SG", "GB", "US")] == [
        "mainland", "taiwan", "hong_kong", "hong_kong", "singapore", "international",
        "international",
    ]  # fmt: skip
    assert region_of(None) is None
    assert list(region_filters()) == [r.id for r in REGIONS]
    international = region_filters()["international"]["bool"]
    assert international["must_not"] == [{"terms": {"region": ["CN", "TW", "HK", "MO", "SG"]}}]
    assert region_kql(REGIONS[2]) == 'region : ("HK" or "MO")'


def test_regional_rows_give_each_regions_share_of_its_own_coverage() -> None:
    cov = Coverage(
        "day",
        ["2023-03-20", "2023-03-21"],
        [30, 10],
        [
            Series("xi_putin", [4, 1]),
            Series("@taiwan", [10, 0]),
            Series("xi_putin@taiwan", [3, 0]),
        ],
    )
    rows = regional_rows(cov, ["xi_putin"], ["taiwan"])
    assert rows == [
        {"bucket": "2023-03-20", "region": "taiwan", "total": 10, "xi_putin": 3,
         "xi_putin_share": 0.3},
        {"bucket": "2023-03-21", "region": "taiwan", "total": 0, "xi_putin": 0,
         "xi_putin_share": 0.0},
    ]  # fmt: skip


def test_a_share_above_zero_is_never_shown_as_zero() -> None:
    assert [percent(x) for x in (0, 0.75, 0.1, 0.042, 1 / 390, 0.0004)] == [
        "0%", "75%", "10%", "4.2%", "0.3%", "<0.1%",
    ]  # fmt: skip


def test_name_forms_read_as_shares_of_their_articles() -> None:
    assert forms_text([("普丁", 3), ("蒲亭", 1)]) == "普丁 75% (3)  蒲亭 25% (1)"
    assert forms_text([("普京", 389), ("習主席", 1)], ", ") == "普京 100% (389), 習主席 0.3% (1)"
    assert forms_text([]) == "-"


def test_tables_line_up_chinese_names(capsys) -> None:  # type: ignore[no-untyped-def]
    from workers.cli.common import table, width

    assert width("习近平") == 6 and width("Putin") == 5
    table([["习近平", "18"], ["Putin", "2"]], ["name", "n"])
    lines = capsys.readouterr().out.splitlines()
    # the second column starts at the same terminal column on every line
    assert [width(line[: line.rindex(" ") + 1]) for line in lines] == [8, 8, 8]
