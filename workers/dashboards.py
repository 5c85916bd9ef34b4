"""Importing and exporting the dashboards' saved objects (Kibana or OpenSearch Dashboards)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from workers.settings import Settings

KIND_DIRS = {"kibana": "kibana", "opensearch-dashboards": "opensearch-dashboards"}
DASHBOARD_IDS = ("mediamon-coverage", "mediamon-pipeline-health")


class DashboardsError(Exception):
    """Kibana / OpenSearch Dashboards could not be reached or refused the objects."""


@dataclass
class Target:
    url: str
    kind: str  # "kibana" or "opensearch-dashboards"
    version: str

    @property
    def xsrf(self) -> dict[str, str]:
        return (
            {"osd-xsrf": "true"} if self.kind == "opensearch-dashboards" else {"kbn-xsrf": "true"}
        )


def _client(settings: Settings) -> httpx.Client:
    auth = None
    if settings.dashboards_username:
        password = (
            settings.dashboards_password.get_secret_value() if settings.dashboards_password else ""
        )
        auth = (settings.dashboards_username, password)
    verify: Any = (
        str(settings.search_ca_certs) if settings.search_ca_certs else settings.search_verify_certs
    )
    return httpx.Client(auth=auth, verify=verify, timeout=30)


def wait(settings: Settings, url: str | None = None, *, timeout: float = 300.0) -> Target:
    """Wait until the dashboards app answers /api/status as available; say which it is."""
    base = (url or settings.dashboards_url).rstrip("/")
    deadline = time.monotonic() + timeout
    last = "no answer"
    with _client(settings) as client:
        while True:
            try:
                response = client.get(f"{base}/api/status")
                if response.status_code == 200:
                    body = response.json()
                    kind = "opensearch-dashboards" if "osd-name" in response.headers else "kibana"
                    version = str((body.get("version") or {}).get("number", "?"))
                    return Target(base, kind, version)
                last = f"HTTP {response.status_code}"
                if response.status_code in (401, 403):
                    raise DashboardsError(
                        f"{base} refused the credentials (HTTP {response.status_code})"
                    )
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise DashboardsError(f"{base} was not available within {timeout:.0f}s ({last})")
            time.sleep(2)


def objects_for(settings: Settings, kind: str) -> list[dict[str, Any]]:
    """The bundled NDJSON for this kind, with data view titles carrying the index prefix."""
    path = settings.dashboards_dir / KIND_DIRS[kind] / "mediamon.ndjson"
    objects = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    for obj in objects:
        if obj["type"] == "index-pattern":
            obj["attributes"]["title"] = settings.index(obj["attributes"]["title"])
    return objects


def import_objects(settings: Settings, target: Target) -> dict[str, Any]:
    """POST /api/saved_objects/_import?overwrite=true: idempotent, same ids every time."""
    body = "".join(
        json.dumps(o, ensure_ascii=False) + "\n" for o in objects_for(settings, target.kind)
    )
    with _client(settings) as client:
        response = client.post(
            f"{target.url}/api/saved_objects/_import",
            params={"overwrite": "true"},
            headers=target.xsrf,
            files={"file": ("mediamon.ndjson", body.encode(), "application/ndjson")},
        )
    if response.status_code != 200:
        raise DashboardsError(f"import refused: HTTP {response.status_code}: {response.text[:500]}")
    result = response.json()
    if not result.get("success", False):
        errors = "; ".join(
            f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type')}"
            for e in result.get("errors", [])
        )
        raise DashboardsError(
            f"import incomplete ({result.get('successCount', 0)} objects imported): {errors}"
        )
    return result


def export_objects(settings: Settings, target: Target, out: Path | None = None) -> Path:
    """Export the dashboards with everything they reference, as NDJSON."""
    with _client(settings) as client:
        response = client.post(
            f"{target.url}/api/saved_objects/_export",
            headers=target.xsrf,
            json={
                "objects": [{"type": "dashboard", "id": i} for i in DASHBOARD_IDS],
                "includeReferencesDeep": True,
            },
        )
    if response.status_code != 200:
        raise DashboardsError(f"export refused: HTTP {response.status_code}: {response.text[:500]}")
    lines = [
        line
        for line in response.text.splitlines()
        if line.strip() and '"exportedCount"' not in line
    ]
    objects = [json.loads(line) for line in lines]
    for obj in objects:  # back to plain alias names, whatever prefix this deployment uses
        if obj.get("type") == "index-pattern" and settings.index_prefix:
            obj["attributes"]["title"] = obj["attributes"]["title"].removeprefix(
                settings.index_prefix
            )
    path = out or settings.dashboards_dir / KIND_DIRS[target.kind] / "mediamon.ndjson"
    path.write_text(
        "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects),
        encoding="utf-8",
    )
    return path
