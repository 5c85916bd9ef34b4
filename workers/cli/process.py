"""`mediamon process`: index documents for articles, no services needed."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from workers.cli.common import (
    EXIT_PARTIAL,
    EXIT_USAGE,
    load_settings,
)


@click.command()
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
        pipeline = build_pipeline(load_settings().config_dir)
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
