"""`mediamon feeds`: the feed registry, its health, OPML."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import redis

from workers.cli.common import (
    EXIT_PARTIAL,
    ago,
    load_settings,
    table,
)
from workers.settings import redact


def _store():  # type: ignore[no-untyped-def]
    from workers.feeds.store import FeedStore
    from workers.state import State

    try:
        state = State(load_settings())
        state.redis.ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            f"cannot reach Redis at {redact(load_settings().redis_dsn)}: {redact(str(exc))}\n`make services` starts it."
        ) from exc
    return FeedStore(state.redis, state.prefix)


@click.group()
def feeds() -> None:
    """The feed registry: list, add, remove, status, check, OPML."""


@feeds.command("sync")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Feed list (default: config/feeds.yaml).",
)
@click.option("--prune", is_flag=True, help="Remove registered feeds that the file does not list.")
def feeds_sync(path: Path | None, prune: bool) -> None:
    """Load the feed list into the registry (new and changed feeds; state is kept)."""
    from workers.config import ConfigError
    from workers.feeds.store import load_feeds_file

    try:
        wanted = load_feeds_file(path or load_settings().feeds_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    report = _store().sync(wanted, prune=prune)
    click.echo(", ".join(f"{k} {len(v)}" for k, v in report.items()))
    if report["skipped"]:
        click.echo(
            "skipped (removed with `feeds remove`; `feeds add` brings one back): "
            + ", ".join(report["skipped"])
        )


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed.")
def feeds_list(as_json: bool) -> None:
    """Registered feeds and their configuration."""
    configs = _store().configs()
    if as_json:
        for feed in sorted(configs.values(), key=lambda f: f.id):
            click.echo(feed.model_dump_json(exclude_none=True))
        return
    rows = [
        [f.id, f.lang or "-", f.region or "-", f.source or "-", "on" if f.enabled else "off", f.url]
        for f in sorted(configs.values(), key=lambda f: f.id)
    ]
    table(rows, ["id", "lang", "region", "source", "enabled", "url"])
    click.echo(f"{len(rows)} feed(s)")


@feeds.command("add")
@click.argument("url")
@click.option("--id", "feed_id", help="Feed id (default: made from the name or URL).")
@click.option("--name")
@click.option("--source", help="Source id from config/sources.yaml.")
@click.option("--lang", help="zh-Hant, zh-Hans, en, …")
@click.option("--region", help="TW, HK, CN, SG, GB, US, …")
@click.option("--interval", type=float, help="Seconds to the first re-poll.")
@click.option(
    "--sitemap",
    is_flag=True,
    help="URL is a sitemap, a sitemap index, or a site whose robots.txt lists its sitemaps.",
)
def feeds_add(
    url: str,
    feed_id: str | None,
    name: str | None,
    source: str | None,
    lang: str | None,
    region: str | None,
    interval: float | None,
    sitemap: bool,
) -> None:
    """Register a feed (or a sitemap); it is polled at the next scheduler tick."""
    import re as _re

    from pydantic import ValidationError

    from workers.feeds.store import FeedConfig
    from workers.fetching.http import FetchError, check_url

    try:
        check_url(url)
    except FetchError as exc:
        raise click.ClickException(f"{url}: {exc.reason}") from exc
    feed_id = (
        feed_id
        or _re.sub(r"[^a-z0-9]+", "-", (name or url.split("//", 1)[-1]).lower()).strip("-")[:48]
    )
    try:
        feed = FeedConfig(
            id=feed_id,
            url=url,
            name=name,
            source=source,
            lang=lang,
            region=region,
            interval=interval,
            kind="sitemap" if sitemap else "feed",
        )
    except ValidationError as exc:
        raise click.ClickException(
            "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        ) from exc
    new = _store().upsert(feed)
    click.echo(f"{'added' if new else 'updated'} {feed.id}: {feed.url}")


@feeds.command("remove")
@click.argument("feed_ids", nargs=-1, required=True)
def feeds_remove(feed_ids: tuple[str, ...]) -> None:
    """Unregister feeds (their articles stay indexed). `feeds sync` will not bring them back."""
    store = _store()
    missing = [fid for fid in feed_ids if not store.remove(fid)]
    for fid in feed_ids:
        if fid not in missing:
            click.echo(f"removed {fid}")
    if missing:
        raise click.ClickException(f"no such feed: {', '.join(missing)}")


@feeds.command("status")
@click.option("--all", "show_all", is_flag=True, help="Also feeds without trouble.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed.")
def feeds_status(show_all: bool, as_json: bool) -> None:
    """Feed health, most troubled first: failures, last error, last success, next poll."""
    from workers.feeds.polling import health_document

    store = _store()
    configs = store.configs()
    states = store.states(sorted(configs))
    due = store.next_polls()

    def trouble(fid: str) -> tuple[float, float]:
        st = states[fid]
        return (-float(st.get("failures", 0.0)), float(st.get("last_success_at") or 0))

    rows = []
    for fid in sorted(configs, key=trouble):
        st = states[fid]
        if as_json:
            click.echo(json.dumps(health_document(configs[fid], st), ensure_ascii=False))
            continue
        if not show_all and not st.get("failures") and st.get("status") not in (None, "failing"):
            continue
        rows.append(
            [
                fid,
                st.get("status", "new"),
                f"{float(st.get('failures', 0)):.1f}",
                str(st.get("last_status") or "-"),
                ago(st.get("last_success_at")),
                f"{st.get('items_seen', '-')}/{st.get('items_new', '-')}",
                ago(due.get(fid)),
                (st.get("last_error") or "")[:60],
            ]
        )
    if not as_json:
        if rows:
            table(
                rows,
                ["feed", "status", "fail", "http", "last ok", "items/new", "next", "last error"],
            )
        failing = sum(1 for st in states.values() if st.get("status") == "failing")
        click.echo(
            f"{len(configs)} feed(s), {failing} failing"
            + ("" if show_all else "; --all lists every feed")
        )


@feeds.command("check")
@click.option("--id", "only", multiple=True, help="Check only these feeds.")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check the feeds in this file instead of the registry.",
)
@click.option("--workers", default=8, show_default=True, help="Feeds fetched at once.")
def feeds_check(only: tuple[str, ...], path: Path | None, workers: int) -> None:
    """Poll every feed once and report which respond, with what (nothing is indexed)."""
    from concurrent.futures import ThreadPoolExecutor

    from pipelines.feeds import NotAFeed, parse_feed
    from pipelines.sitemaps import NotASitemap
    from workers.config import ConfigError
    from workers.feeds.polling import FEED_ACCEPT, poll_target, sitemap_listing
    from workers.feeds.store import load_feeds_file
    from workers.fetching.http import Fetcher, FetchError

    settings = load_settings()
    try:
        feeds_ = load_feeds_file(path) if path else list(_store().configs().values())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not path and not feeds_:
        feeds_ = load_feeds_file(settings.feeds_path)
    if only:
        feeds_ = [f for f in feeds_ if f.id in only]
    fetcher = Fetcher(settings)

    def check(feed):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            response = fetcher.get(
                poll_target(feed), max_bytes=settings.max_feed_bytes, accept=FEED_ACCEPT
            )
            if feed.kind == "sitemap":
                listing = sitemap_listing(feed, response)
                kind = f"{listing.kind} {len(listing.pages) + len(listing.sitemaps)}"
                error = listing.error
            else:
                parsed = parse_feed(response.content, response.headers, max_items=10_000)
                kind, error = f"{parsed.kind} {parsed.total_items}", parsed.error
        except FetchError as exc:
            return [
                feed.id,
                "FAIL",
                str(exc.status or "-"),
                "-",
                f"{time.monotonic() - started:.1f}s",
                exc.reason[:70],
            ]
        except (NotAFeed, NotASitemap) as exc:
            return [
                feed.id,
                "FAIL",
                str(response.status),
                "-",
                f"{time.monotonic() - started:.1f}s",
                exc.detail[:70],
            ]
        note = error[:50] if error else (f"-> {response.url}" if response.redirects else "")
        return [
            feed.id,
            "ok",
            str(response.status),
            kind,
            f"{time.monotonic() - started:.1f}s",
            note,
        ]

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = list(pool.map(check, feeds_))
    fetcher.close()
    table(rows, ["feed", "result", "http", "format items", "time", "note"])
    failed = sum(1 for r in rows if r[1] != "ok")
    click.echo(f"{len(rows) - failed} of {len(rows)} feed(s) answered with a feed or sitemap")
    if failed:
        sys.exit(EXIT_PARTIAL)


@feeds.command("import-opml")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def feeds_import_opml(path: Path) -> None:
    """Register every feed of an OPML file."""
    from workers.config import ConfigError
    from workers.feeds.opml import import_opml

    store = _store()
    try:
        imported = import_opml(path.read_bytes(), existing=set(store.configs()))
    except ConfigError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    new = sum(store.upsert(feed) for feed in imported)
    click.echo(f"imported {len(imported)} feed(s) from {path}: {new} new")


@feeds.command("export-opml")
@click.argument("path", default="-")
def feeds_export_opml(path: str) -> None:
    """Write the registry as OPML (to a file, or - for stdout)."""
    from workers.feeds.opml import export_opml

    text = export_opml(list(_store().configs().values()))
    if path == "-":
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}", err=True)
