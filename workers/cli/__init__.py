"""The `mediamon` command."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import kombu.exceptions
import redis

from workers.settings import Settings, get_settings, redact_url

EXIT_PARTIAL = 1  # some input was rejected or failed; the rest went through
EXIT_USAGE = 2


def _settings() -> Settings:
    return get_settings()


def _connect() -> Any:
    from workers.search.client import SearchError, connect

    try:
        return connect(_settings())
    except SearchError as exc:
        raise click.ClickException(
            f"{exc}\nIs the engine running? `make services` starts the local one."
        ) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mediamon")
def main() -> None:
    """mediamon: monitor news feeds, index articles, alert on keywords."""
    from workers import logs

    logs.configure(os.environ.get("MEDIAMON_CLI_LOG_LEVEL", "WARNING"), json_lines=False)


# ---------------------------------------------------------------- process
@main.command()
@click.argument("paths", nargs=-1)
@click.option("--jsonl", "jsonl", metavar="IN", help="Stream JSONL in (a path or -), JSONL out.")
@click.option("--url", help="The article's URL (its id, source and region follow from it).")
@click.option("--source", help="Source id from sources.yaml, for articles that have none.")
@click.option("--pretty/--compact", default=True, help="Indent the JSON of a single document.")
def process(
    paths: tuple[str, ...], jsonl: str | None, url: str | None, source: str | None, pretty: bool
) -> None:
    """Print the index document for articles: files, folders, or - for stdin.

    No services are needed. The content decides the format (HTML, text, JSON; gzipped
    too). One input prints its document; several print one JSON line each,
    {"input": where, "document": {...}} or {"input": where, "error": ...}.
    With --jsonl, each input line is an object with `text` or `html` (and optional url,
    title, source, published_at); each output line is the document, or
    {"error": ..., "line": n} for a line that cannot be processed.
    """
    from pipelines.article import RejectArticle
    from workers.articles.staging import raw_from_payload, read_inputs
    from workers.config import ConfigError, build_pipeline

    try:
        pipeline = build_pipeline(_settings().config_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if jsonl is not None:
        if paths or url:
            raise click.UsageError("--jsonl takes its articles (and their urls) from IN only")
        _process_jsonl(pipeline, jsonl, source)
    if not paths:
        raise click.UsageError("give a PATH, - for stdin, or --jsonl IN")
    items = list(read_inputs(list(paths)))
    if url and len(items) != 1:
        raise click.UsageError(f"--url names one article; the inputs hold {len(items)}")
    single = len(items) == 1
    code = 0
    for item in items:
        out: dict[str, Any] = {"input": item.where}
        if item.error or item.payload is None:
            out["error"] = item.error
            code = EXIT_USAGE if single else EXIT_PARTIAL
        else:
            raw = raw_from_payload(item.payload)
            raw.url = url or raw.url
            raw.source = raw.source or source
            try:
                out["document"] = pipeline.process(raw)
            except RejectArticle as exc:
                out.update(error=f"rejected at {exc.stage}: {exc}", reason=exc.reason)
                code = EXIT_PARTIAL
        if single and "document" in out:
            click.echo(
                json.dumps(out["document"], ensure_ascii=False, indent=2 if pretty else None)
            )
        elif single:
            click.echo(f"{item.where}: {out['error']}", err=True)
        else:
            click.echo(json.dumps(out, ensure_ascii=False))
    sys.exit(code)


def _process_jsonl(pipeline: Any, name: str, source: str | None) -> None:
    """`process --jsonl`: one output line per input line; a line that is not UTF-8 or
    not JSON is an error line like any other, and the lines after it go on."""
    from pipelines.article import RawArticle, RejectArticle

    try:
        stream = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
    except OSError as exc:
        raise click.ClickException(f"{name}: cannot read: {exc.strerror}") from exc
    failures = 0
    with stream:
        for n, data in enumerate(stream, 1):
            if n == 1:
                data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark from an editor
            if not data.strip():
                continue
            try:
                obj = json.loads(data.decode("utf-8"))
                if not isinstance(obj, dict):
                    raise RejectArticle("bad_input", "each line must be a JSON object")
                raw = RawArticle.from_dict(obj)
                raw.source = raw.source or source
                out: dict[str, Any] = pipeline.process(raw)
            except UnicodeDecodeError as exc:
                out = {"error": f"not UTF-8 at byte {exc.start}: {exc.reason}", "line": n}
                failures += 1
            except ValueError as exc:
                out, failures = {"error": f"not valid JSON: {exc}", "line": n}, failures + 1
            except RejectArticle as exc:
                out = {"error": str(exc), "reason": exc.reason, "stage": exc.stage, "line": n}
                failures += 1
            click.echo(json.dumps(out, ensure_ascii=False))
    sys.exit(EXIT_PARTIAL if failures else 0)


# ---------------------------------------------------------------- config
@main.group()
def config() -> None:
    """The config in use: feeds, entities, topics, sources, keywords (YAML).

    The default is bundled with mediamon; MEDIAMON_CONFIG_DIR names a folder of your own,
    and a file that folder lacks is taken from the default. A running worker and beat
    keep the config they started with: restart them after an edit.
    """


@config.command("path")
def config_path() -> None:
    """Print the config folder in use, and each file's origin."""
    from workers import bundled
    from workers.config import CONFIG_FILES

    settings = _settings()
    click.echo(settings.config_dir)
    for name in (*CONFIG_FILES, "feeds"):
        click.echo(f"  {name}.yaml: {bundled.config_file(settings.config_dir, name)}")


