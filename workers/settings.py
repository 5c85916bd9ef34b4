"""Deployment settings: one typed object, read from ``MEDIAMON_*`` environment variables.

This is the only module that reads the environment. Everything else receives a
``Settings`` instance (``get_settings()`` caches the one loaded at start-up).
"""

from __future__ import annotations

import os
import re
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workers import bundled


def _default_state_dir() -> Path:
    """Per-user state (XDG): the same folder whichever directory mediamon is run from.
    The repository's Makefile sets ``MEDIAMON_STATE_DIR=.state`` for the dev stack."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "mediamon"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIAMON_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    # Service URLs may carry passwords (redis://:secret@host): held as secrets, so that
    # neither repr() nor a log line shows them; ``redis_dsn`` and ``search_hosts`` give
    # the values to the clients, ``redact`` makes any text fit to print.
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6390/0"),
        description="Redis for the Celery broker, results, dedup and feed state.",
    )
    search_urls: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr("http://127.0.0.1:9250")],
        description="Search engine URL(s), comma-separated (Elasticsearch 8/9 or OpenSearch 2/3).",
    )
    search_username: str | None = Field(None, description="Basic-auth user for the engine.")
    search_password: SecretStr | None = Field(None, description="Basic-auth password.")
    search_api_key: SecretStr | None = Field(
        None, description="API key (Elasticsearch), instead of username/password."
    )
    app_password: SecretStr | None = Field(
        None,
        description="Password `mediamon search app-user` gives the workers' own user "
        "(Elasticsearch, least privilege; set by compose's setup).",
    )
    search_ca_certs: Path | None = Field(
        None, description="CA certificate (PEM) that signed the engine's TLS certificate."
    )
    search_verify_certs: bool = Field(True, description="Verify the engine's TLS certificate.")
    search_timeout: float = Field(30.0, description="Seconds per request to the engine.")
    index_prefix: str = Field(
        "", description="Prefix for every index and alias name (e.g. 'staging-')."
    )
    config_dir: Path = Field(
        default_factory=bundled.config_dir,
        description="Folder of user-edited YAML (feeds, entities, topics, sources, keywords); "
        "a file it lacks is taken from the bundled default config.",
    )
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        description="Local state: dev-stack data, logs, pid files (default: "
        "$XDG_STATE_HOME/mediamon or ~/.local/state/mediamon).",
    )
    bulk_size: int = Field(
        200,
        ge=1,
        le=5000,
        description="Articles per batch of the write path (indexed in chunks of 25).",
    )
    staging_ttl: int = Field(
        7 * 24 * 3600, description="Seconds an ingested payload waits in Redis for a worker."
    )
    visibility_timeout: int = Field(
        7200,
        ge=30,
        description="Seconds before Redis re-delivers a task a vanished worker had taken "
        "(longer than the longest task and retry countdown).",
    )
    log_level: str = Field("INFO", description="Log level of workers and CLI.")
    log_json: bool = Field(True, description="Workers log one JSON object per line.")
    worker_concurrency: int | None = Field(
        None,
        ge=1,
        description="Processes of the CPU pool (the pipeline); default: one a core.",
    )
    io_pool: Literal["gevent", "threads"] = Field(
        "gevent",
        description="Pool of the I/O worker: gevent (cooperative, hundreds of requests in"
        " flight cheaply) or threads.",
    )
    io_processes: int = Field(
        1,
        ge=1,
        description="Processes of the I/O pool (each uses one core at most): more when"
        " fetching, not the pipeline, holds articles up.",
    )
    io_concurrency: int = Field(
        200,
        ge=1,
        description="Green threads (or threads) of the I/O pool: polls, page fetches and"
        " deliveries in flight at once.",
    )
    feeds_file: Path | None = Field(
        None, description="Feed list to load (default: feeds.yaml in the config folder)."
    )
    user_agent: str = Field(
        "mediamon/0.1 (+https://github.com/mediamon/mediamon; news monitoring)",
        description="User-Agent of every request; include a contact URL or address.",
    )
    fetch_timeout: float = Field(30.0, gt=0, description="Total seconds for one HTTP fetch.")
    item_time_limit: float = Field(
        20.0,
        ge=0,
        description="Seconds one article may spend in the pipeline before it alone is "
        "rejected as time_limit (0: no limit besides the task's).",
    )
    max_feed_bytes: int = Field(10 * 2**20, description="Largest feed body read (decoded).")
    max_page_bytes: int = Field(5 * 2**20, description="Largest article page read (decoded).")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed per fetch.")
    max_items_per_poll: int = Field(500, ge=1, description="Newest items taken from one poll.")
    host_min_interval: float = Field(
        1.0, ge=0, description="Seconds between two requests to the same host (politeness)."
    )
    host_max_concurrency: int = Field(2, ge=1, description="Requests in flight per host.")
    poll_min_interval: float = Field(600, gt=0, description="Shortest adaptive poll interval (s).")
    poll_max_interval: float = Field(
        86_400, gt=0, description="Longest adaptive poll interval (s)."
    )
    poll_default_interval: float = Field(3_600, gt=0, description="Interval of a new feed (s).")
    respect_robots: bool = Field(True, description="Obey robots.txt when fetching pages.")
    robots_cache_seconds: float = Field(
        300,
        ge=0,
        description="Seconds a worker process keeps a site's parsed robots.txt before it"
        " reads it again from Redis (where it is kept a day).",
    )
    fetch_pages: bool = Field(
        True, description="Fetch each item's page; off: index the feed's own content."
    )
    seen_ttl: int = Field(90 * 86_400, description="Seconds an item stays in the seen-set.")
    smtp_host: str = Field("127.0.0.1", description="SMTP server for alert e-mail.")
    smtp_port: int = Field(25, description="SMTP port (587 with STARTTLS, 465 with TLS).")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_ssl: bool = Field(False, description="Connect to SMTP over TLS from the start (465).")
    smtp_username: str | None = Field(None, description="SMTP login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("mediamon@localhost", description="From address of alert e-mail.")
    alert_max_attempts: int = Field(6, ge=1, description="Delivery attempts before failed.")
    alert_max_age_days: float = Field(
        3.0,
        ge=0,
        description="Alerts announce articles published at most this many days before "
        "they are indexed; older ones (a backfill, an archive, a new feed's first poll) "
        "are indexed without alerting. 0: any age.",
    )
    spike_check_every: float = Field(
        300.0,
        ge=10,
        description="Seconds between two checks of the spike rules (beat's task).",
    )
    display_lang: Literal["en", "zh-Hant", "zh-Hans"] = Field(
        "en",
        description="The script entity names and topic titles are shown in by the "
        "commands and the report: en, zh-Hant (traditional) or zh-Hans (simplified).",
    )
    timezone: str = Field(
        "UTC",
        description="The zone days begin in: coverage's and spike rules' day buckets, and "
        "dates given to --since/--until (an IANA name, e.g. Asia/Singapore).",
    )
    alert_retry_base: float = Field(
        2.0, gt=0, description="Seconds before the first delivery retry (doubles each time)."
    )
    alert_outbox_deadline: float = Field(
        120.0,
        gt=0,
        description="Seconds after which an alert event whose deliveries were never queued "
        "(a worker died in between) is queued by the outbox sweeper.",
    )
    public_url: str | None = Field(
        None, description="Base URL of Kibana, linked from alert messages (optional)."
    )
    dashboards_url: str = Field(
        "http://127.0.0.1:5601", description="Kibana or OpenSearch Dashboards, for import/export."
    )
    dashboards_username: str | None = Field(None, description="Dashboards login (basic auth).")
    dashboards_password: SecretStr | None = Field(None, description="Dashboards password.")
    dashboards_dir: Path = Field(
        default_factory=bundled.dashboards_dir,
        description="Folder of saved-object NDJSON (kibana/, opensearch-dashboards/); "
        "default: the dashboards bundled with mediamon.",
    )
    allow_private_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Networks (CIDR) that feeds and webhooks may reach despite the SSRF guard.",
    )
    fault_points: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="For the fault tests only: named points where the process dies or an "
        "operation fails once (workers/faults.py). Empty in any real deployment.",
    )

    @field_validator("search_urls", "allow_private_addresses", "fault_points", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from pipelines.periods import PeriodError, zone

        try:
            zone(value)
        except PeriodError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def tz(self) -> tzinfo:
        """The zone days begin in (``timezone``)."""
        from pipelines.periods import zone

        return zone(self.timezone)

    @property
    def cpu_workers(self) -> int:
        return self.worker_concurrency or os.cpu_count() or 1

    @property
    def redis_dsn(self) -> str:
        """The Redis URL for a client; print ``redact(settings.redis_dsn)`` instead."""
        return self.redis_url.get_secret_value()

    @property
    def search_hosts(self) -> list[str]:
        """The engine URLs for a client; print ``redact(...)`` of them instead."""
        return [url.get_secret_value() for url in self.search_urls]

    @property
    def feeds_path(self) -> Path:
        return self.feeds_file or bundled.config_file(self.config_dir, "feeds")

    def index(self, name: str) -> str:
        """Full name of a logical index or alias, e.g. ``articles`` -> ``staging-articles``."""
        return f"{self.index_prefix}{name}"


# user:password@ or :password@ after a scheme; the password is what is hidden.
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://(?P<user>[^:@/\s]*)):[^@/\s]*@")


def redact(text: str) -> str:
    """``text`` fit to print: the password of every URL in it is masked
    (``redis://:secret@host`` -> ``redis://:***@host``). Used by every message, log line
    and status output that may hold a service URL (the log formatter applies it too)."""
    if "@" not in text:
        return text
    return _USERINFO.sub(r"\g<head>:***@", text)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
