"""The `mediamon` command."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click
import kombu.exceptions
import redis

from workers.settings import Settings, get_settings

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
@click.argument("path", required=False)
@click.option("--jsonl", "jsonl", metavar="IN", help="Stream JSONL in (a path or -), JSONL out.")
@click.option("--pretty/--compact", default=True, help="Indent the JSON of a single document.")
def process(path: str | None, jsonl: str | None, pretty: bool) -> None:
    """Print the index document for one article (text, HTML or JSON; - for stdin).

    No services are needed. With --jsonl, each input line is an object with `text` or
    `html` (and optional url, title, source, published_at); each output line is the
    document, or {"error": ..., "line": n} for a line that cannot be processed.
    """
    from pipelines.article import RawArticle, RejectArticle
    from workers.config import ConfigError, build_pipeline
    from workers.staging import raw_from_payload, read_inputs

    try:
        pipeline = build_pipeline(_settings().config_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if jsonl is not None:
        try:
            stream = sys.stdin if jsonl == "-" else open(jsonl, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise click.ClickException(f"{jsonl}: cannot read: {exc.strerror}") from exc
        failures = 0
        with stream:
            for n, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    if not isinstance(obj, dict):
                        raise RejectArticle("bad_input", "each line must be a JSON object")
                    out: dict[str, Any] = pipeline.process(RawArticle.from_dict(obj))
                except ValueError as exc:
                    out, failures = {"error": f"not valid JSON: {exc}", "line": n}, failures + 1
                except RejectArticle as exc:
                    out = {"error": str(exc), "reason": exc.reason, "stage": exc.stage, "line": n}
                    failures += 1
                click.echo(json.dumps(out, ensure_ascii=False))
        sys.exit(EXIT_PARTIAL if failures else 0)
    if path is None:
        raise click.UsageError("give a PATH, - for stdin, or --jsonl IN")
    items = list(read_inputs([path]))
    code = 0
    for item in items:
        if item.error or item.payload is None:
            click.echo(f"{item.where}: {item.error}", err=True)
            code = EXIT_USAGE if len(items) == 1 else EXIT_PARTIAL
            continue
        try:
            doc = pipeline.process(raw_from_payload(item.payload))
        except RejectArticle as exc:
            click.echo(f"{item.where}: rejected at {exc.stage}: {exc}", err=True)
            code = EXIT_PARTIAL
            continue
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2 if pretty else None))
    sys.exit(code)


# ---------------------------------------------------------------- ingest
@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Source id to record on every article without one.")
@click.option("--wait/--no-wait", default=True, help="Wait for the worker and report results.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for results.")
def ingest(paths: tuple[str, ...], source: str | None, wait: bool, timeout: float) -> None:
    """Send article files (or a folder, or - for stdin) through the worker into the index."""
    from tqdm import tqdm

    from workers.staging import read_inputs
    from workers.state import State
    from workers.tasks import process_articles

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
        raise click.ClickException(f"cannot reach Redis at {settings.redis_url}: {exc}") from exc
    click.echo(f"redis:   {settings.redis_url}")
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
    """Run a Celery worker on all queues (extra options go to `celery worker`)."""
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
    from workers.app import app

    app.start(["beat", "--loglevel", _settings().log_level, *ctx.args])


if __name__ == "__main__":
    main()
