"""Shared helpers for the benchmark and evaluation scripts (not part of the package)."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
SEED = ROOT.parent / "shared" / "seed" / "cna-xi-putin-2022-09-14.txt"
# The public Zaobao 2023 headlines and summaries (the dev gold set's stories).
ZAOBAO_2023 = DEFAULT_DATA / "news" / "zaobao" / "zaobao_2023.jsonl.gz"


def stack_env(redis_db: int, **overrides: str) -> str:
    """Point this process (and the workers it starts) at the local stack for a benchmark:
    its own Redis database and index prefix, the local feed server let through the SSRF
    guard, no politeness delay, no configured feeds. Call before importing ``workers``
    (settings are read once). Returns the run id in the index prefix."""
    run = uuid.uuid4().hex[:6]
    settings = {
        "MEDIAMON_REDIS_URL": os.environ.get(
            "BENCH_REDIS_URL", f"redis://127.0.0.1:6390/{redis_db}"
        ),
        "MEDIAMON_INDEX_PREFIX": f"bench-{run}-",
        "MEDIAMON_ALLOW_PRIVATE_ADDRESSES": "127.0.0.1/32",
        "MEDIAMON_HOST_MIN_INTERVAL": "0",
        "MEDIAMON_LOG_LEVEL": "WARNING",
        "MEDIAMON_FEEDS_FILE": str(ROOT / "tests" / "data" / "feeds" / "empty.yaml"),
    }
    os.environ.setdefault("MEDIAMON_STATE_DIR", str(ROOT / ".state"))  # the dev stack's
    os.environ.update({**settings, **overrides})  # an override may replace a default
    return run


def data_arg(parser: argparse.ArgumentParser, name: str, default: Path, help: str) -> None:
    parser.add_argument(name, type=Path, default=default, help=f"{help} (default: {default})")


def require(path: Path, what: str) -> bool:
    """False (with a message) when a data set is absent: the script skips it."""
    if path.exists():
        return True
    print(f"skipped {what}: {path} not found", file=sys.stderr)
    return False


def pipeline():  # type: ignore[no-untyped-def]
    from workers.config import build_pipeline
    from workers.settings import Settings

    return build_pipeline(Settings().config_dir)


def quiet_jieba():  # type: ignore[no-untyped-def]
    """Import jieba (the baseline) without its start-up chatter and warnings."""
    import logging

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
        import jieba.analyse
        import jieba.posseg
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def services():  # type: ignore[no-untyped-def]
    """(settings, state, search client) for the local stack, with the bench's Redis DB emptied
    and the index templates applied; exits with status 2 and a hint when a service is down."""
    from workers.search import templates
    from workers.search.client import connect
    from workers.settings import get_settings
    from workers.state import State

    settings = get_settings()
    state = State(settings)
    try:
        state.redis.ping()
        client = connect(settings)
    except Exception as exc:
        print(f"services not reachable ({exc}); run `make services` first", file=sys.stderr)
        raise SystemExit(2) from exc
    state.redis.flushdb()
    templates.apply(client)
    return settings, state, client


def service_processes(settings):  # type: ignore[no-untyped-def]
    """The local Redis and OpenSearch processes (by their pid files), for the benches
    that count their CPU and memory; a service without a pid file is left out."""
    import psutil

    found = {}
    for name, pidfile in (
        ("redis", "redis/redis.pid"),
        ("opensearch", "opensearch/opensearch.pid"),
    ):
        path = settings.state_dir / pidfile
        if path.exists():
            found[name] = [psutil.Process(int(path.read_text()))]
    return found