@config.command("copy")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def config_copy(folder: Path) -> None:
    """Copy the bundled default config into FOLDER (never over a file there), to edit it
    and set MEDIAMON_CONFIG_DIR=FOLDER."""
    import shutil

    from workers import bundled

    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(bundled.config_dir().glob("*.yaml")):
        target = folder / source.name
        if target.exists():
            click.echo(f"kept   {target} (exists)")
        else:
            shutil.copyfile(source, target)
            click.echo(f"copied {target}")
    click.echo(f"now: export MEDIAMON_CONFIG_DIR={folder.resolve()}")


# ---------------------------------------------------------------- ingest
@main.command()
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

    settings = _settings()
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
            f"cannot reach Redis at {settings.redis_url}: {exc}\n`make services` starts it."
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
                else:
                    summary = result.get()
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


# ---------------------------------------------------------------- search
class _SearchGroup(click.Group):
    """`mediamon search QUERY` searches; `mediamon search init|status` manage indices."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_SearchGroup)
def search() -> None:
    """Search the index (`mediamon search 習近平`), or manage it (init, status)."""


@search.command("init")
def search_init() -> None:
    """Apply index templates and create indices and aliases (idempotent)."""
    from workers.search import templates

    client = _connect()
    click.echo(f"engine: {client.engine}")
    for line in templates.apply(client):
        click.echo(line)


@search.command("status")
def search_status() -> None:
    """Engine, version, indices and document counts."""
    from workers.search import templates

    client = _connect()
    health = client.request("GET", "/_cluster/health")
    click.echo(f"engine:  {client.engine} at {', '.join(client.settings.search_urls)}")
    click.echo(f"cluster: {health.get('cluster_name')} ({health.get('status')})")
    prefix = client.settings.index_prefix
    for name in templates.NAMES:
        template = templates.load(name)
        alias, physical = template.alias(prefix), template.physical(prefix)
        if not client.exists(f"/{physical}"):
            click.echo(f"{alias:<20} missing (run `mediamon search init`)")
            continue
        count = client.request("GET", f"/{alias}/_count").get("count", "?")
        click.echo(f"{alias:<20} -> {physical:<24} {count} documents")


@search.command("query")
@click.argument("words", nargs=-1, required=True)
@click.option("-n", "--size", default=10, show_default=True, help="How many hits.")
@click.option("--lang", help="Only this language (zh-Hant, zh-Hans, en).")
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON lines.")
def search_query(words: tuple[str, ...], size: int, lang: str | None, as_json: bool) -> None:
    """Find articles: any script, any region's spelling of the words."""
    from pipelines.highlight import snippet
    from workers.config import build_pipeline
    from workers.search.client import SearchError
    from workers.search.queries import text_query

    query_text = " ".join(words)
    segmenter = build_pipeline(_settings().config_dir).segmenter
    body = text_query(query_text, segmenter, size=size, lang=lang)
    client = _connect()
    try:
        response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    except SearchError as exc:
        raise click.ClickException(f"search failed: {exc}") from exc
    hits = response.get("hits", {}).get("hits", [])
    total = response.get("hits", {}).get("total", {})
    if as_json:
        for hit in hits:
            click.echo(
                json.dumps(
                    {"id": hit["_id"], "score": hit["_score"], **hit["_source"]}, ensure_ascii=False
                )
            )
        return
    click.echo(f"{total.get('value', len(hits))} match(es) for {query_text!r}")
    for hit in hits:
        src = hit["_source"]
        terms = [t for frag in hit.get("highlight", {}).values() for t in _em_terms(frag)]
        text = f"{src.get('title') or ''}\n{src.get('body') or ''}".strip()
        click.echo("")
        click.secho(src.get("title") or (src.get("body") or "")[:60], bold=True)
        meta = [
            src.get("source_name") or src.get("source") or "-",
            src.get("published_at") or "no date",
            src.get("lang") or "",
        ]
        click.echo(
            "  " + " · ".join(m for m in meta if m) + (f"  {src['url']}" if src.get("url") else "")
        )
        click.echo("  " + snippet(text, terms or list(words)))


