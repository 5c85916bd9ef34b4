import pytest

from pipelines.ids import BadURL, canonical_url, doc_id


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/a/b?utm_source=x&utm_medium=rss#frag",
            "https://www.example.com/a/b",
        ),
        ("http://example.com:80/x?b=2&a=1", "http://example.com/x?a=1&b=2"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/amp/news/123", "https://example.com/news/123"),
        ("https://amp.example.com/news/123.amp.html", "https://example.com/news/123.html"),
        ("https://example.com/news?id=5&fbclid=abc&gclid=1", "https://example.com/news?id=5"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?", "https://example.com/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "/relative", "data:text/html,x"]
)
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(BadURL):
        canonical_url(url)


def test_doc_id_is_stable_across_url_variants_and_falls_back_to_content() -> None:
    a = doc_id("https://example.com/news/1?utm_campaign=x")
    assert a == doc_id("HTTPS://EXAMPLE.com/news/1#top")
    assert a != doc_id("https://example.com/news/2")
    assert doc_id(None, "same text") == doc_id("javascript:void(0)", "same text")
    assert doc_id(None, "same text") != doc_id(None, "other text")
    assert len(a) == 64
