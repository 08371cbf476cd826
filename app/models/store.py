"""The backing store (SQLModel over SQLite by default, PostgreSQL through DATABASE_URL).

It holds only the duplicate reference index; scoring itself never needs it.
"""

from __future__ import annotations

from pathlib import Path

from datetime import UTC, datetime

from sqlalchemy import Column, Engine, Index, Text, text
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, SQLModel, create_engine


class IndexedRecord(SQLModel, table=True):
    """A record already known, kept so a single saved record can be matched against it."""

    __tablename__ = "dq_index_record"
    record_type: str = Field(primary_key=True, max_length=16)
    record_id: str = Field(primary_key=True, max_length=255)
    data: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class IndexKey(SQLModel, table=True):
    """One blocking key (or term-frequency value) of an indexed record: lookups are indexed equality queries."""

    __tablename__ = "dq_index_key"
    __table_args__ = (Index("ix_dq_index_key_lookup", "record_type", "name", "value"),)
    record_type: str = Field(primary_key=True, max_length=16)
    record_id: str = Field(primary_key=True, max_length=255)
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(primary_key=True, max_length=512)


def database_url(url: str) -> str:
    """PostgreSQL URLs use the psycopg 3 driver unless one is named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created, and its connections may cross threads."""
    url = database_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                             connect_args={"connect_timeout": 3})
    if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
        return create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    with engine.connect() as conn:  # WAL: readers never wait for the writer
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    return engine


def create_schema(engine: Engine) -> None:
    """Create missing tables and indexes (idempotent: existing ones are left as they are).

    A schema change ships as a new table or column created here plus a one-off migration script; the
    index is a cache of records the CRM owns, so the simplest migration is to drop it and re-run
    `POST /v1/index/{type}/bulk` from a CRM export.
    """
    SQLModel.metadata.create_all(engine)


def ping(engine: Engine) -> bool:
    """Whether the store answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not reachable", which /readyz reports
        return False
