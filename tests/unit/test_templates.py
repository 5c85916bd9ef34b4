"""The strict mapping and what the pipeline emits must agree (story-indexer's test
template drifted from production; ours is the one file both use)."""

from __future__ import annotations

import json

from pipelines.article import RawArticle
from tests.conftest import DATA
from workers.config import build_pipeline
from workers.search import templates
from workers.settings import Settings


def _emitted_paths(doc: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in doc.items():
        paths.add(prefix + key)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                paths |= _emitted_paths(item, prefix + key + ".")
    return paths


def test_every_template_is_strict_and_versioned() -> None:
    for name in templates.NAMES:
        template = templates.load(name)
        assert template.mappings["dynamic"] == "strict"
        assert template.physical("p-") == f"p-{name}-v{template.version}"
        assert template.body("p-")["index_patterns"] == [f"p-{name}-v*"]


def test_every_key_the_pipeline_emits_is_mapped() -> None:
    mapped = set(templates.field_paths(templates.load("articles").properties())) | {"indexed_at"}
    pipeline = build_pipeline(Settings().config_dir)
    for path in sorted(DATA.glob("*/input.*")):
        raw = RawArticle(
            content=path.read_bytes(),
            url=f"https://example.org/{path.parent.name}",
            source="fixtures",
            source_name="Fixtures",
            feed_id="f1",
        )
        doc = pipeline.process(raw)
        missing = _emitted_paths(doc) - mapped
        assert not missing, f"{path.name}: {missing}"


def test_rejection_documents_fit_their_mapping() -> None:
    from workers.articles.indexing import Rejection

    mapped = set(templates.field_paths(templates.load("rejected").properties()))
    doc = Rejection(
        id="x",
        stage="dates",
        reason="bad_date",
        detail="d",
        url="u",
        source="s",
        feed_id="f",
        excerpt="e",
    ).document()
    assert set(doc) <= mapped


def test_request_bodies_are_engine_neutral() -> None:
    """No runtime fields or legacy `interval` in anything we send."""
    for name in templates.NAMES:
        text = json.dumps(templates.load(name).body(""))
        assert "runtime" not in text and '"interval"' not in text
