"""Files that ship inside the mediamon wheel: the default config and the dashboards.

In the repository they live at the top level, in ``config/`` and ``dashboards/``; the
build maps those folders into this package (``[tool.setuptools.package-dir]`` in
pyproject.toml), so an installed mediamon finds them through ``importlib.resources``
from any working directory, and an editable install finds the repository's own files.
Settings point here unless ``MEDIAMON_CONFIG_DIR`` / ``MEDIAMON_DASHBOARDS_DIR`` say
otherwise.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(package: str) -> Path:
    root = files(package)
    # pip installs wheels unpacked, so the resources are a folder on disk; a zipped
    # install would need extracting first, which mediamon does not support.
    if not isinstance(root, Path):
        raise RuntimeError(f"{package}: package data is not on the file system ({root!r})")
    return root


def config_dir() -> Path:
    """The default config folder: feeds, entities, topics, sources, keywords."""
    return _folder("workers.bundled.config")


def dashboards_dir() -> Path:
    """The dashboards' saved objects: ``kibana/`` and ``opensearch-dashboards/``."""
    return _folder("workers.bundled.dashboards")


def config_file(folder: Path, name: str) -> Path:
    """``<folder>/<name>.yaml``, or the bundled default when the folder has none, so a
    user can keep only the files they change. An empty file means an empty section."""
    path = folder / f"{name}.yaml"
    return path if path.exists() else config_dir() / f"{name}.yaml"
