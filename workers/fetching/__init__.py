"""Fetching over HTTP for feeds, pages and webhooks: the address guard (SSRF), one
deadline and size caps per exchange, per-host politeness shared through Redis, and
robots.txt."""
