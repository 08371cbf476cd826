"""Service settings, read from `CRM_DQ_*` environment variables (plus `DATABASE_URL`)."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything has a default, so the service starts with no environment at all."""

    model_config = SettingsConfigDict(env_prefix="CRM_DQ_", extra="ignore")

    rules_file: Path | None = None
    default_region: str = "US"
    check_email_deliverability: bool = False
    email_dns_timeout: float = 2.0
    max_body_bytes: int = 1024 * 1024
    max_batch: int = 100_000
    max_batch_body_bytes: int = 512 * 1024 * 1024
    # NDJSON streams score in this many worker processes; 0 or 1 scores in a thread of the server process
    batch_processes: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=0)
    mappings_file: Path | None = None  # Salesforce / HubSpot field mappings merged over the shipped ones
    webhook_secret: SecretStr | None = None  # X-CRM-DQ-Signature on /v1/webhooks/{generic,salesforce}
    hubspot_client_secret: SecretStr | None = None  # X-HubSpot-Signature-v3 on /v1/webhooks/hubspot
    api_keys: SecretStr | None = None  # comma-separated; when set, every /v1 route needs one of them
    # /metrics on a port of its own (then 404 on the API port); host: the API's --host under app.serve
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str | None = None
    database_url: str = Field(
        default="sqlite:///./data/crm-dq.sqlite3",
        validation_alias=AliasChoices("DATABASE_URL", "CRM_DQ_DATABASE_URL"),
    )


@lru_cache
def get_settings() -> Settings:
    """Settings built once per process, on first use rather than at import."""
    return Settings()
