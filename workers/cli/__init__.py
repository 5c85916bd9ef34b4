"""The `mediamon` command: one module per command group (process, config, ingest,
backfill, search, feeds, alerts, topics, entities, dashboards, coverage and report, status/worker/beat)."""

from __future__ import annotations

import os

import click

from workers.cli import (
    alerts,
    backfill,
    config,
    coverage,
    dashboards,
    entities,
    feeds,
    ingest,
    process,
    run,
    search,
    topics,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mediamon")
def main() -> None:
    """mediamon: monitor news feeds, index articles, alert on keywords."""
    from workers import logs

    logs.configure(os.environ.get("MEDIAMON_CLI_LOG_LEVEL", "WARNING"), json_lines=False)


for command in (
    process.process,
    config.config,
    ingest.ingest,
    backfill.backfill,
    search.search,
    feeds.feeds,
    alerts.alerts,
    topics.topics,
    entities.entities,
    dashboards.dashboards,
    coverage.coverage_cmd,
    coverage.report_cmd,
    run.status,
    run.worker,
    run.beat,
):
    main.add_command(command)


if __name__ == "__main__":
    main()
