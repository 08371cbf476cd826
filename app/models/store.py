"""The backing store (SQLModel over SQLite by default, PostgreSQL through DATABASE_URL).

It holds only the duplicate reference index; scoring itself never needs it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created, and its connections may cross threads."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
        return create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, connect_args={"check_same_thread": False})


def create_schema(engine: Engine) -> None:
    """Create missing tables (idempotent: existing tables are left as they are)."""
    SQLModel.metadata.create_all(engine)


def ping(engine: Engine) -> bool:
    """Whether the store answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not reachable", which /readyz reports
        return False
