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


def test_the_query_error_in_docs_alerts_is_what_the_parser_prints() -> None:
    from pipelines.alertquery import QueryError, parse

    text = (DOCS / "alerts.md").read_text(encoding="utf-8")
    example = re.search(r"\$ mediamon alerts add \S+ -q '([^']+)'\nError: (.*?)\n```", text, re.S)
    assert example is not None
    query, shown = example.groups()
    try:
        parse(query)
    except QueryError as exc:
        assert str(exc) == shown
    else:
        raise AssertionError(f"{query!r} parses")


def test_the_caret_stands_under_the_character_in_a_terminal() -> None:
    from pipelines.alertquery import QueryError, display_width, parse

    for query, char in (("習近平 AND (普京", "("), ("普京 )", ")"), ('ab "習近平', '"')):
        try:
            parse(query)
        except QueryError as exc:
            caret = str(exc).splitlines()[2]
            column = caret.index("^")
            assert column - 2 == display_width(query[: query.index(char)]), query
        else:
            raise AssertionError(query)


def test_env_example_documents_every_setting_and_only_settings() -> None:
    from workers.settings import Settings

    text = (DOCS.parent / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*(MEDIAMON_[A-Z_]+)=", text, re.MULTILINE))
    fields = {f"MEDIAMON_{name.upper()}" for name in Settings.model_fields}
    # the dev stack's ports and heap are read by devstack/services.sh, not by mediamon
    devstack = {"MEDIAMON_REDIS_PORT", "MEDIAMON_SEARCH_PORT", "MEDIAMON_SEARCH_TRANSPORT_PORT"}
    devstack |= {"MEDIAMON_SEARCH_HEAP"}
    assert fields - listed == set(), "settings that .env.example does not document"
    assert listed - fields - devstack == set(), ".env.example names what no setting reads"


def test_the_config_files_point_at_sections_that_exist() -> None:
    topics = (DOCS.parent / "config" / "topics.yaml").read_text(encoding="utf-8")
    assert '"Topic rules" in\n# docs/fields.md' in topics
    assert "\n## Topic rules\n" in (DOCS / "fields.md").read_text(encoding="utf-8")
