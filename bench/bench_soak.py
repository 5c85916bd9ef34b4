"""Soak: the end-to-end flow at a steady rate for a long time; does worker memory grow?

    make services && .venv/bin/python bench/bench_soak.py [--minutes 30] [--rate 100]

Publishes items into local feeds at a steady rate (as bench_e2e.py does), polls every
feed every 2 s, and samples the resident memory of every worker process each 30 s.
Prints the samples and the slope of a least-squares line through them after a 5-minute
warm-up (MiB per hour; about zero means no growth), with the articles indexed.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import psutil

from bench import bench_e2e as e2e
from tests.feedserver import FeedServer
from tests.processes import start_worker


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (hours, MiB)."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=5, help="minutes left out of the slope")
    parser.add_argument("--sample", type=float, default=30, help="seconds between memory samples")
    args = parser.parse_args()

    from workers.feeds.polling import poll_feed, store
    from workers.feeds.store import FeedConfig
    from workers.search import templates
    from workers.search.client import connect
    from workers.settings import get_settings
    from workers.state import State

    settings = get_settings()
    state = State(settings)
    client = connect(settings)
    state.redis.flushdb()
    templates.apply(client)
    stop = threading.Event()
    with FeedServer() as server:
        server.generator = e2e.page
        items: list[list[int]] = [[] for _ in range(args.feeds)]
        counter = [0] * args.feeds
        for f in range(args.feeds):
            server.set(f"f{f}", e2e.feed_xml(f, items[f], server.base))
            store().upsert(
                FeedConfig(id=f"f{f}", url=server.url(f"/dyn/f{f}"), adaptive=False, interval=86400)
            )

        def publish() -> None:
            carry, f = 0.0, 0
            while not stop.is_set():
                carry += args.rate * 0.1
                touched = set()
                while carry >= 1:
                    carry -= 1
                    counter[f] += 1
                    items[f] = (items[f] + [counter[f]])[-20:]
                    touched.add(f)
                    f = (f + 1) % args.feeds
                for t in touched:
                    server.set(f"f{t}", e2e.feed_xml(t, items[t], server.base))
                time.sleep(0.1)

        def poll() -> None:
            while not stop.is_set():
                for f in range(args.feeds):
                    poll_feed.delay(f"f{f}")
                time.sleep(2)

        root = Path(e2e.ROOT)
        worker = start_worker(
            f"soak-{e2e.RUN}",
            root / ".state" / "bench-soak-worker.log",
            concurrency=4,
            loglevel="WARNING",
            mode="wb",
        )
        samples: list[tuple[float, float]] = []
        try:
            time.sleep(5)
            for target in (publish, poll):
                threading.Thread(target=target, daemon=True).start()
            started = time.time()
            parent = psutil.Process(worker.pid)
            print(
                f"soak: {args.rate:.0f} items/s into {args.feeds} feeds for {args.minutes:.0f} min; "
                f"worker RSS (parent + {len(parent.children())} processes), MiB:",
                flush=True,
            )
            while time.time() - started < args.minutes * 60:
                time.sleep(args.sample)
                procs = [parent, *parent.children(recursive=True)]
                total = sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20
                minutes = (time.time() - started) / 60
                samples.append((minutes, total))
                indexed = state.counters().get("indexed", 0)
                print(f"  {minutes:6.1f} min  {total:8.1f} MiB  indexed {indexed}", flush=True)
        finally:
            stop.set()
            worker.terminate()
            worker.wait(60)
    steady = [(m / 60, r) for m, r in samples if m >= args.warmup]
    first, last = (steady[0][1], steady[-1][1]) if steady else (0.0, 0.0)
    print(
        f"after the {args.warmup:.0f}-minute warm-up: {first:.1f} -> {last:.1f} MiB; "
        f"slope {slope(steady):+.1f} MiB/hour over {len(steady)} samples; "
        f"articles indexed: {state.counters().get('indexed', 0)}"
    )
    templates.drop(client)
    state.redis.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
