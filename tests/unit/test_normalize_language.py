import pytest

from pipelines.highlight import snippet
from pipelines.language import detect_language
from pipelines.normalize import normalize


def test_search_form_is_simplified_folded_and_lowercase() -> None:
    assert normalize("習近平會見ＰＵＴＩＮ！２０２２").text == "习近平会见putin！2022"


def test_offsets_map_back_to_the_original() -> None:
    original = "俄羅斯總統蒲亭飛抵北京"
    norm = normalize(original)
    start = norm.text.index("蒲亭")
    s, e = norm.original_span(start, start + 2)
    assert original[s:e] == "蒲亭"


def test_snippet_marks_matches_in_the_original_script() -> None:
    text = "今年2月初，俄羅斯總統蒲亭飛抵北京，受到中國領導人習近平的熱烈歡迎。"
    assert "[習近平]" in snippet(text, ["习近平"])
    assert "[蒲亭]" in snippet(text, ["蒲亭"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("俄羅斯總統蒲亭飛抵北京，受到中國領導人習近平的熱烈歡迎。", "zh-Hant"),
        ("俄罗斯总统普京飞抵北京，受到中国领导人习近平的热烈欢迎。", "zh-Hans"),
        ("Russian President Vladimir Putin flew to Beijing, where he was welcomed by Xi.", "en"),
        ("Президент России прилетел в Пекин, где его встретил председатель КНР.", "ru"),
        ("ロシアのプーチン大統領は北京に到着し、習近平国家主席の歓迎を受けた。", "ja"),
        ("푸틴 대통령은 사마르칸트에서 시진핑 주석과 회담했다. 양국 정상은 협력을 논의했다.", "ko"),
        ("😀😀😀", "und"),  # beyond the Basic Multilingual Plane: no class counts it
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_script_neutral_text_uses_the_hint() -> None:
    assert detect_language("今天下雨", "zh-TW") == "zh-Hant"
    assert detect_language("今天下雨") == "zh-Hans"
