"""Reading inputs and `mediamon process`: no services needed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.conftest import DATA
from workers.cli import main
from workers.staging import raw_from_payload, read_inputs


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
