"""Real Celery worker and beat processes, for integration tests, fault tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _celery(
    args: list[str], log: Path, env: Mapping[str, str] | None, mode: str
) -> subprocess.Popen[bytes]:
    """Start ``celery -A workers.app ARGS`` with output to ``log``, in its own session."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, mode) as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app", *args],
            cwd=ROOT,
            env=dict(env if env is not None else os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_worker(
    name: str,
    log: Path,
    *,
    queues: str = "feeds,fetch,articles,alerts",
    concurrency: int = 2,
    pool: str | None = None,
    loglevel: str = "INFO",
    env: Mapping[str, str] | None = None,
    mode: str = "ab",
) -> subprocess.Popen[bytes]:
    """A worker named ``name@host`` on ``queues`` (prefork with ``concurrency``, or ``pool``)."""
    size = ["-P", pool] if pool else ["-c", str(concurrency)]
    args = ["worker", "-Q", queues, *size, "-n", f"{name}@%h"]
    args += ["--without-mingle", "--without-gossip", "--loglevel", loglevel]
    return _celery(args, log, env, mode)


def start_pools(
    name: str,
    log: Path,
    *,
    pool: str = "both",
    env: Mapping[str, str] | None = None,
    mode: str = "ab",
) -> subprocess.Popen[bytes]:
    """`mediamon worker`: the I/O pool (gevent) and the CPU pool (processes) as a user
    runs them, named ``name-io@host`` and ``name-cpu@host``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, mode) as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from workers.cli import main; main()", "worker",
             "--pool", pool, "--name", name, "--without-mingle", "--without-gossip"],
            cwd=ROOT,
            env=dict(env if env is not None else os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def start_beat(schedule: Path, log: Path, *, loglevel: str = "INFO") -> subprocess.Popen[bytes]:
    """Celery beat with its local schedule file at ``schedule``."""
    return _celery(["beat", "--loglevel", loglevel, "-s", str(schedule)], log, None, "ab")
