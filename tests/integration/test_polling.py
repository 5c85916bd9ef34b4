"""Feeds end to end: real Redis, OpenSearch, Celery worker (and beat), scripted server."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from tests.feedserver import FeedServer
from tests.integration.conftest import indexed, poll, refresh, start_beat, stop_worker, wait_until
from workers.cli import main

pytestmark = pytest.mark.integration


def _feed(store, feed_id: str, url: str, **extra):  # type: ignore[no-untyped-def]
    from workers.feeds.store import FeedConfig

    store.upsert(FeedConfig(id=feed_id, url=url, **extra))
    return feed_id


def _rejection(search, feed_id: str) -> dict | None:  # type: ignore[no-untyped-def]
    """The first recorded rejection of an item of the feed, if any yet."""
    refresh(search)
    body = {"query": {"term": {"feed_id": feed_id}}}
    hits = search.request("POST", f"/{search.index_name('rejected')}/_search", body)["hits"]["hits"]
    return hits[0]["_source"] if hits else None


def _wait_docs(search, count: int, timeout: float = 30.0, **terms) -> list[dict]:  # type: ignore[no-untyped-def]
    return wait_until(lambda: (d := indexed(search, **terms)) and len(d) >= count and d, timeout)


def test_new_items_are_indexed_once_and_a_304_creates_nothing(
    search, store, server: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    feed_id = _feed(
        store,
        "t-rss",
        server.url("/feeds/rss-zh-hant.xml"),
        source="cna",
        lang="zh-Hant",
        region="TW",
    )
    state = poll(store, feed_id)
    assert state["status"] == "ok" and state["items_seen"] == 2 and state["items_new"] == 2
    docs = _wait_docs(search, 2, feed_id=feed_id)
    assert {d["text_source"] for d in docs} == {"page"}
    assert {d["source"] for d in docs} == {"cna"}
    summit = next(d for d in docs if "撒馬爾罕" in d["body"])
    assert summit["canonical_url"].endswith("/articles/zh-hant-summit.html")  # utm_source gone
    assert {"putin", "xi_jinping"} <= {e["id"] for e in summit["entities"]}
    page_hits = server.hits("/articles/zh-hant-summit.html")
    state = poll(store, feed_id)
    assert state["status"] == "unchanged" and state["last_status"] == 304
    time.sleep(1.0)
    assert len(indexed(search, feed_id=feed_id)) == 2
    assert server.hits("/articles/zh-hant-summit.html") == page_hits  # nothing fetched again


def test_all_formats_and_charsets_are_indexed(search, store, server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    for name in ("atom-zh-hans.xml", "jsonfeed-en.json", "rss-big5.xml", "rss-gb2312.xml"):
        feed_id = _feed(
            store,
            "t-" + name.split(".")[0],
            server.url(f"/gzip/{name}" if name.endswith("xml") else f"/feeds/{name}"),
        )
        state = poll(store, feed_id)
        assert state["status"] == "ok", (name, state)
        assert state["items_new"] >= 1
    _wait_docs(search, 1, feed_id="t-rss-big5")
    _wait_docs(search, 2, feed_id="t-jsonfeed-en")


def test_an_updated_item_updates_its_document_and_a_new_guid_alone_does_nothing(
    search, store, server: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    item = (
        '<rss version="2.0"><channel><title>dyn</title><item><title>{title}</title>'
        "<link>{{base}}/status/404</link><guid>{guid}</guid><description>{text}</description></item></channel></rss>"
    )
    server.set(
        "updates",
        item.format(title="Kyiv talks", guid="g1", text="Talks on Ukraine began in Kyiv."),
    )
    feed_id = _feed(store, "t-updates", server.url("/dyn/updates"))
    poll(store, feed_id)
    first = _wait_docs(search, 1, feed_id=feed_id)[0]
    assert first["text_source"] == "feed"  # the page answered 404: the feed's text was used
    server.set(
        "updates",
        item.format(title="Kyiv talks resume", guid="g1", text="Talks on Ukraine resumed in Kyiv."),
    )
    state = poll(store, feed_id)
    assert state["items_new"] == 1
    updated = wait_until(
        lambda: (
            (d := indexed(search, feed_id=feed_id)) and d[0]["title"] == "Kyiv talks resume" and d
        )
    )
    assert len(updated) == 1 and updated[0]["id"] == first["id"]
    server.set(
        "updates",
        item.format(
            title="Kyiv talks resume", guid="g2-new", text="Talks on Ukraine resumed in Kyiv."
        ),
    )
    state = poll(store, feed_id)
    assert state["status"] == "ok" and state["items_new"] == 0
    assert len(indexed(search, feed_id=feed_id)) == 1


def test_failures_are_recorded_and_backed_off(search, store, server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "t-500": ("/status/500", "transient", 1.0),
        "t-404": ("/status/404", "permanent", 2.0),
        "t-429": ("/status/429", "throttled", 0.5),
        "t-html": ("/feeds/not-a-feed.html", "permanent", 2.0),
        "t-loop": ("/loop", "permanent", 2.0),
        "t-slow": ("/slow", "transient", 1.0),
    }
    for feed_id, (path, kind, weight) in cases.items():
        _feed(store, feed_id, server.url(path))
        state = poll(store, feed_id)
        assert (state["status"], state["last_error_kind"], state["failures"]) == (
            "failing",
            kind,
            weight,
        ), feed_id
        assert state["last_error"]
    state = store.state("t-429")
    assert state["next_poll_at"] - state["last_attempt_at"] >= 120 * 0.9  # Retry-After honoured
    assert "HTML page" in store.state("t-html")["last_error"]
    result = CliRunner().invoke(main, ["feeds", "status"])
    lines = result.stdout.splitlines()
    assert lines[1].split()[0] in ("t-404", "t-html", "t-loop")  # most troubled first
    assert "failing" in result.stdout


def test_ssrf_attempts_are_refused_and_recorded(search, store, server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    port = server.base.rsplit(":", 1)[1]
    feed_id = _feed(store, "t-ssrf-feed", f"http://127.0.0.2:{port}/feeds/rss-zh-hant.xml")
    state = poll(store, feed_id)
    assert state["last_error_kind"] == "refused" and "not a public address" in state["last_error"]
    redirect = _feed(
        store, "t-ssrf-redirect", server.url("/to?url=http://169.254.169.254/latest/meta-data/")
    )
    assert poll(store, redirect)["last_error_kind"] == "refused"
    server.set(
        "ssrf-items",
        '<rss version="2.0"><channel><title>x</title><item><title>metadata</title>'
        "<link>http://169.254.169.254/latest/meta-data/</link><description>x</description></item>"
        "</channel></rss>",
    )
    items = _feed(store, "t-ssrf-items", server.url("/dyn/ssrf-items"))
    poll(store, items)

    rejection = wait_until(lambda: _rejection(search, items))
    assert rejection["reason"] == "refused_url" and rejection["stage"] == "fetch"
    assert not indexed(search, feed_id=items)


def test_robots_disallow_falls_back_to_feed_content(search, store, server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    from workers.services import robots

    server.robots = "User-agent: *\nDisallow: /articles/en-front"
    robots().redis.delete(f"{robots().prefix}robots:{server.base}")
    feed_id = _feed(store, "t-robots", server.url("/feeds/jsonfeed-en.json"))
    server_hits = server.hits("/articles/en-front.html")
    # the same items as another feed: the seen-set would skip them, so clear it first
    from pipelines.ids import doc_id

    for path in ("/articles/en-front.html", "/articles/en-page.html"):
        store.redis.delete(store._k("seen", doc_id(server.url(path))))
    poll(store, feed_id)
    docs = _wait_docs(search, 2, feed_id=feed_id)
    by_url = {d["url"].rsplit("/", 1)[1]: d["text_source"] for d in docs}
    assert by_url == {"en-front.html": "feed", "en-page.html": "page"}
    assert server.hits("/articles/en-front.html") == server_hits
    server.robots = ""


def test_a_page_whose_fetch_killed_two_processes_is_not_fetched_a_third_time(
    search, server: FeedServer, worker
) -> None:  # type: ignore[no-untyped-def]
    from pipelines.article import RawArticle
    from workers.articles.staging import to_payload
    from workers.feeds.polling import fetch_articles
    from workers.services import state

    path = "/articles/en-page.html"
    raw = RawArticle(url=server.url(path) + "?deadly", feed_id="t-deadly", text_source="feed")
    payload = {**to_payload(raw), "doc_id": "t-deadly", "fingerprint": "f", "fetch_page": True}
    [key] = state().stage([payload])
    for _ in range(2):  # two fetches began and never ended: their processes died
        state().begin(["fetch:t-deadly"])
    hits = server.hits(path)
    assert fetch_articles([key]) == 1  # run here, as a function; the CPU pool indexes
    rejection = wait_until(lambda: _rejection(search, "t-deadly"))
    assert rejection["reason"] == "quarantined" and rejection["stage"] == "fetch"
    assert "killed the worker 2 times" in rejection["detail"]
    assert server.hits(path) == hits
    assert not state().redis.exists(state().key("attempt", "fetch:t-deadly"))


def test_a_page_booked_again_for_a_busy_host_ends_its_attempt_at_once(
    server: FeedServer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A page whose host has every request slot taken books a later slot, and its
    attempt ends then, not when the rest of its batch ends: booked again while a slow
    page holds its first batch open, and begun by other batches meanwhile, it is never
    counted as a fetch that killed its process (three such counts used to quarantine
    it, with no process lost)."""
    from pipelines.article import RawArticle
    from workers import services
    from workers.articles.staging import to_payload
    from workers.feeds import polling
    from workers.fetching.politeness import Politeness

    state = services.state()
    polite = Politeness(state.redis, state.prefix + "t-busy-", spacing=0, concurrency=1)
    monkeypatch.setattr(services, "politeness", lambda: polite)
    monkeypatch.setattr(polling, "BUSY_PATIENCE", 0.1)
    raw = RawArticle(
        url=server.url("/articles/en-page.html") + "?busy", feed_id="t-busy", text_source="feed"
    )
    payload = {**to_payload(raw), "doc_id": "t-busy", "fingerprint": "f", "fetch_page": True}
    [key] = state.stage([payload])
    mark = state.key("attempt", "fetch:t-busy")
    with polite.slot("127.0.0.1") as got:  # the host's only slot is taken
        assert got
        for _ in range(3):
            assert state.begin(["fetch:t-busy"]) == [0]  # as its batch marks it
            ended: set[str] = set()
            assert polling._fetch_one(key, payload, 0, ended) is False
            assert ended == {key} and not state.redis.exists(mark)
    booked = polling.later()
    assert state.redis.zscore(booked.key, f"fetch {key}") is not None  # waits in Redis
    assert polling._fetch_batch([key]) == 1  # the slot is free: fetched
    assert not state.redis.exists(mark)
    assert state.staged([key])[0]["fetched"]


