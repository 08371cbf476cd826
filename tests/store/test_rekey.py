"""Re-keying the index when the way records are keyed changes (a release, a rules file's blocking keys)."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, text, update

from app.config import Settings
from app.main import create_app
from app.models.store import (
    IndexedRecord,
    IndexKey,
    IndexKeysVersion,
    IndexRekeyClaim,
    create_schema,
    make_engine,
)
from app.scoring import Ruleset
from app.scoring.matching import index, rekey, rekey_turn

ACME = {"id": "a1", "name": "accenture.com", "website": "accenture.com"}


def _keys(engine: Engine, record_id: str) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(IndexKey.name, IndexKey.value).where(IndexKey.record_id == record_id))
        return set(rows.all())


def _rekeyed_soon(engine: Engine, record_id: str, key: tuple[str, str], seconds: float = 10) -> bool:
    """Whether the record carries `key` within `seconds`: the service re-keys in a background thread."""
    deadline = time.monotonic() + seconds
    while key not in _keys(engine, record_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    return key in _keys(engine, record_id)


def _age_keys(engine: Engine) -> None:
    """Make the stored rows look written by an older release: an old name key and no fingerprint."""
    with engine.begin() as conn:
        conn.execute(update(IndexKey).where(IndexKey.name == "name").values(value="accenture com"))
        conn.execute(IndexKeysVersion.__table__.delete())


def test_keys_an_older_release_wrote_are_rewritten(engine: Engine, rules: Ruleset) -> None:
    models = rules.match_models
    index.upsert_records(engine, "account", [("a1", ACME)], models["account"], "US")
    current = _keys(engine, "a1")
    assert ("name", "accenture") in current
    _age_keys(engine)
    assert ("name", "accenture com") in _keys(engine, "a1")
    assert rekey.stale_types(engine, models, "US") == ["account"]
    assert rekey.rekey_stale(engine, models, "US") == {"account": 1}
    assert _keys(engine, "a1") == current
    assert rekey.stale_types(engine, models, "US") == [], "the fingerprint is written once the type is done"
    assert rekey.rekey_stale(engine, models, "US") == {}


def test_an_empty_type_gets_the_fingerprint_without_work(engine: Engine, rules: Ruleset) -> None:
    assert rekey.stale_types(engine, rules.match_models, "US") == []
    with engine.connect() as conn:
        stored = dict(conn.execute(select(IndexKeysVersion.record_type, IndexKeysVersion.fingerprint)).all())
    assert set(stored) == set(rules.match_models)
    assert stored["account"] == rekey.keys_fingerprint(rules.match_models["account"], "US")


def test_another_region_or_blocking_list_is_another_recipe(rules: Ruleset) -> None:
    model = rules.match_models["account"]
    assert rekey.keys_fingerprint(model, "US") != rekey.keys_fingerprint(model, "GB")
    other = dataclasses.replace(model, blocking=model.blocking[:-1])
    assert rekey.keys_fingerprint(model, "US") != rekey.keys_fingerprint(other, "US")


def test_records_are_rekeyed_in_chunks_in_id_order(engine: Engine, rules: Ruleset) -> None:
    models = rules.match_models
    items = [(f"a{n:03d}", {"name": f"Zeta{n}.com", "website": f"zeta{n}.com"}) for n in range(25)]
    index.upsert_records(engine, "account", items, models["account"], "US")
    expected = {rid: _keys(engine, rid) for rid, _ in items}
    with engine.begin() as conn:
        conn.execute(IndexKey.__table__.delete())
        conn.execute(IndexKeysVersion.__table__.delete())
    assert rekey.rekey(engine, "account", models["account"], "US", chunk=4) == 25
    assert {rid: _keys(engine, rid) for rid, _ in items} == expected
    assert rekey.rekey(engine, "account", models["account"], "US", chunk=4) == 0, "done: nothing to redo"


def test_workers_starting_together_leave_one_set_of_keys(engine: Engine, rules: Ruleset) -> None:
    """Every worker re-keys at start-up: the keys come out whole, and one worker does the work while the
    others wait and find it done (PostgreSQL: an advisory lock; SQLite: a claim row)."""
    model = rules.match_models["account"]
    items = [(f"a{n:03d}", {"name": f"Zeta{n}.com", "phone": f"+1 415 555 {n:04d}"}) for n in range(40)]
    index.upsert_records(engine, "account", items, model, "US")
    expected = {rid: _keys(engine, rid) for rid, _ in items}
    _age_keys(engine)
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: rekey.rekey(engine, "account", model, "US", chunk=7), range(4)))
    assert {rid: _keys(engine, rid) for rid, _ in items} == expected
    assert sorted(done) == [0, 0, 0, 40], done


def test_a_claim_a_crashed_process_left_is_taken_over(engine: Engine, rules: Ruleset) -> None:
    """SQLite: a claim not renewed for CLAIM_STALE_SECONDS is a dead process's; a fresh one is waited for."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the claim row is SQLite's")
    model = rules.match_models["account"]
    index.upsert_records(engine, "account", [("a1", ACME)], model, "US")
    _age_keys(engine)
    stale = time.time() - rekey_turn.CLAIM_STALE_SECONDS - 1
    with engine.begin() as conn:
        conn.execute(insert(IndexRekeyClaim).values(record_type="account", owner="dead", renewed_at=stale))
    assert rekey.rekey(engine, "account", model, "US") == 1
    assert ("name", "accenture") in _keys(engine, "a1")
    with engine.connect() as conn:
        assert conn.execute(select(IndexRekeyClaim)).all() == [], "the claim is given up when done"


