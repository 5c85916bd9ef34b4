"""Feed polling throughput of the I/O pool, against feeds served on this machine, with
and without internet-like latency in the same run.

    make services && .venv/bin/python bench/bench_polling.py --latency 0.3 [--feeds 2000]

Serves N RSS feeds of 20 items (ETag and 304 like a real site) spread over many
"sites" (addresses on 127.0.0.0/8, let through the SSRF guard for the run), so that
per-host politeness (1 s between requests to a host, 2 at once: the defaults) works as
with real sites. Each phase starts `mediamon worker --pool io` (gevent,
MEDIAMON_IO_CONCURRENCY) on the feeds queue, ticks beat's release of polls whose host's
slot has come once a second, and runs rounds of polls: in the first round
every item is new, in later ones a share of the feeds (30%) gains an item and the rest
answer 304. The first phase answers at once; the second after a delay drawn from a
lognormal distribution with the given median (p99 about 10 × the median), with 1% of
requests hanging until the fetch deadline and 0.5% reset. Article fetching is off
(nothing consumes the fetch queue): this measures polling.

Prints per phase: polls/s, p50/p95 of a poll's time from queued to recorded, CPU and
memory of the worker, and what limits. Uses Redis database 14 and its own index prefix.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
from bench._common import stack_env  # noqa: E402

RUN = stack_env(
    14,
    MEDIAMON_FETCH_PAGES="false",
    MEDIAMON_ALLOW_PRIVATE_ADDRESSES="127.0.0.0/8",
    MEDIAMON_HOST_MIN_INTERVAL="1.0",
    MEDIAMON_HOST_MAX_CONCURRENCY="2",
    MEDIAMON_FETCH_TIMEOUT="30",
)

import psutil  # noqa: E402

from tests.feedserver import FeedServer, Latency  # noqa: E402
from tests.processes import start_pools  # noqa: E402


def feed_xml(feed: int, first: int, items: int = 20) -> str:
    entries = "".join(
        f"<item><title>Story {n} of feed {feed}: talks on Ukraine</title>"
        f"<link>http://127.0.0.1/a/{feed}/{n}</link><guid>{feed}-{n}</guid>"
        f"<pubDate>Mon, 01 Jan 2024 {n % 24:02d}:00:00 GMT</pubDate>"
        f"<description>Item {n} of a benchmark feed about Kyiv and Moscow.</description></item>"
        for n in range(first, first + items)
    )
    head = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
    return f"{head}{entries}</channel></rss>"


def tree_usage(proc: psutil.Process) -> tuple[float, float]:
    """CPU seconds and RSS (MiB) of a process and its children."""
    procs = [proc, *proc.children(recursive=True)]
    cpu = rss = 0.0
    for p in procs:
        try:
            times = p.cpu_times()
            cpu += times.user + times.system
            rss += p.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            continue
    return cpu, rss


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def phase(name: str, args: argparse.Namespace, latency: Latency | None, state, store) -> dict:  # type: ignore[no-untyped-def]
    from workers.feeds.polling import poll_feed, release_waiting
    from workers.feeds.store import FeedConfig

    state.redis.flushdb()
    heads = [0] * args.feeds
    with FeedServer(hosts=args.hosts, latency=latency) as server:
        for i in range(args.feeds):
            server.set(f"f{i}", feed_xml(i, heads[i]))
            url = server.site(i % args.hosts) + f"/dyn/f{i}"
            store().upsert(FeedConfig(id=f"f{i}", url=url, adaptive=False, interval=86400))
        worker = start_pools(
            f"bench-{RUN}", ROOT / ".state" / "bench-polling-worker.log", pool="io", mode="wb"
        )
        peak = [0]
        ticking = threading.Event()

        def tick() -> None:
            """Beat's release tick, and the requests in flight (host leases) sampled."""
            while not ticking.is_set():
                release_waiting()
                for _ in range(4):
                    keys = list(
                        state.redis.scan_iter(match=state.key("host:*:inflight"), count=1000)
                    )
                    pipe = state.redis.pipeline(transaction=False)
                    for key in keys:
                        pipe.zcard(key)
                    peak[0] = max(peak[0], sum(pipe.execute()))
                    time.sleep(0.25)

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            proc = psutil.Process(worker.pid)
            time.sleep(4)  # start-up
            print(f"\n{name}: {args.feeds} feeds on {args.hosts} sites, I/O pool of "
                  f"{args.io} green threads")  # fmt: skip
            print("{:<6} {:>7} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}".format(
                "round", "changed", "seconds", "polls/s", "p50 s", "p95 s", "CPU", "RSS MiB"))  # fmt: skip
            rates, p50s, p95s, cpus, rsss = [], [], [], [], []
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
                cpu_before, _ = tree_usage(proc)
                queued = time.time()
                started = time.monotonic()
                for i in range(args.feeds):
                    poll_feed.delay(f"f{i}")
                while state.counters().get("polls", 0) - before < args.feeds:
                    if worker.poll() is not None:
                        raise RuntimeError("the worker died; see .state/bench-polling-worker.log")
                    if time.monotonic() - started > args.feeds:  # a poll a second at worst
                        raise RuntimeError("polls stopped coming in")
                    time.sleep(0.1)
                elapsed = time.monotonic() - started
                cpu_after, rss = tree_usage(proc)
                waits = [
                    float(s["last_attempt_at"]) - queued
                    for s in store().states([f"f{i}" for i in range(args.feeds)]).values()
                    if s.get("last_attempt_at")
                ]
                rate = args.feeds / elapsed
                cpu = (cpu_after - cpu_before) / elapsed
                p50, p95 = percentile(waits, 0.5), percentile(waits, 0.95)
                if round_no > 1:
                    (
                        rates.append(rate),
                        p50s.append(p50),
                        p95s.append(p95),
                        cpus.append(cpu),
                        rsss.append(rss),
                    )  # type: ignore[func-returns-value]
                print(f"{round_no:<6} {len(changed):>7} {elapsed:>8.1f} {rate:>8.0f} {p50:>9.2f} "
                      f"{p95:>9.2f} {cpu:>9.0%} {rss:>9.0f}")  # fmt: skip
            return {
                "polls/s": statistics.mean(rates),
                "p50": statistics.mean(p50s),
                "p95": statistics.mean(p95s),
                "cpu": statistics.mean(cpus),
                "rss": max(rsss),
                "in flight": peak[0],
            }
        finally:
            ticking.set()
            worker.terminate()
            worker.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=200, help="sites the feeds are spread over")
    parser.add_argument("--latency", type=float, default=0.3, help="median answer time, seconds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds a phase; the first warms up")
    parser.add_argument("--changed", type=float, default=0.3, help="share of feeds changed a round")
    parser.add_argument("--io", type=int, default=200, help="green threads of the I/O pool")
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2: the first round warms up and is left out")
    import os

    os.environ["MEDIAMON_IO_CONCURRENCY"] = str(args.io)
    from workers.feeds.polling import store
    from workers.settings import get_settings
    from workers.state import State

    state = State(get_settings())
    try:
        state.redis.ping()
    except Exception as exc:
        print(f"Redis is not reachable ({exc}); run `make services` first", file=sys.stderr)
        return 2
    results = {
        "no latency": phase("no latency", args, None, state, store),
        f"latency {args.latency:g} s": phase(
            f"latency: median {args.latency:g} s, p99 ~{args.latency * 10:g} s, 1% hang, "
            "0.5% reset",
            args,
            Latency(args.latency),
            state,
            store,
        ),
    }
    state.redis.flushdb()
    print("\nsustained (rounds after the first):")
    for name, r in results.items():
        print(f"  {name:<16} {r['polls/s']:6.0f} polls/s   queued->polled p50 {r['p50']:.2f} s, "
              f"p95 {r['p95']:.2f} s   worker CPU {r['cpu']:.0%}, RSS {r['rss']:.0f} MiB, "
              f"peak {r['in flight']} requests in flight")  # fmt: skip
    needed = 180_000 / 3600
    print(f"180,000 feeds at one-hour freshness need {needed:.0f} polls/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
