"""Name candidates outside the catalogue: people a reader would call people, outlets and
brands and common words kept out, in both scripts."""

from __future__ import annotations

import pytest

from pipelines.article import RawArticle
from pipelines.entities import SURNAMES, TOP_SURNAMES
from pipelines.normalize import converter
from workers.config import build_pipeline
from workers.settings import Settings


@pytest.fixture(scope="module")
def pipe():  # type: ignore[no-untyped-def]
    return build_pipeline(Settings().config_dir)


def _others(pipe, text: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text=text))
    return {o["name"]: o["type"] for o in doc["entities_other"]}


def test_the_surname_lists_cover_taiwan_and_hong_kong() -> None:
    assert {"赖", "萧", "洪", "卓", "詹", "游", "简", "庄", "涂"} <= SURNAMES
    assert {"赖", "萧"} <= TOP_SURNAMES and "官" not in TOP_SURNAMES


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("前立委赖坤成表示支持。", "赖坤成"),  # 赖: Taiwan's 19th commonest surname
        ("美国总统国家安全顾问沙利文说，会谈坦诚。", "沙利文"),  # a foreign name after a title
        ("特斯拉首席执行官马斯克说，将扩大在华投资。", "马斯克"),
        ("雷蒙多：美将国安问题放首位。", "雷蒙多"),  # a headline quoting someone
        ("香港立法会议员叶刘淑仪表示支持。", "叶刘淑仪"),  # two surnames and a given name
        ("陈致中表示将参选。", "陈致中"),  # cut 陈致|中 by the segmenter, a verb after it
        ("毛宁说，双方保持沟通。", "毛宁"),  # a two-character name stays two
    ],
)
def test_people_are_candidates(pipe, text: str, person: str) -> None:  # type: ignore[no-untyped-def]
    for script_text in (text, converter("s2t").convert(text)):
        found = _others(pipe, script_text)
        written = converter("s2t").convert(person) if script_text != text else person
        assert found.get(written) == "person", (script_text, found)


@pytest.mark.parametrize(
    ("text", "not_person"),
    [
        ("据彭博社报道，油价上涨。", "彭博社"),  # an outlet: an organisation
        ("彭博：美国经济放缓。", "彭博"),  # its short name, quoted like a person
        ("特斯拉股价大涨。", "特斯拉"),  # a brand, written like a foreign name
        ("他担任公司顾问多年。", "顾问"),  # common words tagged as names
        ("中国成功发射一颗卫星。", "卫星"),
        ("推动高水平对外开放。", "高水平"),
        ("多地出现强降雨天气。", "强降雨"),  # a rare surname begins a common word
        ("两人官宣恋情。", "官宣"),
    ],
)
def test_outlets_brands_and_words_are_not_people(pipe, text: str, not_person: str) -> None:  # type: ignore[no-untyped-def]
    for script_text in (text, converter("s2t").convert(text)):
        found = _others(pipe, script_text)
        assert all(
            kind != "person"
            for name, kind in found.items()
            if name in (not_person, converter("s2t").convert(not_person))
        ), (script_text, found)
    if not_person == "彭博社":
        assert _others(pipe, text).get("彭博社") == "org"
