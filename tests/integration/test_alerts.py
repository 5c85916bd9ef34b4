"""Keyword alerts end to end: rules in the real percolator, articles through the real
worker, deliveries to a local webhook receiver and a local SMTP server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from tests.integration.conftest import refresh, wait_until
from tests.webhooks import Receiver, secret_in, signed
from workers.cli import main

pytestmark = pytest.mark.integration

XI_PUTIN = "中国国家主席习近平{n}日在莫斯科同俄罗斯总统普京举行会谈，双方讨论了乌克兰局势与能源合作。会谈后双方发表联合声明。"
TRAD = "俄羅斯總統蒲亭今天抵達撒馬爾罕，將與中國國家主席習近平舉行雙邊會談，討論烏克蘭戰事。"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _ingest(tmp_path, articles: list[dict]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"batch-{time.monotonic_ns()}.jsonl"
    path.write_text(
        "\n".join(json.dumps(a, ensure_ascii=False) for a in articles), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["ingest", str(path)])
    assert result.exit_code == 0, result.output


def _add(*args: str) -> str:
    result = CliRunner().invoke(main, ["alerts", "add", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _events(search, rule_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    search.request("POST", f"/{search.index_name('alert-events')}/_refresh")
    body = {"query": {"term": {"rule_id": rule_id}}, "size": 100}
    return [
        h["_source"]
        for h in search.request("POST", f"/{search.index_name('alert-events')}/_search", body)[
            "hits"
        ]["hits"]
    ]


def test_immediate_alert_arrives_signed(search, worker, receiver: Receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = _add("t-signed", "-q", "習近平 普京", "--webhook", receiver.url("/ok/signed"))
    secret = secret_in(out)
    started = time.time()
    _ingest(
        tmp_path,
        [
            {
                "url": "https://news.example.org/a/1",
                "title": "习近平同普京会谈",
                "text": XI_PUTIN.format(n=21),
                "source": "outlet-a",
            }
        ],
    )
    _, headers, body, _ = wait_until(
        lambda: receiver.on("/ok/signed") and receiver.on("/ok/signed")[0], 20
    )
    assert signed(secret, headers, body)
    assert abs(int(headers["x-mediamon-timestamp"]) - started) < 60
    payload = json.loads(body)
    assert payload["rule"]["id"] == "t-signed" and len(payload["events"]) == 1
    event = payload["events"][0]
    assert event["url"] == "https://news.example.org/a/1"
    assert {"习近平", "普京"} <= set(event["why"]["terms"])
    delivered = wait_until(
        lambda: (
            (e := _events(search, "t-signed"))
            and e[0]["delivery"]["webhook"]["status"] == "delivered"
            and e
        )
    )
    assert delivered[0]["delivery"]["webhook"]["attempts"] == 1


def test_slack_compatible_message(search, worker, receiver: Receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _add("t-slack", "-q", "普京 AND 乌克兰", "--slack", receiver.url("/ok/slack"))
    _ingest(
        tmp_path,
        [
            {
                "url": "https://news.example.org/slack/1",
                "title": "习近平同普京会谈",
                "text": XI_PUTIN.format(n=23),
                "source": "outlet-s",
            }
        ],
    )
    _, headers, body, _ = wait_until(
        lambda: receiver.on("/ok/slack") and receiver.on("/ok/slack")[0], 20
    )
    assert headers["content-type"] == "application/json"
    message = json.loads(body)
    link = "<https://news.example.org/slack/1|习近平同普京会谈>"
    assert link in message["text"] and "outlet-s" in message["text"]
    section = message["blocks"][0]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert link in section["text"]["text"]
    delivered = wait_until(
        lambda: (
            (e := _events(search, "t-slack")) and e[0]["delivery"]["slack"]["status"] == "delivered"
        )
    )
    assert delivered


def test_the_same_story_from_a_second_outlet_does_not_alert_twice(
    search, worker, receiver: Receiver, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _add(
        "t-once", "-q", "entity:xi_jinping AND entity:putin", "--webhook", receiver.url("/ok/once")
    )
    wire = XI_PUTIN.format(n=22) * 3
    _ingest(
        tmp_path,
        [
            {
                "url": "https://outlet-a.example/story",
                "text": "（甲社莫斯科22日电）" + wire,
                "source": "a",
            }
        ],
    )
    wait_until(lambda: receiver.on("/ok/once"), 20)
    _ingest(
        tmp_path,
        [
            {
                "url": "https://outlet-b.example/world/9",
                "text": "（乙报综合报导）" + wire + "（编辑：某人）",
                "source": "b",
            }
        ],
    )
    time.sleep(3)
    refresh(search)
    docs = search.request(
        "POST",
        f"/{search.index_name('articles')}/_search",
        {"query": {"terms": {"source": ["a", "b"]}}},
    )["hits"]["hits"]
    assert len(docs) == 2 and len({d["_source"]["story_id"] for d in docs}) == 1  # one story
    assert len(_events(search, "t-once")) == 1
    assert len(receiver.on("/ok/once")) == 1


def test_an_old_story_is_indexed_without_alerting(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A story published long before it is indexed (a backfill, an archive) is searchable
    but announced by no alert; one published today, in the same batch, is."""
    _add("t-news-only", "-q", "習近平")
    today = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _ingest(
        tmp_path,
        [
            {"url": "https://old.example/2022", "text": TRAD, "source": "old",
             "published_at": "2022-09-14T08:00:00Z"},
            {"url": "https://old.example/today", "text": XI_PUTIN.format(n=24), "source": "old",
             "published_at": today},
        ],
    )  # fmt: skip
    wait_until(lambda: _events(search, "t-news-only"), 20)
    time.sleep(1)
    refresh(search)
    indexed = search.request(
        "POST",
        f"/{search.index_name('articles')}/_search",
        {"query": {"term": {"source": "old"}}},
    )["hits"]["hits"]
    assert {d["_source"]["url"] for d in indexed} == {
        "https://old.example/2022",
        "https://old.example/today",
    }
    assert [e["url"] for e in _events(search, "t-news-only")] == ["https://old.example/today"]


