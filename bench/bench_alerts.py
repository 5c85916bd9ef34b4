"""Keyword alerts: delivery latency and percolation cost.

    make services && .venv/bin/python bench/bench_alerts.py [--articles 40] [--rules 1000 10000]

1. Latency at light load: one immediate rule with a webhook to a local receiver; one
   article every 0.5 s through the real worker; for each, the time from the document
   being written to the index (its ``indexed_at``) to the webhook arriving. p50/p95.
2. Percolation: N stored rules (words, phrases, proximity, entity and topic filters
   drawn from real headlines), then one percolate request for a batch of 100 articles,
   timed (median of 5), as the worker sends it after each bulk.
Uses Redis database 12 and its own index prefix, removed afterwards. Articles come from
the Zaobao 2023 headlines when ../shared/data is present, else from the project's
fixtures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
ROOT = Path(__file__).resolve().parent.parent
RUN = uuid.uuid4().hex[:6]
os.environ.update(
    MEDIAMON_REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6390/12"),
    MEDIAMON_INDEX_PREFIX=f"bench-{RUN}-",
    MEDIAMON_ALLOW_PRIVATE_ADDRESSES="127.0.0.1/32",
    MEDIAMON_LOG_LEVEL="WARNING",
    MEDIAMON_FEEDS_FILE=str(ROOT / "tests" / "data" / "feeds" / "empty.yaml"),
)

from bench._common import ZAOBAO_2023, services  # noqa: E402
from tests.processes import start_worker  # noqa: E402
from tests.webhooks import Receiver  # noqa: E402


def texts(zaobao: Path, n: int) -> list[dict]:
    if zaobao.exists():
        with gzip.open(zaobao, "rt", encoding="utf-8") as handle:
            stories = [json.loads(line) for line in handle]
        random.Random(7).shuffle(stories)
        return [
            {
                "title": s["title"],
                "text": s.get("summary") or s["title"],
                "url": s["url"],
                "source": "zaobao",
            }
            for s in stories[:n]
        ]
    cases = sorted((ROOT / "tests" / "data").glob("*/input.txt"))
    return [
        {
            "text": cases[i % len(cases)].read_text(encoding="utf-8") + f" {i}",
            "url": f"https://example.org/{i}",
        }
        for i in range(n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40, help="articles for the latency run")
    parser.add_argument("--rules", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--zaobao", type=Path, default=ZAOBAO_2023)
    args = parser.parse_args()

    from pipelines.article import RawArticle
    from workers.alerts.rules import AlertRule, Rules, compile_rule
    from workers.config import build_pipeline
    from workers.search import templates

    settings, state, client = services()
    pipeline = build_pipeline(settings.config_dir)
    corpus = texts(args.zaobao, max(args.articles, 100) + 100)
    worker = None
    try:
        # ---------------------------------------------------------- latency
        with Receiver() as receiver:
            rules = Rules(client, state)
            rules.save(
                AlertRule(
                    id="latency",
                    name="latency",
                    query="entity:china OR entity:united_states OR 中国 OR 美国 OR 香港 OR 台湾",
                    webhook=receiver.url("/ok"),
                ),
                new=True,
            )
            worker = start_worker(
                f"bench-{RUN}",
                ROOT / ".state" / "bench-alerts-worker.log",
                queues="articles,alerts",
                loglevel="WARNING",
                mode="wb",
            )
            time.sleep(4)
            from workers.articles.staging import to_payload
            from workers.articles.tasks import process_articles

            sent = 0
            for item in corpus[: args.articles]:
                keys = state.stage([to_payload(RawArticle(**item))])
                process_articles.delay(keys)
                sent += 1
                time.sleep(0.5)
            deadline = time.time() + 30
            while time.time() < deadline and len(receiver.on("/ok")) < 1:
                time.sleep(0.2)
            time.sleep(3)
            latencies = []
            for _, _, body, arrived in receiver.on("/ok"):
                for event in json.loads(body)["events"]:
                    doc = client.request(
                        "GET", f"/{client.index_name('articles')}/_doc/{event['article_id']}"
                    )
                    indexed = datetime.fromisoformat(doc["_source"]["indexed_at"]).timestamp()
                    latencies.append(arrived - indexed)
            if latencies:
                latencies.sort()
                p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
                print(
                    f"latency, indexed -> webhook received: {len(latencies)} alerts from {sent} articles "
                    f"(one every 0.5 s): p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                    f"max {latencies[-1] * 1000:.0f} ms"
                )
            else:
                print("latency: no alert arrived (see .state/bench-alerts-worker.log)")
        worker.terminate()
        worker.wait(30)
        worker = None

        # ---------------------------------------------------------- percolation
        docs = []
        for item in corpus[:100]:
            doc = pipeline.process(RawArticle(**item))
            docs.append(doc)
        vocabulary = sorted({t for d in docs for t in d["text_tokens"].split() if len(t) >= 2})
        entities = sorted(pipeline.catalogue.entities)
        rng = random.Random(11)

        def random_query() -> str:
            a, b = rng.sample(vocabulary, 2)
            shape = rng.randrange(5)
            return [
                f"{a} {b}",
                f"{a} OR {b}",
                f'"{a} {b}"~5',
                f"entity:{rng.choice(entities)} AND {a}",
                f"{a} AND NOT {b} topic:{rng.choice(['xi_putin', 'ukraine_war'])}",
            ][shape]

        stored = 0
        print(f"{'rules':>7} {'articles':>9} {'percolate (median of 5)':>25} {'matches':>8}")
        for target in sorted(args.rules):
            operations = []
            while stored < target:
                rule = AlertRule(id=f"r{stored}", name=f"r{stored}", query=random_query())
                doc = {
                    "query": compile_rule(rule, settings),
                    "rule_id": rule.id,
                    "name": rule.name,
                    "query_text": rule.query,
                    "mode": "digest",
                    "digest_every_s": 86400,
                    "throttle_s": 0,
                    "channels": {},
                    "enabled": True,
                }
                operations += [
                    {"index": {"_index": client.index_name("alert-rules"), "_id": rule.id}},
                    doc,
                ]
                stored += 1
                if len(operations) >= 2000:
                    client.bulk(operations)
                    operations = []
            if operations:
                client.bulk(operations)
            client.request("POST", f"/{client.index_name('alert-rules')}/_refresh")
            timings = []
            body_docs = [
                {
                    k: d[k]
                    for k in ("text_tokens", "text_norm", "title", "topics", "source", "lang")
                    if k in d
                }
                | {"entities": [{"id": e["id"], "type": e["type"]} for e in d["entities"]]}
                for d in docs
            ]
            for _ in range(5):
                started = time.perf_counter()
                response = client.request(
                    "POST",
                    f"/{client.index_name('alert-rules')}/_search",
                    {
                        "query": {
                            "bool": {
                                "must": [{"percolate": {"field": "query", "documents": body_docs}}],
                                "filter": [{"term": {"enabled": True}}],
                            }
                        },
                        "size": 10000,
                        "_source": False,
                    },
                )
                timings.append(time.perf_counter() - started)
            print(
                f"{stored:>7} {len(docs):>9} {statistics.median(timings) * 1000:>22.0f} ms "
                f"{response['hits']['total']['value']:>8}"
            )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        templates.drop(client)
        state.redis.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
