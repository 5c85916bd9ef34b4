"""Sitemaps polled like feeds, through the worker and the scripted server, against the
real Redis and engine: a news sitemap's pages and dates, an index's sitemaps (not
itself, not other hosts' and not deeper than three), a site's robots.txt, and one
document for a story that arrives by feed, by sitemap and by archive."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.feedserver import FeedServer
from tests.integration.conftest import indexed, poll, wait_until
from tests.sitemaps import index, urlset
from workers.cli import main

pytestmark = pytest.mark.integration

UNDATED = (
    b"<html><head><title>%s</title></head><body><article><h1>%s</h1>"
    + (b"<p>Officials met in the capital on Tuesday to talk about trade and the war.</p>" * 4)
    + b"</article></body></html>"
)


@pytest.fixture
def pages(server: FeedServer):  # type: ignore[no-untyped-def]
    """Pages at /gen/…: undated, or dated in their metadata when the path says so."""

    def page(path: str) -> bytes:
        name = path.rsplit("/", 1)[-1].encode()
        body = UNDATED % (name, name)
        if name.startswith(b"dated"):
            meta = b'<meta property="article:published_time" content="2023-03-19T08:00:00Z">'
            body = body.replace(b"<head>", b"<head>" + meta)
        return body

    server.generator = page
    yield server
    server.generator = None


def _sitemap(store, feed_id: str, url: str) -> str:  # type: ignore[no-untyped-def]
    from workers.feeds.store import FeedConfig

    store.upsert(FeedConfig(id=feed_id, url=url, kind="sitemap"))
    return feed_id


def test_a_news_sitemaps_pages_are_indexed_with_its_date_when_they_give_none(
    search, store, pages: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    entries = [
        {
            "loc": pages.url(f"/gen/news/{name}.html"),
            "published": "2023-03-21T09:30:00+08:00",
            "title": f"Story {name}",
        }
        for name in ("plain-1", "plain-2", "dated-3")
    ]
    pages.set("news-sitemap.xml", urlset(entries, news=True), "application/xml")
    feed_id = _sitemap(store, "t-sm-news", pages.url("/dyn/news-sitemap.xml"))
    state = poll(store, feed_id)
    assert (state["status"], state["kind"], state["items_new"]) == ("ok", "sitemap-urlset", 3)

    def three() -> list[dict]:
        found = indexed(search, feed_id=feed_id)
        return found if len(found) == 3 else []

    docs = {d["url"].rsplit("/", 1)[1]: d for d in wait_until(three, 60)}
    assert {d["text_source"] for d in docs.values()} == {"page"}
    undated = docs["plain-1.html"]
    assert (undated["published_at"], undated["published_at_source"]) == (
        "2023-03-21T01:30:00Z",
        "sitemap",
    )
    assert docs["dated-3.html"]["published_at"] == "2023-03-19T08:00:00Z"  # the page's own
    again = poll(store, feed_id)
    assert again["status"] == "unchanged"


def test_an_index_registers_its_sitemaps_but_not_itself_other_hosts_or_deeper_than_three(
    search, store, pages: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    own = pages.url("/dyn/sm-index.xml")
    child = pages.url("/dyn/sm-child.xml")
    pages.set(
        "sm-index.xml",
        index(
            [
                (own, "2023-03-22"),
                (child, "2023-03-21"),
                ("https://elsewhere.example/sitemap.xml", "2023-03-21"),
                (pages.url("/dyn/sm-deep0.xml"), "2023-01-01"),
            ]
        ),
        "application/xml",
    )
    pages.set(
        "sm-child.xml",
        urlset([{"loc": pages.url(f"/gen/child/{n}.html")} for n in range(2)]),
        "application/xml",
    )
    for n in range(10):  # indexes of indexes, ten deep
        listed = [(pages.url(f"/dyn/sm-deep{n + 1}.xml"), "2023-01-01")]
        pages.set(f"sm-deep{n}.xml", index(listed), "application/xml")
    feed_id = _sitemap(store, "t-sm-index", own)
    state = poll(store, feed_id)
    assert (state["status"], state["kind"], state["items_new"]) == ("ok", "index", 2)
    assert "lists itself" in state["parse_error"] and "other hosts" in state["parse_error"]

    def below(parent: str) -> dict[str, object]:
        return {c.url: c for c in store.configs().values() if c.parent == parent}

    children = below(feed_id)
    assert set(children) == {child, pages.url("/dyn/sm-deep0.xml")}
    poll(store, children[child].id)
    assert (
        len(
            wait_until(lambda: len(d := indexed(search, feed_id=children[child].id)) == 2 and d, 60)
        )
        == 2
    )
    chain, parent = [], children[pages.url("/dyn/sm-deep0.xml")]
    while parent is not None:
        chain.append(parent.url)
        state = poll(store, parent.id)
        parent = next(iter(below(parent.id).values()), None)
    assert chain == [pages.url(f"/dyn/sm-deep{n}.xml") for n in range(3)]
    assert "nested deeper than 3" in state["parse_error"]


def test_feeds_add_registers_a_sitemap(store) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["feeds", "add", "https://news.example.org/", "--sitemap", "--id", "t-sm-cli"]
    )
    assert result.exit_code == 0, result.output
    config = store.config("t-sm-cli")
    assert (config.kind, config.url) == ("sitemap", "https://news.example.org/")
    store.remove("t-sm-cli")


def test_feeds_check_reads_a_sitemap(store, pages: FeedServer) -> None:  # type: ignore[no-untyped-def]
    pages.set(
        "check-sitemap.xml",
        urlset([{"loc": pages.url(f"/gen/check/{n}.html")} for n in range(3)]),
        "application/xml",
    )
    _sitemap(store, "t-sm-check", pages.url("/dyn/check-sitemap.xml"))
    result = CliRunner().invoke(main, ["feeds", "check", "--id", "t-sm-check"])
    assert result.exit_code == 0, result.output
    assert "sitemap-urlset 3" in result.stdout
    store.remove("t-sm-check")


def test_a_site_whose_robots_txt_lists_its_sitemaps(search, store, pages: FeedServer) -> None:  # type: ignore[no-untyped-def]
    listed = pages.url("/dyn/sm-robots-child.xml")
    pages.set(
        "sm-robots-child.xml",
        urlset([{"loc": pages.url("/gen/robots/1.html")}]),
        "application/xml",
    )
    pages.robots = f"User-agent: *\nDisallow: /private\nSitemap: {listed}\n"
    try:
        feed_id = _sitemap(store, "t-sm-site", pages.url("/"))
        state = poll(store, feed_id)
        assert (state["status"], state["kind"], state["items_new"]) == ("ok", "robots", 1)
        [child] = [c for c in store.configs().values() if c.parent == feed_id]
        assert child.url == listed
    finally:
        pages.robots = ""


def test_the_same_story_by_feed_sitemap_and_archive_is_one_document(
    search, store, pages: FeedServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from tests.warcs import Entry, write_file
    from workers.feeds.store import FeedConfig

    url = pages.url("/gen/same/story.html")
    pages.set(
        "same-feed",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Story</title><link>{url}?utm_source=rss</link></item></channel></rss>",
    )
    store.upsert(FeedConfig(id="t-same-feed", url=pages.url("/dyn/same-feed")))
    poll(store, "t-same-feed")
    [first] = wait_until(lambda: indexed(search, feed_id="t-same-feed"), 60)
    pages.set(
        "same-sitemap.xml",
        urlset([{"loc": url, "lastmod": "2023-03-21"}]),
        "application/xml",
    )
    poll(store, _sitemap(store, "t-same-sitemap", pages.url("/dyn/same-sitemap.xml")))
    wait_until(lambda: indexed(search, feed_id="t-same-sitemap"), 60)  # written again
    path = tmp_path / "same.warc.gz"
    write_file(path, [Entry(url + "?utm_medium=warc", httpx.get(url).content)])
    result = CliRunner().invoke(main, ["ingest", str(path)])
    assert "indexed 0, already indexed 1" in result.stdout, result.output
    assert len(indexed(search, canonical_url=first["canonical_url"])) == 1


def test_backfill_walks_a_sites_sitemaps_for_a_date_range_and_resumes(
    search, store, pages: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    site = pages.url("/")
    pages.set(
        "bf-index.xml",
        index(
            [
                (pages.url("/dyn/bf-2022.xml"), "2022-12-31"),  # older than the range
                (pages.url("/dyn/bf-2023.xml"), "2023-07-01"),
            ]
        ),
        "application/xml",
    )
    entries = [
        {"loc": pages.url(f"/gen/bf/{n}.html"), "lastmod": f"2023-03-0{n}"} for n in (1, 2, 3)
    ]
    entries += [
        {"loc": pages.url("/gen/bf/late.html"), "lastmod": "2023-08-01"},
        {"loc": pages.url("/gen/bf/undated.html")},
    ]
    pages.set("bf-2023.xml", urlset(entries), "application/xml")
    pages.set("bf-2022.xml", urlset([{"loc": pages.url("/gen/bf/old.html")}]), "application/xml")
    pages.robots = f"Sitemap: {pages.url('/dyn/bf-index.xml')}\n"
    try:
        command = ["backfill", site, "--since", "2023-01-01", "--until", "2023-06-30"]
        dry = CliRunner().invoke(main, [*command, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "3 sitemaps read, 1 older than the range" in dry.stdout
        assert "pages: 3 in the range, 1 outside it, 1 undated" in dry.stdout
        assert "queued" not in dry.stdout
        assert pages.hits("/dyn/bf-2022.xml") == 0
        run = CliRunner().invoke(main, [*command, "--timeout", "90"])
        assert run.exit_code == 0, run.output
        assert "queued 3" in run.stdout and "indexed 3, rejected 0 of 3 queued" in run.stdout
        from workers.feeds.backfill import backfill_id

        docs = indexed(search, feed_id=backfill_id(site))
        assert sorted(d["url"].rsplit("/", 1)[1] for d in docs) == ["1.html", "2.html", "3.html"]
        assert {d["published_at_source"] for d in docs} == {"sitemap"}
        again = CliRunner().invoke(main, command)
        assert "2 sitemaps read (1 walked before)" in again.stdout  # robots.txt, the index
        assert "queued 0" in again.stdout
    finally:
        pages.robots = ""


def test_a_backfill_stopped_in_its_walk_goes_on_with_the_sitemaps_it_had_not_walked(
    search, store, pages: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from workers.feeds.backfill import Walk, backfill_id, walk

    leaves = [pages.url(f"/dyn/bfi-{n}.xml") for n in (1, 2)]
    pages.set("bfi-index.xml", index([(leaf, "2023-05-01") for leaf in leaves]), "application/xml")
    for n in (1, 2):
        dated = [
            {"loc": pages.url(f"/gen/bfi/{n}-{k}.html"), "lastmod": f"2023-04-0{k}"} for k in (1, 2)
        ]
        pages.set(f"bfi-{n}.xml", urlset(dated), "application/xml")
    start = pages.url("/dyn/bfi-index.xml")
    since, until = datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 12, 31, tzinfo=UTC)

    def stop_after_one_sitemap(found: Walk) -> None:
        if found.queued:
            raise KeyboardInterrupt  # Ctrl-C once the first sitemap's pages are queued

    with pytest.raises(KeyboardInterrupt):
        walk(start, since, until, progress=stop_after_one_sitemap)
    result = walk(start, since, until)
    assert (result.resumed, result.found, result.queued) == (1, 2, 2)
    docs = wait_until(lambda: len(d := indexed(search, feed_id=backfill_id(start))) == 4 and d, 60)
    assert len({d["url"] for d in docs}) == 4
