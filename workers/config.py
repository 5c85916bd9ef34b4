"""User-edited YAML under config/: loaded here, handed to pipelines as plain data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.process import Pipeline


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


@lru_cache(maxsize=4)
def build_pipeline(config_dir: Path) -> Pipeline:
    """The pipeline for one config folder, built once per process."""
    return Pipeline.from_config(config_dir_data(config_dir))


def config_dir_data(config_dir: Path) -> dict[str, Any]:
    """Every pipeline config file in the folder, parsed; absent optional files are empty."""
    data: dict[str, Any] = {}
    for name in ("entities", "topics", "sources", "stopwords"):
        path = config_dir / f"{name}.yaml"
        data[name] = load_yaml(path) if path.exists() else None
    return data