def test_the_service_rekeys_a_stale_index_when_it_starts(tmp_path: Path, rules: Ruleset) -> None:
    """An index an older release wrote: the service starts at once and, in the background, rewrites its keys
    ('accenture.com' keyed by its name 'accenture', no longer 'accenture com')."""
    url = f"sqlite:///{tmp_path}/crm-dq.sqlite3"
    engine = make_engine(url)
    create_schema(engine)
    index.upsert_records(engine, "account", [("a1", ACME)], rules.match_models["account"], "US")
    _age_keys(engine)
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get("/healthz").status_code == 200
        assert _rekeyed_soon(engine, "a1", ("name", "accenture"))
    engine.dispose()


def test_a_write_racing_a_chunk_keeps_its_own_keys(engine: Engine, rules: Ruleset,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A CRM update landing while a chunk re-keys its record: the chunk reads the records under the write
    lock, so the update waits and writes its keys last (they were replaced by the old data's keys, and the
    fingerprint then said the type was done: the record was never found by its new name)."""
    model = rules.match_models["account"]
    index.upsert_records(engine, "account", [("a1", {"name": "Old Name Inc", "website": "oldname.com"})],
                         model, "US")
    _age_keys(engine)
    new = {"name": "New Name Ltd", "website": "newname.com"}
    writer = threading.Thread(target=index.upsert_records,
                              args=(engine, "account", [("a1", new)], model, "US"))
    real_prepare = rekey.prepare

    def racing_prepare(*args: Any, **kwargs: Any) -> Any:
        if not writer.is_alive() and writer.ident is None:  # the first chunk: the update lands now
            writer.start()
            writer.join(timeout=1)  # before the fix it committed here; now it waits for the chunk's lock
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(rekey, "prepare", racing_prepare)
    assert rekey.rekey(engine, "account", model, "US") == 1
    writer.join(timeout=30)
    assert not writer.is_alive()
    written = real_prepare([new], "account", "US", ["a1"])
    assert _keys(engine, "a1") == index.record_index_keys(written, 0, model)


def test_two_workers_setting_the_fingerprint_at_once_both_succeed(engine: Engine) -> None:
    """Workers finding an empty type at once each write its fingerprint: an upsert, so the second does not
    stop re-keying with an IntegrityError (a delete then insert did on PostgreSQL)."""
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as conn:
                rekey._set_fingerprint(conn, "account", "second")
        except Exception as exc:  # reported below
            errors.append(exc)

    with engine.connect() as first:
        with first.begin():
            rekey._set_fingerprint(first, "account", "first")
            other = threading.Thread(target=second)
            other.start()
            other.join(timeout=0.5)  # it waits for the first transaction's row (or SQLite's write lock)
        other.join(timeout=30)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(select(IndexKeysVersion.fingerprint)).scalars().all() == ["second"]


def test_the_advisory_lock_connection_is_not_left_in_a_transaction(engine: Engine, rules: Ruleset,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: the connection holding the advisory lock for the run is in autocommit, not 'idle in
    transaction' (a managed database's idle_in_transaction_session_timeout killed it, and the unlock then
    raised: a finished run was logged as stopped)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    model = rules.match_models["account"]
    index.upsert_records(engine, "account", [("a1", ACME)], model, "US")
    _age_keys(engine)
    states: list[str] = []
    real_prepare = rekey.prepare

    def watching_prepare(*args: Any, **kwargs: Any) -> Any:
        with engine.connect() as conn:
            states.extend(conn.execute(text(
                "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted")).scalars())
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(rekey, "prepare", watching_prepare)
    assert rekey.rekey(engine, "account", model, "US") == 1
    assert states == ["idle"]


def test_a_stop_ends_the_run_between_chunks(engine: Engine, rules: Ruleset,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The service shutting down: the run ends after the chunk under way, the type still stale."""
    model = rules.match_models["account"]
    items = [(f"a{n:03d}", {"name": f"Zeta{n}.com"}) for n in range(10)]
    index.upsert_records(engine, "account", items, model, "US")
    _age_keys(engine)
    stop = threading.Event()
    real_prepare = rekey.prepare

    def stopping_prepare(*args: Any, **kwargs: Any) -> Any:
        stop.set()  # the service shuts down while the first chunk runs
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(rekey, "prepare", stopping_prepare)
    assert rekey.rekey(engine, "account", model, "US", chunk=4, stop=stop) == 4
    assert rekey.stale_types(engine, rules.match_models, "US") == ["account"], "the next start-up goes on"


def test_shutdown_stops_the_rekeying_thread_before_the_engine_goes(tmp_path: Path, rules: Ruleset,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The lifespan's shutdown sets the thread's stop event and joins it before disposing of the engine
    (the thread went on writing through a disposed engine)."""
    url = f"sqlite:///{tmp_path}/crm-dq.sqlite3"
    engine = make_engine(url)
    create_schema(engine)
    index.upsert_records(engine, "account", [("a1", ACME)], rules.match_models["account"], "US")
    _age_keys(engine)
    started = threading.Event()
    real_prepare = rekey.prepare

    def slow_prepare(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(1.5)
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(rekey, "prepare", slow_prepare)
    with TestClient(create_app(Settings(database_url=url))):
        assert started.wait(10)
    running = [t for t in threading.enumerate() if t.name == "crm-dq-rekey"]
    assert not running, "still re-keying after shutdown"
    assert ("name", "accenture") in _keys(engine, "a1"), "the chunk under way was finished"
    engine.dispose()


def test_rekeying_starts_when_the_store_comes_back_after_start_up(tmp_path: Path, rules: Ruleset) -> None:
    """A store down at start-up: the first `/readyz` that creates the schema starts re-keying too (only the
    lifespan started it, so a store that came back later kept its old keys until the next restart)."""
    path = tmp_path / "crm-dq.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    index.upsert_records(engine, "account", [("a1", ACME)], rules.match_models["account"], "US")
    _age_keys(engine)
    engine.dispose()
    path.rename(tmp_path / "away.sqlite3")
    path.mkdir()  # a directory where the database was: SQLite cannot open it, the store is down
    with TestClient(create_app(Settings(database_url=f"sqlite:///{path}"))) as client:
        assert client.get("/readyz").status_code == 503
        path.rmdir()
        (tmp_path / "away.sqlite3").rename(path)
        assert client.get("/readyz").status_code == 200
        assert _rekeyed_soon(engine, "a1", ("name", "accenture"))
    engine.dispose()


def test_rekeying_locks_ids_in_the_order_bulk_writes_do_under_any_collation(rules: Ruleset) -> None:
    """Under an en-US collation PostgreSQL sorted '00Qa…' before '00QB…', Python after it: a chunk and a
    bulk upsert each held the row the other waited for, and re-keying died on DeadlockDetected (helper-82)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL to test against")
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = 'crm_dq_test_icu'")).first() is None:
            conn.execute(text("CREATE DATABASE crm_dq_test_icu TEMPLATE template0 LOCALE_PROVIDER icu "
                              "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"))
    admin.dispose()
    engine = make_engine(url.rsplit("/", 1)[0] + "/crm_dq_test_icu")
    create_schema(engine)
    with engine.begin() as conn:
        for table in (IndexKey, IndexedRecord, IndexKeysVersion):
            conn.execute(table.__table__.delete())
    model = rules.match_models["lead"]
    lower, upper = "00Qa00000000001", "00QB00000000001"
    index.upsert_records(engine, "lead", [(lower, {"last_name": "X"}), (upper, {"last_name": "Y"})], model,
                         "US")
    with engine.begin() as conn:
        conn.execute(IndexKeysVersion.__table__.delete())
    found: dict[str, Any] = {}

    def run() -> None:
        try:
            found["rekey"] = rekey.rekey(engine, "lead", model, "US")
        except Exception as exc:  # the deadlock, reported rather than lost in the thread
            found["rekey"] = repr(exc)

    with engine.connect() as conn, conn.begin():  # a bulk upsert locks in Python's order: upper first ...
        index._write(conn, engine, "lead", [upper], [{"last_name": "Y2"}], model, "US")
        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(1.0)
        index._write(conn, engine, "lead", [lower], [{"last_name": "X2"}], model, "US")  # ... then lower
    worker.join(30)
    engine.dispose()
    assert found["rekey"] == 2, found
