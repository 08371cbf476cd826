"""The reference index on SQLite and PostgreSQL: upsert, read, delete, indexed lookups, concurrent writers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select

from app.models.store import IndexedRecord, IndexKey
from app.scoring import Ruleset
from app.scoring.matching import index
from app.scoring.matching.dedupe import link_record
from app.scoring.matching.linker import prepare

BOB = {"id": "c1", "first_name": "Robert", "last_name": "Smith", "email": "bob.smith@acme.com",
       "phone": "(415) 555-0123"}


def test_upsert_get_delete_round_trip(engine: Engine, rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    assert index.upsert_records(engine, "contact", [("c1", BOB)], model, "US") == 1
    assert index.get_record(engine, "contact", "c1") == BOB
    changed = BOB | {"email": "robert@newjob.com"}
    index.upsert_records(engine, "contact", [("c1", changed)], model, "US")
    assert index.get_record(engine, "contact", "c1") == changed
    with engine.connect() as conn:
        emails = conn.execute(select(IndexKey.value).where(IndexKey.record_id == "c1", IndexKey.name == "email"))
        assert [e for (e,) in emails] == ["robert@newjob.com"], "old keys must go with the old version"
    assert index.delete_record(engine, "contact", "c1") is True
    assert index.get_record(engine, "contact", "c1") is None
    assert index.delete_record(engine, "contact", "c1") is False


def test_lookup_finds_the_duplicate_through_indexed_keys(engine: Engine, rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    others = [(f"x{i}", {"first_name": f"Person{i}", "last_name": f"Other{i}", "email": f"p{i}@x{i}.com"})
              for i in range(50)]
    index.upsert_records(engine, "contact", [("c1", BOB), *others], model, "US")
    probe = {"first_name": "Bob", "last_name": "Smith", "phone": "+1 415 555 0123"}
    prepared = prepare([probe], "contact", "US", ["new"])
    candidates, tf = index.find_candidates(engine, "contact", prepared, model, 300, 1000)
    assert [cid for cid, _ in candidates] == ["c1"], "only records sharing a blocking key are read"
    pairs = link_record("contact", probe, candidates, rules, tf=tf)
    assert pairs[0]["b"] == "c1" and "same phone" in pairs[0]["reasons"]


def test_repeated_ids_in_one_bulk_keep_the_last(engine: Engine, rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    index.upsert_records(engine, "contact", [("c1", BOB), ("c1", BOB | {"title": "CFO"})], model, "US")
    assert index.get_record(engine, "contact", "c1")["title"] == "CFO"
    assert index.count_records(engine, "contact") == 1


def test_concurrent_upserts_of_one_id_leave_one_row_and_its_keys(engine: Engine, rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    versions = [BOB | {"email": f"bob{i}@acme{i}.com"} for i in range(40)]

    def write(i: int) -> None:
        index.upsert_records(engine, "contact", [("c1", versions[i])], model, "US")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(IndexedRecord)).scalar()
        emails = [v for (v,) in conn.execute(select(IndexKey.value).where(IndexKey.name == "email"))]
    final = index.get_record(engine, "contact", "c1")
    assert rows == 1
    assert emails == [final["email"]], "the key rows belong to the version that won"
