"""Hostile input: every case ends in a clear, specific outcome, within its time limit and
with bounded memory, and nothing else is lost. docs/reliability.md lists the cases; a
test below checks that it lists all of them."""

from __future__ import annotations

import contextlib
import os
import resource
import time
import tracemalloc
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipelines.alertmessages import one_line, slack_escape, slack_link
from pipelines.alertquery import Compiler, QueryError
from pipelines.article import RawArticle, RejectArticle
from pipelines.decode import decode
from pipelines.feeds import NotAFeed, parse_feed
from tests.feedserver import FeedServer, Latency, local_fetcher
from workers.config import build_pipeline
from workers.fetching.http import Fetcher, FetchError, Refused, address_allowed
from workers.settings import Settings, redact

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
CASES: dict[str, Callable[..., None]] = {}
MEMORY_LIMIT = 300 * 2**20  # Python-side peak per case


def _peak_growth_mib(action: Callable[[], object]) -> float:
    """How far the peak resident memory of a forked child grows while it runs
    ``action`` (tracemalloc sees Python objects only, not zlib's buffers)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, leave without cleanup
        start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with contextlib.suppress(Exception):
            action()
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start
        os.write(writer, str(grown).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    return int(report) / 1024


def case(func: Callable[..., None]) -> Callable[..., None]:
    CASES[func.__name__.removeprefix("case_")] = func
    return func


@pytest.fixture(scope="module")
def pipe():  # type: ignore[no-untyped-def]
    return build_pipeline(Settings().config_dir)


@pytest.fixture(scope="module")
def fetcher() -> Iterator[Fetcher]:
    f = local_fetcher(fetch_timeout=3, max_feed_bytes=10 * 2**20, max_page_bytes=5 * 2**20)
    yield f
    f.close()


def rejected(pipe, raw: RawArticle, reason: str) -> RejectArticle:  # type: ignore[no-untyped-def]
    with pytest.raises(RejectArticle) as info:
        pipe.process(raw)
    assert info.value.reason == reason and info.value.detail
    return info.value


# ------------------------------------------------------------------ feeds
@case
def case_billion_laughs_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    lol = "".join(
        f'<!ENTITY l{i} "&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};">'
        for i in range(1, 10)
    )
    data = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]><rss version="2.0"><channel><title>&l9;</title><item><title>ok</title><link>http://x.example/1</link></item></channel></rss>'
    try:
        feed = parse_feed(data.encode())
    except NotAFeed:
        return
    assert len(feed.title) < 10_000  # not 10^9 characters


@case
def case_external_entity_in_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    data = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>t</title><item><title>&x;</title><link>http://x.example/1</link></item></channel></rss>'
    try:
        feed = parse_feed(data)
    except NotAFeed:
        return
    assert all("root:" not in item.title for item in feed.items)


@case
def case_external_dtd_in_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    data = f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{server.url("/status/500")}"><rss version="2.0"><channel><title>t</title><item><title>a</title><link>http://x.example/1</link></item></channel></rss>'.encode()
    before = len(server.requests)
    parse_feed(data)
    assert len(server.requests) == before  # the parser fetched nothing


@case
def case_feed_with_100000_items(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    items = "".join(
        f"<item><title>t{i}</title><link>http://x.example/{i}</link></item>" for i in range(100_000)
    )
    feed = parse_feed(
        f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode(),
        max_items=500,
    )
    assert (
        len(feed.items) == 500
        and feed.total_items == 100_000
        and "only the first" in (feed.error or "")
    )


@case
def case_truncated_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>x</title><item><title>kept</title><link>http://x.example/1</link></item><item><title>cut'
    )
    assert feed.error and feed.items[0].title == "kept"


@case
def case_html_instead_of_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAFeed, match="HTML page"):
        parse_feed(b"<!DOCTYPE html><html><body><p>Parked domain</p></body></html>")


@case
def case_empty_body_as_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAFeed):
        parse_feed(b"")


@case
def case_binary_garbage_as_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAFeed):
        parse_feed(bytes(range(256)) * 100)


@case
def case_json_feed_with_wrong_shapes(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    feed = parse_feed(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [1, "x", {"url": 5, "title": ["a"]}]}'
    )
    assert feed.error.startswith("2 items were not objects") and feed.items[0].url is None
    with pytest.raises(NotAFeed):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": {"not": "a list"}}')


@case
def case_json_feed_fields_of_the_wrong_type(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    feed = parse_feed(
        b'{"version": "https://jsonfeed.org/version/1.1", "title": 7, "items": ['
        b'{"url": "http://x.example/1", "date_published": 5, "authors": 5, "id": [1]},'
        b'{"url": "http://x.example/2", "author": "plain", "content_html": {"a": 1}}]}'
    )
    assert [item.url for item in feed.items] == ["http://x.example/1", "http://x.example/2"]
    assert feed.items[0].published is None and feed.items[0].authors == []
    assert "wrong type" in (feed.error or "")


@case
def case_json_feed_nested_100000_deep(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAFeed, match="nested too deeply"):
        parse_feed(
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"x": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}]}"
        )


@case
def case_character_reference_to_no_character(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>&#x110000; &#xD800; &#99999999999;</title>'
        b"<item><title>kept</title><link>http://x.example/1</link></item></channel></rss>"
    )
    assert feed.items[0].title == "kept"


@case
def case_nul_bytes_in_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>x\x00y</title><item><title>a\x00b</title><link>http://x.example/1</link></item></channel></rss>'
    )
    assert feed.error  # recorded; whatever survives is text


@case
def case_deeply_nested_feed(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    nested = "<x>" * 50_000 + "</x>" * 50_000
    with contextlib.suppress(NotAFeed):
        parse_feed(
            f'<rss version="2.0"><channel><title>t</title>{nested}<item><title>a</title><link>http://x.example/1</link></item></channel></rss>'.encode()
        )


# ------------------------------------------------------------------ HTTP
@case
def case_gzip_bomb(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FetchError, match="larger than"):
        fetcher.get(server.url("/bomb"), max_bytes=10 * 2**20)


@case
def case_body_of_100_mb(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FetchError, match="larger than"):
        fetcher.get(server.url("/huge"), max_bytes=10 * 2**20)


@case
def case_endless_chunked_body(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FetchError, match=r"larger than|deadline"):
        fetcher.get(server.url("/endless"), max_bytes=10 * 2**20)


@case
def case_server_drips_a_byte_at_a_time(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"deadline|timeout"):
        fetcher.get(server.url("/slow"))
    assert time.monotonic() - started < 3 + 1.5


@case
def case_connection_reset_before_the_answer(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with (
        FeedServer(latency=Latency(0, hang=0, reset=1)) as flaky,
        pytest.raises(FetchError) as info,
    ):
        fetcher.get(flaky.url("/feeds/rss-zh-hant.xml"))
    assert info.value.kind == "transient"


@case
def case_server_that_never_answers(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with FeedServer(latency=Latency(0, hang=1, reset=0)) as silent:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"deadline|timeout") as info:
            fetcher.get(silent.url("/feeds/rss-zh-hant.xml"), timeout=2)
    assert info.value.kind == "transient" and time.monotonic() - started < 2 + 1


@case
def case_redirect_to_loopback(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        fetcher.get(server.url("/to?url=http://127.0.0.2:80/"))


@case
def case_redirect_to_cloud_metadata(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        fetcher.get(server.url("/to?url=http://169.254.169.254/latest/meta-data/"))


@case
def case_redirect_to_ipv6_loopback(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        fetcher.get(server.url("/to?url=http://[::1]:80/"))


@case
def case_redirect_to_unspecified_address(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        fetcher.get(server.url("/to?url=http://0.0.0.0:80/"))


@case
def case_redirect_to_private_network(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        fetcher.get(server.url("/to?url=http://192.168.1.1/"))


@case
def case_url_with_credentials(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused, match="credentials"):
        fetcher.get("https://user:secret@example.org/feed")


@case
def case_javascript_link(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused, match="scheme"):
        fetcher.get("javascript:alert(document.cookie)")


@case
def case_data_link(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused, match="scheme"):
        fetcher.get("data:text/html;base64,PHNjcmlwdD4=")


@case
def case_file_link(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused, match="scheme"):
        fetcher.get("file:///etc/passwd")


@case
def case_redirect_loop(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FetchError, match="loop"):
        fetcher.get(server.url("/loop"))


@case
def case_too_many_redirects(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FetchError, match="redirects"):
        fetcher.get(server.url("/redirect/9/feeds/rss-zh-hant.xml"))


@case
def case_gzip_twice(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FetchError, match="stacked content codings"):
        fetcher.get(server.url("/bomb2"), max_bytes=10 * 2**20)


@case
def case_gzip_bomb_costs_at_most_the_cap(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    grown = _peak_growth_mib(lambda: local_fetcher().get(server.url("/bomb"), max_bytes=2**20))
    assert grown < 64, grown  # was 128 MiB and more: httpx inflated whole chunks


@case
def case_headers_dripped_a_byte_at_a_time(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    for send in (
        lambda: fetcher.get(server.url("/slow-headers"), timeout=2),
        lambda: fetcher.post(server.url("/slow-headers"), b"{}", headers={}, timeout=2),
    ):
        started = time.monotonic()
        with pytest.raises(FetchError, match="deadline"):
            send()
        assert time.monotonic() - started < 2 + 1


@case
def case_redirect_to_a_bad_idna_host(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    for target in ("http://xn--a-.com/", "http://" + "a" * 64 + ".com/"):
        with pytest.raises(FetchError, match="not a usable URL"):
            fetcher.get(server.url("/to?url=" + target))


@case
def case_unclosed_ipv6_bracket(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused, match="not a URL"):
        fetcher.get("http://[::1/x")


@case
def case_addresses_python_calls_global(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    for address in (
        "2002:7f00:1::",
        "2002:a9fe:a9fe::1",
        "fec0::1",
        "192.0.0.8",
        "64:ff9b::7f00:1",
    ):
        assert not address_allowed(address, []), address
        with pytest.raises(Refused):
            fetcher.get(f"http://[{address}]/" if ":" in address else f"http://{address}/")
    assert address_allowed("93.184.215.14", []) and address_allowed("2606:4700::1111", [])


# ------------------------------------------------------------------ articles
@case
def case_invalid_utf8(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(
        RawArticle(content="烏克蘭局勢".encode() + b"\xff\xfe\xc3(" + "基輔報導".encode() * 30)
    )
    assert doc["lang"].startswith("zh")


@case
def case_gbk_page_declared_utf8(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    page = (
        "<html><head><meta charset='utf-8'></head><body><p>"
        + "习近平同普京通电话，双方就乌克兰局势交换意见。" * 5
        + "</p></body></html>"
    ).encode("gbk")
    doc = pipe.process(RawArticle(content=page))
    assert "习近平" in doc["body"]


@case
def case_big5_page_declared_latin1(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    page = (
        "<html><body><p>"
        + "外交部表示將持續關注烏克蘭戰事並提供人道援助。" * 5
        + "</p></body></html>"
    ).encode("big5")
    doc = pipe.process(
        RawArticle(content=page, headers={"Content-Type": "text/html; charset=iso-8859-1"})
    )
    assert "人道援助" in doc["body"]


@case
def case_page_declares_utf7_or_unicode_escape(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    hidden = "Kyiv +ADw-script+AD4-alert(1)+ADw-/script+AD4- \\u003cb\\u003e"
    for charset in ("utf-7", "unicode_escape", "UTF7", "raw-unicode-escape"):
        page = f"<html><head><meta charset='{charset}'></head><body><p>{hidden}</p></body></html>"
        decoded = decode(page.encode("ascii"))
        assert decoded.charset == "utf-8" and hidden in decoded.text, charset


@case
def case_json_ld_that_is_not_an_object(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    story = "<p>" + "Talks on Ukraine continued in Kyiv on Monday. " * 5 + "</p>"
    for ld in ("null", "5", '"text"', '{"@graph": 7}', "[" * 100_000 + "]" * 100_000):
        html = f'<html><head><script type="application/ld+json">{ld}</script></head><body>{story}</body></html>'
        assert "Kyiv" in pipe.process(RawArticle(html=html))["body"], ld[:20]


@case
def case_10_mb_of_html_on_one_line(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    html = "<html><body><div>" + "<span>烏克蘭</span> word " * 480_000 + "</div></body></html>"
    assert len(html) > 10_000_000 and "\n" not in html
    try:
        doc = pipe.process(RawArticle(html=html))
        assert doc["char_count"] > 0
    except RejectArticle as exc:
        assert exc.reason == "too_large"


@case
def case_deeply_nested_html(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    story = "<p>" + "Talks on Ukraine continued in Kyiv. " * 5 + "</p>"
    for opening, closing in (
        ("<div>", "</div>"),
        ("<span>", "</span>"),
        ("<div/>", ""),
        ("<b>", ""),
    ):
        html = opening * 100_000 + story + closing * 100_000
        doc = pipe.process(RawArticle(html=html))
        assert "Kyiv" in doc["body"], opening


@case
def case_title_of_40000_line_breaks(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    story = "<p>" + "Talks on Ukraine continued in Kyiv on Monday. " * 5 + "</p>"
    breaks = " \n" * 40_000
    og = f'<html><head><meta property="og:title" content="Storm{breaks}warning"></head><body>{story}</body></html>'
    feed_item = f"<html><body><article><h1>Storm{chr(0x2028) * 40_000} - Site</h1>{story}</article></body></html>"
    started = time.monotonic()
    assert pipe.process(RawArticle(html=og))["title"] == "Storm warning"
    assert pipe.process(RawArticle(html=feed_item))["title"].startswith("Storm")
    assert time.monotonic() - started < 5  # 53 s before: backtracking over the line breaks


@case
def case_nul_bytes_in_text(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text="Putin\x00 met\x00 Xi in Samarkand.\x00", title="T\x00itle"))
    assert "\x00" not in doc["body"] and doc["title"] == "Title"
    assert {"putin", "xi_jinping"} <= {e["id"] for e in doc["entities"]}


@case
def case_zero_width_and_bidi_in_title(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(
        RawArticle(
            title="\u202e普\u200b京\u202c訪問北京",
            text="普\u200b京今天抵達北京，與習\u2060近平會談。",
        )
    )
    assert doc["title"] == "普京訪問北京"
    assert {"putin", "xi_jinping"} <= {e["id"] for e in doc["entities"]}


@case
def case_names_split_by_joiners_or_spelled_with_look_alikes(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    for name in (
        "普\u200d京",  # zero-width joiner
        "普\ufe0f京",  # variation selector
        "普\u034f京",  # combining grapheme joiner
        "\u0420utin",  # Cyrillic Р
        "Put\u0456n",  # Cyrillic і
        "\U0001d40f\U0001d42e\U0001d42d\U0001d422\U0001d427",  # mathematical bold
    ):
        doc = pipe.process(RawArticle(text=f"{name} met officials in Beijing on Monday. " * 3))
        assert "putin" in {e["id"] for e in doc["entities"]}, ascii(name)
    doc = pipe.process(RawArticle(text="Путин прибыл в Пекин. " * 3))  # Russian stays Russian
    assert "Путин" in doc["body"]


@case
def case_megabyte_latin_word_beside_a_cyrillic_letter(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    doc = pipe.process(RawArticle(text="a" * 1_000_000 + " Рutin met Xi in Kyiv. Путин."))
    assert "putin" in {e["id"] for e in doc["entities"]}
    assert time.monotonic() - started < 5  # the look-alike pass is linear (it was quadratic)


@case
def case_date_in_year_1246(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    rejected(
        pipe, RawArticle(text="A chronicle entry.", published_at="1246-05-01T00:00:00Z"), "bad_date"
    )


@case
def case_date_in_year_2999(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    rejected(
        pipe, RawArticle(text="From the future.", published_at="2999-01-01T00:00:00Z"), "bad_date"
    )


@case
def case_impossible_date_beside_a_good_one(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    html = "<html><head><meta property='article:published_time' content='2023-05-01T10:00:00Z'></head><body><p>Talks on Ukraine continued in Kyiv today.</p></body></html>"
    doc = pipe.process(RawArticle(html=html, published_at="2999-01-01T00:00:00Z"))
    assert doc["published_at"].startswith("2023-05-01") and doc["published_at_source"] == "meta"


@case
def case_empty_article(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    rejected(
        pipe,
        RawArticle(html="<html><body><nav>Home | World</nav><footer>©</footer></body></html>"),
        "empty_body",
    )


@case
def case_binary_file_as_article(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    rejected(pipe, RawArticle(content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 4000), "undecodable")


@case
def case_100000_mentions(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text="普京" * 100_000))
    assert doc["entities"][0]["id"] == "putin" and doc["entities"][0]["count"] == 100_000


@case
def case_one_megabyte_token(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text="a" * 1_000_000 + " Kyiv"))
    assert "kyiv" in {e["id"] for e in doc["entities"]}


@case
def case_text_larger_than_the_limit(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    rejected(pipe, RawArticle(text="x " * 1_500_000), "too_large")


@case
def case_only_punctuation(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(RawArticle(text="。，！？……——" * 100))
    assert doc["keywords"] == [] and doc["entities"] == []


@case
def case_script_injection_in_article(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(
        RawArticle(
            html="<html><body><script>alert(1)</script><p>Talks on Ukraine continued in Kyiv on Monday.</p><img src=x onerror=alert(2)></body></html>"
        )
    )
    assert "alert" not in doc["body"]


# ------------------------------------------------------------------ alert queries
@case
def case_query_with_leading_wildcards(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="wildcard"):
        Compiler.for_pipeline(pipe).compile("*a*")


@case
def case_query_with_many_wildcards(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="wildcards"):
        Compiler.for_pipeline(pipe).compile(" ".join(f"word{i}*" for i in range(20)))


@case
def case_query_with_thousands_of_terms(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="terms"):
        Compiler.for_pipeline(pipe).compile(" OR ".join(f"w{i}" for i in range(500)))


@case
def case_query_nested_deeply(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="nested"):
        Compiler.for_pipeline(pipe).compile("(" * 500 + "a" + ")" * 500)


@case
def case_query_with_huge_proximity(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="wider"):
        Compiler.for_pipeline(pipe).compile('"a b"~100000')


@case
def case_query_with_regex_and_script_characters(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    dsl = Compiler.for_pipeline(pipe).compile('"<script>" OR [a-z]+ OR \\\\x')
    assert "bool" in dsl  # plain words: no regex or script reaches the engine


@case
def case_query_with_31_nots(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="nested"):
        Compiler.for_pipeline(pipe).compile("x " + "NOT " * 31 + "y")


@case
def case_query_with_200_leading_minus_signs(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="nested"):
        Compiler.for_pipeline(pipe).compile("-" * 200 + "a")


@case
def case_query_with_a_3000_digit_proximity(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    compiler = Compiler.for_pipeline(pipe)
    for query in (
        '"a b"~' + "9" * 3000,
        "a NEAR/" + "9" * 3000 + " b",
        f"near({'9' * 3000}, a, b)",
    ):
        with pytest.raises(QueryError, match="wider"):
            compiler.compile(query)


@case
def case_query_of_one_megabyte(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with pytest.raises(QueryError, match="longer than"):
        Compiler.for_pipeline(pipe).compile("a " * 500_000)
    with pytest.raises(QueryError, match="terms"):
        Compiler.for_pipeline(pipe).compile("w " * 1999)
    assert time.monotonic() - started < 1


@case
def case_query_with_an_inner_wildcard(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="trailing"):
        Compiler.for_pipeline(pipe).compile("abc*def")


@case
def case_query_phrase_of_many_words(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match="words in one phrase"):
        Compiler.for_pipeline(pipe).compile('"' + " ".join(f"w{i}" for i in range(100)) + '"')


# ------------------------------------------------------------------ alert messages, output
@case
def case_slack_markup_in_a_title(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    title = "<!channel> <https://phish.example|bank login> & more"
    line = slack_link("https://news.example/a|b>c", title)
    assert "<!channel>" not in line and "<https://phish.example|" not in line
    assert line.startswith("<https://news.example/a%7Cb%3Ec|&lt;!channel&gt;")
    assert slack_escape("<@U123>") == "&lt;@U123&gt;"


@case
def case_newline_in_a_title_for_an_email_subject(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    message = EmailMessage()
    message["Subject"] = one_line(
        "[mediamon] rule: Storm\nBcc: victim@example.org\r\n" + "x" * 5000
    )
    text = message.as_string()
    assert "\nBcc:" not in text and len(message["Subject"]) <= 200


@case
def case_password_in_a_service_url(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        redis_url="redis://:s3cret@r:6379/0", search_urls="https://u:s3cret@es:9200"
    )
    assert "s3cret" not in repr(settings)
    shown = redact(f"cannot reach {settings.redis_dsn} or {settings.search_hosts[0]}")
    assert shown == "cannot reach redis://:***@r:6379/0 or https://u:***@es:9200"


# Seconds a case may take (pytest-timeout fails it past that); 60 unless said here. Deep
# nesting costs about a second more than an ordinary page since the parser gets at most
# MAX_DEPTH levels (it took 37 s before).
TIME_LIMITS = {
    "case_deeply_nested_html": 10,
    "case_megabyte_latin_word_beside_a_cyrillic_letter": 10,
}


# ------------------------------------------------------------------ sitemaps, archives
def _sitemap_of(n: int, tail: bytes = b"") -> bytes:
    entries = "".join(f"<url><loc>http://x.example/{i}</loc></url>" for i in range(n))
    return (
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'.encode()
        + tail
        + b"</urlset>"
    )


def _gzip_bomb(head: bytes, mebibytes: int, tail: bytes = b"") -> bytes:
    """``head``, then ``mebibytes`` MiB of spaces, then ``tail``, gzipped (built a MiB
    at a time: the test holds no more than that)."""
    import zlib

    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(head)]
    spaces = b" " * 2**20
    parts += [packer.compress(spaces) for _ in range(mebibytes)]
    return b"".join([*parts, packer.compress(tail), packer.flush()])


@case
def case_sitemap_gzip_bomb(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    from pipelines.sitemaps import parse_sitemap

    parsed = parse_sitemap(_gzip_bomb(_sitemap_of(10)[:-9], 120, b"</urlset>"))
    assert len(parsed.entries) == 10 and "inflates past" in (parsed.error or "")


@case
def case_sitemap_with_a_tag_open_for_50_mib(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    from pipelines.sitemaps import parse_sitemap

    started = time.monotonic()
    parsed = parse_sitemap(_gzip_bomb(_sitemap_of(10)[:-10], 120, b"</urlset>"))
    assert time.monotonic() - started < 20  # expat rescans an open token at each block
    assert len(parsed.entries) == 9 and "unclosed token" in (parsed.error or "")


@case
def case_sitemap_with_50001_urls(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    from pipelines.sitemaps import parse_sitemap

    parsed = parse_sitemap(_sitemap_of(50_001))
    assert len(parsed.entries) == 50_000 and parsed.total == 50_001 and parsed.error


@case
def case_sitemap_entity_expansion(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    from pipelines.sitemaps import NotASitemap, parse_sitemap

    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    data = f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "lol">{lol}]>'.encode()
    with pytest.raises(NotASitemap):
        parse_sitemap(data + _sitemap_of(1, b"<url><loc>&l9;</loc></url>"))


@case
def case_sitemap_that_is_a_page(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    from pipelines.sitemaps import NotASitemap, parse_sitemap

    with pytest.raises(NotASitemap):
        parse_sitemap(b"<!DOCTYPE html><html><body><p>Not found</p></body></html>")


def _warc(bodies: list[tuple[bytes, list[tuple[str, str]]]]) -> tuple[bytes, list[int]]:
    from tests.warcs import Entry, write

    return write([Entry(f"http://x.example/{n}", b, headers=h) for n, (b, h) in enumerate(bodies)])


@case
def case_warc_corrupt_and_cut_short(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    import io

    from workers.archives.warc import Counts, records

    data, offsets = _warc([(b"<html><p>page</p></html>", [])] * 5)
    broken = bytearray(data)
    broken[offsets[1] + 40 : offsets[1] + 60] = b"\xff" * 20
    counts = Counts()
    kept = list(records(io.BytesIO(bytes(broken[: offsets[4] + 30])), counts))
    assert [r.offset for r in kept] == [offsets[0], offsets[2], offsets[3]]
    assert counts.skipped == {"corrupt": 2}


@case
def case_warc_body_gzip_bomb(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    import io

    from workers.archives.warc import Counts, records

    counts = Counts()
    data, _ = _warc([(_gzip_bomb(b"<html>", 200), [("Content-Encoding", "gzip")])])
    assert list(records(io.BytesIO(data), counts)) == []
    assert counts.skipped == {"undecodable": 1}


@case
def case_warc_that_is_no_archive(pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    import io

    from workers.archives.warc import Counts, records

    counts = Counts()
    assert list(records(io.BytesIO(os.urandom(100_000)), counts)) == []
    assert counts.skipped == {"corrupt": 1}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.timeout(TIME_LIMITS.get(name, 60)))
        for name in sorted(CASES)
    ],
)
def test_hostile(name: str, pipe, server, fetcher) -> None:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        CASES[name](pipe, server, fetcher)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{name}: {peak / 2**20:.0f} MiB"


def test_the_reliability_table_lists_every_case() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in CASES if f"`{name}`" not in text]
    assert not missing, missing
    assert len(CASES) >= 40
