"""The backing store (SQLModel over SQLite by default, PostgreSQL through DATABASE_URL).

It holds only the duplicate reference index; scoring itself never needs it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Index, Text, event, text
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, SQLModel, create_engine

log = logging.getLogger("crm_dq")


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
    # covering (record_id included): a key lookup reads only this index; without it SQLite prefers the
    # primary key's index, which narrows by record_type alone and scans every key of the type
    __table_args__ = (Index("ix_dq_index_key_value", "record_type", "name", "value", "record_id"),)
    record_type: str = Field(primary_key=True, max_length=16)
    record_id: str = Field(primary_key=True, max_length=255)
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(primary_key=True, max_length=512)


class IndexTotal(SQLModel, table=True):
    """How many records of a type the index holds, kept by every write in its own transaction: each lookup
    reads it fresh (one primary-key row) for its term-frequency weights, never a count(*) of the records.
    Whether there is anything to look up is `index.holds_any`'s."""

    __tablename__ = "dq_index_total"
    record_type: str = Field(primary_key=True, max_length=16)
    total: int = Field(default=0)


class IndexKeysVersion(SQLModel, table=True):
    """Which recipe wrote a type's key rows (`rekey.keys_fingerprint`): a release or rules file that keys
    records another way re-keys the records already stored, or they would be found only by their old keys."""

    __tablename__ = "dq_index_keys_version"
    record_type: str = Field(primary_key=True, max_length=16)
    fingerprint: str = Field(max_length=64)


class IndexRekeyClaim(SQLModel, table=True):
    """Which process re-keys a type on SQLite, which has no advisory lock (`rekey_turn`), and when it last
    showed progress (Unix seconds): a claim not renewed for a while is a crashed process's, taken over by the
    next. PostgreSQL uses an advisory lock instead and leaves this table empty."""

    __tablename__ = "dq_index_rekey_claim"
    record_type: str = Field(primary_key=True, max_length=16)
    owner: str = Field(max_length=64)
    renewed_at: float = Field(default=0.0)


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
    event.listen(engine, "connect", _sqlite_wal)
    return engine


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    """WAL journal: readers never wait for the writer; NORMAL sync is safe with WAL."""
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def create_schema(engine: Engine) -> None:
    """Create missing tables and indexes (idempotent: existing ones are left as they are).

    A schema change ships as a new table or column created here plus a one-off migration script; the
    index is a cache of records the CRM owns, so the simplest migration is to drop it and re-run
    `POST /v1/index/{type}/bulk` from a CRM export. A change of the matching keys needs neither: the
    stored records are re-keyed at start-up (`rekey`).
    """
    SQLModel.metadata.create_all(engine)
    for table in SQLModel.metadata.sorted_tables:  # indexes added since an existing table was created
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    with engine.begin() as conn:  # totals of a store written before dq_index_total existed
        if conn.execute(text("SELECT 1 FROM dq_index_total LIMIT 1")).first() is None:
            conn.execute(text("INSERT INTO dq_index_total (record_type, total) SELECT record_type, count(*) "
                              "FROM dq_index_record WHERE true GROUP BY record_type "
                              "ON CONFLICT (record_type) DO NOTHING"))


def ensure_schema(engine: Engine) -> bool:
    """Create the schema if the store answers; False (and no exception) when it does not yet."""
    try:
        create_schema(engine)
    except Exception as exc:  # any driver error: the store is not reachable yet, /readyz will retry
        log.warning("store not reachable, schema not created yet: %s", type(exc).__name__)
        return False
    return True


def ping(engine: Engine) -> bool:
    """Whether the store answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not reachable", which /readyz reports
        return False
