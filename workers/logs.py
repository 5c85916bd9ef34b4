"""Structured logs: one JSON object per line, with the task's name and id when in a task."""

from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from workers.settings import redact

task_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "task_context", default=None
)


class TaskContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (task_context.get() or {}).items():
            setattr(record, key, value)
        return True


class RedactingFilter(logging.Filter):
    """No password of a service URL reaches a log line, whoever logged it (Celery and
    kombu print the broker URL; clients print the URLs they failed to reach)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "@" in message:
            record.msg, record.args = redact(message), None
        if record.exc_info:  # a traceback's messages may hold the URL as well
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact(text)
        return True


def configure(level: str = "INFO", *, json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(TaskContextFilter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("elastic_transport", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # opensearch-py logs every 404 (an absent document or index) as a warning
    logging.getLogger("opensearch").setLevel(logging.ERROR)
