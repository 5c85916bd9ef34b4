"""One-character abbreviations (pipelines/abbreviations.py): the shapes that name a
country, place or leader, the words that only look like them, in both scripts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.abbreviations import AbbreviationError, Abbreviations
from pipelines.article import RawArticle
from pipelines.entities import Catalogue, CatalogueError, Entity
from pipelines.normalize import converter
from workers.config import build_pipeline
from workers.settings import Settings


@pytest.fixture(scope="module")
def pipe():  # type: ignore[no-untyped-def]
    return build_pipeline(Settings().config_dir)


def _abbreviated(pipe, text: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text=text + "。双方将继续保持沟通。"))
    return {e["id"]: e["abbrev_count"] for e in doc["entities"] if "abbrev" in e["forms"]}


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("中美关系持续紧张", {"china", "united_states"}),  # a pair that begins a word
        ("中俄战略伙伴关系", {"china", "russia"}),  # a pair over two words
        ("俄乌战争进入第二年", {"russia", "ukraine"}),
        ("美日韩峰会在戴维营举行", {"united_states", "japan", "south_korea"}),
        ("港澳台地区居民", {"hong_kong", "macau", "taiwan"}),  # 澳 beside 港 is Macau
        ("中澳关系回暖", {"china", "australia"}),  # 澳 elsewhere is Australia
        ("中欧关系稳定", {"china", "europe"}),
        ("国务卿将访华", {"china"}),  # after a verb
        ("他驻美多年", {"united_states"}),
        ("美国批准对台军售", {"taiwan"}),
        ("北约担心中国对俄提供武器", {"russia"}),
        ("代表团赴京参加会议", {"beijing"}),
        ("美防长发表讲话", {"united_states"}),  # before a noun
        ("港媒报道了这一消息", {"hong_kong"}),
        ("台军举行演习", {"taiwan"}),
        ("美国务卿布林肯抵达", {"united_states"}),
        ("俄总统普京表示", {"russia"}),
        ("美军基地扩建", {"united_states"}),
        ("马习会十周年", {"ma_ying_jeou", "xi_jinping"}),  # a meeting
        ("习普会释放信号", {"xi_jinping", "putin"}),
        ("拜习会晤取得成果", {"biden", "xi_jinping"}),
        ("赖萧配民调领先", {"lai_ching_te", "hsiao_bi_khim"}),  # a ticket
    ],
)
def test_shapes_that_name_an_entity(pipe, text: str, ids: set[str]) -> None:  # type: ignore[no-untyped-def]
    for script_text in (text, converter("s2t").convert(text)):
        assert set(_abbreviated(pipe, script_text)) == ids, script_text


@pytest.mark.parametrize(
    "text",
    [
        "美元兑人民币升值",
        "人们向往美好生活",
        "欧美国家纷纷表态",
        "台风来袭",
        "平台经济发展",
        "这是一场乌龙",
        "中美洲国家",
        "朝中社报道",
        "美中不足的是",
        "中英文对照",
        "台中市长卢秀燕",
        "其中方案一",
        "学习会议精神",
        "特别会议召开",
        "韩德洙星期一表示",  # a personal name beginning with 韩德
        "法警将他带走",
        "在中东地区",
        "从中获利",
    ],
)
def test_words_that_only_look_like_one_are_not(pipe, text: str) -> None:  # type: ignore[no-untyped-def]
    for script_text in (text, converter("s2t").convert(text)):
        assert _abbreviated(pipe, script_text) == {}, script_text


def test_abbreviations_are_counted_apart_from_names(pipe) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text="中国外交部说，中方愿与俄方加强合作，中俄关系稳定。"))
    by_id = {e["id"]: e for e in doc["entities"]}
    china, russia = by_id["china"], by_id["russia"]
    assert china["forms"] == ["abbrev", "name"] and china["abbrev_count"] == 2
    assert china["count"] == 3 and china["aliases"] == ["中国"]
    assert russia["forms"] == ["abbrev"] and russia["aliases"] == []
    assert russia["count"] == russia["abbrev_count"] == 2


def test_the_catalogue_checks_its_abbreviations() -> None:
    base = {"type": "place", "names": {"en": "X"}}
    with pytest.raises(CatalogueError, match="map characters to uses"):
        Catalogue([{**base, "id": "x", "abbreviations": ["俄"]}])
    x = Entity("x", "place", {"en": "X"})
    y = Entity("y", "place", {"en": "Y"})
    with pytest.raises(AbbreviationError, match="not one Chinese character"):
        Abbreviations([(x, {"俄国": "compound"})])
    with pytest.raises(AbbreviationError, match="is not one of"):
        Abbreviations([(x, {"俄": "sometimes"})])
    with pytest.raises(AbbreviationError, match="belongs to both"):
        Abbreviations([(x, {"俄": "compound"}), (y, {"俄": "pair"})])
    Abbreviations([(x, {"澳": "compound"}), (y, {"澳": "beside 港"})])  # the one way to share


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet="中美俄乌港澳台华京习普会配访对在军方防长国务卿美中不足朝中社，。 ab", max_size=40
    ),
    edge_bits=st.lists(st.booleans(), max_size=50),
    spans=st.lists(st.tuples(st.integers(0, 45), st.integers(0, 45)), max_size=4),
)
def test_the_native_scan_takes_any_input(pipe, text, edge_bits, spans) -> None:  # type: ignore[no-untyped-def]
    """Edges shorter or longer than the text, spans past its end or reversed: the scan
    answers offsets inside the text and never fails."""
    edges = bytes(edge_bits)
    found = pipe.abbreviations._shapes.find(text, edges, spans, pipe.segmenter.segment(text))
    assert all(0 <= at < len(text) for at, _ in found)
    assert [at for at, _ in found] == sorted(at for at, _ in found)
