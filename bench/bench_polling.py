"""Feed polling throughput of one worker process, against feeds served on this machine.

    make services && .venv/bin/python bench/bench_polling.py [--feeds 2000] [--rounds 4]

Serves N RSS feeds of 20 items from a local scripted server (ETag and 304 like a real
site), registers them, and runs rounds of polls through one Celery worker process
(`-P solo` on the `feeds` queue). In the first round every item is new; in each later
round a fraction of the feeds (default 30%) gains one item, the rest answer 304. Prints
polls/s and the worker's CPU per round. Article fetching is off (the `articles` queue
is not consumed): this measures polling. All feeds share one host, so politeness is
set to no spacing here; with real sites the per-host spacing, not the worker, sets the
pace per host. Uses Redis database 14 and its own index prefix, and removes both.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
from bench._common import stack_env  # noqa: E402

RUN = stack_env(14, MEDIAMON_HOST_MAX_CONCURRENCY="10000", MEDIAMON_FETCH_PAGES="false")

import psutil  # noqa: E402

from tests.feedserver import FeedServer  # noqa: E402
from tests.processes import start_worker  # noqa: E402


def feed_xml(feed: int, first: int, items: int = 20) -> str:
    entries = "".join(
        f"<item><title>Story {n} of feed {feed}: talks on Ukraine</title>"
        f"<link>{{base}}/a/{feed}/{n}</link><guid>{feed}-{n}</guid>"
        f"<pubDate>Mon, 01 Jan 2024 {n % 24:02d}:00:00 GMT</pubDate>"
        f"<description>Item {n} of a benchmark feed about Kyiv and Moscow.</description></item>"
        for n in range(first, first + items)
    )
    head = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
    return f"{head}{entries}</channel></rss>"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument(
        "--rounds", type=int, default=4, help="rounds of polls; the first (cold) is not averaged"
    )
    parser.add_argument(
        "--changed", type=float, default=0.3, help="share of feeds with a new item per round"
    )
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2: the first round warms up and is left out")

    from workers.feeds.polling import poll_feed, store
    from workers.feeds.store import FeedConfig
    from workers.state import State

    state = State.__new__(State)
    from workers.settings import get_settings

    State.__init__(state, get_settings())
    try:
        state.redis.ping()
    except Exception as exc:
        print(f"Redis is not reachable ({exc}); run `make services` first", file=sys.stderr)
        return 2
    state.redis.flushdb()
    heads = [0] * args.feeds
    with FeedServer() as server:
        for i in range(args.feeds):
            server.set(f"f{i}", feed_xml(i, heads[i]))
            store().upsert(
                FeedConfig(id=f"f{i}", url=server.url(f"/dyn/f{i}"), adaptive=False, interval=86400)
            )
        worker = start_worker(
            f"bench-{RUN}",
            ROOT / ".state" / "bench-polling-worker.log",
            queues="feeds",
            pool="solo",
            loglevel="WARNING",
            mode="wb",
        )
        try:
            proc = psutil.Process(worker.pid)
            time.sleep(3)  # worker start-up (imports, dictionaries)
            print(
                f"{args.feeds} feeds of 20 items on {server.base}; "
                f"one worker process (pid {worker.pid})"
            )
            columns = ("round", "changed", "polls", "seconds", "polls/s", "worker CPU")
            print("{:<6} {:>8} {:>6} {:>8} {:>8} {:>11}".format(*columns))
            rates = []
            for round_no in range(1, args.rounds + 1):
                changed = (
                    range(args.feeds)
                    if round_no == 1
                    else random.sample(range(args.feeds), int(args.feeds * args.changed))
                )
                if round_no > 1:
                    for i in changed:
                        heads[i] += 1
                        server.set(f"f{i}", feed_xml(i, heads[i]))
                before = state.counters().get("polls", 0)
                cpu_before = sum(proc.cpu_times()[:2])
                started = time.monotonic()
                for i in range(args.feeds):
                    poll_feed.delay(f"f{i}")
                while state.counters().get("polls", 0) - before < args.feeds:
                    if worker.poll() is not None:
                        raise RuntimeError("the worker died; see .state/bench-polling-worker.log")
                    time.sleep(0.05)
                elapsed = time.monotonic() - started
                cpu = sum(proc.cpu_times()[:2]) - cpu_before
                rate = args.feeds / elapsed
                if round_no > 1:
                    rates.append(rate)
                print(
                    f"{round_no:<6} {len(changed):>8} {args.feeds:>6} {elapsed:>8.1f} "
                    f"{rate:>8.0f} {cpu / elapsed:>10.0%}"
                )
            counters = state.counters()
            print(
                f"sustained (rounds 2-{args.rounds}): {sum(rates) / len(rates):.0f} polls/s; "
                f"unchanged polls {counters.get('polls_unchanged', 0)}, "
                f"new items {counters.get('items_new', 0)}"
            )
            needed = 180_000 / 3600
            print(f"180,000 feeds at one-hour freshness need {needed:.0f} polls/s")
        finally:
            worker.terminate()
            worker.wait(30)
            state.redis.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
