"""`mediamon ingest`: stage files (or stdin) and wait for the worker's results."""

from __future__ import annotations

import sys
import time

import click
import kombu.exceptions
import redis

from workers.cli.common import (
    EXIT_PARTIAL,
    load_settings,
)
from workers.settings import redact


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Source id to record on every article without one.")
@click.option("--wait/--no-wait", default=True, help="Wait for the worker and report results.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for results.")
def ingest(paths: tuple[str, ...], source: str | None, wait: bool, timeout: float) -> None:
    """Send article files (or a folder, or - for stdin) through the worker into the index."""
    from tqdm import tqdm

    from workers.articles.staging import read_inputs
    from workers.articles.tasks import process_articles
    from workers.state import State

    settings = load_settings()
    items = list(read_inputs(list(paths)))
    bad = [item for item in items if item.error]
    for item in bad:
        click.echo(f"skipped {item.where}: {item.error}", err=True)
    payloads = [item.payload for item in items if item.payload is not None]
    if not payloads:
        raise click.ClickException("nothing to ingest")
    if source:
        for payload in payloads:
            payload.setdefault("source", source)
    try:
        state = State(settings)
        keys = state.stage(payloads)
        batches = [
            keys[i : i + settings.bulk_size] for i in range(0, len(keys), settings.bulk_size)
        ]
        results = [process_articles.delay(batch) for batch in batches]
    except (redis.RedisError, kombu.exceptions.OperationalError) as exc:
        raise click.ClickException(
            f"cannot reach Redis at {redact(settings.redis_dsn)}: {redact(str(exc))}\n`make services` starts it."
        ) from exc
    click.echo(f"queued {len(payloads)} article(s) in {len(batches)} batch(es)", err=True)
    if not wait:
        return
    totals = {"indexed": 0, "duplicate": 0, "rejected": 0}
    deadline = time.monotonic() + timeout
    pending = list(zip(results, batches, strict=True))
    with tqdm(total=len(payloads), unit="article", desc="ingest", file=sys.stderr) as bar:
        while pending and time.monotonic() < deadline:
            still = []
            for result, batch in pending:
                if not result.ready():
                    still.append((result, batch))
                    continue
                if result.failed():
                    click.echo(f"batch failed: {result.result!r} (kept as a dead letter)", err=True)
                    totals["rejected"] += len(batch)
                elif "continued" in (summary := result.get()):  # split past its time limit
                    for child, part in summary["continued"]:
                        still.append((process_articles.AsyncResult(child), part))
                    continue
                else:
                    totals["indexed"] += summary["indexed"]
                    totals["duplicate"] += summary["duplicate"]
                    totals["rejected"] += len(summary["rejected"])
                    for rej in summary["rejected"]:
                        click.echo(
                            f"rejected {rej.get('url') or rej['id'][:12]}: "
                            f"{rej['reason']} {rej['detail']}".rstrip(),
                            err=True,
                        )
                bar.update(len(batch))
            pending = still
            if pending:
                time.sleep(0.2)
    if pending:
        raise click.ClickException(
            f"{sum(len(b) for _, b in pending)} article(s) still queued after {timeout:.0f}s; "
            "is a worker running? (`make run` starts one)"
        )
    click.echo(
        f"indexed {totals['indexed']}, already indexed {totals['duplicate']}, "
        f"rejected {totals['rejected']}, unreadable {len(bad)}"
    )
    if totals["rejected"] or bad:
        sys.exit(EXIT_PARTIAL)
