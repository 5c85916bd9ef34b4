"""`mediamon dashboards`: import, export and check the saved objects."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from workers.cli.common import (
    load_settings,
)


@click.group()
def dashboards() -> None:
    """Kibana / OpenSearch Dashboards saved objects (dashboards/)."""


@dashboards.command("import")
@click.option(
    "--url", help="Kibana or OpenSearch Dashboards URL (default: MEDIAMON_DASHBOARDS_URL)."
)
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for it.")
def dashboards_import(url: str | None, timeout: float) -> None:
    """Wait for Kibana (or OpenSearch Dashboards, detected) and import the dashboards."""
    from workers.dashboards import DashboardsError, import_objects, wait

    def waiting(base: str, elapsed: float, last: str) -> None:
        click.echo(
            f"waiting for {base}/api/status ({elapsed:.0f}s of {timeout:.0f}s): {last}", err=True
        )

    try:
        target = wait(load_settings(), url, timeout=timeout, progress=waiting)
        click.echo(f"{target.kind} {target.version} at {target.url}")
        result = import_objects(load_settings(), target)
    except DashboardsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"imported {result.get('successCount', 0)} objects (existing ones overwritten)")


@dashboards.command("check")
def dashboards_check() -> None:
    """Check the saved objects offline, as Kibana and OpenSearch Dashboards would read
    them: references, Lens layers and accessors, and fields in the index templates."""
    from workers.dashboards import (
        KIND_DIRS,
        DashboardsError,
        problems,
        read_objects,
        saved_objects_path,
    )

    failed = False
    for kind in KIND_DIRS:
        path = saved_objects_path(load_settings(), kind)
        try:
            objects = read_objects(path)
        except DashboardsError as exc:
            raise click.ClickException(str(exc)) from exc
        found = problems(objects, kind)
        click.echo(f"{kind}: {len(objects)} objects in {path}: {len(found) or 'no'} problems")
        for problem in found:
            click.echo(f"  {problem}")
        failed = failed or bool(found)
    sys.exit(1 if failed else 0)


@dashboards.command("export")
@click.option(
    "--url", help="Kibana or OpenSearch Dashboards URL (default: MEDIAMON_DASHBOARDS_URL)."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the NDJSON (never the bundled file).",
)
def dashboards_export(url: str | None, out: Path) -> None:
    """Export the dashboards (after editing panels in the UI) to an NDJSON file."""
    from workers.dashboards import DashboardsError, export_objects, wait

    try:
        target = wait(load_settings(), url, timeout=30)
        path = export_objects(load_settings(), target, out)
    except DashboardsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {path}")
