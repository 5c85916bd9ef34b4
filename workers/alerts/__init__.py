"""Keyword alerts: rules (percolator queries), matching a batch into events, and their
delivery by webhook, Slack-compatible webhook, e-mail and digest."""
