"""Store backends under test: SQLite always, PostgreSQL when TEST_DATABASE_URL names one (CI starts one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from app.models.store import (
    IndexedRecord,
    IndexKey,
    IndexKeysVersion,
    IndexRekeyClaim,
    IndexTotal,
    create_schema,
    make_engine,
)

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/index.sqlite3"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL to test against (.ci/run starts one)")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    create_schema(engine)
    create_schema(engine)  # idempotent
    with engine.begin() as conn:
        conn.execute(delete(IndexKey))
        conn.execute(delete(IndexedRecord))
        conn.execute(delete(IndexTotal))
        conn.execute(delete(IndexKeysVersion))
        conn.execute(delete(IndexRekeyClaim))
    yield engine
    engine.dispose()
