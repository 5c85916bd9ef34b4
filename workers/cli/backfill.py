"""`mediamon backfill`: a site's sitemaps walked for a date range, its pages queued for
the worker at the site's polite rate, and followed until they are indexed."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import click

from workers.cli.common import EXIT_PARTIAL, engine


def _day(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day (YYYY-MM-DD)") from None


@click.command()
@click.argument("url")
@click.option("--since", required=True, help="First day of the range (YYYY-MM-DD).")
@click.option("--until", help="Last day of the range (YYYY-MM-DD; default: today).")
@click.option("--dry-run", is_flag=True, help="Walk the sitemaps and count; queue nothing.")
@click.option("--restart", is_flag=True, help="Walk every sitemap again.")
@click.option("--wait/--no-wait", default=True, help="Follow the pages until they are written.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to follow them.")
@click.option("--lang", help="Language of the site's pages, if known (zh-Hant, en, …).")
@click.option("--region", help="The site's region (TW, HK, CN, SG, …).")
@click.option("--source", help="Source id from config/sources.yaml.")
def backfill(
    url: str,
    since: str,
    until: str | None,
    dry_run: bool,
    restart: bool,
    wait: bool,
    timeout: float,
    lang: str | None,
    region: str | None,
    source: str | None,
) -> None:
    """Fill a date range from the sitemaps of URL (a site, a sitemap index or a
    sitemap): pages dated in the range are fetched at the site's polite rate and
    indexed. Stopped, the same command goes on where it stopped."""
    from tqdm import tqdm

    from workers.feeds.backfill import Walk, backfill_id, walk
    from workers.fetching.http import FetchError, check_url

    try:
        check_url(url)
    except FetchError as exc:
        raise click.ClickException(f"{url}: {exc.reason}") from exc
    start = _day(since)
    end = _day(until) + timedelta(days=1) - timedelta(microseconds=1) if until else None
    end = end or datetime.now(UTC)
    if end < start:
        raise click.BadParameter("--until is before --since")
    bar = tqdm(unit=" sitemaps", desc="walk", file=sys.stderr)

    def progress(found: Walk) -> None:
        bar.update(found.sitemaps + found.resumed - bar.n)
        bar.set_postfix(found=found.found, queued=found.queued, refresh=False)

    try:
        result = walk(
            url,
            start,
            end,
            dry_run=dry_run,
            restart=restart,
            progress=progress,
            lang=lang,
            region=region,
            source=source,
        )
    except KeyboardInterrupt:
        bar.close()
        click.echo("interrupted; the same command goes on where it stopped", err=True)
        raise
    bar.close()
    click.echo(
        f"{url}: {result.sitemaps} sitemaps read"
        + (f" ({result.resumed} walked before)" if result.resumed else "")
        + f", {result.older} older than the range; pages: {result.found} in the range, "
        f"{result.outside} outside it, {result.undated} undated"
        + ("" if dry_run else f"; queued {result.queued}")
    )
    for failure in result.failed[:20]:
        click.echo(f"failed {failure}", err=True)
    if dry_run or not wait or not result.queued:
        if result.failed:
            sys.exit(EXIT_PARTIAL)
        return
    client = engine()
    feed_id = backfill_id(url)
    deadline = time.monotonic() + timeout
    written = rejected = 0
    with tqdm(total=result.queued, unit=" page", desc="pages", file=sys.stderr) as pages:
        while written + rejected < result.queued and time.monotonic() < deadline:
            time.sleep(2)
            written, rejected = (
                _count(client, feed_id, "articles"),
                _count(client, feed_id, "rejected"),
            )
            pages.update(written + rejected - pages.n)
            pages.set_postfix(indexed=written, rejected=rejected, refresh=False)
    click.echo(f"indexed {written}, rejected {rejected} of {result.queued} queued")
    if written + rejected < result.queued:
        click.echo(
            f"{result.queued - written - rejected} page(s) not written yet after {timeout:.0f} s: "
            "they are fetched at the site's pace; `mediamon status` shows the queues",
            err=True,
        )
    if rejected or result.failed:
        sys.exit(EXIT_PARTIAL)


def _count(client, feed_id: str, index: str) -> int:  # type: ignore[no-untyped-def]
    body = {"query": {"term": {"feed_id": feed_id}}}
    client.request("POST", f"/{client.index_name(index)}/_refresh")
    return int(client.request("POST", f"/{client.index_name(index)}/_count", body)["count"])