def _em_terms(fragments: list[str]) -> list[str]:
    import re

    return [m for frag in fragments for m in re.findall(r"<em>(.*?)</em>", frag)]


# ---------------------------------------------------------------- feeds
def _store():  # type: ignore[no-untyped-def]
    from workers.feeds.store import FeedStore
    from workers.state import State

    try:
        state = State(_settings())
        state.redis.ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            f"cannot reach Redis at {_settings().redis_url}: {exc}\n`make services` starts it."
        ) from exc
    return FeedStore(state.redis, state.prefix)


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )


def _ago(ts: float | None) -> str:
    if not ts:
        return "never"
    delta = time.time() - ts
    sign = "" if delta >= 0 else "in "
    delta = abs(delta)
    unit = next((u for u in ((86400, "d"), (3600, "h"), (60, "m")) if delta >= u[0]), (1, "s"))
    text = f"{delta / unit[0]:.0f}{unit[1]}"
    return f"{sign}{text}" if sign else f"{text} ago"


@main.group()
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
        wanted = load_feeds_file(path or _settings().feeds_path)
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
    _table(rows, ["id", "lang", "region", "source", "enabled", "url"])
    click.echo(f"{len(rows)} feed(s)")


@feeds.command("add")
@click.argument("url")
@click.option("--id", "feed_id", help="Feed id (default: made from the name or URL).")
@click.option("--name")
@click.option("--source", help="Source id from config/sources.yaml.")
@click.option("--lang", help="zh-Hant, zh-Hans, en, …")
@click.option("--region", help="TW, HK, CN, SG, GB, US, …")
@click.option("--interval", type=float, help="Seconds to the first re-poll.")
def feeds_add(
    url: str,
    feed_id: str | None,
    name: str | None,
    source: str | None,
    lang: str | None,
    region: str | None,
    interval: float | None,
) -> None:
    """Register a feed; it is polled at the next scheduler tick."""
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
                _ago(st.get("last_success_at")),
                f"{st.get('items_seen', '-')}/{st.get('items_new', '-')}",
                _ago(due.get(fid)),
                (st.get("last_error") or "")[:60],
            ]
        )
    if not as_json:
        if rows:
            _table(
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
    from workers.config import ConfigError
    from workers.feeds.polling import FEED_ACCEPT
    from workers.feeds.store import load_feeds_file
    from workers.fetching.http import Fetcher, FetchError

    settings = _settings()
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
            response = fetcher.get(feed.url, max_bytes=settings.max_feed_bytes, accept=FEED_ACCEPT)
            parsed = parse_feed(response.content, response.headers, max_items=10_000)
        except FetchError as exc:
            return [
                feed.id,
                "FAIL",
                str(exc.status or "-"),
                "-",
                f"{time.monotonic() - started:.1f}s",
                exc.reason[:70],
            ]
        except NotAFeed as exc:
            return [
                feed.id,
                "FAIL",
                str(response.status),
                "-",
                f"{time.monotonic() - started:.1f}s",
                exc.detail[:70],
            ]
        note = (
            parsed.error[:50]
            if parsed.error
            else (f"-> {response.url}" if response.redirects else "")
        )
        return [
            feed.id,
            "ok",
            str(response.status),
            f"{parsed.kind} {parsed.total_items}",
            f"{time.monotonic() - started:.1f}s",
            note,
        ]

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = list(pool.map(check, feeds_))
    fetcher.close()
    _table(rows, ["feed", "result", "http", "format items", "time", "note"])
    failed = sum(1 for r in rows if r[1] != "ok")
    click.echo(f"{len(rows) - failed} of {len(rows)} feed(s) answered with a feed")
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


# ---------------------------------------------------------------- alerts
def _duration(text: str) -> int:
    """'90s', '10m', '1h', '7d' (or plain seconds) -> seconds."""
    import re as _re

    match = _re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text or "")
    if not match:
        raise click.BadParameter(f"{text!r}: use a number with s, m, h or d (e.g. 30m, 1h, 7d)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _rules():  # type: ignore[no-untyped-def]
    from workers.alerts.rules import Rules
    from workers.state import State

    return Rules(_connect(), State(_settings()))


_RULE_OPTIONS = [
    click.option("--query", "-q", help="The rule's query (see `mediamon alerts --help`)."),
    click.option("--source", "sources", multiple=True, help="Only these sources (repeatable)."),
    click.option(
        "--lang", "langs", multiple=True, help="Only these languages: zh-Hant, zh-Hans, en."
    ),
    click.option("--topic", "topics", multiple=True, help="Only articles with these topics."),
    click.option(
        "--entity", "entities", multiple=True, help="Only articles naming these entities."
    ),
    click.option("--webhook", help="POST signed JSON here."),
    click.option("--slack", help="A Slack-compatible incoming-webhook URL."),
    click.option(
        "--email", "emails", multiple=True, help="Send e-mail to this address (repeatable)."
    ),
    click.option("--digest", help="Send a digest every period (e.g. 1h, 1d) instead of at once."),
    click.option("--throttle", help="At most one immediate notification per period (e.g. 10m)."),
]


def _rule_options(func):  # type: ignore[no-untyped-def]
    for option in reversed(_RULE_OPTIONS):
        func = option(func)
    return func


def _apply(
    rule_data: dict[str, Any],
    query,
    sources,
    langs,
    topics,
    entities,
    webhook,
    slack,
    emails,
    digest,
    throttle,
):  # type: ignore[no-untyped-def]
    updates = {"query": query, "webhook": webhook, "slack": slack}
    rule_data.update({k: v for k, v in updates.items() if v is not None})
    for key, values in (
        ("sources", sources),
        ("langs", langs),
        ("topics", topics),
        ("entities", entities),
        ("email", emails),
    ):
        if values:
            rule_data[key] = list(values)
    if digest:
        rule_data.update(mode="digest", digest_every=_duration(digest))
    if throttle:
        rule_data["throttle"] = _duration(throttle)
    return rule_data


def _save(rule_data: dict[str, Any], *, new: bool) -> None:
    from pydantic import ValidationError

    from pipelines.alertquery import QueryError
    from workers.alerts.rules import AlertRule, RuleError, compile_rule

    try:
        rule = AlertRule.model_validate(rule_data)
    except ValidationError as exc:
        raise click.ClickException(
            "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        ) from exc
    try:  # the query first: a typo is reported without the engine
        compile_rule(rule, _settings())
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        secret = _rules().save(rule, new=new)
    except RuleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{'added' if new else 'saved'} rule {rule.id} ({rule.mode}; channels: {', '.join(rule.channels()) or 'none: events only'})"
    )
    if secret and rule.webhook:
        click.echo(
            f"webhook signing secret (shown once; `alerts show {rule.id} --secret` shows it again): {secret}"
        )


@main.group()
def alerts() -> None:
    """Keyword alerts: rules matched against every new article.

    \b
    Query language:
      普京 烏克蘭                     both words (in either script)
      "上海合作組織" OR SCO            a phrase, or a word
      習近平 AND NOT 台灣              also -台灣; +word requires a word
      "習近平 普京"~10                 within 10 words; 习近平 NEAR/5 普京 in any order
      ukrain*                        a prefix (3+ letters, 2+ Chinese characters)
      entity:putin topic:ukraine_war source:cna lang:zh-Hant region:TW
    """


@alerts.command("add")
@click.argument("rule_id")
@click.option("--name", help="A name for people (default: the id).")
@_rule_options
def alerts_add(rule_id: str, name: str | None, **options: Any) -> None:
    """Add a rule: mediamon alerts add xi-putin -q '習近平 普京' --webhook URL"""
    if not options.get("query"):
        raise click.UsageError("--query is required")
    data = _apply({"id": rule_id, "name": name or rule_id}, **options)
    _save(data, new=True)


@alerts.command("edit")
@click.argument("rule_id")
@click.option("--name")
@_rule_options
def alerts_edit(rule_id: str, name: str | None, **options: Any) -> None:
    """Change a rule's query, filters, channels or mode (options not given stay)."""
    rule = _rules().get(rule_id)
    if rule is None:
        raise click.ClickException(f"no rule {rule_id!r}")
    data = _apply(rule.model_dump(), **options)
    if name:
        data["name"] = name
    _save(data, new=False)


@alerts.command("list")
def alerts_list() -> None:
    """Every rule, one a line."""
    rows = [
        [
            r.id,
            "on" if r.enabled else "off",
            r.mode + (f"/{r.digest_every}s" if r.mode == "digest" else ""),
            ",".join(r.channels()) or "-",
            r.query[:60],
        ]
        for r in _rules().all()
    ]
    _table(rows, ["rule", "enabled", "mode", "channels", "query"])
    click.echo(f"{len(rows)} rule(s)")


@alerts.command("show")
@click.argument("rule_id")
@click.option("--secret", is_flag=True, help="Also print the webhook signing secret.")
def alerts_show(rule_id: str, secret: bool) -> None:
    """A rule, its compiled query, and its recent events."""
    from workers.alerts.rules import compile_rule

    store = _rules()
    rule = store.get(rule_id)
    if rule is None:
        raise click.ClickException(f"no rule {rule_id!r}")
    click.echo(json.dumps(rule.model_dump(exclude_none=True), ensure_ascii=False, indent=2))
    click.echo("compiled: " + json.dumps(compile_rule(rule, _settings()), ensure_ascii=False))
    if secret:
        click.echo(f"secret: {store.secret(rule_id)}")
    client = store.client
    body = {"query": {"term": {"rule_id": rule_id}}, "sort": [{"matched_at": "desc"}], "size": 10}
    hits = client.request("POST", f"/{client.index_name('alert-events')}/_search", body)["hits"][
        "hits"
    ]
    for hit in hits:
        e = hit["_source"]
        status = ", ".join(
            f"{c}={v.get('status')}/{v.get('attempts')}"
            for c, v in (e.get("delivery") or {}).items()
        )
        click.echo(
            f"  {e['matched_at'][:19]}  {e.get('title') or e.get('url')}  [{status or 'no channels'}]"
        )


def _set_enabled(rule_id: str, enabled: bool) -> None:
    store = _rules()
    rule = store.get(rule_id)
    if rule is None:
        raise click.ClickException(f"no rule {rule_id!r}")
    rule.enabled = enabled
    store.save(rule, new=False)
    click.echo(f"{'enabled' if enabled else 'disabled'} {rule_id}")


@alerts.command("enable")
@click.argument("rule_id")
def alerts_enable(rule_id: str) -> None:
    """Match the rule again."""
    _set_enabled(rule_id, True)


@alerts.command("disable")
@click.argument("rule_id")
def alerts_disable(rule_id: str) -> None:
    """Stop matching the rule (it is kept)."""
    _set_enabled(rule_id, False)


@alerts.command("delete")
@click.argument("rule_id")
def alerts_delete(rule_id: str) -> None:
    """Delete a rule (its events stay)."""
    if not _rules().delete(rule_id):
        raise click.ClickException(f"no rule {rule_id!r}")
    click.echo(f"deleted {rule_id}")


@alerts.command("test")
@click.argument("rule_id", required=False)
@click.option("--query", "-q", help="Test a query without saving a rule.")
@click.option("--since", default="30d", show_default=True, help="How far back (e.g. 7d, 12h).")
@click.option("-n", "--size", default=20, show_default=True)
def alerts_test(rule_id: str | None, query: str | None, since: str, size: int) -> None:
    """Run a rule over the articles already indexed, with matched terms [marked]."""
    from pipelines.alertquery import QueryError
    from pipelines.highlight import snippet
    from workers.alerts.rules import AlertRule, compile_rule

    if rule_id:
        rule = _rules().get(rule_id)
        if rule is None:
            raise click.ClickException(f"no rule {rule_id!r}")
    elif query:
        rule = AlertRule(id="adhoc", name="ad hoc", query=query)
    else:
        raise click.UsageError("give a RULE_ID or --query")
    try:
        compiled = compile_rule(rule, _settings())
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    seconds = _duration(since)
    body = {
        "query": {
            "bool": {
                "must": [compiled],
                "filter": [{"range": {"published_at": {"gte": f"now-{seconds}s"}}}],
            }
        },
        "size": size,
        "sort": [{"published_at": "desc"}],
        "_source": {"excludes": ["text_norm", "text_tokens"]},
        "highlight": {
            "fields": {
                "text_tokens": {"number_of_fragments": 5},
                "text_norm": {"number_of_fragments": 5},
            }
        },
    }
    client = _connect()
    response = client.request("POST", f"/{client.index_name('articles')}/_search", body)
    hits = response["hits"]["hits"]
    click.echo(
        f"{response['hits']['total']['value']} article(s) in the last {since} match {rule.query!r}"
    )
    for hit in hits:
        src = hit["_source"]
        terms = [t for frag in hit.get("highlight", {}).values() for t in _em_terms(frag)]
        aliases = [
            a
            for e in src.get("entities", [])
            for a in e.get("aliases", [])
            if f"entity:{e['id']}" in rule.query
        ]
        text = f"{src.get('title') or ''}\n{src.get('body') or ''}".strip()
        click.echo("")
        click.secho(src.get("title") or text[:60], bold=True)
        click.echo(
            f"  {src.get('source') or '-'} · {src.get('published_at', '')[:16]} · {src.get('url', '')}"
        )
        click.echo("  " + snippet(text, terms + aliases or [rule.query]))


# ---------------------------------------------------------------- dashboards
@main.group()
def dashboards() -> None:
    """Kibana / OpenSearch Dashboards saved objects (dashboards/)."""


@dashboards.command("import")
@click.option(
    "--url", help="Kibana or OpenSearch Dashboards URL (default: MEDIAMON_DASHBOARDS_URL)."
)
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for it.")
def dashboards_import(url: str | None, timeout: float) -> None:
    """Wait for Kibana (or OpenSearch Dashboards, detected) and import the dashboards."""
    from workers.dashboards import DashboardsError, import_objects, wait

    def waiting(base: str, elapsed: float, last: str) -> None:
        click.echo(
            f"waiting for {base}/api/status ({elapsed:.0f}s of {timeout:.0f}s): {last}", err=True
        )

    try:
        target = wait(_settings(), url, timeout=timeout, progress=waiting)
        click.echo(f"{target.kind} {target.version} at {target.url}")
        result = import_objects(_settings(), target)
    except DashboardsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"imported {result.get('successCount', 0)} objects (existing ones overwritten)")


