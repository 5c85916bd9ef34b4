"""Secrets never printed: a password inside MEDIAMON_REDIS_URL or MEDIAMON_SEARCH_URLS
shows in no output, error message or log line (settings hold both as secrets)."""

from __future__ import annotations

import os
import subprocess
import sys

from workers.settings import Settings, redact

PASSWORD = "hunter2-not-shown"
ENV = {
    **os.environ,
    "MEDIAMON_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:1/0",
    "MEDIAMON_SEARCH_URLS": f"http://elastic:{PASSWORD}@127.0.0.1:1",
    "MEDIAMON_LOG_LEVEL": "DEBUG",
    "MEDIAMON_CLI_LOG_LEVEL": "DEBUG",
}


def _run(*code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(code)], env=ENV, capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


def test_status_and_search_status_do_not_print_the_passwords() -> None:
    for command in ("status", "search status"):
        out = _run("from workers.cli import main", f"main({command.split()!r})")
        assert "127.0.0.1:1" in out, out  # the error names the service...
        assert PASSWORD not in out, out  # ...without its password


def test_the_worker_debug_log_does_not_print_them() -> None:
    out = _run("from workers import logs", "logs.configure('DEBUG')", "import workers.app")
    assert "celery app configured for redis://:***@127.0.0.1:1/0" in out, out
    assert PASSWORD not in out


def test_settings_hold_service_urls_as_secrets() -> None:
    settings = Settings(redis_url=f"redis://:{PASSWORD}@r/0", search_urls=f"https://u:{PASSWORD}@e")
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    assert settings.redis_dsn.endswith("@r/0") and settings.search_hosts == [
        f"https://u:{PASSWORD}@e"
    ]
    assert redact(f"failed: {settings.search_hosts[0]}, {settings.redis_dsn}") == (
        "failed: https://u:***@e, redis://:***@r/0"
    )


def test_a_logged_traceback_is_redacted_too() -> None:
    out = _run(
        "import logging",
        "from workers import logs",
        "logs.configure('INFO')",
        "try:",
        f"    raise ConnectionError('cannot reach redis://:{PASSWORD}@10.0.0.1:6379/0')",
        "except ConnectionError:",
        "    logging.getLogger('x').exception('lost the broker')",
    )
    assert "lost the broker" in out and "redis://:***@10.0.0.1" in out and PASSWORD not in out
