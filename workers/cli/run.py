"""`mediamon status`, `worker` and `beat`: the running system."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
@click.option(
    "--pool",
    type=click.Choice(["both", "io", "cpu"]),
    default="both",
    show_default=True,
    help="io: polls, page fetches and deliveries on gevent; cpu: the pipeline on processes.",
)
@click.option("--name", default="mediamon", show_default=True, help="Worker name prefix.")
@click.pass_context
def worker(ctx: click.Context, pool: str, name: str) -> None:
    """Run the workers: an I/O pool (gevent, MEDIAMON_IO_CONCURRENCY requests in flight
    in each of MEDIAMON_IO_PROCESSES processes) on the feeds, fetch and alerts queues, and a CPU pool (processes,
    MEDIAMON_WORKER_CONCURRENCY, default one a core) on the articles queue. Extra
    options go to `celery worker` (of each pool).

    The worker keeps the settings and config it started with: restart it after an edit
    (`mediamon config path` shows which files are in use)."""
    from workers.app import CPU_QUEUES, IO_QUEUES

    settings = load_settings()
    io = settings.io_concurrency
    pools = {
        # A green pool's consumer takes no message while its prefetch window is full and
        # looks again only every 2 s: the window is kept far larger than the pool (the
        # messages wait in the worker rather than in Redis; acks_late keeps them safe).
        "io": [
            "-P",
            settings.io_pool,
            "-c",
            str(io),
            "-Q",
            ",".join(IO_QUEUES),
            "--prefetch-multiplier",
            str(max(4, -(-IO_PREFETCH // io))),
        ],
        "cpu": ["-c", str(settings.cpu_workers), "-Q", ",".join(CPU_QUEUES)],
    }
    chosen = ["io", "cpu"] if pool == "both" else [pool]
    # The I/O pool is one process per MEDIAMON_IO_PROCESSES (each uses one core at most)
    names = {
        "io": [f"{name}-io{'' if n == 0 else n + 1}" for n in range(settings.io_processes)],
        "cpu": [f"{name}-cpu"],
    }
    commands = [
        [sys.executable, "-m", "celery", "-A", "workers.app", "worker", *pools[kind],
         "-n", f"{worker_name}@%h", "--loglevel", settings.log_level, *ctx.args]
        for kind in chosen
        for worker_name in names[kind]
    ]  # fmt: skip
    if len(commands) == 1:  # one pool: be it (signals and exit code are Celery's)
        os.execv(commands[0][0], commands[0])
    sys.exit(supervise(commands))


IO_PREFETCH = 512  # messages the I/O worker holds at least


def supervise(commands: list[list[str]]) -> int:
    """Run the commands side by side; pass SIGTERM and SIGINT on to each; when one
    ends, stop the others (a warm shutdown) and return the first one's exit code."""
    children = [subprocess.Popen(command) for command in commands]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    first = next(child for child in children if child.poll() is not None)
    forward(signal.SIGTERM, None)
    for child in children:
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
    return first.returncode or 0


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