@dashboards.command("check")
def dashboards_check() -> None:
    """Check the saved objects offline, as Kibana and OpenSearch Dashboards would read
    them: references, Lens layers and accessors, and fields in the index templates."""
    from workers.dashboards import (
        KIND_DIRS,
        DashboardsError,
        problems,
        read_objects,
        saved_objects_path,
    )

    failed = False
    for kind in KIND_DIRS:
        path = saved_objects_path(_settings(), kind)
        try:
            objects = read_objects(path)
        except DashboardsError as exc:
            raise click.ClickException(str(exc)) from exc
        found = problems(objects, kind)
        click.echo(f"{kind}: {len(objects)} objects in {path}: {len(found) or 'no'} problems")
        for problem in found:
            click.echo(f"  {problem}")
        failed = failed or bool(found)
    sys.exit(1 if failed else 0)


@dashboards.command("export")
@click.option(
    "--url", help="Kibana or OpenSearch Dashboards URL (default: MEDIAMON_DASHBOARDS_URL)."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the NDJSON (never the bundled file).",
)
def dashboards_export(url: str | None, out: Path) -> None:
    """Export the dashboards (after editing panels in the UI) to an NDJSON file."""
    from workers.dashboards import DashboardsError, export_objects, wait

    try:
        target = wait(_settings(), url, timeout=30)
        path = export_objects(_settings(), target, out)
    except DashboardsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {path}")


