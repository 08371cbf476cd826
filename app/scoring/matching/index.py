"""The reference index: records already known, stored with their blocking keys in indexed rows.

A lookup for one record is a few indexed queries (the type's total, keys, candidate rows, term counts),
never a scan. Upserts write the record row first: on PostgreSQL that row lock serialises concurrent writers
of one id, so its key rows always belong to the last write. Each write transaction also adds the records it
inserted (or removed) to the type's row in `dq_index_total`, so every process reads the right total straight
after any write: a count cached per process had kept a worker that saw an empty index from looking for up to
10 s after a bulk load (helper-64).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    TextClause,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.models.store import IndexedRecord, IndexKey
from app.scoring.judge import PACK_DEPTH, flatten_deep
from app.scoring.matching.linker import PEOPLE_COUNTED_UP_TO, MatchModel, Prepared, TermFrequencies, prepare
from app.scoring.matching.normalize import KEY_OF, MULTI
from app.scoring.values import id_forms

CHUNK = 400
_writes = 0
_writes_lock = threading.Lock()


@contextmanager
def _writing() -> Iterator[None]:
    """Count a write transaction of this process while it runs (see `writes_in_flight`)."""
    global _writes
    with _writes_lock:
        _writes += 1
    try:
        yield
    finally:
        with _writes_lock:
            _writes -= 1


def writes_in_flight() -> int:
    """Index writes this process is running now: while there are any, a SQLite read may wait for a lock."""
    return _writes


# The longest id the store keeps (the record_id columns' length: PostgreSQL refuses a longer one, SQLite would
# keep it) and a NUL, which PostgreSQL's text types cannot hold: both were a 500 from the driver (helper-58).
MAX_ID_LENGTH: int = IndexedRecord.__table__.c.record_id.type.length  # type: ignore[attr-defined]


class UnstorableId(ValueError):
    """An id the index cannot store (`id_problem` says why); callers check ids before writing."""


def id_problem(record_id: str) -> str | None:
    """Why the index cannot store a record under `record_id`, or None when it can (the same on SQLite and
    PostgreSQL): an id holding a NUL or longer than the column."""
    if "\x00" in record_id:
        return "the id contains a NUL character, which the reference index cannot store"
    if len(record_id) > MAX_ID_LENGTH:
        return f"the id is longer than the {MAX_ID_LENGTH} characters the reference index stores"
    return None


def storable(record: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The record as the index stores (and matches) it, and its JSON text.

    Containers nested deeper than orjson writes (255 levels; JSON allows 1,024) are emptied as `judge.pack`
    empties them, and NUL characters are dropped (PostgreSQL's text holds none): either was a 500 on every
    index write (helper-58). Matching keys are made from this form, so a NUL makes no key of its own.
    The record itself is returned when neither applies.
    """
    try:
        text = orjson.dumps(record)
    except orjson.JSONEncodeError:
        record = flatten_deep(record, PACK_DEPTH)
        text = orjson.dumps(record)
    if b"\\u0000" in text:  # a NUL somewhere (or the text '\u0000', escaped: then nothing changes)
        record = without_nul(record)
        text = orjson.dumps(record)
    return record, text.decode()


