"""Service settings, read from `CRM_DQ_*` environment variables (plus `DATABASE_URL`)."""

import math
import os
from functools import lru_cache
from pathlib import Path

from phonenumbers import SUPPORTED_REGIONS
from pydantic import AliasChoices, Field, SecretStr, field_validator
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
    # webhooks read the body before its signature is checked, and a signed one needs no API key: keep it small
    max_webhook_body_bytes: int = 16 * 1024 * 1024
    # NDJSON streams score in this many worker processes; 0 or 1 scores in a thread of the server process
    batch_processes: int = Field(default_factory=lambda: available_cpus(), ge=0)
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

    @field_validator("default_region")
    @classmethod
    def known_region(cls, value: str) -> str:
        """A region phonenumbers knows, in its upper case: 'gb' is GB, while 'ZZ' or 'United Kingdom' made
        every national number an invalid-number error."""
        region = value.strip().upper()
        if region not in SUPPORTED_REGIONS:
            raise ValueError(f"CRM_DQ_DEFAULT_REGION {value!r} is not a region phonenumbers knows "
                             "(a two-letter ISO 3166 code such as US, GB or DE)")
        return region


def available_cpus(cgroup_root: Path = Path("/sys/fs/cgroup"),
                   proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """CPUs this process may use: its affinity mask (taskset, cpusets), capped by a cgroup v2 CPU quota.

    os.cpu_count() counts the machine's: a 2-CPU pod on a 32-core node would start 32 scoring processes.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root, proc_cgroup)
    return max(1, min(cpus, quota) if quota is not None else cpus)


def cgroup_cpu_quota(cgroup_root: Path, proc_cgroup: Path) -> int | None:
    """The tightest `cpu.max` quota of this process's cgroup v2 and its parents, in whole CPUs (rounded up,
    so 1.5 CPUs keep two busy); None without cgroup v2 or a quota."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    own = next((line[3:] for line in lines if line.startswith("0::")), None)
    if own is None:
        return None
    group = cgroup_root / own.strip().lstrip("/")
    quotas = [cpu_max(d) for d in (group, *group.parents) if d == cgroup_root or cgroup_root in d.parents]
    limits = [q for q in quotas if q is not None]
    return min(limits) if limits else None


def cpu_max(group: Path) -> int | None:
    """One cgroup's `cpu.max` ("200000 100000": 2 CPUs; "max 100000": no limit) in whole CPUs."""
    try:
        quota, period = (group / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        return None


@lru_cache
def get_settings() -> Settings:
    """Settings built once per process, on first use rather than at import."""
    return Settings()