def test_a_process_keeps_the_rules_of_a_robots_txt_for_a_while(server: FeedServer) -> None:
    from workers.fetching.robots import Robots
    from workers.services import fetcher, state

    url = server.url("/articles/en-front.html")
    key = f"{state().prefix}robots:{server.base}"
    state().redis.delete(key)
    server.robots = ""
    kept = Robots(state().redis, state().prefix, fetcher(), "mediamon", cache_seconds=60)
    unkept = Robots(state().redis, state().prefix, fetcher(), "mediamon", cache_seconds=0)
    try:
        assert kept.allowed(url) and unkept.allowed(url)
        server.robots = "User-agent: *\nDisallow: /articles/"
        state().redis.delete(key)  # as when a day has passed: fetched again
        assert kept.allowed(url)  # the process's own copy, still fresh
        assert not unkept.allowed(url)
    finally:
        server.robots = ""
        state().redis.delete(key)


def test_two_beats_do_not_double_poll_and_health_reaches_the_index(
    search, store, server: FeedServer
) -> None:  # type: ignore[no-untyped-def]
    feed_id = _feed(
        store, "t-beat", server.url("/feeds/atom-zh-hans.xml"), interval=2, adaptive=False
    )

    def health():  # type: ignore[no-untyped-def]
        search.request("POST", f"/{search.index_name('feeds')}/_refresh")
        query = {"query": {"ids": {"values": [feed_id]}}}
        hits = search.request("POST", f"/{search.index_name('feeds')}/_search", query)["hits"][
            "hits"
        ]
        return hits and hits[0]["_source"]

    beats = [start_beat("a"), start_beat("b")]
    try:
        started = time.time()
        time.sleep(16)
        polls = sum(
            1 for _, p, t in server.requests if p == "/feeds/atom-zh-hans.xml" and t >= started
        )
        # beat also writes feed health to the index every 30 s
        doc = wait_until(health, 45, interval=1.0)
    finally:
        for beat in beats:
            stop_worker(beat)
    # one scheduler ticks every 5 s and the feed is due every 2 s: 3-4 polls in 16 s;
    # a second scheduler claiming the same feed would double that
    assert 2 <= polls <= 5, polls
    assert doc["status"] in ("ok", "unchanged") and doc["polls"] >= 2


