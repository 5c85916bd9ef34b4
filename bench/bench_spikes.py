"""Spike rules on a year of real coverage, and what checking many of them costs.

    make services && .venv/bin/python bench/bench_spikes.py [--rules 1000]

1. Ingests the public Zaobao 2023 file (headlines and summaries of 联合早报's China
   desk) through `mediamon ingest` and the real worker.
2. Runs an ``xi_putin`` spike rule over 2023 retroactively (`alerts test`'s code), with
   days beginning in Singapore, and prints one line a firing:
   ``fired YYYY-MM-DD now=… baseline=… factor=… z=…`` and why (the day's matching
   headlines). Once with the default parameters, once with the documented tuning for
   a series this sparse (docs/alerts.md).
3. Times one rule's year (365 daily buckets, one aggregation request), and the live
   check of N spike rules (topics, entities and words from the headlines) on the same
   index: median of 5 each.
Uses Redis database 12 and its own index prefix, removed afterwards.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, ZAOBAO_2023, require, services, stack_env

RUN = stack_env(12, MEDIAMON_TIMEZONE="Asia/Singapore")

from tests.processes import start_worker  # noqa: E402

# The rule's documented parameters: the defaults, then the tuning docs/alerts.md gives
# for a series that is empty on most days (min count 2, threshold 2).
SETTINGS = {
    "default": {},
    "sparse": {"min_count": 2, "threshold": 2.0},
}
YEAR = ("2023-01-01", "2023-12-31")


def ingest(path: Path) -> float:
    """The Zaobao stories as ingest's JSON lines, sent through `mediamon ingest`."""
    with (
        gzip.open(path, "rt", encoding="utf-8") as handle,
        tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as out,
    ):
        for line in handle:
            story = json.loads(line)
            item = {
                "title": story["title"],
                "text": story.get("summary") or story["title"],
                "url": story["url"],
                "source": "zaobao",
            }
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mediamon"), "ingest", out.name, "--timeout", "900"],
        capture_output=True,
        text=True,
        check=False,
    )
    Path(out.name).unlink()
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:])
    return time.perf_counter() - started


def headlines(client, query, day: str, tz) -> list[str]:  # type: ignore[no-untyped-def]
    from pipelines.periods import period

    window = period(day, day, now=datetime.now(UTC), tz=tz)
    body = {
        "size": 5,
        "query": {"bool": {"must": [query], "filter": [window.range()]}},
        "_source": ["title"],
        "sort": [{"published_at": "asc"}],
    }
    hits = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    return [h["_source"]["title"] for h in hits["hits"]["hits"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000, help="spike rules for the check")
    parser.add_argument("--zaobao", type=Path, default=ZAOBAO_2023)
    args = parser.parse_args()
    if not require(args.zaobao, "Zaobao 2023"):
        return 0

    from pipelines.periods import period
    from pipelines.spikes import SpikeParams
    from workers.alerts.rules import AlertRule, compile_rule, document
    from workers.alerts.spikes import check, count, replay
    from workers.config import build_pipeline
    from workers.search import templates

    settings, state, client = services()
    tz = settings.tz
    worker = start_worker(
        f"bench-{RUN}",
        ROOT / ".state" / "bench-spikes-worker.log",
        queues="articles",
        loglevel="WARNING",
        mode="wb",
    )
    try:
        time.sleep(4)
        took = ingest(args.zaobao)
        client.request("POST", f"/{client.index_name('articles')}/_refresh")
        total = client.request("POST", f"/{client.index_name('articles')}/_count", {})["count"]
        print(
            f"ingested: {total} articles in {took:.0f} s (through `mediamon ingest` and the worker)"
        )

        # ---------------------------------------------------------- the year, replayed
        year = period(*YEAR, now=datetime.now(UTC), tz=tz)
        rule = AlertRule(id="xi-putin-spike", name="Xi–Putin spike", query="topic:xi_putin")
        compiled = compile_rule(rule, settings)
        for label, tuning in SETTINGS.items():
            params = SpikeParams(**tuning)
            series, firings, begin = replay(client, compiled, params, period=year, tz=tz)
            selected = sum(series.counts[begin:])
            print(
                f"\nxi_putin spike rule, per day, {params.measure}, days in {getattr(tz, 'key', tz)} "
                f"({label}: window {params.window}, {params.baseline}, threshold "
                f"{params.threshold:g}, min factor {params.min_factor:g}, min count "
                f"{params.min_count}, cooldown {params.cooldown}): {selected} of "
                f"{sum(series.totals[begin:])} articles in 2023 carry the topic"
            )
            for firing in firings:
                print(f"fired {firing.period} {firing.numbers(params.measure)}")
                for title in headlines(client, compiled, firing.period, tz):
                    print(f"    {title}")
            print(f"{len(firings)} firing(s)")

        # ---------------------------------------------------------- cost
        timings, buckets = [], 0
        for _ in range(5):
            started = time.perf_counter()
            found = count(client, {"rule": compiled}, per="day", period=year, tz=tz)
            timings.append(time.perf_counter() - started)
            buckets = len(found["rule"].labels)
        print(
            f"\none rule over 2023 ({buckets} daily buckets, one request): "
            f"{statistics.median(timings) * 1000:.0f} ms (median of 5)"
        )
        pipeline = build_pipeline(settings.config_dir)
        rng = random.Random(5)
        sample = client.request(
            "POST",
            f"/{client.index_name('articles')}/_search",
            {
                "size": 300,
                "_source": ["text_tokens"],
                "query": {"match_all": {}},
                "sort": [{"url": "asc"}],  # the same words each run
            },
        )["hits"]["hits"]
        words = sorted(
            {
                w
                for h in sample
                for w in (h["_source"].get("text_tokens") or "").split()
                if len(w) >= 2 and not w.isascii()
            }
        ) or ["中国", "美国"]
        kinds = [f"topic:{t.id}" for t in pipeline.topics]
        kinds += [f"entity:{e}" for e in sorted(pipeline.catalogue.entities)]
        operations = []
        for n in range(args.rules):
            query = rng.choice(kinds) if n % 2 else " OR ".join(rng.sample(words, 2))
            spike = SpikeParams(
                per="day",
                measure=rng.choice(["count", "share"]),
                window=rng.choice([14, 28, 56]),
                baseline="median" if n % 3 else "weekday",
            )
            made = AlertRule(id=f"r{n}", name=f"r{n}", query=query, kind="spike", spike=spike)
            operations += [
                {"index": {"_index": client.index_name("alert-rules"), "_id": made.id}},
                document(made, compile_rule(made, settings), {}),
            ]
        client.bulk(operations, refresh=True)
        now = datetime(2023, 10, 18, 12, tzinfo=UTC)
        timings, fired = [], 0
        for _ in range(5):
            started = time.perf_counter()
            events, checked = check(client, now=now, tz=tz)
            timings.append(time.perf_counter() - started)
            fired = len(events)
        print(
            f"live check of {checked} spike rules (now = {now.date()}): "
            f"{statistics.median(timings):.2f} s (median of 5; goal < 10 s), {fired} fire"
        )
    finally:
        worker.terminate()
        worker.wait(30)
        templates.drop(client)
        state.redis.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
