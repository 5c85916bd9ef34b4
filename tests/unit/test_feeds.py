"""Feed parsing, schedule arithmetic, OPML and the feed list (no services)."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest

from pipelines import schedule
from pipelines.feeds import FeedItem, NotAFeed, parse_feed
from tests.conftest import SHARED_DATA
from tests.feedserver import FEEDS
from workers.config import ConfigError
from workers.feeds.opml import export_opml, import_opml
from workers.feeds.store import FeedConfig, load_feeds_file
from workers.settings import Settings


def _fixture(name: str) -> bytes:
    return (FEEDS / name).read_bytes().replace(b"{base}", b"http://127.0.0.1:1")


@pytest.mark.parametrize(
    ("name", "kind", "titles"),
    [
        (
            "rss-zh-hant.xml",
            "rss20",
            ["外交部：持續關注烏克蘭戰事", "普丁抵達撒馬爾罕 將與習近平會談"],
        ),
        ("atom-zh-hans.xml", "atom10", ["习近平同普京通电话", "习近平在莫斯科同普京举行会谈"]),
        (
            "jsonfeed-en.json",
            "json11",
            ["Grain corridor talks resume", "Ukraine presses counter-offensive near Kharkiv"],
        ),
        ("rss-big5.xml", "rss20", ["台灣關注俄烏戰事"]),
        ("rss-gb2312.xml", "rss20", ["习近平同普京通电话"]),
    ],
)
def test_formats_and_charsets(name: str, kind: str, titles: list[str]) -> None:
    feed = parse_feed(_fixture(name))
    assert feed.kind == kind
    assert [item.title for item in feed.items] == titles  # newest first


@pytest.mark.parametrize("name", ["rss-zh-hant.xml", "atom-zh-hans.xml", "jsonfeed-en.json"])
def test_a_byte_order_mark_before_the_feed_changes_nothing(name: str) -> None:
    plain = parse_feed(_fixture(name))
    marked = parse_feed(codecs.BOM_UTF8 + _fixture(name), {"Content-Type": "application/json"})
    assert (marked.kind, marked.items) == (plain.kind, plain.items)


def test_ttl_is_a_refresh_hint() -> None:
    assert parse_feed(_fixture("rss-zh-hant.xml")).refresh_seconds == 30 * 60


def test_malformed_feed_keeps_what_parsed_and_says_why() -> None:
    feed = parse_feed(_fixture("malformed.xml"))
    assert feed.error and "SAXParseException" in feed.error
    assert feed.items[0].title == "First item survives"


def test_html_instead_of_a_feed_is_refused() -> None:
    with pytest.raises(NotAFeed, match="HTML page"):
        parse_feed(_fixture("not-a-feed.html"))
    with pytest.raises(NotAFeed):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", "title": "no items"}')


def test_at_most_max_items_newest_first() -> None:
    items = "".join(
        f"<item><title>t{i}</title><link>http://x.example/{i}</link>"
        f"<pubDate>Mon, {i + 1:02d} Jan 2024 00:00:00 GMT</pubDate></item>"
        for i in range(20)
    )
    feed = parse_feed(
        f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode(), max_items=5
    )
    assert feed.total_items == 20 and [i.title for i in feed.items] == [
        "t19",
        "t18",
        "t17",
        "t16",
        "t15",
    ]


def test_fingerprint_ignores_the_guid_and_sees_the_text() -> None:
    a = FeedItem(url="u", guid="1", title="T", summary="S")
    assert a.fingerprint() == FeedItem(url="u", guid="2", title="T", summary="S").fingerprint()
    assert (
        a.fingerprint()
        != FeedItem(url="u", guid="1", title="T", summary="S, updated").fingerprint()
    )


@pytest.mark.skipif(not (SHARED_DATA / "feeds").exists(), reason="shared feed data not found")
def test_every_real_feed_parses_or_is_refused_with_a_reason() -> None:
    """The third-party feeds as served: none crashes the parser."""
    parsed = refused = 0
    for path in sorted((SHARED_DATA / "feeds").rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".yml") or path.name.startswith("LICENSE"):
            continue
        if path.name.endswith(".serde.json"):
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        try:
            feed = parse_feed(data)
        except NotAFeed as exc:
            assert exc.detail
            refused += 1
            continue
        parsed += 1
        assert all(isinstance(item.title, str) for item in feed.items)
    assert parsed > 80 and refused < 10


def test_schedule_adapts_within_bounds() -> None:
    bounds = schedule.Bounds(min_interval=600, max_interval=86_400, jitter=0)
    assert schedule.after_success(3600, 5, bounds) == pytest.approx(2520)
    assert schedule.after_success(3600, 0, bounds) == pytest.approx(4680)
    assert schedule.after_success(700, 9, bounds) == 600
    assert schedule.after_success(80_000, 0, bounds) == 86_400
    # the feed's own hints are floors, capped at the maximum
    assert schedule.after_success(3600, 5, bounds, feed_hint=7200) == 7200
    assert schedule.after_success(3600, 5, bounds, max_age=10**7) == 86_400


def test_backoff_grows_to_a_day_and_never_drops_the_feed() -> None:
    bounds = schedule.Bounds(min_interval=600, jitter=0)
    waits = [schedule.after_failure(f, bounds) for f in (1, 2, 3, 10, 100)]
    assert waits[:3] == [600, 1200, 2400] and waits[-1] == 86_400 == waits[-2]
    assert schedule.after_failure(1, bounds, retry_after=7200) == 7200
    assert (
        schedule.failure_weight("permanent")
        > schedule.failure_weight("transient")
        > schedule.failure_weight("throttled")
    )


def test_jitter_spreads_polls() -> None:
    bounds = schedule.Bounds(jitter=0.1)
    low, high = (schedule.after_success(3600, 0, bounds, rand=r) for r in (0.0, 0.999))
    assert low == pytest.approx(4680 * 0.9) and high == pytest.approx(4680 * 1.1, rel=1e-3)


def test_default_feed_list_is_valid_and_covers_the_mission() -> None:
    feeds = load_feeds_file(Settings().config_dir / "feeds.yaml")
    ids = {feed.id for feed in feeds}
    assert {
        "cna-politics",
        "cna-intworld",
        "cna-mainland",
        "bbc-zhongwen-trad",
        "bbc-zhongwen-simp",
        "rfi-zh",
        "dw-zh",
        "voa-zh",
        "zaobao-china",
        "zaobao-world",
        "people-world",
        "xinhua-world",
        "bbc-world",
        "guardian-world",
        "aljazeera",
        "kyiv-independent",
        "scmp-china",
    } <= ids
    assert all(
        feed.url.startswith(("http://", "https://"))
        and feed.lang
        and feed.region
        and feed.interval
        and feed.documented_at
        for feed in feeds
    )


def test_bad_feed_list_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n  - id: ok\n    url: https://example.org/rss\n  - id: Bad Id\n    url: ftp://x\n"
    )
    with pytest.raises(ConfigError, match=r"feed 2 \(Bad Id\): id"):
        load_feeds_file(path)


def test_opml_round_trip_and_safety() -> None:
    feeds = [
        FeedConfig(
            id="cna-politics",
            url="https://feeds.feedburner.com/rsscna/politics",
            name="中央社 政治",
            lang="zh-Hant",
            source="cna",
            region="TW",
        ),
        FeedConfig(id="bbc-world", url="https://feeds.bbci.co.uk/news/world/rss.xml", name="BBC"),
    ]
    back = import_opml(export_opml(feeds).encode())
    assert [(f.id, f.url, f.name, f.lang, f.source, f.region) for f in back] == [
        (f.id, f.url, f.name, f.lang, f.source, f.region) for f in sorted(feeds, key=lambda f: f.id)
    ]
    other = b'<opml version="1.0"><body><outline text="News"><outline text="A Feed" xmlUrl="https://a.example/rss"/></outline></body></opml>'
    assert [(f.id, f.url) for f in import_opml(other, existing={"a-feed"})] == [
        ("a-feed-2", "https://a.example/rss")
    ]
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<opml><body>&lol2;</body></opml>"
    )
    with pytest.raises(ConfigError, match="not a readable OPML"):
        import_opml(laughs)


def test_a_wrong_charset_header_does_not_garble_the_feed() -> None:
    feed = parse_feed(
        _fixture("rss-zh-hant.xml"), {"Content-Type": "application/rss+xml; charset=ISO-8859-1"}
    )
    assert feed.items[0].title == "外交部：持續關注烏克蘭戰事"
    big5 = parse_feed(_fixture("rss-big5.xml"), {"Content-Type": "text/xml; charset=utf-8"})
    assert big5.items[0].title == "台灣關注俄烏戰事"


def test_an_item_staged_before_an_upgrade_reads_as_one_staged_now() -> None:
    """Polled items are staged as RawArticle payloads; a payload of the earlier feed-item
    form, still in Redis after an upgrade, becomes the same article."""
    from workers.articles.staging import raw_from_payload, to_payload

    old = {
        "feed_id": "cna",
        "doc_id": "x",
        "fingerprint": "f",
        "source": "cna",
        "source_name": "中央社",
        "region": "TW",
        "lang": "zh-Hant",
        "fetch_page": True,
        "url": "https://www.cna.com.tw/news/1.aspx",
        "guid": "1",
        "title": "習近平會見蒲亭",
        "summary": "<p>摘要</p>",
        "content_html": "<p>全文</p>",
        "published": "2023-03-21T10:00:00+08:00",
        "updated": None,
        "authors": [],
    }
    legacy = raw_from_payload(old)
    assert legacy.html == "<html><body><article><p>全文</p></article></body></html>"
    staged = {**to_payload(legacy), "doc_id": "x", "fingerprint": "f", "fetch_page": True}
    assert raw_from_payload(staged) == legacy
