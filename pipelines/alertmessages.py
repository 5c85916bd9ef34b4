"""Alert messages made safe for where they go: text an article's author controls (its
title, its URL, its source name) must not become markup, mentions or headers there.

- Slack mrkdwn: ``&``, ``<`` and ``>`` are escaped, so a title cannot say ``<!channel>``
  or carry a link of its own (``<https://phish|bank login>``); a link's URL cannot end
  it early with ``|`` or ``>``.
- E-mail headers: one line, no control characters, of a bounded length; a title with a
  newline cannot add a header or make the message impossible to build.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
MAX_HEADER = 200


def slack_escape(text: str) -> str:
    """Text shown as itself in Slack's mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    """``<url|label>`` with neither part able to break out of the link."""
    safe_url = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")  # | < > and spaces encoded
    return f"<{safe_url}|{slack_escape(one_line(label, 300))}>"


def one_line(text: str, limit: int = MAX_HEADER) -> str:
    """``text`` as one line of at most ``limit`` characters (an e-mail header value)."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