def without_nul(value: Any) -> Any:
    """`value` with NUL characters dropped from every string and name. A name that becomes one the object
    already holds is dropped with its value (helper-62: 'i\\x00d' became a second 'id', and the last one won,
    so a record could be stored under another id and email)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        clean = {k: without_nul(v) for k, v in value.items() if "\x00" not in k}
        for k, v in value.items():
            if "\x00" in k:
                clean.setdefault(k.replace("\x00", ""), without_nul(v))
        return clean
    return value


def _check_ids(ids: Sequence[str]) -> None:
    for record_id in ids:
        problem = id_problem(record_id)
        if problem is not None:
            raise UnstorableId(problem)


def record_index_keys(prepared: Prepared, row: int, model: MatchModel) -> set[tuple[str, str]]:
    """(name, value) rows for one prepared record: each blocking key, and each term-frequency value that is
    not a blocking key of its own (a phone's or email's row counts it already)."""
    keys: set[tuple[str, str]] = set()
    values = prepared.keys[row]
    for recipe in model.blocking:
        parts = [values.get(f, "") for f in recipe]
        if all(parts):
            for combo in itertools.product(*(p.split(MULTI) for p in parts)):
                keys.add(("+".join(recipe), "\x1f".join(combo)[:512]))
    for name in dict.fromkeys((*model.tf_fields, model.shared_counted_by)):  # and who holds a shared value
        if name and _key_row_name(name, model) not in model.own_key_fields and values.get(name):
            keys.add((f"tf:{name}", values[name][:512]))
    return keys


def _upsert_statement(engine: Engine, rows: list[dict[str, Any]]) -> Any:
    dialect_insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(IndexedRecord).values(rows)
    return stmt.on_conflict_do_update(index_elements=["record_type", "record_id"],
                                      set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at})


def upsert_records(engine: Engine, record_type: str, items: Sequence[tuple[str, dict[str, Any]]],
                   model: MatchModel, region: str) -> int:
    """Insert or replace records by id (the last of repeated ids wins); returns how many were written."""
    latest = dict(items)
    _check_ids(list(latest))
    ids = sorted(latest)  # one lock order for every writer: no deadlocks between bulk upserts
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        with _writing(), engine.begin() as conn:
            _write(conn, engine, record_type, chunk, [latest[i] for i in chunk], model, region)
    return len(ids)


def update_record(engine: Engine, record_type: str, record_id: str, changes: dict[str, Any],
                  model: MatchModel, region: str) -> dict[str, Any]:
    """Store `changes` over the record the index holds (nested objects field by field), or as the whole
    record when it holds none; returns what was stored. A CRM's property-change events carry a few fields.

    The stored row is read under the write lock, so concurrent changes to one object all land: on
    PostgreSQL the row's (`SELECT … FOR UPDATE`), on a SQLite file the database's, taken before the read
    (`BEGIN IMMEDIATE`: a deferred transaction would read first and could write over another's change).
    An in-memory SQLite database (tests) shares one connection between threads and has no such guarantee.
    """
    query = select(IndexedRecord.data).where(IndexedRecord.record_type == record_type,
                                             IndexedRecord.record_id == record_id)
    postgres, sqlite = engine.dialect.name == "postgresql", engine.dialect.name == "sqlite"
    _check_ids([record_id])
    with _writing(), engine.begin() as conn:
        # (an in-memory database shares one connection between threads: it may be in another's transaction)
        if sqlite and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        data = conn.execute(query.with_for_update() if postgres else query).scalar()
        merged = merge_fields(orjson.loads(data) if data is not None else {}, changes)
        [stored] = _write(conn, engine, record_type, [record_id], [merged], model, region)
    return stored


def merge_fields(stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`stored` with `changes` laid over it; an object in both (an address, BANT) is merged key by key."""
    merged = dict(stored)
    for key, value in changes.items():
        old = merged.get(key)
        merged[key] = {**old, **value} if isinstance(value, dict) and isinstance(old, dict) else value
    return merged


def _write(conn: Any, engine: Engine, record_type: str, ids: list[str], records: list[dict[str, Any]],
           model: MatchModel, region: str) -> list[dict[str, Any]]:
    """Upsert record rows, then replace their key rows, in the caller's transaction; returns the records as
    stored (`storable`)."""
    now = datetime.now(UTC)
    stored = [storable(record) for record in records]
    prepared = prepare([record for record, _ in stored], record_type, region, ids)
    rows = [{"record_type": record_type, "record_id": rid, "data": text, "updated_at": now}
            for rid, (_, text) in zip(ids, stored, strict=True)]
    key_rows = [{"record_type": record_type, "record_id": rid, "name": n, "value": v}
                for row, rid in enumerate(ids) for n, v in sorted(record_index_keys(prepared, row, model))]
    if engine.dialect.name == "postgresql":  # xmax is 0 on a row this statement inserted, not on an update
        inserted = sum(conn.execute(_upsert_statement(engine, rows).returning(literal_column("xmax = 0"))
                                    ).scalars())
    else:  # SQLite: the write lock first (writers wait for it), so the count of the ids already held holds
        _add_to_total(conn, record_type, 0)
        inserted = len(ids) - conn.execute(_HELD_SQL, {"rt": record_type, "ids": ids}).scalar_one()
        conn.execute(_upsert_statement(engine, rows))
    conn.execute(delete(IndexKey).where(IndexKey.record_type == record_type, IndexKey.record_id.in_(ids)))
    if key_rows:
        conn.execute(insert(IndexKey), key_rows)
    if inserted:
        _add_to_total(conn, record_type, inserted)
    return [record for record, _ in stored]


_HELD_SQL = text("SELECT count(*) FROM dq_index_record WHERE record_type = :rt AND record_id IN :ids"
                 ).bindparams(bindparam("ids", expanding=True))
_ADD_SQL = text("UPDATE dq_index_total SET total = total + :n WHERE record_type = :rt")
# a type without a row yet (a store written before dq_index_total) is counted once, this transaction's
# rows too
_FIRST_SQL = text("INSERT INTO dq_index_total (record_type, total) SELECT CAST(:rt AS VARCHAR), count(*) "
                  "FROM dq_index_record WHERE record_type = :rt "
                  "ON CONFLICT (record_type) DO UPDATE SET total = dq_index_total.total + :n")
_TOTAL_SQL = text("SELECT total FROM dq_index_total WHERE record_type = :rt")


def _add_to_total(conn: Connection, record_type: str, n: int) -> None:
    """Add `n` to the type's total in the caller's write transaction, after its record rows were written.

    The row is the last lock a write takes, so writers cannot deadlock on it. When the row is missing the
    type is counted; a writer that created the row meanwhile had not counted this transaction's rows
    (not committed yet), so `n` is added to its count instead.
    """
    if conn.execute(_ADD_SQL, {"rt": record_type, "n": n}).rowcount == 0:
        conn.execute(_FIRST_SQL, {"rt": record_type, "n": n})


def get_record(engine: Engine, record_type: str, record_id: str) -> dict[str, Any] | None:
    """The stored record, or None (always for an id the index cannot store). A Salesforce id finds the record
    stored under its other form too ('…QqQqQ' the one stored as '…QqQqQAAV': `values.id_forms`), the one
    stored under the id as given first."""
    if id_problem(record_id) is not None:
        return None
    forms = id_forms(record_id)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(IndexedRecord.record_id, IndexedRecord.data).where(
            IndexedRecord.record_type == record_type, IndexedRecord.record_id.in_(forms))).all())
    data = next((rows[form] for form in forms if form in rows), None)
    return orjson.loads(data) if data is not None else None


