"""`mediamon status`, `worker` and `beat`: the running system."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
import redis

from workers.cli.common import (
    load_settings,
)
from workers.settings import redact


@click.command()
def status() -> None:
    """Services, counters, beat heartbeat, recent dead letters."""
    from workers.state import State

    settings = load_settings()
    try:
        state = State(settings)
        counters = state.counters()
        beat = state.last_heartbeat("beat")
        dead = state.dead_letters(5)
    except redis.RedisError as exc:
        raise click.ClickException(
            f"cannot reach Redis at {redact(settings.redis_dsn)}: {redact(str(exc))}"
        ) from exc
    click.echo(f"redis:   {redact(settings.redis_dsn)}")
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


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker on all queues (extra options go to `celery worker`).

    The worker keeps the settings and config it started with: restart it after an edit
    (`mediamon config path` shows which files are in use)."""
    settings = load_settings()
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


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run Celery beat with the Redis-backed single-leader scheduler."""
    settings = load_settings()
    try:  # RedBeat needs Redis before anything else: say so in one line, not a traceback
        redis.Redis.from_url(settings.redis_dsn, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            f"cannot reach Redis at {redact(settings.redis_dsn)}: {redact(str(exc))}\n"
            "Is it running? `make services` starts the local one."
        ) from exc
    from workers.app import app

    app.start(["beat", "--loglevel", settings.log_level, *ctx.args])
