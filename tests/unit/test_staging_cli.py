"""Reading inputs and `mediamon process`: no services needed."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner

from tests.conftest import DATA
from workers.articles.staging import MAX_FILE_BYTES, raw_from_payload, read_inputs
from workers.cli import main


def test_folder_yields_every_article_with_its_format() -> None:
    items = list(read_inputs([str(DATA / "zh-big5" / "input.html"), str(DATA / "en-front")]))
    # a folder contributes every .txt/.html/.json file; en-front holds input.txt, meta.json
    # and expected.json, and the last two are no articles
    items = [i for i in items if not i.where.endswith(("meta.json", "expected.json"))]
    assert len(items) == 2 and all(item.payload for item in items)
    html = next(i for i in items if i.where.endswith("input.html"))
    assert raw_from_payload(html.payload).content.startswith(b"<html>")  # bytes survive staging


def test_unreadable_inputs_are_reported_not_fatal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "list.json").write_text(json.dumps([{"text": "ok"}, {"title": "no text"}, 3]))
    (tmp_path / "empty.txt").write_text("  ")
    items = list(read_inputs([str(tmp_path), str(tmp_path / "missing.txt")]))
    errors = {item.where.split("/")[-1]: item.error for item in items if item.error}
    assert errors["bad.json"].startswith("not valid JSON")
    assert "needs a non-empty 'text' or 'html'" in errors["list.json[2]"]
    assert errors["list.json[3]"].startswith("expected a JSON object")
    assert errors["empty.txt"] == "empty file"
    assert errors["missing.txt"] == "no such file or folder"
    assert sum(1 for item in items if item.payload) == 1


def test_process_prints_a_document() -> None:
    result = CliRunner().invoke(main, ["process", str(DATA / "zh-hant-summit" / "input.txt")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["lang"] == "zh-Hant" and "习近平" in doc["text_tokens"].split()


def test_process_jsonl_streams_and_reports_bad_lines() -> None:
    lines = "\n".join(
        [
            json.dumps({"text": "Putin met Xi in Samarkand.", "url": "https://example.org/1"}),
            "{broken",
            json.dumps({"title": "no body"}),
            json.dumps({"html": "<p>烏克蘭軍隊收復伊久姆，澤倫斯基前往視察並升起國旗。</p>"}),
        ]
    )
    result = CliRunner().invoke(main, ["process", "--jsonl", "-"], input=lines)
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0]["lang"] == "en"
    assert out[1] == {"error": out[1]["error"], "line": 2} and "not valid JSON" in out[1]["error"]
    assert out[2]["line"] == 3 and out[2]["reason"] == "bad_input"
    assert out[3]["lang"] == "zh-Hant"


def test_process_missing_file_exits_2() -> None:
    result = CliRunner().invoke(main, ["process", "/no/such/file.txt"])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_input_with_a_byte_order_mark_is_read_in_its_format() -> None:
    bom = "\ufeff".encode()
    page = b"<html><head><title>t</title></head><body><p>Talks on Ukraine went on in Kyiv.</p></body></html>"
    result = CliRunner().invoke(main, ["process", "-"], input=bom + page)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["body"] == "Talks on Ukraine went on in Kyiv."
    line = json.dumps({"text": "Talks on Ukraine went on in Kyiv."}).encode()
    result = CliRunner().invoke(main, ["process", "--jsonl", "-"], input=bom + line + b"\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["body"] == "Talks on Ukraine went on in Kyiv."


# ------------------------------------------------------------------ format from content
def _docs(result) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return {line["input"].rsplit("/", 1)[-1]: line for line in lines}


def test_a_page_is_html_whatever_its_name_and_gzip_is_unpacked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = (DATA / "zh-gb2312" / "input.html").read_bytes()  # GB2312, not UTF-8
    for name in ("story.shtml", "story.php", "story", "story.txt"):
        (tmp_path / name).write_bytes(page)
    (tmp_path / "story.html.gz").write_bytes(gzip.compress(page))
    result = CliRunner().invoke(main, ["process", str(tmp_path)])
    assert result.exit_code == 0, result.output
    docs = _docs(result)
    assert set(docs) == {"story.shtml", "story.php", "story", "story.txt", "story.html.gz"}
    expected = json.loads((DATA / "zh-gb2312" / "expected.json").read_text(encoding="utf-8"))
    for name, line in docs.items():
        doc = line["document"]
        assert doc["title"] == expected["title"], name
        assert doc["body"] == expected["body"], name  # the text, not the markup
        assert not {"meta", "href", "html"} & set(doc["keywords"]), name


def test_a_gzip_bomb_or_a_broken_gzip_is_one_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b"<p>" + b" " * (MAX_FILE_BYTES + 10)))
    (tmp_path / "cut.html.gz").write_bytes(gzip.compress(b"<p>Talks in Kyiv.</p>")[:-12])
    (tmp_path / "good.txt").write_text("Talks on Ukraine went on in Kyiv.", encoding="utf-8")
    result = CliRunner().invoke(main, ["process", str(tmp_path)])
    assert result.exit_code == 1
    docs = _docs(result)
    assert docs["bomb.html.gz"]["error"] == "unpacks to more than 50 MiB"
    assert docs["cut.html.gz"]["error"].startswith("not valid gzip")
    assert docs["good.txt"]["document"]["body"] == "Talks on Ukraine went on in Kyiv."


def test_several_inputs_name_their_input_on_every_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.txt").write_text("Putin met Xi in Samarkand.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Zelensky visited Izium.", encoding="utf-8")
    result = CliRunner().invoke(main, ["process", str(tmp_path / "a.txt"), str(tmp_path / "b.txt")])
    assert result.exit_code == 0, result.output
    docs = _docs(result)
    assert {"putin", "xi_jinping"} <= {e["id"] for e in docs["a.txt"]["document"]["entities"]}
    assert docs["b.txt"]["input"] == str(tmp_path / "b.txt")


def test_process_takes_the_url_and_source_that_jsonl_can_give(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "story.txt"
    path.write_text("Talks on Ukraine went on in Kyiv.", encoding="utf-8")
    plain = json.loads(CliRunner().invoke(main, ["process", str(path)]).stdout)
    url = "https://www.cna.com.tw/news/aopl/202209140001.aspx"
    result = CliRunner().invoke(main, ["process", str(path), "--url", url, "--source", "cna"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["url"] == url and doc["id"] != plain["id"]
    assert doc["source"] == "cna"
    both = CliRunner().invoke(main, ["process", str(path), str(path), "--url", url])
    assert both.exit_code == 2 and "--url names one article" in both.output


@pytest.mark.parametrize("via_file", [True, False])
def test_a_line_that_is_not_utf8_is_one_error_line(tmp_path, via_file: bool) -> None:  # type: ignore[no-untyped-def]
    good = json.dumps({"text": "Talks on Ukraine went on in Kyiv."}).encode()
    bad = json.dumps({"text": "習近平"}, ensure_ascii=False).encode("big5")
    data = b"\n".join([good, bad, good]) + b"\n"
    if via_file:
        (tmp_path / "in.jsonl").write_bytes(data)
        result = CliRunner().invoke(main, ["process", "--jsonl", str(tmp_path / "in.jsonl")])
    else:
        result = CliRunner().invoke(main, ["process", "--jsonl", "-"], input=data)
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["body"] == out[2]["body"] == "Talks on Ukraine went on in Kyiv."
    assert out[1]["line"] == 2 and out[1]["error"].startswith("not UTF-8 at byte")


def test_alerts_add_reports_a_syntax_error_before_it_looks_for_the_engine(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workers.settings import get_settings

    monkeypatch.setenv("MEDIAMON_SEARCH_URLS", "http://127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["alerts", "add", "bad", "-q", "習近平 AND (普京"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "missing closing parenthesis at position 8" in result.output
    assert "engine" not in result.output


def test_beat_without_redis_says_so_in_one_line_and_hides_the_password(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workers.settings import get_settings

    monkeypatch.setenv("MEDIAMON_REDIS_URL", "redis://:hunter2@127.0.0.1:9/0")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["beat"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "Traceback" not in result.output and len(result.output.splitlines()) <= 3
    assert "cannot reach Redis at redis://:***@127.0.0.1:9/0" in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@redis:6379/0", "redis://:***@redis:6379/0"),
        ("https://elastic:s3cret@es:9200", "https://elastic:***@es:9200"),
        ("redis://127.0.0.1:6390/0", "redis://127.0.0.1:6390/0"),
    ],
)
def test_urls_are_printed_without_their_password(url: str, shown: str) -> None:
    from workers.settings import redact

    assert redact(url) == shown


def test_config_copy_gives_a_folder_the_worker_can_use_and_keeps_edits(
    tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from workers.settings import get_settings

    (tmp_path / "topics.yaml").write_text("[]\n", encoding="utf-8")  # an edit of the user's
    result = CliRunner().invoke(main, ["config", "copy", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "topics.yaml").read_text(encoding="utf-8") == "[]\n"
    assert {"entities.yaml", "feeds.yaml", "sources.yaml", "keywords.yaml"} <= {
        p.name for p in tmp_path.iterdir()
    }
    (tmp_path / "keywords.yaml").unlink()  # a missing file falls back to the bundled one
    monkeypatch.setenv("MEDIAMON_CONFIG_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(main, ["config", "path"]).output
        doc = json.loads(
            CliRunner().invoke(main, ["process", str(DATA / "zh-hant-summit" / "input.txt")]).stdout
        )
    finally:
        get_settings.cache_clear()
    assert f"topics.yaml: {tmp_path / 'topics.yaml'}" in shown
    assert "keywords.yaml: " in shown and str(tmp_path / "keywords.yaml") not in shown
    assert doc["topics"] == [] and {"putin", "xi_jinping"} <= {e["id"] for e in doc["entities"]}