def test_feeds_cli_add_list_remove_and_opml(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    added = runner.invoke(
        main, ["feeds", "add", "https://news.example.org/rss.xml", "--id", "t-cli", "--lang", "en"]
    )
    assert added.exit_code == 0, added.output
    bad = runner.invoke(main, ["feeds", "add", "file:///etc/passwd"])
    assert bad.exit_code != 0 and "scheme" in bad.output
    listed = runner.invoke(main, ["feeds", "list", "--json"])
    assert any(json.loads(line)["id"] == "t-cli" for line in listed.stdout.splitlines())
    opml = tmp_path / "feeds.opml"
    assert runner.invoke(main, ["feeds", "export-opml", str(opml)]).exit_code == 0
    assert runner.invoke(main, ["feeds", "remove", "t-cli"]).exit_code == 0
    assert store.config("t-cli") is None
    imported = runner.invoke(main, ["feeds", "import-opml", str(opml)])
    assert imported.exit_code == 0 and store.config("t-cli") is not None
    assert runner.invoke(main, ["feeds", "remove", "nope"]).exit_code != 0


REAL_FEEDS = {
    "t-real-guardian": "rss-parser_en/guardian.rss",
    "t-real-reuters": "react-native-rss-parser/reuters.xml",
    "t-real-dw": "exposir_jsonfeed_snapshots/dw.json.gz",
    "t-real-zaobao": "exposir_jsonfeed_snapshots/zaobao.json.gz",
    "t-real-oschina": "rssant_zh/parser/warn/https-www-oschina-net-news-rss-show-industry.xml",
}


def test_real_feeds_as_served(search, store, server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    """Third-party feeds from ../shared/data, polled through the server (their links point
    to the internet, so the feeds' own text is indexed)."""
    from tests.feedserver import SHARED_FEEDS

    if not SHARED_FEEDS.exists():
        pytest.skip(f"shared feed data not found at {SHARED_FEEDS}")
    for feed_id, path in REAL_FEEDS.items():
        _feed(store, feed_id, server.url(f"/shared/{path}"), fetch_pages=False)
        state = poll(store, feed_id)
        assert state["status"] == "ok" and state["items_new"] > 0, (feed_id, state)
    assert store.state("t-real-oschina")["parse_error"]  # malformed, yet its items were kept
    zaobao = _wait_docs(search, 50, feed_id="t-real-zaobao", timeout=60)
    assert all(d["text_source"] == "feed" for d in zaobao)
    assert {d["lang"] for d in zaobao} == {"zh-Hans"}


def test_one_bad_item_costs_one_item(search, store, server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    """A link that is no URL, and one that redirects to a host no IDNA encoder takes,
    cost their own items; the feed's other items are indexed and the poll is recorded."""
    items = [
        ("good one", server.url("/articles/zh-hans-talks.html?x=1")),
        ("unclosed bracket", "http://[::1/x"),
        ("bad host", server.url("/to?url=http://xn--a-.com/")),
        ("good two", server.url("/articles/en-page.html?x=1")),
    ]
    server.set(
        "bad-items",
        '<rss version="2.0"><channel><title>x</title>'
        + "".join(
            f"<item><title>{t}</title><link>{u.replace('&', '&amp;')}</link></item>"
            for t, u in items
        )
        + "</channel></rss>",
    )
    feed_id = _feed(store, "t-bad-items", server.url("/dyn/bad-items"))
    state = poll(store, feed_id)
    assert state["status"] == "ok", state
    assert "1 items without a usable link were skipped" in state["parse_error"]
    docs = _wait_docs(search, 2, feed_id=feed_id)
    assert {d["title"] for d in docs} != set() and len(docs) == 2

    rejected = wait_until(lambda: _rejection(search, feed_id))
    assert rejected["reason"] == "no_content" and "not a usable URL" in rejected["detail"]


def test_a_poll_that_fails_in_an_unforeseen_way_is_recorded_and_backs_off(
    store, server: FeedServer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from workers.feeds import polling

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a parser bug")

    monkeypatch.setattr(polling, "parse_feed", broken)
    feed_id = _feed(store, "t-unforeseen", server.url("/feeds/rss-zh-hant.xml"))
    result = polling.poll_feed.run(feed_id)  # in this process, on the real Redis
    state = store.state(feed_id)
    assert result["status"] == state["status"] == "failing"
    assert state["last_error_kind"] == "error" and "a parser bug" in state["last_error"]
    assert state["failures"] == 1.0 and state["next_poll_at"] > state["last_attempt_at"]


def test_a_poll_on_the_io_pool_ends_at_the_fetch_deadline(store, server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    """Polls run on threads, where Celery keeps no time limits: the fetch deadline (3 s
    in the tests) ends the poll of a feed that drips for 100 s, and it is recorded."""
    from workers.feeds.polling import poll_feed

    feed_id = _feed(store, "t-io-deadline", server.url("/slow"))
    started = time.monotonic()
    poll_feed.delay(feed_id)
    state = wait_until(lambda: (s := store.state(feed_id)).get("polls") and s, 30)
    assert time.monotonic() - started < 3 + 2
    assert (state["status"], state["last_error_kind"]) == ("failing", "transient")
    assert "deadline" in state["last_error"]


def test_requests_to_a_host_start_at_least_the_spacing_apart(redis_client) -> None:  # type: ignore[no-untyped-def]
    """However their slots were handed out (a late tick, then a timely one), two
    requests to a host do not start closer than 0.9 × the spacing."""
    from workers import services
    from workers.fetching.politeness import Politeness

    state = services.state()
    polite = Politeness(state.redis, state.prefix + "t-gap-", spacing=1.0, concurrency=2)
    with polite.slot("example.org", patience=0.1) as first:
        assert first
    started = time.monotonic()
    with polite.slot("example.org", patience=5) as second:
        assert not second  # at once, not after waiting: the caller books a later slot
    assert time.monotonic() - started < 0.5
    time.sleep(0.95)
    with polite.slot("example.org", patience=0.1) as third:
        assert third
    unspaced = Politeness(state.redis, state.prefix + "t-gap-", spacing=0, concurrency=2)
    with unspaced.slot("example.org") as a, unspaced.slot("example.org") as b:
        assert a and b


def test_requests_waiting_for_a_host_that_answers_are_a_backlog_and_for_one_that_hangs_are_not(
    redis_client,
) -> None:  # type: ignore[no-untyped-def]
    """A request waiting for a slot of a host whose requests end is queued behind them
    (counted by ``queued``, so the I/O process takes no more polls); one waiting for a
    host whose every request hangs is not, and neither is counted once it has its slot."""
    import threading

    from workers import services
    from workers.fetching import politeness
    from workers.fetching.politeness import Politeness

    state = services.state()
    polite = Politeness(state.redis, state.prefix + "t-queue-", spacing=0, concurrency=1)
    hold = threading.Event()
    holding = threading.Semaphore(0)

    def request(host: str, patience: float = 10.0) -> None:
        with polite.slot(host, patience=patience) as got:
            assert got
            holding.release()
            hold.wait(10)

    with polite.slot("answers.example") as got:  # a request to it ends
        assert got
    threads = [
        threading.Thread(target=request, args=(host,), daemon=True)
        for host in ("answers.example", "hangs.example")
    ]
    for thread in threads:
        thread.start()
        assert holding.acquire(timeout=5)  # both hosts' only slot taken
    waiting = [
        threading.Thread(target=request, args=(host,), daemon=True)
        for host in ("answers.example", "answers.example", "hangs.example")
    ]
    for thread in waiting:
        thread.start()
    wait_until(lambda: polite.queued() == 2, 5)  # the hanging host's waiter is not counted
    time.sleep(politeness.MOVING)  # nothing has ended for a while: no queue that moves
    assert polite.queued() == 0
    hold.set()
    for thread in threads + waiting:
        thread.join(10)
    assert polite.queued() == 0


def test_requests_that_wait_for_their_host_wait_in_redis(redis_client) -> None:  # type: ignore[no-untyped-def]
    """Booking three requests to a host spaces them a second apart; what waits is held
    in Redis and handed out once, when due."""
    from workers import services
    from workers.feeds.later import FETCH, POLL, Later
    from workers.fetching.politeness import Politeness

    state = services.state()
    polite = Politeness(state.redis, state.prefix + "t-book-", spacing=1.0, concurrency=2)
    waits = polite.book("example.org", 3)
    assert waits[0] == pytest.approx(0, abs=0.05)
    assert waits[1] - waits[0] == pytest.approx(1, abs=0.01)
    assert waits[2] - waits[1] == pytest.approx(1, abs=0.01)
    assert polite.reserve("example.org") == pytest.approx(3, abs=0.05)  # after the three

    later = Later(state)
    now = time.time()
    later.add(POLL, {"feed-a": now - 1})
    later.add(FETCH, {"staged-1": now + 0.5, "staged-2": now + 60})
    assert later.take(now) == [(POLL, "feed-a", pytest.approx(now - 1))]
    assert later.take(now) == []  # handed out once
    assert [name for _, name, _ in later.take(now + 1)] == ["staged-1"]
    assert later.waiting() == 1


def test_a_poll_goes_before_the_pages_booked_with_its_host(redis_client) -> None:  # type: ignore[no-untyped-def]
    """Polls book in a lane of their own: 500 pages booked with a host do not hold its
    next poll back. A poll whose turn has come waits out the spacing after a page's
    request instead of booking again, and the page whose slot it took is refused as
    too soon, so the host never gets two requests closer than the spacing."""
    from workers import services
    from workers.fetching.politeness import Politeness

    state = services.state()
    polite = Politeness(state.redis, state.prefix + "t-first-", spacing=1.0, concurrency=2)
    pages = polite.book("example.org", 500)
    assert pages[-1] == pytest.approx(499, abs=0.05)
    assert polite.reserve("example.org", first=True) == pytest.approx(0, abs=0.05)
    assert polite.reserve("example.org", first=True) == pytest.approx(1, abs=0.05)  # polls spaced
    assert polite.reserve("example.org") == pytest.approx(500, abs=0.05)  # pages untouched

    with polite.slot("example.org", patience=0.1) as page:  # the first page goes
        assert page
    started = time.monotonic()
    with polite.slot("example.org", patience=5, first=True) as poll:
        assert poll  # the poll waited for the spacing, and went
        waited = time.monotonic() - started
    assert 0.85 <= waited < 2
    with polite.slot("example.org", patience=5) as page:
        assert not page  # the next page, too soon after the poll: it books again


def test_a_poll_waits_in_redis_while_its_process_has_a_backlog_of_pages(
    store, server: FeedServer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """An I/O process with more pages waiting for a green thread than a quarter of its
    green threads fetches no more feeds: the poll waits a second in Redis, and the feed
    is not requested."""
    from workers.feeds import polling
    from workers.feeds.later import POLL

    server.set("/backlog.xml", server.fixture("rss-zh-hant.xml"))
    feed_id = _feed(store, "t-backlog", server.url("/backlog.xml"))
    polling.later().take(time.time() + 3600)  # nothing left waiting by other tests
    bound = int(polling.settings.io_concurrency * polling.BACKLOG_SHARE)
    unbegun = {f"page-{n}" for n in range(bound + 1)}
    monkeypatch.setattr(polling, "_unbegun", unbegun)
    result = polling._poll(store.config(feed_id), store.state(feed_id), None)
    assert result["status"] == "deferred" and result["why"] == "backlog"
    assert server.hits("/backlog.xml") == 0
    assert [(kind, name) for kind, name, _ in polling.later().take(time.time() + 2)] == [
        (POLL, feed_id)
    ]
    unbegun.clear()  # the pages begun: the poll goes ahead
    result = polling._poll(store.config(feed_id), store.state(feed_id), None)
    assert result["status"] != "deferred" and server.hits("/backlog.xml") == 1


def test_a_poll_waits_in_redis_while_fetched_pages_wait_for_the_cpu_pool(
    store, server: FeedServer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """While more fetched pages wait in the ready list than the CPU pool's processes
    take in two drains, no feed is requested: its items wait in the feed, unseen."""
    from workers.feeds import polling

    server.set("/behind.xml", server.fixture("rss-zh-hant.xml"))
    feed_id = _feed(store, "t-behind", server.url("/behind.xml"))
    polling.later().take(time.time() + 3600)
    bound = polling.READY_DRAINS * polling.DRAIN_BATCH * polling.settings.cpu_workers
    monkeypatch.setattr(polling.ready(), "waiting", lambda: bound + 1)
    result = polling._poll(store.config(feed_id), store.state(feed_id), None)
    assert result["status"] == "deferred" and result["why"] == "processing"
    assert server.hits("/behind.xml") == 0
    counters = polling.services.state().counters()
    assert counters.get("polls_deferred_processing", 0) >= 1
    monkeypatch.setattr(polling.ready(), "waiting", lambda: bound)
    result = polling._poll(store.config(feed_id), store.state(feed_id), None)
    assert result["status"] != "deferred" and server.hits("/behind.xml") == 1
