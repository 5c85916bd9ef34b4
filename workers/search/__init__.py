"""Search engine access: client factory, templates, and the article index."""

from workers.search.client import Engine, SearchClient, SearchError, SearchUnavailable, connect

__all__ = ["Engine", "SearchClient", "SearchError", "SearchUnavailable", "connect"]
