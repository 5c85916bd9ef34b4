"""What a crafted page or response costs next to an ordinary one: CPU seconds and peak
memory of processing it (the pipeline) or of fetching it (the guarded fetcher against
the local test server). Each case runs in a forked child, so one case's memory peak is
not another's; the ordinary page and the ordinary fetch are measured the same way.

    .venv/bin/python bench/bench_hostile.py

The goal (issue "hostile input"): a crafted page costs at most about a second of CPU
over an ordinary one, and a fetch at most 64 MiB over an ordinary fetch.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DEFAULT_DATA, ROOT, quiet_jieba

STORY = "<p>" + "習近平與普京在北京會談，雙方討論了烏克蘭局勢與能源合作。" * 20 + "</p>"
WCE = DEFAULT_DATA / "extraction" / "chinese_wce" / "original"


def ordinary_page() -> bytes:
    """A real news page of median size from ../shared/data (WCE), else a fixture."""
    pages = sorted(WCE.glob("*.html"), key=lambda p: p.stat().st_size) if WCE.is_dir() else []
    if pages:
        return pages[len(pages) // 2].read_bytes()
    return (ROOT / "tests" / "data" / "en-page" / "input.html").read_bytes()


def measure(action: Callable[[], object]) -> tuple[float, float, str]:
    """(CPU seconds, peak RSS growth in MiB, outcome) of ``action`` in a forked child."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start_cpu = time.process_time()
        try:
            result = action()
            outcome = "ok" if result is None else str(result)
        except BaseException as exc:
            outcome = f"{type(exc).__name__}: {exc}"[:70]
        cpu = time.process_time() - start_cpu
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024
        os.write(writer, f"{cpu}\t{grown}\t{outcome}".encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        cpu, grown, outcome = pipe.read().split("\t", 2)
    os.waitpid(pid, 0)
    return float(cpu), float(grown), outcome


def main() -> None:
    quiet_jieba()
    from pipelines.article import RawArticle, RejectArticle
    from tests.feedserver import FeedServer, local_fetcher
    from workers.config import build_pipeline
    from workers.fetching.http import FetchError
    from workers.settings import Settings

    pipe = build_pipeline(Settings().config_dir)
    ordinary = ordinary_page()
    pipe.process(RawArticle(content=ordinary))  # warm: dictionaries and models loaded

    def process(raw: RawArticle) -> Callable[[], object]:
        def run() -> object:
            try:
                doc = pipe.process(raw)
                return f"document, {doc['char_count']} characters"
            except RejectArticle as exc:
                return f"rejected: {exc.reason}"

        return run

    pages = {
        f"ordinary page ({len(ordinary) // 1024} KiB news page)": RawArticle(content=ordinary),
        'og:title of " \\n" x 40,000 (79 KiB)': RawArticle(
            html=f'<html><head><meta property="og:title" content="{" " + chr(10) * 1}'
            + " \n" * 40_000
            + f'"></head><body>{STORY}</body></html>'
        ),
        "<h1> of U+2028 x 40,000 in the body": RawArticle(
            html=f"<html><body><h1>{chr(0x2028) * 40_000}</h1>{STORY}</body></html>"
        ),
        "100,000 nested <div>": RawArticle(html="<div>" * 100_000 + STORY + "</div>" * 100_000),
        "100,000 unclosed <b>": RawArticle(html="<b>" * 100_000 + STORY),
        "a 1 MB word": RawArticle(text="a" * 1_000_000 + " Kyiv"),
        "100,000 mentions of 普京": RawArticle(text="普京" * 100_000),
        "JSON-LD nested 100,000 deep": RawArticle(
            html='<script type="application/ld+json">'
            + "[" * 100_000
            + "]" * 100_000
            + f"</script>{STORY}"
        ),
    }
    rows = [(name, *measure(process(raw))) for name, raw in pages.items()]

    with FeedServer() as server:
        big = ordinary * max(1, 2**20 // len(ordinary))
        server.set("ordinary", big, "text/html")

        def fetch(path: str, **kwargs: object) -> Callable[[], object]:
            def run() -> object:
                fetcher = local_fetcher(fetch_timeout=3)
                try:
                    response = fetcher.get(server.url(path), **kwargs)  # type: ignore[arg-type]
                    return f"{len(response.content) // 1024} KiB"
                except FetchError as exc:
                    return f"{exc.kind}: {exc.reason}"[:70]

            return run

        fetches = {
            f"ordinary fetch (a {len(big) // 1024} KiB page)": fetch("/dyn/ordinary"),
            "gzip bomb (256 MiB in 250 KB), 5 MiB cap": fetch("/bomb", max_bytes=5 * 2**20),
            "gzip, gzip (stacked codings)": fetch("/bomb2", max_bytes=5 * 2**20),
            "100 MiB body, 5 MiB cap": fetch("/huge", max_bytes=5 * 2**20),
            "headers dripped a byte per 0.5 s, 3 s deadline": fetch("/slow-headers"),
        }
        started = {}
        for name, action in fetches.items():
            started[name] = time.monotonic()
            rows.append((name, *measure(action)))
            started[name] = time.monotonic() - started[name]

    print(f"{'input':<48} {'CPU s':>7} {'peak +MiB':>10}  outcome")
    for name, cpu, grown, outcome in rows:
        wall = f" (wall {started[name]:.1f} s)" if name in started else ""
        print(f"{name:<48} {cpu:7.2f} {grown:10.1f}  {outcome}{wall}")
    base_cpu, base_mem = rows[0][1], next(r for r in rows if r[0].startswith("ordinary fetch"))[2]
    worst_cpu = max(r[1] for r in rows[: len(pages)]) - base_cpu
    worst_mem = max(r[2] for r in rows[len(pages) :]) - base_mem
    print(f"\nworst page over the ordinary one: {worst_cpu:+.2f} s CPU (goal: about 1 s)")
    print(f"worst fetch over the ordinary one: {worst_mem:+.1f} MiB peak (goal: at most 64 MiB)")


if __name__ == "__main__":
    main()
