"""`mediamon config`: the config in use, and a copy to edit."""

from __future__ import annotations

from pathlib import Path

import click

from workers.cli.common import (
    load_settings,
)


@click.group()
def config() -> None:
    """The config in use: feeds, entities, topics, sources, keywords (YAML).

    The default is bundled with mediamon; MEDIAMON_CONFIG_DIR names a folder of your own,
    and a file that folder lacks is taken from the default. A running worker and beat
    keep the config they started with: restart them after an edit.
    """


@config.command("path")
def config_path() -> None:
    """Print the config folder in use, and each file's origin."""
    from workers import bundled
    from workers.config import CONFIG_FILES

    settings = load_settings()
    click.echo(settings.config_dir)
    for name in (*CONFIG_FILES, "feeds"):
        click.echo(f"  {name}.yaml: {bundled.config_file(settings.config_dir, name)}")


@config.command("copy")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def config_copy(folder: Path) -> None:
    """Copy the bundled default config into FOLDER (never over a file there), to edit it
    and set MEDIAMON_CONFIG_DIR=FOLDER."""
    import shutil

    from workers import bundled

    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(bundled.config_dir().glob("*.yaml")):
        target = folder / source.name
        if target.exists():
            click.echo(f"kept   {target} (exists)")
        else:
            shutil.copyfile(source, target)
            click.echo(f"copied {target}")
    click.echo(f"now: export MEDIAMON_CONFIG_DIR={folder.resolve()}")
