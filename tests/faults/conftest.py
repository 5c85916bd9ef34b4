"""Fault tests: they stop and start the local services, so they run on their own
(`make test-faults`), after the main suite."""

import subprocess
from collections.abc import Iterator

import pytest

from tests.integration.conftest import redis_client, search, settings, stop_worker  # noqa: F401 - fixtures


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes a test starts; stopped after it, whatever happened."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        stop_worker(proc)
