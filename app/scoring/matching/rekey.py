"""Re-keying the reference index when the way records are keyed changes.

Blocking keys are stored with each record (`index.record_index_keys`), computed by the matching code and the
rules file's `blocking` lists. A release that normalises a value another way ('accenture.com' keyed as
'accenture') or a rules file with other blocking keys leaves the stored rows in the old form: a new record
then meets the records it should only through keys that did not change. Each type's rows carry the
fingerprint of the recipe that wrote them (`dq_index_keys_version`); at start-up a type whose fingerprint
differs is re-keyed from its stored records, in chunks, each in its own write transaction, so lookups and
writes go on meanwhile (a write of a record in the chunk under way waits for it, then writes its own keys).
Old pods of a rolling deploy may still write old keys after a new pod marked the fingerprint current: those
records stay keyed the old way until written again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.models.store import IndexedRecord, IndexKey, IndexKeysVersion
from app.scoring.matching.index import CHUNK, _writing, record_index_keys
from app.scoring.matching.linker import MatchModel, prepare
from app.scoring.matching.rekey_turn import begin_immediate, rekey_turn, renew

log = logging.getLogger("crm_dq")

# Raised by hand whenever the matching code writes some key differently (normalize.py, linker.prepare): a
# rules file's blocking lists and the default region are part of the fingerprint already. A forgotten raise
# fails tests/store/test_rekey_golden.py, which pins a hash of some records' key rows with this number.
# 3: keys changed after 2 was set (nickname families, company keys).
# 4: a city in one name, its words in one form (normalize.city_key: NYC, St. Louis).
KEYS_VERSION = 4


def keys_fingerprint(model: MatchModel, region: str) -> str:
    """What decides a record's stored key rows: the code's KEYS_VERSION, the model's blocking keys and
    term-frequency fields, and the region phones are read in."""
    recipe = [KEYS_VERSION, region, model.blocking, model.tf_fields, model.shared_counted_by]
    return hashlib.sha256(orjson.dumps(recipe)).hexdigest()[:32]


def stale_types(engine: Engine, models: dict[str, MatchModel], region: str) -> list[str]:
    """Types whose stored key rows another recipe wrote. A type with no fingerprint yet is stale when it holds
    records (a store from before fingerprints), else simply gets the current one."""
    stale = []
    with engine.begin() as conn:
        stored = dict(conn.execute(select(IndexKeysVersion.record_type, IndexKeysVersion.fingerprint)).all())
        for record_type, model in models.items():
            current = keys_fingerprint(model, region)
            if stored.get(record_type) == current:
                continue
            holds = conn.execute(select(IndexedRecord.record_id).where(
                IndexedRecord.record_type == record_type).limit(1)).first() is not None
            if holds:
                stale.append(record_type)
            else:
                _set_fingerprint(conn, record_type, current)
    return stale


def rekey(engine: Engine, record_type: str, model: MatchModel, region: str, chunk: int = CHUNK,
          stop: threading.Event | None = None) -> int:
    """Recompute the key rows of every stored record of a type, in id order, `chunk` records a transaction;
    returns how many records were re-keyed. One process does it at a time (`rekey_turn`: every worker starts
    up at once) and a process that waited finds the work done. `stop` (the service shutting down) ends the
    run between chunks, the fingerprint unchanged: the next start-up goes on."""
    current, stop = keys_fingerprint(model, region), stop or threading.Event()
    with rekey_turn(engine, record_type, current, stop) as owner:
        if owner is None:
            return 0
        return _rekey_all(engine, record_type, model, region, chunk, current, owner, stop)


def _rekey_all(engine: Engine, record_type: str, model: MatchModel, region: str, chunk: int,
               current: str, owner: str, stop: threading.Event) -> int:
    after, done = "", 0
    while not stop.is_set():
        with _writing(), engine.begin() as conn:
            rows = _locked_chunk(conn, engine, record_type, after, chunk)
            if not renew(conn, record_type, owner):  # another process took the work over
                return done
            if not rows:
                _set_fingerprint(conn, record_type, current)
                return done
            ids = [rid for rid, _ in rows]
            prepared = prepare([orjson.loads(data) for _, data in rows], record_type, region, ids)
            conn.execute(delete(IndexKey).where(IndexKey.record_type == record_type,
                                                IndexKey.record_id.in_(ids)))
            key_rows = [{"record_type": record_type, "record_id": rid, "name": n, "value": v}
                        for row, rid in enumerate(ids)
                        for n, v in sorted(record_index_keys(prepared, row, model))]
            if key_rows:
                conn.execute(insert(IndexKey), key_rows)
        done, after = done + len(ids), ids[-1]
    return done


def _locked_chunk(conn: Connection, engine: Engine, record_type: str, after: str,
                  chunk: int) -> list[Any]:
    """The next `chunk` records after `after`, read under the write lock, as `index.update_record` reads:
    their key rows are rewritten from this data, so a write of one of them must not commit in between (its
    keys would be replaced by the old data's, and the fingerprint then says the type is done). PostgreSQL
    locks the record rows (`FOR UPDATE`: a writer of one waits, one committed before is read); SQLite takes
    the database's write lock before the read (`BEGIN IMMEDIATE`).

    Ids are ordered as Python sorts them (code points), the order `index.upsert_records` locks them in: under
    a database collation such as en-US, '00Qa…' came before '00QB…' here and after it there, and a bulk
    upsert and a chunk each held the lock the other waited for (a deadlock, helper-82). SQLite compares
    bytes already."""
    begin_immediate(conn)
    postgres = engine.dialect.name == "postgresql"
    record_id = IndexedRecord.record_id.collate("C") if postgres else IndexedRecord.record_id
    query = select(IndexedRecord.record_id, IndexedRecord.data).where(
        IndexedRecord.record_type == record_type, record_id > after,
    ).order_by(record_id).limit(chunk)
    if postgres:
        query = query.with_for_update()
    return list(conn.execute(query).all())


def _set_fingerprint(conn: Connection, record_type: str, fingerprint: str) -> None:
    """Record which recipe wrote the type's keys: an upsert, as workers starting together may each find an
    empty type (a delete then insert let the second fail with an IntegrityError on PostgreSQL)."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(IndexKeysVersion).values(record_type=record_type, fingerprint=fingerprint)
    conn.execute(stmt.on_conflict_do_update(index_elements=["record_type"],
                                            set_={"fingerprint": stmt.excluded.fingerprint}))


def rekey_stale(engine: Engine, models: dict[str, MatchModel], region: str,
                stop: threading.Event | None = None) -> dict[str, int]:
    """Re-key every stale type (`stale_types`) until `stop` is set; per type, how many records were
    re-keyed. Logged, never raised: the index keeps answering with the keys it has."""
    found: dict[str, int] = {}
    stop = stop or threading.Event()
    try:
        for record_type in stale_types(engine, models, region):
            if stop.is_set():
                break
            log.info("index keys of %s were written another way: re-keying the stored records", record_type)
            found[record_type] = rekey(engine, record_type, models[record_type], region, stop=stop)
            log.info("index keys of %s: %d records re-keyed%s", record_type, found[record_type],
                     " before the service stopped (the next start-up goes on)" if stop.is_set() else "")
    except Exception as exc:  # a store that went away: the next start-up tries again
        log.warning("re-keying the index stopped: %s", type(exc).__name__)
    return found
