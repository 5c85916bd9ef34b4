"""Generated hostile input for every stage that reads what the internet sends: feed
parsing, decoding, extraction, the whole pipeline and the alert compiler. The only
exceptions allowed out are the documented ones (NotAFeed, RejectArticle, QueryError);
each example stays within a time budget, each target within a memory budget.

The budget is fixed and the examples are derandomized, so `make test` is repeatable;
MEDIAMON_FUZZ_EXAMPLES=5000 runs longer with fresh random examples each time (and
keeps nothing on disk either way).
"""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.alertquery import Compiler, QueryError
from pipelines.article import RawArticle, RejectArticle
from pipelines.decode import decode
from pipelines.extract import clean_title, extract
from pipelines.feeds import NotAFeed, parse_feed
from workers.config import build_pipeline
from workers.settings import Settings

LONG = int(os.environ.get("MEDIAMON_FUZZ_EXAMPLES", "0"))
EXAMPLES = LONG or 40
BUDGET = settings(
    max_examples=EXAMPLES,
    deadline=5000,  # ms per example: a crafted input costs about a second over a normal one
    derandomize=not LONG,
    database=None,
    # the memory fixture measures the peak over all of a target's examples, on purpose
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
MEMORY_LIMIT = 200 * 2**20  # Python-side peak over all of a target's examples

# Pieces that broke something once, or are known to break parsers: whitespace that a
# regex treats differently, invisible characters, controls, markup, entities, digits.
NASTY = [
    " \n", "\u2028", "\u2029", "\u200b", "\u200d", "\ufe0f", "\u034f", "\x00", "\x0b",
    "\r", "\t", "&amp;", "&#0;", "&#x110000;", "<", ">", '"', "'", "]]>", "<!--", "-->",
    "普京", "習近平", "烏克蘭", "Putin", "Р", "𝐏", "｜", "|", " - ", " — ", "9" * 40,
]  # fmt: skip
nasty_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=20)), max_size=60).map(
    "".join
)
TAGS = ["div", "p", "span", "b", "article", "h1", "title", "script", "style", "table", "td",
        "li", "a", "meta", "br", "svg", "template", "noscript", "iframe", "math"]  # fmt: skip


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    """Markup a hostile page might send: unbalanced tags, deep nesting, metas and titles
    made of nasty pieces, JSON-LD of any shape."""
    parts = ["<html><head>"]
    if draw(st.booleans()):
        parts.append(f"<title>{draw(nasty_text)}</title>")
    for name in draw(st.lists(st.sampled_from(["og:title", "article:published_time", "author", "description"]), max_size=4)):  # fmt: skip
        parts.append(f'<meta property="{name}" content="{draw(nasty_text)}">')
    if draw(st.booleans()):
        parts.append(f'<script type="application/ld+json">{draw(json_values)}</script>')
    parts.append("</head><body>")
    depth = draw(st.integers(0, 3000))
    tag = draw(st.sampled_from(TAGS))
    parts.append(f"<{tag}>" * depth)
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(st.sampled_from(TAGS))
        closing = draw(st.sampled_from(["", f"</{tag}>"]))
        parts.append(f"<{tag}>{draw(nasty_text)}{closing}")
    parts.append("<p>" + draw(nasty_text) + "</p>")
    return "".join(parts)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text
)
json_trees = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["url", "title", "id", "name", "x"]), children, max_size=4),
    ),
    max_leaves=30,
)
json_values = json_trees.map(_json)
FEED_FIELDS = ["url", "external_url", "id", "title", "summary", "content_html", "content_text",
               "date_published", "date_modified", "authors", "author", "tags"]  # fmt: skip


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["rss", "atom", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "json":
        items = draw(
            st.lists(
                st.dictionaries(st.sampled_from(FEED_FIELDS), json_trees, max_size=6), max_size=8
            )
        )
        body = {"version": "https://jsonfeed.org/version/1.1", "title": draw(json_trees), "items": items}  # fmt: skip
        return _json(body).encode()
    fields = ["title", "link", "description", "pubDate", "guid", "author", "content:encoded"]
    items = ""
    for _ in range(draw(st.integers(0, 6))):
        chosen = draw(st.lists(st.sampled_from(fields), max_size=6))
        items += "<item>" + "".join(f"<{f}>{draw(nasty_text)}</{f}>" for f in chosen) + "</item>"
    if kind == "rss":
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{draw(nasty_text)}</title>{items}</channel></rss>'.encode(errors="surrogatepass")  # fmt: skip
    entries = items.replace("<item>", "<entry>").replace("</item>", "</entry>")
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{draw(nasty_text)}</title>{entries}</feed>'.encode(errors="surrogatepass")  # fmt: skip


CHARSETS = ["utf-8", "gbk", "big5", "utf-7", "unicode_escape", "utf-16", "latin-1", "rot13",
            "hex", "base64", "x-user-defined", "", "utf-8;;", "é"]  # fmt: skip
QUERY_PIECES = ["a", "普京", "習近平", "AND", "OR", "NOT", "-", "+", "(", ")", '"', "~", "~9",
                "NEAR/", "NEAR/3", "near(", "sentence(", ",", "*", "?", "entity:", "entity:putin",
                "topic:", "exact:", "keyword:", "phrase:", " ", "9" * 30, "\u3000", "\\"]  # fmt: skip
queries = st.lists(st.one_of(st.sampled_from(QUERY_PIECES), st.text(max_size=5)), max_size=80).map(" ".join)  # fmt: skip


@pytest.fixture(scope="module")
def pipe():  # type: ignore[no-untyped-def]
    return build_pipeline(Settings().config_dir)


@pytest.fixture
def memory() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{peak / 2**20:.0f} MiB"


def only(allowed: tuple[type[BaseException], ...], action: Callable[[], object]) -> object:
    """Run ``action``; an allowed exception counts as a clean outcome (None)."""
    try:
        return action()
    except allowed:
        return None


@BUDGET
@given(data=feeds())
def test_feed_parsing(data: bytes, memory: None) -> None:
    feed = only((NotAFeed,), lambda: parse_feed(data))
    if feed is not None:
        for item in feed.items:  # every field has the type the rest of the code expects
            assert item.url is None or isinstance(item.url, str)
            assert isinstance(item.title, str) and isinstance(item.summary, str)
            assert isinstance(item.content_html, str) and isinstance(item.authors, list)
            assert item.published is None or isinstance(item.published, str)
            item.fingerprint()


@BUDGET
@given(body=st.one_of(st.binary(max_size=3000), html_pages().map(lambda s: s.encode(errors="surrogatepass"))), charset=st.sampled_from(CHARSETS))  # fmt: skip
def test_decoding(body: bytes, charset: str, memory: None) -> None:
    decoded = only((RejectArticle,), lambda: decode(body, {"Content-Type": f"text/html; charset={charset}"}))  # fmt: skip
    if decoded is not None:
        assert isinstance(decoded.text, str) and decoded.charset not in ("utf-7", "unicode-escape")  # type: ignore[attr-defined]


@BUDGET
@given(page=html_pages())
def test_extraction(page: str, memory: None) -> None:
    extracted = extract(page)
    assert isinstance(extracted.body, str)
    clean_title(page[:5000])


@BUDGET
@given(page=html_pages(), title=st.one_of(st.none(), nasty_text), published=st.one_of(st.none(), nasty_text))  # fmt: skip
def test_the_whole_pipeline(
    pipe, page: str, title: str | None, published: str | None, memory: None
) -> None:  # type: ignore[no-untyped-def]
    raw = RawArticle(html=page, title=title, published_at=published, url="https://news.example/a")
    doc = only((RejectArticle,), lambda: pipe.process(raw))
    if doc is not None:
        json.dumps(doc)  # indexable as it is


@BUDGET
@given(query=queries)
def test_the_alert_compiler(pipe, query: str, memory: None) -> None:  # type: ignore[no-untyped-def]
    compiled = only((QueryError,), lambda: Compiler.for_pipeline(pipe).compile(query))
    if compiled is not None:
        assert _depth(compiled) < 40 and len(json.dumps(compiled)) < 1_000_000


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0