def delete_record(engine: Engine, record_type: str, record_id: str) -> bool:
    """Remove a record and its keys, under each form of its id (`values.id_forms`: the CRM deleting
    '…QqQqQAAV' deletes the record indexed as '…QqQqQ'); False when it was not there (always for an id the
    index cannot store)."""
    if id_problem(record_id) is not None:
        return False
    forms = id_forms(record_id)
    with _writing(), engine.begin() as conn:
        deleted = conn.execute(delete(IndexedRecord).where(
            IndexedRecord.record_type == record_type, IndexedRecord.record_id.in_(forms))).rowcount
        conn.execute(delete(IndexKey).where(IndexKey.record_type == record_type, IndexKey.record_id.in_(forms)))
        if deleted:
            _add_to_total(conn, record_type, -deleted)
    return bool(deleted)


def holds_any(engine: Engine, record_types: tuple[str, ...]) -> bool:
    """Whether the index holds a record of any of these types: asked of the store (one indexed probe of the
    records themselves, whatever `dq_index_total` says), unless nothing was written since the last answer.

    A webhook calls on every CRM save, and with an empty index (as `make run` starts) its lookup was all
    the cost of a request; the count cached per process for 10 s that skipped it missed another worker's
    bulk load (helper-64), and reading the count on every request cost 1.1 ms of server CPU a request under
    bench/load.sh (1b87776: 4,646 → 1,093 requests/s). For a SQLite file, "nothing written since" is its
    files' sizes and times (`_written`), read before the probe, so a write racing it is seen at the next
    call; other stores are asked every time.
    """
    stamp = _written(engine)
    key = (id(engine), record_types)
    if stamp is not None and (cached := _HOLDS.get(key)) is not None and cached[0] == stamp:
        return cached[1]
    with engine.connect() as conn:
        held = conn.execute(_ANY_SQL, {"types": list(record_types)}).first() is not None
    if stamp is not None:
        _HOLDS[key] = (stamp, held)
    return held


