from workers.settings import Settings


def test_lists_and_secrets_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MEDIAMON_SEARCH_URLS", "https://a:9200, https://b:9200")
    monkeypatch.setenv("MEDIAMON_SEARCH_PASSWORD", "s3cret")
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", "staging-")
    settings = Settings()
    assert settings.search_urls == ["https://a:9200", "https://b:9200"]
    assert "s3cret" not in repr(settings)
    assert settings.index("articles") == "staging-articles"
