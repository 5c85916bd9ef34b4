"""`mediamon ingest`: stage files, web archives (or stdin) and wait for the worker's
results."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click
import kombu.exceptions
import redis

from workers.cli.common import (
    EXIT_PARTIAL,
    load_settings,
)
from workers.settings import Settings, redact

if TYPE_CHECKING:
    from workers.articles.following import Settled

ARCHIVE_BATCH = 50  # records a batch of an archive: pages are large, Redis holds them


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Source id to record on every article without one.")
@click.option("--wait/--no-wait", default=True, help="Wait for the worker and report results.")
@click.option(
    "--timeout",
    default=600.0,
    show_default=True,
    help="Seconds to wait for results (for an archive: without any batch written).",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Read web archives from their start, not from where an earlier run stopped.",
)
def ingest(
    paths: tuple[str, ...], source: str | None, wait: bool, timeout: float, restart: bool
) -> None:
    """Send article files, WARC files (.warc, .warc.gz), a folder of them, or - for
    stdin through the worker into the index.

    A WARC file's response records become articles (WARC-Target-URI as the URL,
    WARC-Date as the fetch time); revisits, answers other than 200, bodies that are not
    HTML and unreadable records are counted and skipped. Archives are always followed
    to the end (--no-wait applies to other files), and a run that stops resumes where
    it stopped."""
    from workers.archives.ingest import archives_in, stdin_is_archive

    settings = load_settings()
    archives, others = archives_in(list(paths))
    if "-" in others and stdin_is_archive():
        others.remove("-")
        archives.append("-")
    partial = False
    try:
        if others:
            partial |= _ingest_files(others, settings, source, wait, timeout)
        for name in archives:
            partial |= _ingest_archive(name, settings, source, timeout, restart)
    except (redis.RedisError, kombu.exceptions.OperationalError) as exc:
        raise click.ClickException(
            f"cannot reach Redis at {redact(settings.redis_dsn)}: {redact(str(exc))}\n`make services` starts it."
        ) from exc
    if partial:
        sys.exit(EXIT_PARTIAL)


def _ingest_files(
    paths: list[str], settings: Settings, source: str | None, wait: bool, timeout: float
) -> bool:
    """Article files, all staged at once; True when some were rejected or unreadable."""
    from tqdm import tqdm

    from workers.articles.following import Following
    from workers.articles.staging import read_inputs
    from workers.articles.tasks import process_articles
    from workers.state import State

    items = list(read_inputs(paths))
    bad = [item for item in items if item.error]
    for item in bad:
        click.echo(f"skipped {item.where}: {item.error}", err=True)
    payloads = [item.payload for item in items if item.payload is not None]
    if not payloads:
        raise click.ClickException("nothing to ingest")
    if source:
        for payload in payloads:
            payload.setdefault("source", source)
    state = State(settings)
    keys = state.stage(payloads)
    batches = [keys[i : i + settings.bulk_size] for i in range(0, len(keys), settings.bulk_size)]
    results = [process_articles.delay(batch) for batch in batches]
    click.echo(f"queued {len(payloads)} article(s) in {len(batches)} batch(es)", err=True)
    if not wait:
        return False
    totals = {"indexed": 0, "duplicate": 0, "rejected": 0}
    deadline = time.monotonic() + timeout
    following = Following()
    for result, batch in zip(results, batches, strict=True):
        following.add(result, batch)
    with tqdm(total=len(payloads), unit="article", desc="ingest", file=sys.stderr) as bar:
        while following.pending and time.monotonic() < deadline:
            for done in following.settle():
                _tally(done, totals)
                bar.update(len(done.keys))
            if following.pending:
                time.sleep(0.2)
    if following.pending:
        raise click.ClickException(
            f"{following.waiting()} article(s) still queued after {timeout:.0f}s; "
            "is a worker running? (`make run` starts one)"
        )
    click.echo(
        f"indexed {totals['indexed']}, already indexed {totals['duplicate']}, "
        f"rejected {totals['rejected']}, unreadable {len(bad)}"
    )
    return bool(totals["rejected"] or bad)


def _ingest_archive(
    name: str, settings: Settings, source: str | None, timeout: float, restart: bool
) -> bool:
    """One WARC file (or stdin), followed to the end with a progress bar; True when
    some of it was rejected, skipped as unreadable or failed."""
    from tqdm import tqdm

    from workers.archives.ingest import ArchiveResult, Resume, Stalled, ingest_archive
    from workers.articles.tasks import process_articles
    from workers.state import State

    state = State(settings)
    stream: Any
    if name == "-":
        stream, size, resume = sys.stdin.buffer, None, None
    else:
        try:
            stream = open(name, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            click.echo(f"skipped {name}: cannot read: {exc.strerror or exc}", err=True)
            return True
        import os

        size = os.path.getsize(name)
        resume = Resume(state, name)
        if restart:
            resume.forget()
    bar = tqdm(total=size, unit="B", unit_scale=True, desc=name, file=sys.stderr)
    bar.update(0)

    def progress(offset: int, so_far: ArchiveResult) -> None:
        if size is not None and offset > bar.n:
            bar.update(offset - bar.n)
        bar.set_postfix(
            found=so_far.counts.articles,
            indexed=so_far.indexed,
            rejected=len(so_far.rejected),
            skipped=sum(so_far.counts.skipped.values()),
            refresh=False,
        )

    try:
        result = ingest_archive(
            stream,
            state,
            lambda keys: process_articles.delay(keys),
            resume=resume,
            source=source,
            batch_size=min(ARCHIVE_BATCH, settings.bulk_size),
            in_flight=2 * max(1, settings.cpu_workers) + 1,
            max_bytes=settings.max_page_bytes,
            progress=progress,
            patience=timeout,
        )
    except Stalled as exc:
        raise click.ClickException(
            f"{name}: {exc}; is a worker running? (`make run` starts one). "
            "The same command resumes where this one stopped."
        ) from exc
    except KeyboardInterrupt:
        bar.close()
        click.echo(f"{name}: interrupted; the same command resumes where it stopped", err=True)
        raise
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if size is not None:
        bar.update(max(0, size - bar.n))
    bar.close()
    counts = result.counts
    if result.already:
        click.echo(f"{name}: already ingested (--restart reads it again)")
        return False
    skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.skipped.items()))
    click.echo(
        f"{name}: {counts.records} records, {counts.articles} pages"
        + (f" (resumed at byte {result.resumed_at})" if result.resumed_at else "")
        + f": indexed {result.indexed}, already indexed {result.duplicate}, "
        f"rejected {len(result.rejected)}, failed {result.failed}; "
        f"other records {counts.other}; skipped: {skipped or 'none'}"
    )
    for rej in result.rejected[:20]:
        click.echo(f"rejected {rej.get('url') or rej['id'][:12]}: {rej['reason']}", err=True)
    return bool(result.rejected or result.failed or counts.skipped.get("corrupt"))


def _tally(done: Settled, totals: dict[str, int]) -> None:
    """Add a settled batch to the totals, saying what was rejected and why."""
    if done.failed:
        click.echo(f"batch failed: {done.failed} (kept as a dead letter)", err=True)
        totals["rejected"] += len(done.keys)
        return
    totals["indexed"] += done.indexed
    totals["duplicate"] += done.duplicate
    totals["rejected"] += len(done.rejected)
    for rej in done.rejected:
        click.echo(
            f"rejected {rej.get('url') or rej['id'][:12]}: {rej['reason']} {rej['detail']}".rstrip(),
            err=True,
        )
