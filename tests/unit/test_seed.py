"""The reference article (../shared/seed): what a reader expects the pipeline to find.
Skips when the seed is absent (it is not part of the repository)."""

from __future__ import annotations

import pytest

from pipelines.article import RawArticle
from pipelines.normalize import to_simplified
from tests.conftest import SEED
from workers.config import build_pipeline
from workers.settings import Settings

pytestmark = pytest.mark.skipif(not SEED.exists(), reason=f"seed article not found at {SEED}")

PEOPLE = {"putin", "xi_jinping", "zelensky", "li_zhanshu"}
ORGS = {"nato", "sco"}
PLACES = {"russia", "china", "ukraine", "kyiv", "izium", "uzbekistan"}


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pipe():  # type: ignore[no-untyped-def]
    return build_pipeline(Settings().config_dir)


def _ids(doc: dict, kind: str) -> set[str]:
    return {e["id"] for e in doc["entities"] if e["type"] == kind}


def test_seed_as_scraped(pipe, seed_text: str) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text=seed_text))
    assert _ids(doc, "person") >= PEOPLE
    assert _ids(doc, "org") >= ORGS
    assert _ids(doc, "place") >= PLACES
    assert {"id": "xi_putin", "strength": "strong", "rule": "same_sentence"} in doc["topic_details"]
    assert "ukraine_war" in doc["topics"]
    body = doc["body"]
    assert "延伸閱讀" not in body and "一手新聞" not in body and "本網站之文字" not in body
    assert "北京實質挺俄侵略" not in body  # the related headlines at the end
    assert "圖取自" not in body and "1110915" not in body
    assert "楊明暐" in doc["byline"]
    assert doc["published_at"][:10] in ("2022-09-14", "2022-09-15")
    assert doc["published_at_source"] in ("text", "code")
    assert doc["lang"] == "zh-Hant"
    putin = next(e for e in doc["entities"] if e["id"] == "putin")
    assert "蒲亭" in putin["aliases"]


@pytest.mark.parametrize("variant", ["simplified", "mainland"])
def test_seed_in_other_scripts_and_usage(pipe, seed_text: str, variant: str) -> None:  # type: ignore[no-untyped-def]
    original = pipe.process(RawArticle(text=seed_text))
    text = to_simplified(seed_text)
    if variant == "mainland":
        text = text.replace("蒲亭", "普京").replace("泽伦斯基", "泽连斯基")
    doc = pipe.process(RawArticle(text=text))
    assert {e["id"] for e in doc["entities"]} == {e["id"] for e in original["entities"]}
    assert doc["topics"] == original["topics"]
    assert doc["lang"] == "zh-Hans"
