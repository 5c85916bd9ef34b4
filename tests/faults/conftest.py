"""Fault tests: they stop and start the local services, so they run on their own
(`make test-faults`), after the main suite."""

from tests.integration.conftest import redis_client, search, settings  # noqa: F401 - fixtures
