"""Shared fixtures: a fixed NOW, the default ruleset, and an app client that runs the lifespan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.scoring import Ruleset, load_rules

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
NOW_ISO = "2024-06-15T12:00:00Z"


@pytest.fixture(scope="session")
def rules() -> Ruleset:
    return load_rules()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/crm-dq.sqlite3")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c
