"""The app's lifespan: what it prepares before the first request."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.scoring.test_warmup import assert_built, cleared_tables


def test_the_app_warms_up_before_its_first_request(tmp_path: Path) -> None:
    """ISO 3166-2 states, the public suffix tries and matching's tables were built by the
    first request that needed them, in its time (127 ms for the first contact with a state, 117-183 ms for
    the first account)."""
    cleared_tables()
    with TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path}/crm-dq.sqlite3"))):
        assert_built()