_ANY_SQL = text("SELECT 1 FROM dq_index_record WHERE record_type IN :types LIMIT 1"
                ).bindparams(bindparam("types", expanding=True))
_HOLDS: dict[tuple[int, tuple[str, ...]], tuple[tuple[int, ...], bool]] = {}


def _written(engine: Engine) -> tuple[int, ...] | None:
    """A SQLite file's and its write-ahead log's (size, modification time): any committed write changes
    one of them (WAL appends to the log; a checkpoint writes the file). None for other stores."""
    if engine.dialect.name != "sqlite":
        return None
    path = engine.url.database
    if not path or path == ":memory:":
        return None
    stamp: list[int] = []
    for name in (path, path + "-wal"):
        try:
            info = os.stat(name)
        except OSError:
            stamp += (-1, -1)
            continue
        stamp += (info.st_size, info.st_mtime_ns)
    return tuple(stamp)


def count_records(engine: Engine, record_type: str) -> int:
    """Records of a type in the index now: one primary-key read of `dq_index_total`, never cached (a
    count cached per process was stale in every other process after a write)."""
    with engine.connect() as conn:
        return _count(conn, record_type)


def _count(conn: Connection, record_type: str) -> int:
    total = conn.execute(_TOTAL_SQL, {"rt": record_type}).scalar()
    if total is None:  # never written since dq_index_total exists (`create_schema` counts older stores)
        total = conn.execute(select(func.count()).select_from(IndexedRecord).where(
            IndexedRecord.record_type == record_type)).scalar()
    return int(total or 0)


# Lookups are prebuilt SQL text, one statement per number of keys: building SQLAlchemy expressions per
# request cost more than the queries themselves (about 5 ms of a 9 ms lookup at 100,000 contacts).
# Each key is its own equality search on the covering (record_type, name, value, record_id) index, joined
# by UNION ALL; one `name = ? AND value = ? OR …` condition made SQLite scan every key of the type.
@lru_cache(maxsize=128)
def _blocking_sql(n: int) -> TextClause:
    """Record ids per key, at most :limit each (a block over max_block records is skipped anyway)."""
    parts = [f"SELECT * FROM (SELECT name, value, record_id FROM dq_index_key WHERE record_type = :rt "
             f"AND name = :n{i} AND value = :v{i} LIMIT :limit) AS k{i}" for i in range(n)]
    return text(" UNION ALL ".join(parts))


@lru_cache(maxsize=128)
def _count_sql(n: int) -> TextClause:
    """How many indexed records hold each term (for term-frequency weights)."""
    parts = [f"SELECT {i} AS k, (SELECT count(*) FROM dq_index_key WHERE record_type = :rt "
             f"AND name = :n{i} AND value = :v{i}) AS n" for i in range(n)]
    return text(" UNION ALL ".join(parts))


@lru_cache(maxsize=128)
def _people_sql(n: int) -> TextClause:
    """How many distinct values of the `:by` key rows the holders of each term have, a holder without one
    counting alone (`MatchModel.shared_counted_by`)."""
    parts = [f"SELECT {i} AS k, (SELECT count(DISTINCT coalesce(l.value, '#' || e.record_id)) "
             f"FROM dq_index_key e LEFT JOIN dq_index_key l ON l.record_type = e.record_type "
             f"AND l.record_id = e.record_id AND l.name = :by "
             f"WHERE e.record_type = :rt AND e.name = :n{i} AND e.value = :v{i}) AS n" for i in range(n)]
    return text(" UNION ALL ".join(parts))


