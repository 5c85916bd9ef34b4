"""Canonical URLs and document ids: the same story reached by different URLs is one id."""

from __future__ import annotations

import contextlib
import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "at_medium",
        "at_campaign",
        "spm",
        "share",
        "from",
        "s_cid",
        "cid",
        "smid",
        "_ga",
        "amp",
        "outputtype",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "ga_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci")
DEFAULT_PORTS = {"http": 80, "https": 443}
_AMP_PATH = re.compile(r"(/amp)(?=/|$)|(\.amp)(?=\.html?$)", re.IGNORECASE)


class BadURL(ValueError):
    """Not an absolute http(s) URL."""


def canonical_url(url: str) -> str:
    """Normalize a URL for identity: scheme and host case, default ports, fragments,
    tracking parameters, AMP variants, trailing ``?``; other parameters are sorted.

    >>> canonical_url("HTTPS://WWW.Example.com:443/amp/news/1?utm_source=x&b=2&a=1#top")
    'https://www.example.com/news/1?a=1&b=2'
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "http://[::1/x": an unclosed IPv6 bracket
        raise BadURL(f"not a URL ({exc}): {url[:200]!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise BadURL(f"not an absolute http(s) URL: {url[:200]!r}")
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("amp."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"bad port in {url[:200]!r}") from exc
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if port in (None, DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
    path = _AMP_PATH.sub("", parts.path) or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in TRACKING_PARAMS and not key.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def doc_id(url: str | None, content: str = "", *, canonical: str | None = None) -> str:
    """sha256 of the canonical URL (``canonical`` if the caller has it already); of the
    content when there is no usable URL."""
    if canonical is None and url:
        with contextlib.suppress(BadURL):
            canonical = canonical_url(url)
    if canonical:
        return hashlib.sha256(canonical.encode()).hexdigest()
    return hashlib.sha256(("content:" + content).encode()).hexdigest()