# ---------------------------------------------------------------- coverage, report
@main.command("coverage")
@click.option("--topic", help="A topic id (default: every topic in config/topics.yaml).")
@click.option("--entity", help="An entity id (combined with --topic when both are given).")
@click.option("--interval", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--since", default="90d", show_default=True, help="How far back (e.g. 30d).")
@click.option("--source", "sources", multiple=True, help="Only these sources (repeatable).")
@click.option(
    "--normalize", is_flag=True, help="Sparklines of the share of all coverage, not counts."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def coverage_cmd(
    topic: str | None,
    entity: str | None,
    interval: str,
    since: str,
    sources: tuple[str, ...],
    normalize: bool,
    fmt: str,
) -> None:
    """Articles per day or week, and their share of all coverage, with sparklines."""
    import csv

    from workers.config import build_pipeline
    from workers.coverage.queries import coverage, selection, sparkline

    days = max(1, _duration(since) // 86400)
    if topic or entity:
        name = "+".join(x for x in (topic, entity) if x)
        series = {name: selection(topic, entity)}
    else:
        series = {
            t.id: selection(t.id, None) for t in build_pipeline(_settings().config_dir).topics
        }
    result = coverage(
        _connect(), series=series, interval=interval, since_days=days, sources=list(sources) or None
    )
    rows = result.rows()
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        writer = csv.DictWriter(
            sys.stdout, fieldnames=list(rows[0]) if rows else ["bucket", "total"]
        )
        writer.writeheader()
        writer.writerows(rows)
        return
    header = ["bucket", "total"] + [h for s in result.series for h in (s.name, "share")]
    table = [
        [r["bucket"], str(r["total"])]
        + [v for s in result.series for v in (str(r[s.name]), f"{r[s.name + '_share']:.1%}")]
        for r in rows
    ]
    _table(table, header)
    click.echo("")
    click.echo(
        f"{'all articles':<16} {sparkline([float(t) for t in result.totals])}  {sum(result.totals)}"
    )
    for s in result.series:
        values = s.shares(result.totals) if normalize else [float(c) for c in s.counts]
        total = sum(s.counts)
        share = total / sum(result.totals) if sum(result.totals) else 0.0
        click.echo(f"{s.name:<16} {sparkline(values)}  {total} ({share:.1%} of all)")


@main.command("report")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
)
@click.option("--interval", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--since", default="90d", show_default=True)
def report_cmd(out: Path, interval: str, since: str) -> None:
    """Write a self-contained HTML report (charts work offline)."""
    from workers.config import build_pipeline
    from workers.coverage.report import render

    topics = [t.id for t in build_pipeline(_settings().config_dir).topics]
    html = render(
        _connect(), topics=topics, interval=interval, since_days=max(1, _duration(since) // 86400)
    )
    out.write_text(html, encoding="utf-8")
    click.echo(f"wrote {out} ({len(html) // 1024} KiB)")


# ---------------------------------------------------------------- status, worker, beat
@main.command()
def status() -> None:
    """Services, counters, beat heartbeat, recent dead letters."""
    from workers.state import State

    settings = _settings()
    try:
        state = State(settings)
        counters = state.counters()
        beat = state.last_heartbeat("beat")
        dead = state.dead_letters(5)
    except redis.RedisError as exc:
        raise click.ClickException(
            f"cannot reach Redis at {redact_url(settings.redis_url)}: {exc}"
        ) from exc
    click.echo(f"redis:   {redact_url(settings.redis_url)}")
    if beat:
        age = time.time() - beat
        click.echo(
            f"beat:    last heartbeat {age:.0f}s ago" + ("  (stalled?)" if age > 120 else "")
        )
    else:
        click.echo("beat:    no heartbeat yet")
    click.echo(
        "counters: " + (", ".join(f"{k}={v}" for k, v in sorted(counters.items())) or "none")
    )
    for entry in dead:
        when = datetime.fromtimestamp(entry["at"], UTC).isoformat(timespec="seconds")
        click.echo(f"dead letter {when} {entry['task']}: {entry['error']}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker on all queues (extra options go to `celery worker`).

    The worker keeps the settings and config it started with: restart it after an edit
    (`mediamon config path` shows which files are in use)."""
    settings = _settings()
    argv = [
        "worker",
        "-Q",
        "feeds,articles,alerts",
        "-c",
        str(settings.worker_concurrency),
        "-n",
        "mediamon@%h",
        "--loglevel",
        settings.log_level,
        *ctx.args,
    ]
    from workers.app import app

    app.worker_main(argv)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run Celery beat with the Redis-backed single-leader scheduler."""
    settings = _settings()
    try:  # RedBeat needs Redis before anything else: say so in one line, not a traceback
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            f"cannot reach Redis at {redact_url(settings.redis_url)}: {exc}\n"
            "Is it running? `make services` starts the local one."
        ) from exc
    from workers.app import app

    app.start(["beat", "--loglevel", settings.log_level, *ctx.args])


if __name__ == "__main__":
    main()
