"""Web archive to indexed documents, end to end, next to trafilatura's extraction alone
on the same records in the same run.

    make services && .venv/bin/python bench/bench_archive.py [--records 2000]

Builds a WARC file (gzipped by record, as CC-NEWS) from the real news pages of
../shared/data (the Chinese pages as served, many GBK, and the English benchmark
pages), cycled to --records records, each under its own URL. Then, one after the other:

- reading alone: every record with fastwarc and with warcio (records/s);
- trafilatura alone: ``trafilatura.extract`` on the HTML of the first
  --extract-records records, decoded beforehand (its time is the extraction's only),
  in this one process (pages/s), before the archive path and again after it (the
  figure compared is the mean of the two);
- the archive path: `mediamon ingest` as the command runs it (workers/archives), with
  `mediamon worker` running: records read, staged, processed, bulk-indexed and
  percolated; pages/s counted from the first record to the last batch written, with
  the peak resident memory of the reading process and of the worker, the CPU each
  process used, and how busy the cores were.

With each timed part, the share of the cores the host gave to other machines (steal
time): this machine is a virtual one on a shared host, and both sides of the ratio
move with it.

Uses Redis database 12 and its own index prefix, removed afterwards. The archive is
written to a temporary folder and deleted.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
ROOT = Path(__file__).resolve().parent.parent
from bench._common import DEFAULT_DATA, require, service_processes, services, stack_env  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records in the archive")
    parser.add_argument(
        "--extract-records", type=int, default=400, help="records trafilatura extracts"
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    return parser.parse_args()


ARGS = arguments()
RUN = stack_env(12, MEDIAMON_LOG_LEVEL="WARNING")

import psutil  # noqa: E402

from tests.processes import start_pools  # noqa: E402


def pages(data: Path) -> list[bytes]:
    wce = sorted((data / "extraction" / "chinese_wce" / "original").glob("*.html"))
    aeb = sorted((data / "extraction" / "scrapinghub_aeb" / "html").glob("*.html.gz"))
    return [p.read_bytes() for p in wce] + [gzip.decompress(p.read_bytes()) for p in aeb]


def build(path: Path, bodies: list[bytes], records: int) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    fetched = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # pages are older
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for n in range(records):
            body = bodies[n % len(bodies)]
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    f"https://site{n % 97}.example/news/{n}.html",
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": fetched},
                )
            )


def read_rates(path: Path) -> tuple[float, float]:
    from fastwarc.warc import ArchiveIterator as Fast
    from fastwarc.warc import WarcRecordType
    from warcio.archiveiterator import ArchiveIterator as Slow

    started = time.perf_counter()
    with open(path, "rb") as stream:
        fast = sum(
            len(r.reader.read()) >= 0
            for r in Fast(stream, record_types=WarcRecordType.response, parse_http=True)
        )
    fast_rate = fast / (time.perf_counter() - started)
    started = time.perf_counter()
    with open(path, "rb") as stream:
        slow = sum(
            len(r.content_stream().read()) >= 0 for r in Slow(stream) if r.rec_type == "response"
        )
    return fast_rate, slow / (time.perf_counter() - started)


CORES = psutil.cpu_count() or 1


def stolen(before: Any, seconds: float) -> float:
    """The cores' time the host gave to other machines since ``before`` (steal time:
    this is a virtual machine on a shared host), as a share of one core."""
    return (getattr(psutil.cpu_times(), "steal", 0.0) - getattr(before, "steal", 0.0)) / seconds


def trafilatura_rate(path: Path, limit: int) -> tuple[float, float]:
    import trafilatura
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from pipelines.decode import decode

    bodies = []
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response):
            bodies.append(record.reader.read())
            if len(bodies) >= limit:
                break
    texts = [decode(body, {}).text for body in bodies]  # decoded outside its time
    trafilatura.extract(texts[0])  # its first call loads its models
    machine = psutil.cpu_times()
    started = time.perf_counter()
    for text in texts:
        trafilatura.extract(text)
    elapsed = time.perf_counter() - started
    return len(texts) / elapsed, stolen(machine, elapsed)


class Peak(threading.Thread):
    """The peak resident memory of this process and of the worker's processes."""

    def __init__(self, worker: psutil.Process):
        super().__init__(daemon=True)
        self.worker, self.me = worker, psutil.Process()
        self.reader = self.pool = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.reader = max(self.reader, self.me.memory_info().rss / 2**20)
            try:
                procs = [self.worker, *self.worker.children(recursive=True)]
                self.pool = max(self.pool, sum(p.memory_info().rss for p in procs) / 2**20)
            except psutil.Error:
                pass


