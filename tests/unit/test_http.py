"""The guarded fetcher against a scripted local server (no Redis, no engine)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.feedserver import FeedServer, local_fetcher
from workers.fetching.http import Fetcher, FetchError, Refused, address_allowed, parse_networks
from workers.settings import Settings


@pytest.fixture(scope="module")
def fetcher() -> Iterator[Fetcher]:
    f = local_fetcher(fetch_timeout=2, max_feed_bytes=2**20, max_page_bytes=2**20, max_redirects=3)
    yield f
    f.close()


def test_the_guard_sits_in_the_connection_pool(fetcher: Fetcher) -> None:
    backend = fetcher.client._transport._pool._network_backend  # type: ignore[attr-defined]
    assert type(backend).__name__ == "GuardedBackend"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.2]/",
        "http://224.0.0.1/",
    ],
)
def test_private_loopback_link_local_and_reserved_are_refused(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(Refused):
        fetcher.get(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,x", "scheme"),
        ("http://u:p@example.org/", "credentials"),
    ],
)
def test_other_schemes_and_credentials_are_refused(fetcher: Fetcher, url: str, why: str) -> None:
    with pytest.raises(Refused, match=why):
        fetcher.get(url)


def test_redirects_to_private_addresses_are_refused(fetcher: Fetcher, server: FeedServer) -> None:
    for target in (
        "http://127.0.0.2/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://0.0.0.0/",
    ):
        with pytest.raises(Refused):
            fetcher.get(server.url(f"/to?url={target}"))


def test_allow_list_is_exact() -> None:
    allowed = parse_networks(["127.0.0.1/32"])
    assert address_allowed("127.0.0.1", allowed) and not address_allowed("127.0.0.2", allowed)
    assert address_allowed("93.184.216.34", []) and not address_allowed("192.168.1.1", [])


def test_conditional_get_and_validators(fetcher: Fetcher, server: FeedServer) -> None:
    first = fetcher.get(server.url("/feeds/rss-zh-hant.xml"))
    assert first.status == 200 and first.headers["etag"]
    second = fetcher.get(
        server.url("/feeds/rss-zh-hant.xml"), headers={"If-None-Match": first.headers["etag"]}
    )
    assert second.status == 304 and second.content == b""


def test_redirect_chain_within_the_limit_and_beyond(fetcher: Fetcher, server: FeedServer) -> None:
    response = fetcher.get(server.url("/redirect/3/feeds/atom-zh-hans.xml"))
    assert response.status == 200 and len(response.redirects) == 3
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetcher.get(server.url("/redirect/4/feeds/atom-zh-hans.xml"))
    with pytest.raises(FetchError, match="redirect loop"):
        fetcher.get(server.url("/loop"))


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (404, "permanent"),
        (410, "permanent"),
        (429, "throttled"),
        (500, "transient"),
        (503, "throttled"),
    ],
)
def test_status_codes_are_classified(
    fetcher: Fetcher, server: FeedServer, code: int, kind: str
) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.get(server.url(f"/status/{code}"))
    assert (info.value.kind, info.value.status) == (kind, code)
    if code in (429, 503):
        assert info.value.retry_after == 120


def test_a_dripping_server_is_cut_off_at_the_deadline(fetcher: Fetcher, server: FeedServer) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"deadline|timeout"):
        fetcher.get(server.url("/slow"))
    assert time.monotonic() - started < 2 + 1.5


def test_size_cap_and_gzip_bomb(fetcher: Fetcher, server: FeedServer) -> None:
    with pytest.raises(FetchError, match="larger than"):
        fetcher.get(server.url("/big"))
    with pytest.raises(FetchError, match="larger than"):
        fetcher.get(server.url("/bomb"))
    assert b"<rss" in fetcher.get(server.url("/gzip/rss-zh-hant.xml")).content


def test_names_that_resolve_to_loopback_are_refused_by_default(server: FeedServer) -> None:
    strict = Fetcher(Settings(allow_private_addresses=[]))
    try:
        for url in ("http://localhost/", server.url("/feeds/rss-zh-hant.xml")):
            with pytest.raises(Refused, match="not a public address"):
                strict.get(url)
    finally:
        strict.close()


@pytest.mark.parametrize("kind", ["deflate", "raw-deflate", "gzip-members"])
def test_each_content_coding_a_server_may_send_is_decoded(
    fetcher: Fetcher, server: FeedServer, kind: str
) -> None:
    response = fetcher.get(server.url(f"/encoded/{kind}"))
    assert response.content == server.fixture("rss-zh-hant.xml")


def test_a_coding_mediamon_did_not_offer_is_refused(fetcher: Fetcher, server: FeedServer) -> None:
    with pytest.raises(FetchError, match="unsupported content coding 'br'"):
        fetcher.get(server.url("/encoded/br"))


def test_a_name_is_resolved_once_for_the_check_and_the_connection() -> None:
    from workers.fetching.resolve import Resolver

    resolver = Resolver(ttl=60, size=2)
    assert resolver.addresses("127.0.0.1", 80) == ["127.0.0.1"]
    kept = resolver.addresses("localhost", 80)
    assert resolver.addresses("localhost", 80) is kept  # the same answer, not asked again
    resolver.addresses("127.0.0.2", 80)
    assert len(resolver._answers) == 2  # bounded: the oldest answer went first
    assert ("127.0.0.1", 80) not in resolver._answers


def test_an_idle_connection_the_server_closed_is_seen_as_readable() -> None:
    import socket

    from workers.fetching.http import _readable

    ours, theirs = socket.socketpair()
    assert not _readable(ours)
    theirs.close()  # an end of file is waiting
    assert _readable(ours)
    ours.close()
    assert _readable(ours) and _readable(None)
