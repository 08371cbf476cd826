"""Whose turn it is to re-key a type: every worker starts up at once, and one of them should do the work.

PostgreSQL: a session advisory lock, held on a connection in autocommit for the run (a transaction left open
sat 'idle in transaction', which managed databases end); a process that dies releases it with its
connection. SQLite has no such lock: a row of `dq_index_rekey_claim`, taken inside `BEGIN IMMEDIATE` (so two
processes cannot both take it) and renewed by every chunk; a claim not renewed for CLAIM_STALE_SECONDS is
a crashed process's and the next process takes it over. Either way a process that waited finds the
fingerprint current and does nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.models.store import IndexKeysVersion, IndexRekeyClaim

# A chunk renews the claim; it waits at most SQLite's busy timeout (30 s) for the write lock, then takes well
# under a second: a claim this old belongs to a process that is gone.
CLAIM_STALE_SECONDS = 120.0
POLL_SECONDS = 0.5  # how often a waiting process looks again


def begin_immediate(conn: Connection) -> None:
    """Take a SQLite database's write lock now, before the reads that decide what to write (a no-op on
    other stores; an in-memory database's one shared connection may be in another thread's transaction)."""
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_current(conn: Connection, record_type: str, fingerprint: str) -> bool:
    """Whether the type's key rows were written by the recipe `fingerprint` names."""
    return conn.execute(select(IndexKeysVersion.fingerprint).where(
        IndexKeysVersion.record_type == record_type)).scalar() == fingerprint


@contextmanager
def rekey_turn(engine: Engine, record_type: str, fingerprint: str,
               stop: threading.Event) -> Iterator[str | None]:
    """Wait for this process's turn to re-key the type: yields the claim's owner id to pass to `renew`
    ('' on PostgreSQL, where the lock needs no renewing), or None when another process did the work or
    `stop` was set while waiting."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, record_type, stop) as locked:
            if locked:
                with engine.connect() as conn:
                    locked = not is_current(conn, record_type, fingerprint)
            yield "" if locked else None
        return
    owner = _claim(engine, record_type, fingerprint, stop)
    try:
        yield owner
    finally:
        if owner is not None:
            _release(engine, record_type, owner)


@contextmanager
def _advisory_lock(engine: Engine, record_type: str, stop: threading.Event) -> Iterator[bool]:
    """The type's advisory lock (True), or False when `stop` was set first: tried every POLL_SECONDS rather
    than waited for, so a worker shutting down is not held in pg_advisory_lock."""
    name = {"name": "crm_dq_rekey:" + record_type}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        while not lock.execute(text("SELECT pg_try_advisory_lock(hashtext(:name))"), name).scalar():
            if stop.wait(POLL_SECONDS):
                yield False
                return
        try:
            yield True
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), name)


def _claim(engine: Engine, record_type: str, fingerprint: str, stop: threading.Event) -> str | None:
    """Take the type's claim when it is free or stale (an owner id), or wait until the type is current or
    `stop` is set (None)."""
    owner = uuid.uuid4().hex
    while not stop.is_set():
        with engine.begin() as conn:
            begin_immediate(conn)
            if is_current(conn, record_type, fingerprint):
                return None
            renewed = conn.execute(select(IndexRekeyClaim.renewed_at).where(
                IndexRekeyClaim.record_type == record_type)).scalar()
            now = time.time()
            if renewed is None or now - renewed > CLAIM_STALE_SECONDS:
                stmt = sqlite_insert(IndexRekeyClaim).values(record_type=record_type, owner=owner,
                                                             renewed_at=now)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["record_type"], set_={"owner": owner, "renewed_at": now}))
                return owner
        stop.wait(POLL_SECONDS)
    return None


def renew(conn: Connection, record_type: str, owner: str) -> bool:
    """Renew the claim in a chunk's write transaction; False when another process took it over (this one was
    too slow, its claim looked stale): it stops, the other goes on. Always True on PostgreSQL."""
    if not owner:
        return True
    return conn.execute(update(IndexRekeyClaim).where(
        IndexRekeyClaim.record_type == record_type, IndexRekeyClaim.owner == owner,
    ).values(renewed_at=time.time())).rowcount == 1


def _release(engine: Engine, record_type: str, owner: str) -> None:
    """Give the claim up (the run finished or stopped): a waiting process looks again at once. Best effort: a
    claim left behind goes stale."""
    try:
        with engine.begin() as conn:
            conn.execute(delete(IndexRekeyClaim).where(IndexRekeyClaim.record_type == record_type,
                                                       IndexRekeyClaim.owner == owner))
    except Exception:  # a store that went away: the claim goes stale
        pass
