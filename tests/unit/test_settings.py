from workers.settings import Settings


def test_lists_and_secrets_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MEDIAMON_SEARCH_URLS", "https://a:9200, https://b:9200")
    monkeypatch.setenv("MEDIAMON_SEARCH_PASSWORD", "s3cret")
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", "staging-")
    settings = Settings()
    assert settings.search_hosts == ["https://a:9200", "https://b:9200"]
    assert "s3cret" not in repr(settings)
    assert settings.index("articles") == "staging-articles"


def test_beat_sweeps_the_alert_outbox_and_every_scheduled_task_exists() -> None:
    from workers.app import app

    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule["alert-outbox"]["task"] == "mediamon.sweep_alert_outbox"
    assert schedule["spikes"]["task"] == "mediamon.check_spikes"
    assert app.conf.task_routes["mediamon.check_spikes"] == {"queue": "alerts"}
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry


def test_the_time_zone_is_checked_when_settings_are_read(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest
    from pydantic import ValidationError

    monkeypatch.setenv("MEDIAMON_TIMEZONE", "Asia/Singapore")
    from datetime import datetime, timedelta

    assert datetime(2023, 3, 20, tzinfo=Settings().tz).utcoffset() == timedelta(hours=8)
    monkeypatch.setenv("MEDIAMON_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="not a time zone"):
        Settings()