_RECORDS_SQL = text("SELECT record_id, data FROM dq_index_record WHERE record_type = :rt AND record_id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True))


def _key_row_name(field: str, model: MatchModel) -> str:
    """The name of the key rows that hold a field's value (`record_index_keys`)."""
    for name in (field, KEY_OF.get(field, "")):  # a phone's own rows, or those of all of a contact's phones
        if name in model.own_key_fields:
            return name
    return f"tf:{field}"


def _field_of_rows(name: str) -> str:
    """The field whose values key rows of this name count (`_key_row_name` the other way)."""
    name = name.removeprefix("tf:")
    return next((field for field, key in KEY_OF.items() if key == name), name)


def _key_params(record_type: str, keys: Sequence[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"rt": record_type, **extra}
    for i, (name, value) in enumerate(keys):
        params[f"n{i}"], params[f"v{i}"] = name, value
    return params


def find_candidates(engine: Engine, record_type: str, prepared: Prepared, model: MatchModel,
                    max_block: int, pseudo_count: float, exclude_ids: Collection[str] = (),
                    common_value_after: int = 0) -> tuple[list[tuple[str, dict[str, Any]]], TermFrequencies]:
    """Indexed records sharing a blocking key with the prepared record, and term counts for scoring it (the
    type's total, read fresh, weighs them; the blocks are asked whatever it says: a total left wrong by a
    writer that did not keep it, an older version during a rolling update, cannot hide a candidate).

    A new record is not in the index, so a value only the pair shares counts once here (`shared_after` is
    1 + `common_value_after`); a record indexed before counts itself too, one more before a value of its
    weighs less. `exclude_ids`: the record's own id in each form it may be stored under (`values.id_forms`),
    so a record is never its own candidate.
    """
    keys = record_index_keys(prepared, 0, model)
    blocking = [k for k in keys if not k[0].startswith("tf:")]
    # a tf field that is a key on its own is counted from its key rows (`record_index_keys`)
    counted_by_key = {_key_row_name(f, model) for f in model.tf_fields} & model.own_key_fields
    tf_keys = [k for k in keys if k[0].startswith("tf:") or k[0] in counted_by_key]
    hits: dict[tuple[str, str], list[str]] = {}
    counts: Counter[tuple[str, str]] = Counter()
    with engine.connect() as conn:
        total = _count(conn, record_type)
        if blocking:
            # a block over max_block records is skipped below, so max_block + 1 rows tell enough
            rows = conn.execute(_blocking_sql(len(blocking)),
                                _key_params(record_type, blocking, limit=max_block + 1))
            for name, value, rid in rows:
                hits.setdefault((name, value), []).append(rid)
        ids = sorted({rid for members in hits.values() if len(members) <= max_block for rid in members}
                     - set(exclude_ids))
        candidates: list[tuple[str, dict[str, Any]]] = []
        if ids:
            rows = conn.execute(_RECORDS_SQL, {"rt": record_type, "ids": ids})
            candidates = [(rid, orjson.loads(data)) for rid, data in rows]
        if tf_keys and total:
            rows = conn.execute(_count_sql(len(tf_keys)), _key_params(record_type, tf_keys))
            counts.update({tf_keys[k]: c for k, c in rows if c})
            # shared values counted in people where it can matter: a value of one holder is one person, and
            # past PEOPLE_COUNTED_UP_TO holders the records count (counting people joins every holder's row)
            by = model.shared_counted_by
            shared = [k for k in tf_keys if by and _field_of_rows(k[0]) in model.weakening_fields
                      and 1 < counts.get(k, 0) <= PEOPLE_COUNTED_UP_TO]
            if shared:
                rows = conn.execute(_people_sql(len(shared)),
                                    _key_params(record_type, shared, by=_key_row_name(by, model)))
                for k, c in rows:  # replaced, not added (Counter.update adds)
                    counts[shared[k]] = c
    per_field: dict[str, Counter[str]] = {}
    for (name, value), count in counts.items():
        per_field.setdefault(_field_of_rows(name), Counter())[value] = count
    tf = TermFrequencies(per_field, max(1, total), pseudo_count,
                         shared_after=1 + common_value_after)
    return candidates, tf
