"""The date and byline a page prints: synthetic pages in the shapes real Chinese pages
use (a date line beside the headline, credits in brackets, an editor's line)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.article import RawArticle
from pipelines.extract import extract
from pipelines.visible import is_outlet, visible_byline, visible_date
from workers.config import build_pipeline
from workers.settings import Settings

STORY = "当地政府今天宣布新的扶持措施，帮助农户扩大种植面积，提高收入。" * 6


def page(head: str, tail: str = "", body: str = STORY) -> str:
    return (
        "<html><head><title>示例新闻</title></head><body>"
        "<div class='nav'>首页 新闻 体育 今天是2026年1月1日 星期四</div>"
        f"<h1>示例新闻</h1><div class='info'>{head}</div>"
        f"<div class='content'><p>{body}</p><p>{tail}</p></div>"
        "<div class='comments'>网友评论 (2005-09-19 10:11:12) 很好</div>"
        "</body></html>"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("2005-02-06 13:26更新 来源：新闻晨报", "2005-02-06T13:26"),
        ("发布时间：2022-02-13 04:22:18", "2022-02-13T04:22"),
        ("2006年12月27日 发布", "2006-12-27"),
        ("2004-12-10 阅读10544次", "2004-12-10"),
        ("2022.01.20 16:31", "2022-01-20T16:31"),
        ("AUTO.SOHU.COM 2003年11月12日16:36 金羊网", "2003-11-12T16:36"),
    ],
)
def test_the_printed_date_line_is_read(head: str, expected: str) -> None:
    assert extract(page(head)).dates["visible"] == expected


def test_a_site_wide_date_a_comment_and_a_bare_date_in_the_story_are_not_the_page_s() -> None:
    body = STORY + "会议定于2023年5月12日举行。"
    assert "visible" not in extract(page("", body=body)).dates
    assert visible_date("今天是2026年1月1日") is None


@pytest.mark.parametrize(
    ("head", "tail", "expected"),
    [
        ("来源： 21世纪经济报道 作者：宋怡 杨志华", "", ["宋怡", "杨志华"]),
        ("光明日报记者 王建宏 张文攀", "", ["王建宏", "张文攀"]),
        ("", "（记者 胡晓蓉） 责任编辑：孙重远", ["胡晓蓉"]),
        ("河南商报记者马俊峰/文", "", ["马俊峰"]),
        ("2004年7月16日08:19 [ 黄宇 ] 来源：[ 国际金融报 ]", "", ["黄宇"]),
        ("", "编辑：苏亮", ["苏亮"]),
    ],
)
def test_the_printed_byline_is_read(head: str, tail: str, expected: list[str]) -> None:
    assert extract(page(head, tail)).byline == expected


def test_a_story_signed_in_brackets_at_its_end() -> None:
    assert visible_byline("", STORY + "（常书香 马丹阳 ）") == ["常书香", "马丹阳"]
    assert visible_byline("", STORY + "（完）") == []


def test_the_word_reporter_in_a_sentence_is_no_byline() -> None:
    text = "医生微笑着告诉记者：被称之为最缺乏的手术。本刊记者经历了近4个小时的采访。\n小记者训练营"
    assert visible_byline(text) == []


def test_sites_and_outlets_are_never_bylines() -> None:
    for name in ("www.yunnan.cn,云南日报报业集团,云南网", "Discuz! Team and Comsenz UI Team",
                 "中文学术期刊,汉斯出版社,Hans Publishers", "大汉网络", "新华社"):  # fmt: skip
        assert is_outlet(name), name
    html = page("").replace(
        "<head>", "<head><meta name='author' content='www.yunnan.cn,云南日报报业集团,云南网'>"
    )
    assert extract(html).byline == []
    assert not is_outlet("王建宏")


def test_a_printed_date_is_used_only_below_the_page_s_own_metadata() -> None:
    pipeline = build_pipeline(Settings().config_dir)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    html = page("发布时间：2022-02-13 04:22")
    doc = pipeline.process(RawArticle(url="https://example.com/a", html=html), now=now)
    assert (doc["published_at"][:10], doc["published_at_source"]) == ("2022-02-13", "visible")
    with_meta = html.replace(
        "<head>", "<head><meta property='article:published_time' content='2022-02-14T08:00:00Z'>"
    )
    doc = pipeline.process(RawArticle(url="https://example.com/a", html=with_meta), now=now)
    assert doc["published_at_source"] == "meta"
