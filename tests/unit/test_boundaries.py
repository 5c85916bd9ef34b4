"""pipelines/ is pure: it never imports the I/O shell, a service client or the
environment. (import-linter checks the same contract in `make lint`.)"""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {
    "workers",
    "celery",
    "kombu",
    "redis",
    "elasticsearch",
    "opensearchpy",
    "httpx",
    "requests",
    "urllib3",
    "aiohttp",
    "socket",
    "subprocess",
}
PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def test_pipelines_imports_no_io() -> None:
    offenders = []
    for path in PIPELINES.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                offenders.append(f"{path.name}: os.{node.attr}")
    assert offenders == []
