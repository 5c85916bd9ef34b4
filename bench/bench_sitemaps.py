"""Sitemap polling: how long until the pages a site's sitemaps list are discovered and
queued, with its pages being fetched meanwhile under the same per-host politeness.

    make services && .venv/bin/python bench/bench_sitemaps.py [--urls 10000] [--sites 1]

Serves --sites sites on addresses of 127.0.0.0/8 (let through the SSRF guard for the
run). Each has a sitemap index listing sitemaps of --per-sitemap pages (500: a poll's
items, the default ``max_items_per_poll``), --urls pages in all, and serves every page
as a short HTML article. One sitemap entry per site is added, naming its index, and
`mediamon worker` (both pools) and `mediamon beat` run as a user runs them, with the
default politeness: 1 s between two requests to a host, 2 at once.

The index's poll registers its sitemaps as entries of their own; beat's tick (every
5 s) finds them due, and each one's poll queues its pages, which its host then fetches
one a second. Polls book in a lane of their own, ahead of the pages already booked
(workers/fetching/politeness.py), so the host's pages do not hold its sitemaps back.

Prints the seconds from the entry's registration until every page was queued (goal:
10,000 in under 60 s), when each sitemap was polled, how many pages were fetched in
the meantime, and the shortest gap between two requests to the site when there is one
(robots.txt aside: the robots cache asks for it outside the spacing). Uses Redis
database 13 and its own index prefix.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
ROOT = Path(__file__).resolve().parent.parent
from bench._common import stack_env  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--urls", type=int, default=10_000, help="pages listed in all")
    parser.add_argument("--sites", type=int, default=1, help="sites the pages are spread over")
    parser.add_argument("--per-sitemap", type=int, default=500, help="pages in one sitemap")
    parser.add_argument("--timeout", type=float, default=300, help="give up after (s)")
    return parser.parse_args()


ARGS = arguments()
RUN = stack_env(
    13,
    MEDIAMON_ALLOW_PRIVATE_ADDRESSES="127.0.0.0/8",
    MEDIAMON_HOST_MIN_INTERVAL="1.0",
    MEDIAMON_HOST_MAX_CONCURRENCY="2",
)

from tests.feedserver import FeedServer  # noqa: E402
from tests.processes import start_beat, start_pools  # noqa: E402
from tests.sitemaps import index, urlset  # noqa: E402

PAGE = (
    "<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
    "<p>Talks in Moscow on the war in Ukraine, day {n}: the two leaders met again, "
    "and their ministers signed a statement on trade and energy.</p></article></body></html>"
)


def serve(server: FeedServer, site: int, urls: int) -> str:
    """Put site ``site``'s index and sitemaps on the server; the index's URL."""
    base = server.site(site)
    sitemaps = []
    for number, first in enumerate(range(0, urls, ARGS.per_sitemap)):
        day = f"2026-{1 + number // 28 % 12:02d}-{1 + number % 28:02d}"
        pages = [
            {"loc": f"{base}/gen/s{site}/p{n}", "lastmod": f"{day}T{n % 24:02d}:00:00Z"}
            for n in range(first, min(first + ARGS.per_sitemap, urls))
        ]
        name = f"sitemap-{site}-{number}.xml"
        server.set(name, urlset(pages), "application/xml")
        sitemaps.append((f"{base}/dyn/{name}", f"{day}T23:00:00Z"))
    server.set(f"index-{site}.xml", index(sitemaps), "application/xml")
    return f"{base}/dyn/index-{site}.xml"


def main() -> int:
    from workers import services
    from workers.feeds.polling import store
    from workers.feeds.store import FeedConfig

    state = services.state()
    try:
        state.redis.ping()
    except Exception as exc:
        print(f"Redis is not reachable ({exc}); run `make services` first", file=sys.stderr)
        return 2
    state.redis.flushdb()
    shares = [
        ARGS.urls // ARGS.sites + (1 if site < ARGS.urls % ARGS.sites else 0)
        for site in range(ARGS.sites)
    ]
    logs = ROOT / ".state"
    with FeedServer(hosts=ARGS.sites) as server, tempfile.TemporaryDirectory() as scratch:
        server.generator = lambda path: PAGE.format(n=path.rsplit("p", 1)[-1]).encode()
        roots = [serve(server, site, share) for site, share in enumerate(shares)]
        worker = start_pools(f"bench-{RUN}", logs / "bench-sitemaps-worker.log", mode="wb")
        beat = start_beat(Path(scratch) / "beat-schedule", logs / "bench-sitemaps-beat.log")
        try:
            time.sleep(6)  # start-up
            started = time.time()
            for site, url in enumerate(roots):
                store().upsert(FeedConfig(id=f"site{site}", url=url, kind="sitemap"))
            queued = 0
            while queued < ARGS.urls:
                if worker.poll() is not None or beat.poll() is not None:
                    raise RuntimeError("the worker or beat died; see .state/bench-sitemaps-*.log")
                if time.time() - started > ARGS.timeout:
                    break
                time.sleep(0.1)
                queued = int(state.counters().get("items_new", 0))
            elapsed = time.time() - started
            states = store().states(list(store().configs()))
        finally:
            beat.terminate()
            worker.terminate()
            beat.wait(60)
            worker.wait(60)
        requests = sorted(server.requests, key=lambda r: r[2])
    state.redis.flushdb()

    children = [s for s in states.values() if str(s.get("kind", "")).startswith("sitemap-")]
    polled = sorted(
        float(s["last_attempt_at"]) - started for s in children if s.get("last_attempt_at")
    )
    window = [r for r in requests if r[2] <= started + elapsed]
    fetched = sum(1 for _, path, _ in window if path.startswith("/gen/"))
    # robots.txt is asked by the robots cache (once per MEDIAMON_ROBOTS_CACHE_SECONDS)
    # outside the spacing; every other request keeps it
    times = [at for _, path, at in requests if path != "/robots.txt"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    print(f"sitemaps: {ARGS.urls} URLs on {ARGS.sites} site(s), {len(children)} sitemaps of "
          f"{ARGS.per_sitemap}, 1 s between requests to a host")  # fmt: skip
    if polled:
        print(f"  sitemaps polled {polled[0]:.1f}–{polled[-1]:.1f} s after the entry was added "
              f"(median {statistics.median(polled):.1f} s)")  # fmt: skip
    print(f"  pages fetched meanwhile: {fetched}")
    if ARGS.sites == 1 and gaps:  # the server's log does not say which site was asked
        print(f"  closest two requests to the site (robots.txt aside): {min(gaps):.2f} s apart")
    verdict = "under" if queued >= ARGS.urls and elapsed < 60 else "NOT under"
    print(f"sitemap polling: {queued} URLs discovered and queued in {elapsed:.1f} s "
          f"({verdict} a minute)")  # fmt: skip
    return 0 if queued >= ARGS.urls else 1


if __name__ == "__main__":
    sys.exit(main())