def components(settings, worker) -> dict[str, list[psutil.Process]]:  # type: ignore[no-untyped-def]
    """The processes whose CPU the run counts: this one (reading and staging), the
    worker's, the engine and Redis."""
    found = {"reading": [psutil.Process()], "worker": [psutil.Process(worker.pid)]}
    found["worker"] += found["worker"][0].children(recursive=True)
    found.update(service_processes(settings))
    return found


def cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def main() -> int:
    if not require(ARGS.data / "extraction", "the archive bench (real pages)"):
        return 0
    from workers.app import app
    from workers.archives.ingest import ingest_archive
    from workers.articles.tasks import process_articles
    from workers.search import templates

    settings, state, client = services()
    bodies = pages(ARGS.data)
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as folder:
        path = Path(folder) / "news.warc.gz"
        build(path, bodies, ARGS.records)
        size = path.stat().st_size
        print(
            f"archive: {ARGS.records} records of {len(bodies)} real pages, "
            f"{size / 2**20:.0f} MiB gzipped"
        )
        fast, slow = read_rates(path)
        print(f"reading alone: fastwarc {fast:.0f} records/s, warcio {slow:.0f} records/s")
        # trafilatura is timed before and after the archive path and the two are averaged:
        # this shared machine's speed moves by a third within minutes, and a sample taken
        # on one side of a long run alone can put the ratio anywhere from 3 to 4.
        first, steal_first = trafilatura_rate(path, min(ARGS.extract_records, ARGS.records))
        print(
            f"trafilatura alone, before: {first:.1f} pages/s (extraction only, one process; "
            f"the host took {steal_first:.0%} of {CORES:.0%} for other machines)"
        )

        worker = start_pools(
            f"bench-{RUN}", ROOT / ".state" / "bench-archive-worker.log", mode="wb"
        )
        try:
            deadline = time.monotonic() + 60
            while len(app.control.ping(timeout=0.5)) < 2 and time.monotonic() < deadline:
                pass
            peak = Peak(psutil.Process(worker.pid))
            peak.start()
            groups = components(settings, worker)
            before = {name: cpu(procs) for name, procs in groups.items()}
            machine = psutil.cpu_times()
            started = time.perf_counter()
            with open(path, "rb") as stream:
                result = ingest_archive(
                    stream,
                    state,
                    lambda keys: process_articles.delay(keys),
                    batch_size=50,
                    in_flight=2 * max(1, settings.cpu_workers) + 1,
                    max_bytes=settings.max_page_bytes,
                )
            elapsed = time.perf_counter() - started
            peak.stop.set()
            shares = {name: (cpu(procs) - before[name]) / elapsed for name, procs in groups.items()}
            idle = (psutil.cpu_times().idle - machine.idle) / elapsed
            steal = stolen(machine, elapsed)
        finally:
            worker.terminate()
            worker.wait(30)
        last, steal_last = trafilatura_rate(path, min(ARGS.extract_records, ARGS.records))
        extract = (first + last) / 2
        print(
            f"trafilatura alone: {extract:.1f} pages/s (before {first:.1f}, after {last:.1f}; "
            f"extraction only, one process; the host took {steal_first:.0%} and "
            f"{steal_last:.0%} of {CORES:.0%})"
        )
    written = result.indexed + result.duplicate
    rate = written / elapsed
    print(
        f"archive: {rate:.1f} pages/s indexed ({written} of {result.counts.articles} pages "
        f"in {elapsed:.0f} s; rejected {len(result.rejected)}, failed {result.failed})"
    )
    print(f"  ratio: {rate / extract:.1f} x trafilatura alone (goal: at least 4 x)")
    print(
        f"  peak RSS: reading process {peak.reader:.0f} MiB, worker {peak.pool:.0f} MiB "
        f"(all its processes)"
    )
    print(
        "  CPU (of one core): "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        + f"; {sum(shares.values()) * 1000 / max(rate, 1e-9):.0f} ms of CPU a page in all"
    )
    print(
        f"  the machine's {CORES} cores: {CORES - idle:.0%} of {CORES:.0%} busy "
        f"({CORES - idle - sum(shares.values()):.0%} of it outside these processes, of "
        f"which the host took {steal:.0%} for other machines)"
    )
    reasons: dict[str, int] = {}
    for rejection in result.rejected:
        reasons[rejection["reason"]] = reasons.get(rejection["reason"], 0) + 1
    if reasons:
        print(f"  rejected by reason: {reasons}")
    templates.drop(client)
    state.redis.flushdb()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
