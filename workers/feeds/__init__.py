"""Feeds: polling RSS/Atom/JSON feeds and queueing their new items, fetching the items'
pages, the feed registry and its state in Redis, and OPML."""
