"""Per-process services: the clients a worker process, beat or a CLI command builds
once, on first use (so after a prefork worker's fork), and every module takes from here.

Only the layers below the concerns are built here (settings, Redis state, the search
client, the HTTP fetcher with politeness and robots.txt, the pipeline), so feeds,
articles and alerts can all use it without an import cycle.
"""

from __future__ import annotations

from functools import lru_cache

from pipelines.process import Pipeline
from workers.config import build_pipeline
from workers.fetching.http import Fetcher
from workers.fetching.politeness import Politeness
from workers.fetching.robots import Robots
from workers.search.client import SearchClient, connect
from workers.settings import Settings, get_settings
from workers.state import State


def settings() -> Settings:
    return get_settings()


@lru_cache(maxsize=1)
def search_client() -> SearchClient:
    return connect(settings())


@lru_cache(maxsize=1)
def state() -> State:
    return State(settings())


@lru_cache(maxsize=1)
def fetcher() -> Fetcher:
    return Fetcher(settings())


@lru_cache(maxsize=1)
def politeness() -> Politeness:
    config = settings()
    return Politeness(
        state().redis, state().prefix, config.host_min_interval, config.host_max_concurrency
    )


@lru_cache(maxsize=1)
def robots() -> Robots:
    return Robots(
        state().redis,
        state().prefix,
        fetcher(),
        settings().user_agent,
        cache_seconds=settings().robots_cache_seconds,
    )


def pipeline() -> Pipeline:
    """The pipeline for the configured folder (built once per process and folder)."""
    return build_pipeline(settings().config_dir)