def test_cross_script_and_alias_matching(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _add("t-simplified-rule", "-q", "习近平 AND 乌克兰")  # simplified rule, traditional article
    _add("t-alias", "-q", "entity:putin", "--lang", "zh-Hant")  # matches 蒲亭
    _add("t-traditional-rule", "-q", "烏克蘭 能源")  # traditional rule, simplified article
    _ingest(
        tmp_path,
        [
            {"url": "https://tw.example/1", "text": TRAD, "source": "tw"},
            {"url": "https://cn.example/1", "text": XI_PUTIN.format(n=23), "source": "cn"},
        ],
    )
    wait_until(lambda: _events(search, "t-alias"), 20)
    both = {"https://tw.example/1", "https://cn.example/1"}
    assert {e["url"] for e in _events(search, "t-simplified-rule")} == both  # 習近平 烏克蘭 in tw
    alias = _events(search, "t-alias")
    assert [e["url"] for e in alias] == ["https://tw.example/1"] and alias[0]["why"]["aliases"] == [
        "蒲亭"
    ]
    assert [e["url"] for e in _events(search, "t-traditional-rule")] == ["https://cn.example/1"]


def test_a_failing_webhook_is_retried_then_recorded_as_failed(
    search, worker, receiver: Receiver, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _add("t-fail", "-q", "撒马尔罕 AND entity:putin", "--webhook", receiver.url("/fail"))
    _add("t-flaky", "-q", "撒马尔罕 AND entity:putin", "--webhook", receiver.url("/flaky/2"))
    _ingest(
        tmp_path,
        [{"url": "https://tw.example/2", "text": TRAD + "峰會將在撒馬爾罕舉行。", "source": "tw"}],
    )
    failed = wait_until(
        lambda: (
            (e := _events(search, "t-fail"))
            and e[0]["delivery"]["webhook"]["status"] == "failed"
            and e
        ),
        30,
    )
    assert (
        failed[0]["delivery"]["webhook"]["attempts"] == 3
        and "HTTP 500" in failed[0]["delivery"]["webhook"]["last_error"]
    )
    assert len(receiver.on("/fail")) == 3
    flaky = wait_until(
        lambda: (
            (e := _events(search, "t-flaky"))
            and e[0]["delivery"]["webhook"]["status"] == "delivered"
            and e
        ),
        30,
    )
    assert flaky[0]["delivery"]["webhook"]["attempts"] == 3


def test_a_digest_arrives_by_email_with_several_events(search, worker, smtp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from workers.alerts.delivery import send_digests
    from workers.settings import get_settings
    from workers.state import State

    _add("t-digest", "-q", "entity:kyiv", "--email", "desk@example.org", "--digest", "1h")
    _ingest(
        tmp_path,
        [
            {
                "url": f"https://kyiv.example/{i}",
                "title": f"Kyiv report {i}",
                "source": "ua",
                "text": f"Officials in Kyiv said on day {i} that talks on Ukraine would continue. "
                * (i + 2),
            }
            for i in range(3)
        ],
    )
    state = State(get_settings())
    key = state.key("alerts", "digest", "t-digest")
    wait_until(lambda: state.redis.llen(key) == 3, 20)
    assert not smtp.messages  # nothing before the period ends
    state.redis.zadd(
        state.key("alerts", "digest-due"), {"t-digest": time.time() - 1}
    )  # end the hour now
    send_digests.delay()
    message = wait_until(
        lambda: [m for m in smtp.messages if m["X-Mediamon-Rule"] == "t-digest"], 20
    )[0]
    assert message["To"] == "desk@example.org" and "3 new article(s)" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert all(
        f"https://kyiv.example/{i}" in text and f"https://kyiv.example/{i}" in html
        for i in range(3)
    )
    events = wait_until(
        lambda: (
            (e := _events(search, "t-digest"))
            and all(x["delivery"]["email"]["status"] == "delivered" for x in e)
            and e
        )
    )
    assert len({e["digest_id"] for e in events}) == 1


def test_alerts_cli(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    bad = runner.invoke(main, ["alerts", "add", "t-bad", "-q", "習近平 AND (普京"])
    assert bad.exit_code != 0 and "missing closing parenthesis" in bad.output and "^" in bad.output
    refused = runner.invoke(
        main, ["alerts", "add", "t-ssrf", "-q", "普京", "--webhook", "http://169.254.169.254/x"]
    )
    assert refused.exit_code != 0 and "not a public address" in refused.output
    _add("t-cli", "-q", "撒馬爾罕")
    assert "t-cli" in runner.invoke(main, ["alerts", "list"]).stdout
    assert runner.invoke(main, ["alerts", "disable", "t-cli"]).exit_code == 0
    _ingest(
        tmp_path, [{"url": "https://tw.example/3", "text": TRAD + "撒馬爾罕。", "source": "tw"}]
    )
    time.sleep(2)
    assert _events(search, "t-cli") == []  # disabled rules do not fire
    edited = runner.invoke(
        main, ["alerts", "edit", "t-cli", "-q", "撒馬爾罕 OR 莫斯科", "--digest", "1d"]
    )
    assert edited.exit_code == 0, edited.output
    shown = runner.invoke(main, ["alerts", "show", "t-cli"])
    assert '"mode": "digest"' in shown.stdout and "compiled" in shown.stdout
    tested = runner.invoke(main, ["alerts", "test", "t-cli", "--since", "3650d"])
    assert tested.exit_code == 0 and "[撒馬爾罕]" in tested.stdout
    adhoc = runner.invoke(
        main, ["alerts", "test", "-q", "entity:putin lang:zh-Hant", "--since", "3650d"]
    )
    assert "[蒲亭]" in adhoc.stdout
    assert runner.invoke(main, ["alerts", "delete", "t-cli"]).exit_code == 0
    assert runner.invoke(main, ["alerts", "show", "t-cli"]).exit_code != 0


def test_every_regions_spelling_in_search_and_alerts(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """普丁 and 蒲亭 (Taipei), 普京 (Beijing, Singapore) and Putin are one name: a plain
    word, a phrase or a proximity written with one finds them all, in search and alerts;
    exact: finds the spelling as written."""
    _ingest(
        tmp_path,
        [
            {
                "url": "https://spell.example/mainland",
                "source": "spell",
                "text": "中国国家主席习近平在莫斯科同俄罗斯总统普京举行会谈。",
            },
            {
                "url": "https://spell.example/taipei",
                "source": "spell",
                "text": "中國國家主席習近平與俄羅斯總統普丁在撒馬爾罕會談。",
            },
            {
                "url": "https://spell.example/putin-only",
                "source": "spell",
                "text": "俄罗斯总统普京今天在克里姆林宫发表讲话，谈及能源出口。",
            },
        ],
    )
    search.request("POST", f"/{search.index_name('articles')}/_refresh")

    def found(query: str) -> set[str]:
        result = CliRunner().invoke(main, ["search", f"{query} source:spell", "--json"])
        assert result.exit_code == 0, result.output
        return {json.loads(line)["url"].rsplit("/", 1)[1] for line in result.stdout.splitlines()}

    everyone = {"mainland", "taipei", "putin-only"}
    assert found("普丁") == found("蒲亭") == found("普京") == found("Putin") == everyone
    assert found('"習近平 普丁"~10') == found('"习近平 普京"~10') == {"mainland", "taipei"}
    assert found("習近平 NEAR/10 蒲亭") == {"mainland", "taipei"}
    assert found("exact:普丁") == {"taipei"}
    assert found("entity:putin AND NOT exact:普丁") == {"mainland", "putin-only"}
    tested = CliRunner().invoke(main, ["alerts", "test", "-q", '"習近平 普丁"~10 source:spell'])
    assert tested.exit_code == 0, tested.output
    assert tested.output.startswith("2 article(s)")


def test_topics_test_tries_a_rule_or_a_topic_on_the_index(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _ingest(
        tmp_path,
        [
            {
                "url": "https://topics.example/one",
                "source": "topicstest",
                "text": "中國國家主席習近平與俄羅斯總統普丁今天在撒馬爾罕會談。",
            },
            {
                "url": "https://topics.example/two",
                "source": "topicstest",
                "text": "俄罗斯总统普京下令入侵乌克兰以来，战事已持续多月。",
            },
        ],
    )
    search.request("POST", f"/{search.index_name('articles')}/_refresh")
    result = CliRunner().invoke(main, ["topics", "test", "xi_putin", "--since", "3650d"])
    assert result.exit_code == 0, result.output
    assert "same_sentence:" in result.output and "same_article:" in result.output
    assert 'tried as sentence(...) as "in the same article"' in result.output
    assert "tagged xi_putin now: yes" in result.output
    rule = "near(3, 蒲亭, 入侵) source:topicstest"
    result = CliRunner().invoke(main, ["topics", "test", rule, "--since", "3650d"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("rule: 1 article(s)") and "入侵" in result.output
    bad = CliRunner().invoke(main, ["topics", "test", "near(3, entity:putn, 入侵)"])
    assert bad.exit_code == 1 and "did you mean 'putin'" in bad.output


def test_topics_test_keeps_to_a_rules_days(search, worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The diplomacy rule of ukraine_war counts from the invasion: a 2019 story of the
    same words is neither tagged nor listed by `topics test`."""
    text = "美国乌克兰问题特使今天表示，乌克兰和谈仍有希望。"
    _ingest(
        tmp_path,
        [
            {"url": f"https://topics.example/envoy-{year}", "source": "topicsdays", "text": text,
             "published_at": f"{year}-11-19T12:00:00Z"}
            for year in (2019, 2023)
        ],
    )  # fmt: skip
    search.request("POST", f"/{search.index_name('articles')}/_refresh")
    result = CliRunner().invoke(
        main, ["topics", "test", "ukraine_war", "--since", "3650d", "-n", "500"]
    )
    assert result.exit_code == 0, result.output
    diplomacy = result.output.split("\ndiplomacy: ")[1].split("\narms_and_sanctions: ")[0]
    assert diplomacy.split("\n")[0].endswith("since 2022-02-24")
    assert "topics.example/envoy-2023" in diplomacy and "envoy-2019" not in diplomacy
    listed = CliRunner().invoke(main, ["topics", "list"])
    assert "diplomacy (strong; since 2022-02-24)" in listed.output


def test_hostile_titles_and_channel_credentials(
    search, worker, receiver: Receiver, smtp, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A title cannot ping a Slack channel, add a link or an e-mail header; channel URLs
    are masked wherever rules are shown; a new webhook URL gets a new key; a rule
    without a key is never sent unsigned."""
    from workers.settings import get_settings
    from workers.state import State

    runner = CliRunner()
    slack_url = receiver.url("/ok/hostile-slack/T0/B0/s3cretpart")
    first = _add(
        "t-hostile", "-q", "撒馬爾罕", "--slack", slack_url, "--webhook", receiver.url("/ok/hook-a"),
        "--email", "desk@example.org",
    )  # fmt: skip
    rule_doc = search.request("GET", f"/{search.index_name('alert-rules')}/_doc/t-hostile")
    assert "s3cretpart" not in json.dumps(rule_doc) and "hook-a" not in json.dumps(rule_doc)
    assert "s3cretpart" not in runner.invoke(main, ["alerts", "show", "t-hostile"]).stdout
    kept = runner.invoke(main, ["alerts", "edit", "t-hostile", "-q", "撒馬爾罕 OR 莫斯科"])
    assert kept.exit_code == 0 and "secret" not in kept.stdout  # same URL, same key
    moved = runner.invoke(
        main, ["alerts", "edit", "t-hostile", "--webhook", receiver.url("/ok/hook-b")]
    )
    assert moved.exit_code == 0, moved.output
    key_a, key_b = secret_in(first), secret_in(moved.stdout)
    assert key_a != key_b

    title = "<!channel> <https://phish.example|bank login>\nBcc: victim@example.org"
    _ingest(
        tmp_path,
        [{"url": "https://tw.example/hostile", "title": title, "text": TRAD + "撒馬爾罕。", "source": "tw"}],
    )  # fmt: skip
    _, _, body, _ = wait_until(lambda: receiver.on("/ok/hostile-slack/T0/B0/s3cretpart") and receiver.on("/ok/hostile-slack/T0/B0/s3cretpart")[0], 20)  # fmt: skip
    text = json.loads(body)["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<https://phish.example|" not in text
    mail = wait_until(
        lambda: [m for m in smtp.messages if m["X-Mediamon-Rule"] == "t-hostile"], 20
    )[0]
    assert "\n" not in mail["Subject"] and mail["Bcc"] is None and "<!channel>" in mail["Subject"]
    _, headers, hook_body, _ = wait_until(lambda: receiver.on("/ok/hook-b") and receiver.on("/ok/hook-b")[0], 20)  # fmt: skip
    assert signed(key_b, headers, hook_body) and not signed(key_a, headers, hook_body)

    state = State(get_settings())
    state.redis.hdel(state.key("alert-secrets"), "t-hostile")
    _ingest(tmp_path, [{"url": "https://tw.example/hostile-2", "text": TRAD + "莫斯科。", "source": "tw"}])  # fmt: skip

    def webhook_failed():  # type: ignore[no-untyped-def]
        events = [e for e in _events(search, "t-hostile") if e["url"].endswith("hostile-2")]
        status = events and (events[0].get("delivery") or {}).get("webhook", {})
        return status and status.get("status") == "failed" and status

    assert "no signing secret" in wait_until(webhook_failed, 20)["last_error"]
    assert len(receiver.on("/ok/hook-b")) == 1  # nothing unsigned went out


def test_batches_are_percolated_only_while_a_rule_is_enabled(search) -> None:  # type: ignore[no-untyped-def]
    """The number of enabled rules is kept in Redis, so a batch costs the engine no
    percolation when there is none; saving, disabling or deleting a rule makes the
    next batch count again, and a rule written to the index by other means is seen
    once the kept number expires."""
    import uuid

    from workers.alerts.rules import AlertRule, Rules, enabled_rules
    from workers.search import templates
    from workers.search.client import connect
    from workers.settings import Settings
    from workers.state import State

    settings = Settings(index_prefix=f"t-enabled-{uuid.uuid4().hex[:6]}-")
    client, state = connect(settings), State(settings)
    templates.apply(client)
    kept = state.key("alert-rules", "enabled")
    try:
        rules = Rules(client, state)
        assert enabled_rules(client, state) == 0
        assert state.redis.get(kept) == "0" and 0 < state.redis.ttl(kept) <= 60
        rules.save(AlertRule(id="r1", name="r1", query="普京"), new=True)
        assert enabled_rules(client, state) == 1
        rules.save(AlertRule(id="r1", name="r1", query="普京", enabled=False), new=False)
        assert enabled_rules(client, state) == 0
        rules.save(AlertRule(id="r2", name="r2", query="習近平"), new=True)
        rules.delete("r2")
        assert enabled_rules(client, state) == 0
        index = client.index_name("alert-rules")
        stored = client.request("GET", f"/{index}/_doc/r1")["_source"]
        client.request(  # enabled behind the rules' back
            "PUT", f"/{index}/_doc/r1", {**stored, "enabled": True}, params={"refresh": "true"}
        )
        assert enabled_rules(client, state) == 0  # until the kept number expires
        state.redis.delete(kept)
        assert enabled_rules(client, state) == 1
    finally:
        templates.drop(client)
        state.redis.delete(kept, state.key("alert-secrets"), state.key("alert-channels"))
