"""The I/O shell of mediamon: Celery app and tasks, HTTP, Redis state, search client, CLI."""
