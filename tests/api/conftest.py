"""Fixtures of the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.api.signing import HUBSPOT_SECRET, WEBHOOK_SECRET


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[TestClient]:
    """The app with both webhook secrets set (`signing`), on its own SQLite store."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/crm-dq.sqlite3", webhook_secret=WEBHOOK_SECRET,
                        hubspot_client_secret=HUBSPOT_SECRET)
    with TestClient(create_app(settings)) as c:
        yield c
