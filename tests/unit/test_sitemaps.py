"""Sitemap parsing (pipelines/sitemaps.py): the protocol's urlset and index, Google
News' fields, text sitemaps, robots.txt's Sitemap lines, and hostile sitemaps (a gzip
bomb, more entries than the protocol allows, entities, a page that is no sitemap).
Sitemaps are written with ElementTree at test time."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from pipelines.sitemaps import NotASitemap, parse_sitemap, sitemaps_in_robots
from tests.conftest import SHARED_DATA
from tests.sitemaps import index, urlset


def test_a_news_sitemap_gives_each_pages_dates_and_title() -> None:
    body = urlset(
        [
            {
                "loc": "https://news.example.org/a",
                "lastmod": "2023-03-21T10:00:00+08:00",
                "published": "2023-03-21T09:30:00+08:00",
                "title": "習近平抵達莫斯科",
            },
            {
                "loc": "https://news.example.org/b",
                "lastmod": "2023-03-20",
                "published": "2023-03-20",
                "title": "Putin",
            },
        ],
        news=True,
        image=True,
    )
    for content in (body, gzip.compress(body)):
        parsed = parse_sitemap(content)
        assert parsed.kind == "urlset" and parsed.total == 2 and parsed.error is None
        first = parsed.entries[0]
        assert first.url == "https://news.example.org/a"  # not the image's loc
        assert first.lastmod == "2023-03-21T10:00:00+08:00"
        assert first.published == "2023-03-21T09:30:00+08:00"
        assert first.title == "習近平抵達莫斯科"


def test_an_index_lists_its_child_sitemaps() -> None:
    parsed = parse_sitemap(
        index([("https://a.example/s1.xml", "2023-03-21"), ("https://a.example/s2.xml.gz", "")])
    )
    assert parsed.kind == "index"
    assert [(e.url, e.lastmod) for e in parsed.entries] == [
        ("https://a.example/s1.xml", "2023-03-21"),
        ("https://a.example/s2.xml.gz", None),
    ]


def test_a_text_sitemap_is_a_url_a_line() -> None:
    parsed = parse_sitemap(b"https://a.example/1\n\nhttps://a.example/2\r\nnot a url\n")
    assert parsed.kind == "text"
    assert [e.url for e in parsed.entries] == ["https://a.example/1", "https://a.example/2"]
    assert parsed.error == "1 lines are not URLs"


@pytest.mark.parametrize(
    "body",
    [
        b"<!doctype html><html><body>Parked domain</body></html>",
        b"Service unavailable, try later",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        b"",
        gzip.compress(b"")[:5],
    ],
)
def test_what_is_no_sitemap_says_so(body: bytes) -> None:
    with pytest.raises(NotASitemap):
        parse_sitemap(body)


def test_entities_are_refused_not_expanded() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://a.example/&b;</loc></url></urlset>"
    )
    with pytest.raises(NotASitemap):
        parse_sitemap(laughs)


def test_a_gzip_bomb_is_read_to_the_cap_and_no_further() -> None:
    pages = urlset([{"loc": f"https://a.example/{n}"} for n in range(100)])
    bomb = gzip.compress(pages[:-9] + b" " * 20_000_000 + b"</urlset>")
    started = time.monotonic()
    parsed = parse_sitemap(bomb, max_bytes=1_000_000)
    assert time.monotonic() - started < 5
    assert len(parsed.entries) == 100
    assert parsed.error and "inflates past 1000000 bytes" in parsed.error


def test_more_entries_than_the_protocol_allows_are_counted_not_kept() -> None:
    body = urlset([{"loc": f"https://a.example/{n}"} for n in range(50_001)])
    parsed = parse_sitemap(body)
    assert len(parsed.entries) == 50_000 and parsed.total == 50_001
    assert parsed.error == "50001 entries; only the first 50000 were read"


def test_a_sitemap_cut_short_keeps_what_was_read() -> None:
    body = urlset([{"loc": f"https://a.example/{n}"} for n in range(10)])
    parsed = parse_sitemap(body[: len(body) // 2])
    assert 3 <= len(parsed.entries) < 10 and parsed.error


def test_robots_txt_lists_sitemaps_in_any_group() -> None:
    robots = (
        "User-agent: *\nDisallow: /private\nSitemap: https://a.example/news.xml # news\n"
        "User-agent: bad\nDisallow: /\nsitemap:https://a.example/index.xml\n"
        "Sitemap: /relative.xml\nSitemap: https://a.example/news.xml\n"
    )
    assert sitemaps_in_robots(robots) == [
        "https://a.example/news.xml",
        "https://a.example/index.xml",
    ]


def test_a_news_sitemap_of_real_headlines_reads_back() -> None:
    """A news sitemap written from a real feed's items (Zaobao, as the JSON Feed
    snapshots in ../shared/data have them) reads back item for item."""
    path = SHARED_DATA / "feeds" / "exposir_jsonfeed_snapshots" / "zaobao.json.gz"
    if not path.exists():
        pytest.skip("../shared/data is absent: no real feed to build a sitemap from")
    items = json.loads(gzip.decompress(path.read_bytes()))["items"]
    pages = [
        {
            "loc": item["url"],
            "published": item.get("date_published") or "2025-01-01",
            "title": item.get("title") or "",
        }
        for item in items
        if item.get("url")
    ]
    parsed = parse_sitemap(gzip.compress(urlset(pages, news=True)))
    assert [(e.url, e.title) for e in parsed.entries] == [(p["loc"], p["title"]) for p in pages]
