"""End to end: feed items to searchable documents through Redis, Celery and the engine,
with and without internet-like latency in the same run.

    make services && .venv/bin/python bench/bench_e2e.py --latency 0.3 [--feeds 400] [--rate 150]

A local server publishes new items into N RSS feeds at a steady rate and serves each
item's article page (about 3 KB of Chinese or English news text). The feeds are spread
over many "sites" (addresses on 127.0.0.0/8, let through the SSRF guard for the run), so
per-host politeness (1 s between requests to a host, 2 at once: the defaults) works as
with real sites; every feed is due every few seconds, and the bench runs beat's two
ticks once a second (due feeds are queued; polls and pages whose host's slot has come
are released). `mediamon worker` runs as users run it: the I/O pool (gevent) polls and
fetches, the CPU pool (one process a core) processes, bulk-indexes and percolates. The
bench watches the index for new documents.

With --latency M, a second phase runs after the first with the server answering after a
delay drawn from a lognormal distribution with median M (p99 about 10 × M), 1% of
requests hanging until the fetch deadline and 0.5% reset. `--hosts 1 --spacing 0
--host-concurrency 64 --feeds 100 --rate 350 --poll-every 2` is the local load measured
before the I/O pool existed (docs/reliability.md).

Prints per phase: articles/s that became searchable while items were being published;
latency from the poll that first saw an item to its document being searchable
(p50/p95); CPU and memory of each component; queue lengths, and which stage limits
throughput. Uses Redis database 11 and its own index prefix, removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
ROOT = Path(__file__).resolve().parent.parent
from bench._common import service_processes, services, stack_env  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=400)
    parser.add_argument("--hosts", type=int, default=400, help="sites the feeds are spread over")
    parser.add_argument(
        "--rate", type=float, default=150, help="new items per second, all feeds together"
    )
    parser.add_argument("--seconds", type=float, default=60, help="how long items are published")
    parser.add_argument("--items", type=int, default=20, help="items a feed lists (the newest)")
    parser.add_argument(
        "--poll-every", type=float, default=5.0, help="seconds between polls of a feed"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="median answer time of a second phase (s)"
    )
    parser.add_argument(
        "--spacing", type=float, default=1.0, help="seconds between requests to a host"
    )
    parser.add_argument("--host-concurrency", type=int, default=2, help="requests a host at once")
    return parser.parse_args()


ARGS = arguments()
# Seconds before its last look that the watcher asks from (a document's bulk request
# and the refresh after it take under 2 s unless the engine is far behind).
WATCH_MARGIN = 5.0
RUN = stack_env(
    11,
    MEDIAMON_RESPECT_ROBOTS="true",
    MEDIAMON_ALLOW_PRIVATE_ADDRESSES="127.0.0.0/8",
    MEDIAMON_HOST_MIN_INTERVAL=str(ARGS.spacing),
    MEDIAMON_HOST_MAX_CONCURRENCY=str(ARGS.host_concurrency),
    MEDIAMON_FETCH_TIMEOUT="30",
)

import psutil  # noqa: E402

from tests.feedserver import FeedServer, Latency  # noqa: E402
from tests.processes import start_pools  # noqa: E402

SENTENCES = [
    line.strip()
    for case in sorted((ROOT / "tests" / "data").glob("*/input.txt"))
    for line in case.read_text(encoding="utf-8").replace("。", "。\n").splitlines()
    if len(line.strip()) > 20
]


def page(path: str) -> bytes:
    rng = random.Random(path)
    body = "".join(f"<p>{rng.choice(SENTENCES)}</p>" for _ in range(12))
    title = rng.choice(SENTENCES)[:30]
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}"
        f"<p>Story {path}</p></article></body></html>"
    ).encode()


def feed_xml(feed: int, items: list[int], base: str) -> str:
    """The feed's items link to pages on the feed's own site (``base``)."""
    entries = "".join(
        f"<item><title>Story {n} of feed {feed}</title><link>{base}/gen/{feed}/{n}.html</link>"
        f"<guid>{feed}-{n}</guid><description>Summary of story {n}.</description></item>"
        for n in reversed(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>{entries}</channel></rss>'


def doc_id(url: str) -> str:
    from pipelines.ids import doc_id as make

    return make(url)


def where_they_are(client, listed: list[str], fetched_at: dict[str, float]) -> str:  # type: ignore[no-untyped-def]
    """Items a poll saw that were not searchable after the drain, by where they stopped:
    rejected (by reason), page fetched but neither indexed nor rejected, page never
    fetched (still waiting for their host, or dropped)."""
    reasons: Counter[str] = Counter()
    rejected_ids: set[str] = set()
    rejected = client.index_name("rejected")
    for chunk in range(0, len(listed), 1000):
        body = {"query": {"ids": {"values": listed[chunk : chunk + 1000]}}, "size": 1000}
        for hit in client.request("POST", f"/{rejected}/_search", body)["hits"]["hits"]:
            reasons[f"rejected as {hit['_source'].get('reason', '?')}"] += 1
            rejected_ids.add(hit["_id"])
    left = [ident for ident in listed if ident not in rejected_ids]
    fetched = sum(1 for ident in left if ident in fetched_at)
    parts = [f"{n} {why}" for why, n in reasons.most_common()]
    parts.append(f"{fetched} fetched but neither indexed nor rejected")
    parts.append(f"{len(left) - fetched} never fetched")
    return ", ".join(parts)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    args = ARGS

    from workers.search import templates

    settings, state, client = services()
    phases = [("no latency", None)]
    if args.latency:
        phases.append((f"latency {args.latency:g} s", Latency(args.latency)))
    summary = []
    for name, latency in phases:
        print(f"\n=== {name} ===")
        summary.append((name, run_phase(args, latency, settings, state, client)))
        state.redis.flushdb()
        templates.drop(client)
        templates.apply(client)
    templates.drop(client)
    state.redis.flushdb()
    print("\nsummary:")
    for name, figures in summary:
        print(f"  {name:<16} {figures}")
    return 0


def run_phase(args, latency, settings, state, client) -> str:  # type: ignore[no-untyped-def]
    """One run of the load; returns its summary line."""
    from workers.feeds.polling import release_waiting, schedule_feeds, store
    from workers.feeds.store import FeedConfig

    articles = client.index_name("articles")

    added: dict[str, tuple[int, float]] = {}  # doc id -> (feed, time published)
    searchable: dict[str, float] = {}
    queues: list[tuple[float, int, int]] = []
    stop = threading.Event()
    publishing = threading.Event()

    with FeedServer(hosts=args.hosts, latency=latency) as server:
        server.generator = page
        items: list[list[int]] = [[] for _ in range(args.feeds)]
        counter = [0] * args.feeds
        sites = [server.site(f % args.hosts) for f in range(args.feeds)]
        for f in range(args.feeds):
            server.set(f"f{f}", feed_xml(f, items[f], sites[f]))
            store().upsert(
                FeedConfig(
                    id=f"f{f}", url=f"{sites[f]}/dyn/f{f}", adaptive=False, interval=args.poll_every
                )
            )

        def publish() -> None:
            tick, carry, f = 0.1, 0.0, 0
            while publishing.is_set():
                carry += args.rate * tick
                touched = set()
                while carry >= 1:
                    carry -= 1
                    counter[f] += 1
                    items[f] = (items[f] + [counter[f]])[-args.items :]
                    added[doc_id(f"{sites[f]}/gen/{f}/{counter[f]}.html")] = (f, time.time())
                    touched.add(f)
                    f = (f + 1) % args.feeds
                for t in touched:
                    server.set(f"f{t}", feed_xml(t, items[t], sites[t]))
                time.sleep(tick)

        def poll() -> None:
            # beat's ticks, once a second: each feed is queued when due, once (a feed
            # whose poll is still waiting for its host is not queued again), and the
            # polls and pages whose host's slot has come are released
            while not stop.is_set():
                schedule_feeds()
                release_waiting()
                time.sleep(1.0)

        def watch() -> None:
            # Each look asks only for documents stamped since shortly before the last
            # look (a document is stamped as its bulk request is built and searchable
            # after the next refresh): a fixed window of the last 20 s returned 3,000
            # ids four times a second, which took a fifth of a core of the engine the
            # bench measures. What this misses is looked up by id after the drain.
            since = time.time() - WATCH_MARGIN
            while not stop.is_set():
                asked = time.time()
                body = {
                    "query": {
                        "range": {
                            "indexed_at": {"gte": int(since * 1000), "format": "epoch_millis"}
                        }
                    },
                    "size": 10000,
                    "_source": False,
                }
                try:
                    hits = client.request("POST", f"/{articles}/_search", body)["hits"]["hits"]
                    since = asked - WATCH_MARGIN
                except Exception:
                    hits = []
                now = time.time()
                for hit in hits:
                    searchable.setdefault(hit["_id"], now)
                waiting = state.redis.llen("articles") + state.redis.llen(state.key("ready"))
                queues.append((now, state.redis.llen("feeds") + state.redis.llen("fetch"), waiting))
                time.sleep(0.25)

        worker = start_pools(f"bench-{RUN}", ROOT / ".state" / "bench-e2e-worker.log", mode="wb")
        bench = psutil.Process()
        groups: dict[str, list[psutil.Process]] = {"bench+feed server": [bench]}
        groups.update(service_processes(settings))

        def pools() -> dict[str, list[psutil.Process]]:
            """The worker's processes by pool: the gevent one and its kin, the rest."""
            found: dict[str, list[psutil.Process]] = {"I/O pool": [], "CPU pool": []}
            with contextlib.suppress(psutil.NoSuchProcess):
                for top in psutil.Process(worker.pid).children():
                    name = "I/O pool" if "gevent" in top.cmdline() else "CPU pool"
                    found[name] += [top, *top.children(recursive=True)]
            return found

        def measure(read: Callable[[psutil.Process], float]) -> dict[str, float]:
            """``read`` summed over each component's processes (the bench process alone:
            the worker is its child, counted apart)."""
            totals = {}
            for name, procs in {**pools(), **groups}.items():
                total = 0.0
                for proc in procs:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += read(proc)
                totals[name] = total
            return totals

        def cpu() -> dict[str, float]:
            return measure(lambda proc: sum(proc.cpu_times()[:2]))

        def rss() -> dict[str, float]:
            return measure(lambda proc: proc.memory_info().rss / 2**20)

        try:
            time.sleep(5)  # worker start-up
            threads = [threading.Thread(target=t, daemon=True) for t in (poll, watch)]
            for t in threads:
                t.start()
            cpu_before = cpu()
            publishing.set()
            publisher = threading.Thread(target=publish, daemon=True)
            started = time.time()
            publisher.start()
            time.sleep(args.seconds)
            publishing.clear()
            publisher.join()
            ended = time.time()
            cpu_after = cpu()
            memory = rss()
            deadline = time.time() + 90
            while time.time() < deadline and len(set(added) - set(searchable)) > 0:
                time.sleep(0.5)
            stop.set()
            for t in threads:
                t.join(5)
        finally:
            worker.terminate()
            worker.wait(30)

        # ------------------------------------------------------------ figures
        published = len(added)
        # Ask by id for anything the watcher missed (searchable later than its margin).
        unseen = [i for i in added if i not in searchable]
        for chunk in range(0, len(unseen), 1000):
            body = {"query": {"ids": {"values": unseen[chunk : chunk + 1000]}}, "size": 1000}
            hits = client.request("POST", f"/{articles}/_search", body)["hits"]["hits"]
            for hit in hits:
                searchable.setdefault(hit["_id"], time.time())
        found = [i for i in added if i in searchable]
        in_window = [i for i in found if searchable[i] <= ended]
        requests: dict[int, list[float]] = {}  # feed -> times of the polls it answered
        for _, asked, when in server.requests:
            if asked.startswith("/dyn/f") and (asked, when) not in server.unanswered:
                requests.setdefault(int(asked[6:]), []).append(when)
        fetched_at: dict[str, float] = {}
        for _, asked, when in server.requests:
            if asked.startswith("/gen/"):
                feed_n, _, name = asked[5:].partition("/")
                url = f"{sites[int(feed_n)]}{asked}"
                fetched_at.setdefault(doc_id(url), when)
        latencies, to_page, to_search = [], [], []
        for ident in found:
            feed, t_added = added[ident]
            seen = next((t for t in requests.get(feed, []) if t >= t_added), None)
            if seen is not None:
                latencies.append(searchable[ident] - seen)
                if ident in fetched_at:
                    to_page.append(fetched_at[ident] - seen)
                    to_search.append(searchable[ident] - fetched_at[ident])
        elapsed = ended - started
        print(
            f"{args.feeds} feeds, {args.rate:.0f} new items/s for {elapsed:.0f} s: {published} items published, "
            f"{len(found)} searchable ({published - len(found)} missing after the drain)"
        )
        if published > len(found):
            # A feed lists only its newest items: one that scrolled off before any poll of
            # its feed was answered was never seen (polling fell behind, or the polls
            # hung or were reset); the rest were seen and lost.
            times: dict[int, list[float]] = {}
            for feed, t_added in sorted(added.values(), key=lambda v: v[1]):
                times.setdefault(feed, []).append(t_added)
            scrolled, listed = 0, []
            for ident in set(added) - set(found):
                feed, t_added = added[ident]
                later = times[feed]
                k = later.index(t_added)
                t_out = later[k + args.items] if k + args.items < len(later) else float("inf")
                if not any(t_added <= t < t_out for t in requests.get(feed, [])):
                    scrolled += 1
                else:
                    listed.append(ident)
            print(
                f"  of the missing: {scrolled} scrolled off their feed before a poll saw them, "
                f"{len(listed)} were listed when polled"
            )
            if listed:
                print(f"  of those listed: {where_they_are(client, listed, fetched_at)}")
        print(
            f"sustained: {len(in_window) / elapsed:.0f} articles/s searchable while publishing "
            f"({len(found) / max(1e-9, max(searchable[i] for i in found) - started) if found else 0:.0f}/s until the last one)"
        )
        if latencies:
            print(
                f"latency, first poll that saw the item -> searchable: p50 {statistics.median(latencies):.2f} s, "
                f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
            )
        if to_page:
            print(
                f"  of which: poll -> page fetched (politeness) p50 {statistics.median(to_page):.2f} s, "
                f"p95 {percentile(to_page, 0.95):.2f} s; page fetched -> searchable p50 "
                f"{statistics.median(to_search):.2f} s, p95 {percentile(to_search, 0.95):.2f} s"
            )
        print(f"{'component':<18} {'CPU (of one core)':>18} {'RSS MiB':>9}")
        for name in cpu_after:
            share = (cpu_after[name] - cpu_before.get(name, 0.0)) / elapsed
            print(f"{name:<18} {share:>17.0%} {memory[name]:>9.0f}")
        peak_feeds = max((q[1] for q in queues), default=0)
        peak_articles = max((q[2] for q in queues), default=0)
        print(f"queue peaks: feeds+fetch {peak_feeds}, articles+ready {peak_articles}")
        counters = state.counters()
        deferred = {
            name.removeprefix("polls_deferred_"): counters[name]
            for name in sorted(counters)
            if name.startswith("polls_deferred_")
        }
        if deferred:
            why = ", ".join(f"{count} while {name}" for name, count in deferred.items())
            print(f"polls deferred by the I/O process: {why}")
        busiest = max(cpu_after, key=lambda n: cpu_after[n] - cpu_before.get(n, 0.0))
        total_cpu = sum(cpu_after[n] - cpu_before.get(n, 0.0) for n in cpu_after) / elapsed
        missed = (published - len(found)) / max(1, published)
        if peak_feeds > args.feeds * 2 or missed > 0.01:
            limit = (
                "polling (the feeds queue backs up, "
                f"{missed:.0%} of the items scrolled off their feeds unseen)"
            )
        elif to_page and statistics.median(to_page) > max(3.0, 2 * statistics.median(to_search)):
            limit = "fetching (pages wait for the I/O pool or for their hosts)"
        elif peak_articles > 400:
            limit = "processing (the articles queue and the ready list back up)"
        else:
            limit = "none of the queues backs up: the offered rate is handled"
        print(
            f"machine CPU used: {total_cpu:.0%} of 2 cores; busiest component: {busiest}; limiting stage: {limit}"
        )
        digest = hashlib.sha256("".join(sorted(found)).encode()).hexdigest()[:12]
        print(f"(run {RUN}, {digest})")
    rate = len(in_window) / elapsed
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = percentile(latencies, 0.95) if latencies else float("nan")
    return f"{rate:.0f} articles/s, latency p50 {p50:.2f} s, p95 {p95:.2f} s; limit: {limit}"


if __name__ == "__main__":
    sys.exit(main())
