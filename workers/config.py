"""User-edited YAML under config/: loaded here, handed to pipelines as plain data."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.entities import CatalogueError
from pipelines.keywords import english_idf_lines
from pipelines.process import Pipeline
from pipelines.topics import RuleError
from workers import bundled

CONFIG_FILES = ("entities", "topics", "sources", "keywords")


class ConfigError(ValueError):
    """A config file is missing or malformed; the message names the file and the problem."""


def load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def config_dir_data(config_dir: Path) -> dict[str, Any]:
    """Every pipeline config file of the folder, parsed; a file the folder lacks is the
    bundled default's."""
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: config folder not found (MEDIAMON_CONFIG_DIR)")
    return {name: load_yaml(bundled.config_file(config_dir, name)) for name in CONFIG_FILES}


def idf_path() -> Path | None:
    """jieba's IDF table (simplified Chinese), read as data; jieba itself is not imported."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"
    return path if path.exists() else None


@lru_cache(maxsize=4)
def build_pipeline(config_dir: Path) -> Pipeline:
    """The pipeline for one config folder, built once per process."""
    data = config_dir_data(config_dir)
    path = idf_path()
    try:
        # Streamed line by line: the 270,000-line table never sits in memory as text.
        chinese: Any = path.open(encoding="utf-8") if path else contextlib.nullcontext([])
        with chinese as lines:
            return Pipeline.from_config(data, itertools.chain(lines, english_idf_lines()))
    except (CatalogueError, RuleError) as exc:
        raise ConfigError(f"{config_dir}: {exc}") from exc
