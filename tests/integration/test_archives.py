"""WARC files through `mediamon ingest` and the worker, against the real Redis, engine
and worker: counts for every skipped record, resuming after an interruption, and one
document for a story that arrives by feed and by archive."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.feedserver import FeedServer
from tests.integration.conftest import indexed, refresh, wait_until
from tests.warcs import Entry, page, real_pages, write_file
from workers.cli import main

pytestmark = pytest.mark.integration


def test_a_warc_file_is_indexed_with_counts_for_every_skipped_record(
    search, worker, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "crawl.warc.gz"
    entries = [Entry(f"https://archive.example.org/story/{n}", page(n)) for n in range(5)]
    entries += [
        Entry("https://archive.example.org/story/1", kind="revisit"),
        Entry("https://archive.example.org/gone", b"gone", status="404 Not Found"),
        Entry("https://archive.example.org/logo.png", b"\x89PNG", content_type="image/png"),
        Entry("https://archive.example.org/", b"", kind="warcinfo"),
    ]
    write_file(path, entries)
    result = CliRunner().invoke(main, ["ingest", str(path), "--source", "t-archive"])
    assert result.exit_code == 0, result.output
    assert "9 records, 5 pages" in result.stdout
    assert "indexed 5, already indexed 0, rejected 0, failed 0" in result.stdout
    assert "other records 1; skipped: not_200 1, not_html 1, revisit 1" in result.stdout
    docs = indexed(search, source="t-archive")
    assert len(docs) == 5
    assert {d["text_source"] for d in docs} == {"archive"}
    # the WARC-Date is the fetch time, and the date of a page that gives none
    assert {d["fetched_at"] for d in docs} == {"2023-03-21T10:00:00Z"}
    assert {(d["published_at"], d["published_at_source"]) for d in docs} == {
        ("2023-03-21T10:00:00Z", "fetched")
    }
    again = CliRunner().invoke(main, ["ingest", str(path)])
    assert again.exit_code == 0 and "already ingested" in again.stdout


def test_a_warc_on_standard_input_is_read_as_one(search, worker) -> None:  # type: ignore[no-untyped-def]
    from tests.warcs import write

    data, _ = write([Entry(f"https://stdin.example.org/{n}", page(n)) for n in range(3)])
    result = CliRunner().invoke(main, ["ingest", "-", "--source", "t-stdin"], input=data)
    assert result.exit_code == 0, result.output
    assert "-: 3 records, 3 pages: indexed 3" in result.stdout
    assert len(indexed(search, source="t-stdin")) == 3


def test_an_interrupted_ingest_resumes_where_it_stopped(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re

    from workers.archives.ingest import Resume, ingest_archive
    from workers.articles.tasks import process_articles
    from workers.services import state

    path = tmp_path / "long.warc.gz"
    offsets = write_file(
        path, [Entry(f"https://resume.example.org/{n}", page(n)) for n in range(12)]
    )
    sent = []

    def queue_then_stop(keys: list[str]):  # type: ignore[no-untyped-def]
        if len(sent) == 2:  # Ctrl-C as the third batch is queued
            raise KeyboardInterrupt
        if sent:  # the first batch is written before the second is queued
            wait_until(sent[0].ready, 60)
        sent.append(process_articles.delay(keys))
        return sent[-1]

    with pytest.raises(KeyboardInterrupt), open(path, "rb") as stream:
        ingest_archive(
            stream, state(), queue_then_stop, resume=Resume(state(), str(path)), batch_size=3
        )
    saved, counts, finished = Resume(state(), str(path)).load()
    assert (saved, counts.records, finished) == (offsets[3], 3, False)

    result = CliRunner().invoke(main, ["ingest", str(path), "--source", "t-resume"])
    assert result.exit_code == 0, result.output
    assert f"12 records, 12 pages (resumed at byte {offsets[3]})" in result.stdout
    written = re.search(r"indexed (\d+), already indexed (\d+)", result.stdout)
    assert written and int(written[1]) + int(written[2]) == 9  # from the fourth record on
    refresh(search)
    body = {"query": {"prefix": {"url": "https://resume.example.org/"}}, "size": 50}
    hits = search.request("POST", f"/{search.index_name('articles')}/_search", body)
    assert sorted(h["_source"]["url"] for h in hits["hits"]["hits"]) == sorted(
        f"https://resume.example.org/{n}" for n in range(12)
    )
    assert len(indexed(search, source="t-resume")) == 9
    assert "12 records" in CliRunner().invoke(main, ["ingest", str(path), "--restart"]).stdout


def test_the_same_story_by_feed_and_by_archive_is_one_document(
    search, worker, server: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    from workers.feeds.polling import poll_feed, ready
    from workers.feeds.polling import store as feed_store
    from workers.feeds.store import FeedConfig

    url = server.url("/articles/zh-hant-summit.html?v=archive")
    server.set(
        "archive-feed",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Summit</title><link>{url}&amp;utm_source=rss</link></item>"
        "</channel></rss>",
    )
    store = feed_store()
    store.upsert(FeedConfig(id="t-archive-feed", url=server.url("/dyn/archive-feed")))
    wait_until(lambda: ready().waiting() == 0, 30)
    poll_feed.delay("t-archive-feed")
    [by_feed] = wait_until(lambda: indexed(search, feed_id="t-archive-feed"), 60)
    assert by_feed["text_source"] == "page"
    path = server_page_archive(server, url + "&utm_medium=archive")
    result = CliRunner().invoke(main, ["ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert "indexed 0, already indexed 1" in result.stdout
    assert len(indexed(search, canonical_url=by_feed["canonical_url"])) == 1


def server_page_archive(server: FeedServer, url: str):  # type: ignore[no-untyped-def]
    """A WARC of the page the server serves at ``url``, as a crawler would have kept it."""
    import tempfile
    from pathlib import Path

    import httpx

    body = httpx.get(url).content
    path = Path(tempfile.mkdtemp()) / "same.warc.gz"
    write_file(path, [Entry(url, body, content_type="text/html")])
    return path


def test_real_pages_from_an_archive_are_indexed(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pages = real_pages(20)
    if not pages:
        pytest.skip("../shared/data is absent: no real pages to build an archive from")
    path = tmp_path / "real.warc.gz"
    write_file(path, [Entry(url, body, content_type="text/html") for url, body in pages])
    result = CliRunner().invoke(main, ["ingest", str(path), "--source", "t-real-archive"])
    assert "20 records, 20 pages" in result.stdout, result.output
    docs = indexed(search, source="t-real-archive")
    assert len(docs) >= 18  # a page may be rejected (with its reason) and counted
    assert sum(1 for d in docs if d["lang"].startswith("zh")) >= 9
