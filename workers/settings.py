"""Deployment settings: one typed object, read from ``MEDIAMON_*`` environment variables.

This is the only module that reads the environment. Everything else receives a
``Settings`` instance (``get_settings()`` caches the one loaded at start-up).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIAMON_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    redis_url: str = Field(
        "redis://127.0.0.1:6390/0",
        description="Redis for the Celery broker, results, dedup and feed state.",
    )
    search_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:9250"],
        description="Search engine URL(s), comma-separated (Elasticsearch 8/9 or OpenSearch 2/3).",
    )
    search_username: str | None = Field(None, description="Basic-auth user for the engine.")
    search_password: SecretStr | None = Field(None, description="Basic-auth password.")
    search_api_key: SecretStr | None = Field(
        None, description="API key (Elasticsearch), instead of username/password."
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
        ROOT / "config", description="Folder of user-edited YAML: feeds, entities, topics."
    )
    state_dir: Path = Field(ROOT / ".state", description="Local state: logs, pid files.")
    bulk_size: int = Field(200, ge=1, le=5000, description="Articles per bulk request.")
    staging_ttl: int = Field(
        7 * 24 * 3600, description="Seconds an ingested payload waits in Redis for a worker."
    )
    log_level: str = Field("INFO", description="Log level of workers and CLI.")
    log_json: bool = Field(True, description="Workers log one JSON object per line.")
    worker_concurrency: int = Field(2, ge=1, description="Processes per worker.")
    allow_private_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Networks (CIDR) that feeds and webhooks may reach despite the SSRF guard.",
    )

    @field_validator("search_urls", "allow_private_addresses", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def index(self, name: str) -> str:
        """Full name of a logical index or alias, e.g. ``articles`` -> ``staging-articles``."""
        return f"{self.index_prefix}{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
