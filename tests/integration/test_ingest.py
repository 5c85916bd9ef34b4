"""ingest -> worker -> indexed -> searchable, against the real Redis, engine and worker."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.conftest import DATA
from tests.integration.conftest import refresh, wait_until
from workers.cli import main

pytestmark = pytest.mark.integration
ARTICLES = sorted(str(p) for p in DATA.glob("*/input.*"))


def _count(search, query=None) -> int:  # type: ignore[no-untyped-def]
    body = {"query": query or {"match_all": {}}}
    return int(search.request("POST", f"/{search.index_name('articles')}/_count", body)["count"])


def _search(runner: CliRunner, *words: str) -> list[dict]:
    """Hits among this module's fixtures (other tests index articles too: the filter is
    part of the query, so their number cannot push the fixtures out of the results)."""
    result = runner.invoke(main, ["search", *words, "source:fixtures", "--json", "-n", "100"])
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert all(hit.get("source") == "fixtures" for hit in hits)
    return hits


def test_engine_detected_and_status(search) -> None:  # type: ignore[no-untyped-def]
    assert search.engine.distribution == "opensearch"
    result = CliRunner().invoke(main, ["search", "status"])
    assert result.exit_code == 0, result.output
    assert "opensearch" in result.stdout
    assert f"{search.index_name('articles')}-v1" in result.stdout


def test_init_is_idempotent(search) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    first = runner.invoke(main, ["search", "init"])
    second = runner.invoke(main, ["search", "init"])
    assert first.exit_code == second.exit_code == 0
    assert "exists" in second.stdout


def test_ingest_then_search_in_both_scripts(search, worker) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", *ARTICLES, "--source", "fixtures"])
    assert result.exit_code == 0, result.output
    assert "indexed" in result.stdout
    refresh(search)
    # sources named in meta.json are not used here: every file is "fixtures"
    assert _count(search, {"term": {"source": "fixtures"}}) == len(ARTICLES)
    # A traditional article is found by the simplified and the traditional spelling.
    for query in ("習近平", "习近平"):
        urls_langs = {hit["lang"] for hit in _search(runner, query)}
        assert {"zh-Hant", "zh-Hans"} <= urls_langs, query
    # A catalogued place is found under every spelling: the English article's Samarkand
    # too; exact: asks for the spelling as written.
    assert sorted(hit["lang"] for hit in _search(runner, "撒馬爾罕")) == ["en", "zh-Hant"]
    assert [hit["lang"] for hit in _search(runner, "exact:撒馬爾罕")] == ["zh-Hant"]
    # English words and the GB2312 / Big5 pages were decoded and indexed.
    assert any("Izium" in hit["body"] for hit in _search(runner, "izium"))
    assert any(
        hit["lang"] == "zh-Hans" and "通电话" in hit["body"] for hit in _search(runner, "通電話")
    )
    assert any("人道援助" in hit["body"] for hit in _search(runner, "人道援助"))
    text = runner.invoke(main, ["search", "撒馬爾罕"]).stdout
    assert "[撒馬爾罕]" in text and "fixtures" in text


def test_ingest_twice_leaves_one_document(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    article = {
        "url": "https://news.example.org/world/1?utm_source=feed",
        "title": "Twice",
        "text": "Putin and Xi met again in Moscow on Tuesday, officials said.",
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(article), encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["ingest", str(path)])
    assert first.exit_code == 0, first.output
    # The same article under a URL that differs only by tracking parameters and case.
    article["url"] = "https://NEWS.example.org/world/1#comments"
    path.write_text(json.dumps(article), encoding="utf-8")
    second = runner.invoke(main, ["ingest", str(path)])
    assert second.exit_code == 0, second.output
    assert "already indexed 1" in second.stdout
    refresh(search)
    assert _count(search, {"term": {"title": "twice"}}) == 1


def test_bad_article_is_rejected_and_the_rest_lands(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = [
        {
            "url": "https://news.example.org/ok",
            "text": "A good article about the war in Ukraine and NATO.",
        },
        {
            "url": "https://news.example.org/empty",
            "html": "<html><body><nav>menu</nav></body></html>",
        },
        {
            "url": "https://news.example.org/future",
            "text": "Dated in the future by a broken feed.",
            "published_at": "2999-01-01T00:00:00Z",
        },
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", str(path)])
    assert result.exit_code == 1  # partial: some input rejected
    assert "empty_body" in result.stderr and "bad_date" in result.stderr
    assert "not valid JSON" in result.stderr
    refresh(search)
    assert _count(search, {"term": {"url": "https://news.example.org/ok"}}) == 1
    rejected = search.request(
        "POST",
        f"/{search.index_name('rejected')}/_search",
        {"query": {"match_all": {}}, "size": 50},
    )["hits"]["hits"]
    reasons = {hit["_source"]["url"]: hit["_source"]["reason"] for hit in rejected}
    assert reasons["https://news.example.org/empty"] == "empty_body"
    assert reasons["https://news.example.org/future"] == "bad_date"


def test_a_search_sees_what_was_written_while_nobody_searched(search) -> None:  # type: ignore[no-untyped-def]
    """The articles index leaves its refresh interval to the engine: no refreshes while
    nobody searches (bulk writes cost about half), and the first search after that
    waits for the refresh, so it still finds every document. An index made with an
    explicit interval (as before) loses it when the templates are applied."""
    import time

    from workers.articles.indexing import index_documents
    from workers.search import templates

    physical = f"{search.index_name('articles')}-v1"

    def refreshes() -> int:
        stats = search.request("GET", f"/{physical}/_stats/refresh")
        return int(stats["indices"][physical]["primaries"]["refresh"]["total"])

    search.request("PUT", f"/{physical}/_settings", {"index": {"refresh_interval": "1s"}})
    templates.apply(search)
    own = search.request("GET", f"/{physical}/_settings")[physical]["settings"]["index"]
    assert "refresh_interval" not in own
    # idle after one second instead of thirty, for the test
    search.request("PUT", f"/{physical}/_settings", {"index": {"search.idle.after": "1s"}})
    try:
        search.request("POST", f"/{physical}/_search", {"size": 0})
        time.sleep(2.5)  # no search since: the shard is idle
        before = refreshes()
        assert index_documents(search, [{"id": "idle-1", "body": "idle", "lang": "en"}]).created
        time.sleep(2.5)
        assert refreshes() == before  # a refresh every second would have made two
        found = search.request(
            "POST", f"/{physical}/_search", {"query": {"ids": {"values": ["idle-1"]}}}
        )
        assert found["hits"]["total"]["value"] == 1
    finally:
        search.request("PUT", f"/{physical}/_settings", {"index": {"search.idle.after": None}})
        search.request("DELETE", f"/{physical}/_doc/idle-1", params={"refresh": "true"})


def test_engine_rejects_a_field_outside_the_mapping(search, redis_client) -> None:  # type: ignore[no-untyped-def]
    from workers.articles.indexing import index_documents, record_rejections
    from workers.state import State

    good = {"id": "good-1", "body": "fine", "lang": "en"}
    bad = {"id": "bad-1", "body": "has an unmapped field", "lang": "en", "sentiment": 0.3}
    result = index_documents(search, [good, bad])
    assert result.created == ["good-1"]
    assert [r.id for r in result.rejected] == ["bad-1"]
    assert result.rejected[0].reason == "engine:strict_dynamic_mapping_exception"
    assert "sentiment" in result.rejected[0].detail
    record_rejections(search, State(search.settings), result.rejected)
    refresh(search)
    doc = search.request("GET", f"/{search.index_name('rejected')}/_doc/bad-1")
    assert doc["_source"]["stage"] == "index"
    assert (
        State(search.settings).counters()["rejected.engine:strict_dynamic_mapping_exception"] >= 1
    )


def test_a_poison_article_is_rejected_and_the_rest_of_its_batch_lands(search, worker) -> None:  # type: ignore[no-untyped-def]
    """A payload that makes a stage raise (here: a title that is no string, as a buggy
    producer might stage it) is recorded with the stage and reason; its batch lands."""
    from workers.articles.tasks import process_articles
    from workers.settings import get_settings
    from workers.state import State

    state = State(get_settings())
    good = [
        {
            "url": f"https://poison.example/{i}",
            "text": "Talks on Ukraine continued in Kyiv.",
            "source": "poison",
        }
        for i in range(4)
    ]
    bad = {
        "url": "https://poison.example/bad",
        "text": "Fine text.",
        "title": {"not": "a string"},
        "source": "poison",
    }
    keys = state.stage([*good[:2], bad, *good[2:]])
    summary = process_articles.delay(keys).get(timeout=30)
    assert summary["indexed"] == 4 and [r["reason"] for r in summary["rejected"]] == ["stage_error"]
    refresh(search)
    assert _count(search, {"term": {"source": "poison"}}) == 4
    rejected = search.request(
        "POST",
        f"/{search.index_name('rejected')}/_search",
        {"query": {"term": {"url": "https://poison.example/bad"}}},
    )["hits"]["hits"]
    assert (
        rejected[0]["_source"]["stage"] == "load"
        and "TypeError" in rejected[0]["_source"]["detail"]
    )


def test_a_batch_past_its_soft_time_limit_is_split_and_every_article_lands(search, worker) -> None:  # type: ignore[no-untyped-def]
    from pipelines.article import RawArticle
    from workers.articles.staging import to_payload
    from workers.articles.tasks import process_articles
    from workers.settings import get_settings
    from workers.state import State

    # The first four articles take about 0.8 s each, so the 0.5 s limit (which the pool
    # checks about once a second) strikes while they are processed (a limit that
    # strikes inside an engine request is the client's to handle).
    raws = [
        RawArticle(
            url=f"https://split.example/long-{n}",
            source="split",
            text="Talks on Ukraine continued in Kyiv. 普京與習近平會談。 " * 40_000,
        )
        for n in range(4)
    ] + [
        RawArticle(
            url=f"https://split.example/{i}",
            source="split",
            text=f"烏克蘭局勢第{i}篇：基輔今天表示，北約援助持續抵達。" * 40,
        )
        for i in range(76)
    ]
    keys = State(get_settings()).stage([to_payload(r) for r in raws])
    result = process_articles.apply_async(args=[keys], soft_time_limit=0.5, time_limit=60)
    summary = result.get(timeout=60)
    assert "continued" in summary, summary  # past 0.5 s: split in two
    refresh(search)

    def landed() -> int:
        refresh(search)
        body = {"query": {"term": {"source": "split"}}}
        return int(
            search.request("POST", f"/{search.index_name('articles')}/_count", body)["count"]
        )

    assert wait_until(lambda: landed() == 80, 90)


def test_a_pages_bytes_are_staged_beside_its_payload_as_they_are(redis_client) -> None:  # type: ignore[no-untyped-def]
    """A page's bytes go to Redis as they are, beside the payload's JSON (no base64);
    they come back with it, go when it is restaged without a page or unstaged, and a
    payload staged by an earlier version (base64 in the JSON) still reads."""
    import base64

    from pipelines.article import RawArticle
    from workers.articles.staging import raw_from_payload, to_payload
    from workers.settings import get_settings
    from workers.state import CONTENT, State

    state = State(get_settings())
    page = "<html><body><p>蒲亭與習近平會談</p></body></html>".encode("big5") + bytes(range(256))
    [key] = state.stage([to_payload(RawArticle(url="https://bytes.example/1", content=page))])
    assert state.redis.get(key) is not None and "content" not in json.loads(state.redis.get(key))
    [payload] = state.staged([key])
    assert payload is not None and raw_from_payload(payload).content == page
    state.restage(key, {**payload, "content": page[::-1]})
    assert raw_from_payload(state.staged([key])[0]).content == page[::-1]  # type: ignore[arg-type]
    state.restage(key, {"url": "https://bytes.example/1", "text": "只有文字"})
    assert state.staged([key]) == [{"url": "https://bytes.example/1", "text": "只有文字"}]
    assert not state.redis.exists(key + CONTENT)
    [key] = state.stage([to_payload(RawArticle(url="https://bytes.example/2", content=page))])
    state.unstage([key])
    assert not state.redis.exists(key, key + CONTENT) and state.staged([key]) == [None]
    earlier = {"url": "https://bytes.example/3", "content": base64.b64encode(page).decode()}
    [key] = state.stage([earlier])
    assert raw_from_payload(state.staged([key])[0]).content == page  # type: ignore[arg-type]
    state.unstage([key])


def test_a_batch_is_written_in_chunks_in_order_and_all_of_it_lands(search, redis_client) -> None:  # type: ignore[no-untyped-def]
    """write_batch indexes every CHUNK articles in a thread while the pipeline goes on:
    a batch of several chunks and a rejection lands whole, with its ids in order."""
    from pipelines.article import RawArticle
    from workers.articles.batch import CHUNK, write_batch

    story = (
        "Officials in Moscow and Beijing met on day {n} to discuss trade, energy and the "
        "war in Ukraine, and agreed to meet again before the end of the year. "
    )
    inputs = [
        RawArticle(text=story.format(n=n) * 3, url=f"https://chunks.example/{n}", lang="en")
        for n in range(2 * CHUNK + 5)
    ]
    inputs.insert(CHUNK + 2, RawArticle(text=" ", url="https://chunks.example/empty"))
    result = write_batch(inputs)
    assert [r.url for r in result.rejected] == ["https://chunks.example/empty"]
    assert len(result.created) == 2 * CHUNK + 5
    refresh(search)
    found = search.request(
        "POST",
        f"/{search.index_name('articles')}/_search",
        {"query": {"ids": {"values": result.created}}, "size": 100, "_source": ["url"]},
    )
    urls = {hit["_id"]: hit["_source"]["url"] for hit in found["hits"]["hits"]}
    assert [urls[i] for i in result.created] == [r.url for r in inputs if (r.text or "").strip()]
