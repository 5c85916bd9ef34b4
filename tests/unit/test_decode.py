import codecs

import pytest

from pipelines.article import RejectArticle
from pipelines.decode import decode
from tests.conftest import DATA

TEXT = "習近平與普丁在撒馬爾罕會晤，討論烏克蘭局勢。"
SIMPLIFIED = "习近平与普京在撒马尔罕会晤，讨论乌克兰局势。"


def test_utf8_without_any_declaration() -> None:
    assert decode(TEXT.encode()).text == TEXT


def test_bom_wins_and_is_not_part_of_the_text() -> None:
    result = decode(codecs.BOM_UTF8 + TEXT.encode(), {"Content-Type": "text/html; charset=big5"})
    assert (result.text, result.how) == (TEXT, "bom")
    for codec in ("utf-16", "utf-32"):  # Python writes these with a mark
        assert decode(TEXT.encode(codec)).text == TEXT


def test_a_page_with_a_byte_order_mark_is_read_as_html() -> None:
    from pipelines.article import RawArticle
    from pipelines.process import Pipeline

    html = f"<!DOCTYPE html><html><head><title>t</title></head><body><p>{TEXT}</p></body></html>"
    doc = Pipeline().process(RawArticle(content=codecs.BOM_UTF8 + html.encode()))
    assert doc["body"] == TEXT


def test_gb2312_meta_tag_reads_as_gb18030() -> None:
    raw = (DATA / "zh-gb2312" / "input.html").read_bytes()
    result = decode(raw)
    assert result.how == "meta" and result.charset == "gb18030"
    assert "习近平同俄罗斯总统普京通电话" in result.text


def test_big5_meta_tag() -> None:
    raw = (DATA / "zh-big5" / "input.html").read_bytes()
    result = decode(raw)
    assert result.charset == "big5hkscs"
    assert "人道援助" in result.text


def test_header_charset() -> None:
    result = decode(SIMPLIFIED.encode("gbk"), {"content-type": "text/html; charset=GBK"})
    assert result.text == SIMPLIFIED and result.how == "header"


def test_latin1_header_on_a_gbk_page_is_not_believed() -> None:
    page = f'<html><head><meta charset="gbk"></head><body>{SIMPLIFIED * 5}</body></html>'
    result = decode(page.encode("gbk"), {"Content-Type": "text/html; charset=ISO-8859-1"})
    assert SIMPLIFIED in result.text


def test_wrong_declaration_falls_back_to_detection() -> None:
    # Declared UTF-8, really GB18030: strict UTF-8 fails, detection decides.
    result = decode(
        (SIMPLIFIED * 20).encode("gb18030"), {"Content-Type": "text/html; charset=utf-8"}
    )
    assert SIMPLIFIED in result.text and result.how == "detected"


def test_binary_content_is_rejected() -> None:
    with pytest.raises(RejectArticle) as info:
        decode(b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 500)
    assert info.value.reason == "undecodable"


def test_an_undeclared_gb2312_page_with_a_character_cut_in_two_is_not_read_as_cyrillic() -> None:
    title = "【2005年中国革命历史巨作】太行山上 下载专区"
    body = "这是一个关于中国电影的讨论帖，大家都在说这部作品的历史意义和艺术成就。" * 8
    page = f"<html><head><title>{title}</title></head><body><p>{body}</p>".encode("gb2312")
    page += "<p>后面还有".encode("gb2312") + b"\xc3</p></body></html>"  # cut mid-character
    decoded = decode(page)
    assert (decoded.charset, decoded.how) == ("gb18030", "detected")
    assert title in decoded.text


def test_cyrillic_and_big5_without_a_declaration_stay_what_they_are() -> None:
    russian = "Путин и Си Цзиньпин провели переговоры в Москве. " * 20
    assert decode(russian.encode("cp1251")).text == russian
    chinese = "普丁與習近平會談，討論烏克蘭局勢，雙方同意加強合作。" * 20
    assert decode(chinese.encode("big5")).text == chinese
