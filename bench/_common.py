"""Shared helpers for the benchmark and evaluation scripts (not part of the package)."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
SEED = ROOT.parent / "shared" / "seed" / "cna-xi-putin-2022-09-14.txt"


def data_arg(parser: argparse.ArgumentParser, name: str, default: Path, help: str) -> None:
    parser.add_argument(name, type=Path, default=default, help=f"{help} (default: {default})")


def require(path: Path, what: str) -> bool:
    """False (with a message) when a data set is absent: the script skips it."""
    if path.exists():
        return True
    print(f"skipped {what}: {path} not found", file=sys.stderr)
    return False


def pipeline():  # type: ignore[no-untyped-def]
    from workers.config import build_pipeline
    from workers.settings import Settings

    return build_pipeline(Settings().config_dir)


def quiet_jieba():  # type: ignore[no-untyped-def]
    """Import jieba (the baseline) without its start-up chatter and warnings."""
    import logging

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
        import jieba.analyse
        import jieba.posseg
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba
