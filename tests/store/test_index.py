"""The reference index on SQLite and PostgreSQL: upsert, read, delete, indexed lookups, concurrent writers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select

from app.models.store import IndexedRecord, IndexKey, create_schema, make_engine
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


def test_changed_fields_are_laid_over_the_stored_record_and_its_keys_follow(engine: Engine, rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    index.upsert_records(engine, "contact", [("c1", BOB | {"mailing_address": {"city": "Oakland", "state": "CA"}})],
                         model, "US")
    stored = index.update_record(engine, "contact", "c1", {"email": "robert@newjob.com",
                                                           "mailing_address": {"city": "Berkeley"}}, model, "US")
    assert stored == index.get_record(engine, "contact", "c1")
    assert stored["email"] == "robert@newjob.com" and stored["last_name"] == "Smith"
    assert stored["mailing_address"] == {"city": "Berkeley", "state": "CA"}, "nested fields merge one by one"
    with engine.connect() as conn:
        emails = conn.execute(select(IndexKey.value).where(IndexKey.record_id == "c1", IndexKey.name == "email"))
        assert [e for (e,) in emails] == ["robert@newjob.com"]
    assert index.update_record(engine, "contact", "c9", {"email": "new@acme.com"}, model, "US") == {
        "email": "new@acme.com"}, "an object the index did not hold starts with what changed"


def test_concurrent_changes_to_one_object_all_land(engine: Engine, rules: Ruleset) -> None:
    """Each change reads the stored row under the write lock (PostgreSQL: the row's; SQLite: the file's)."""
    model = rules.match_models["contact"]
    index.upsert_records(engine, "contact", [("c1", BOB)], model, "US")
    fields = [f"custom_{i}" for i in range(24)]

    def change(name: str) -> None:
        index.update_record(engine, "contact", "c1", {name: "set"}, model, "US")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(change, fields))
    final = index.get_record(engine, "contact", "c1")
    assert all(final.get(name) == "set" for name in fields), "a change read an older row and overwrote another"


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


def test_a_crowded_block_is_skipped_but_other_keys_still_find_the_duplicate(engine: Engine, rules: Ruleset) -> None:
    """A key shared by more than max_block records (a switchboard number) says nothing; the email still
    matches. Each key is limited on its own, so the crowded one cannot use up the others' rows."""
    model = rules.match_models["contact"]
    crowd = [(f"x{i}", {"first_name": f"Person{i}", "last_name": f"Other{i}", "phone": "(415) 555-0100",
                        "email": f"p{i}@x{i}.com"}) for i in range(30)]
    index.upsert_records(engine, "contact", [*crowd, ("c1", BOB | {"phone": "(415) 555-0100"})], model, "US")
    probe = {"first_name": "Rob", "last_name": "Smith", "email": "bob.smith@acme.com", "phone": "415 555 0100"}
    candidates, _ = index.find_candidates(engine, "contact", prepare([probe], "contact", "US", ["new"]), model,
                                          10, 1000)
    assert [cid for cid, _ in candidates] == ["c1"]


def test_sqlite_lookups_search_the_key_index_and_never_scan(tmp_path: Path, rules: Ruleset) -> None:
    """Every statement of a lookup is planned as an index search on (record_type, name, value)."""
    engine = make_engine(f"sqlite:///{tmp_path}/plan.sqlite3")
    create_schema(engine)
    model = rules.match_models["contact"]
    index.upsert_records(engine, "contact", [("c1", BOB)], model, "US")
    statements: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: statements.append((sql, params)))
    probe = {"first_name": "Bob", "last_name": "Smith", "phone": "+1 415 555 0123", "email": "b@acme.com"}
    index.find_candidates(engine, "contact", prepare([probe], "contact", "US", ["new"]), model, 300, 1000)
    key_queries = [(sql, p) for sql, p in statements if "FROM dq_index_key" in sql]
    assert len(key_queries) == 2, "one blocking-key query and one term-count query"
    with engine.connect() as conn:
        for sql, params in key_queries:
            plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            # (scanning a subquery's own rows, 'SCAN k0', or the constant row is no table scan)
            assert not [p for p in plan if p.startswith("SCAN") and p != "SCAN CONSTANT ROW"
                        and not p.removeprefix("SCAN k").isdigit()], plan
            searches = [p for p in plan if p.startswith("SEARCH")]
            # a term's rows by (record_type, name, value); their holders' last names (shared_counted_by) by
            # the primary key (record_type, record_id, name)
            assert searches and all("ix_dq_index_key_value (record_type=? AND name=? AND value=?)" in p
                                    or "(record_type=? AND record_id=? AND name=?)" in p for p in searches), plan
    engine.dispose()


def test_a_placeholder_phone_in_the_index_weighs_less_and_a_pairs_own_phone_does_not(engine: Engine,
                                                                                     rules: Ruleset) -> None:
    """Counted from the phones' own key rows (an index written before `tf_only_weakens` has them too): 150
    indexed contacts carry "(212) 555-0199" (an import's default; a placeholder such as "(000) 000-0000" is
    no key at all), so a new Sarah sharing it with an indexed Sarah is no longer scored a duplicate (it is
    with the number not counted as shared); a number only the two share weighs as with fixed weights."""
    model = rules.match_models["contact"]
    cfg = rules.file.duplicates
    crowd = [(f"c{n}", {"first_name": f"Name{n}", "last_name": f"Surname{n}", "phone": "(212) 555-0199"})
             for n in range(150)]
    sarah = {"first_name": "Sarah", "last_name": "Ivanova", "phone": "(212) 555-0199",
             "mailing_address": {"city": "Austin"}}
    bo = {"first_name": "Bo", "last_name": "Chen", "phone": "+1 415 555 0101",
          "mailing_address": {"city": "Austin"}}
    index.upsert_records(engine, "contact", [*crowd, ("s1", sarah), ("b1", bo)], model, "US")
    with engine.connect() as conn:
        tf_rows = select(func.count()).select_from(IndexKey).where(IndexKey.name.like("tf:phone%"))
        assert conn.execute(tf_rows).scalar() == 0, "phones are counted from their blocking rows"

    def score(new: dict[str, Any], other: str, common_after: int) -> float:
        prepared = prepare([new], "contact", "US", ["new"])
        candidates, tf = index.find_candidates(engine, "contact", prepared, model, 1000, cfg.tf_pseudo_count,
                                               common_value_after=common_after)
        found = link_record("contact", new, candidates, rules, threshold=0.0, tf=tf)
        return next(p["score"] for p in found if p["b"] == other)

    new_sarah = {"first_name": "Sarah", "phone": "+1 212 555 0199"}
    new_bo = {"first_name": "Bo", "last_name": "Chen", "phone": "(415) 555-0101",
              "mailing_address": {"city": "Boston"}}
    assert score(new_sarah, "s1", cfg.common_value_after) < cfg.threshold
    assert score(new_sarah, "s1", 1000) > cfg.threshold  # with the placeholder not counted as shared
    assert score(new_bo, "b1", cfg.common_value_after) == score(new_bo, "b1", 1000) > 0.99


def test_a_person_indexed_many_times_keeps_their_emails_weight(engine: Engine, rules: Ruleset) -> None:
    """The index counts a shared value in people too (`shared_counted_by`: distinct last names among the
    records holding it, a record without one counting alone): twelve entries of one Harrington do not make
    her email common, two hundred people on one import mailbox do."""
    model = rules.match_models["contact"]
    cfg = rules.file.duplicates
    names = [("Elizabeth", "Harrington"), ("Liz", "Harrington"), ("Beth", "Harrington-Cole")] * 4
    person = [(f"e{n}", {"first_name": f, "last_name": last, "email": "elizabeth.harrington@vertexbio.com"})
              for n, (f, last) in enumerate(names)]
    crowd = [(f"c{n}", {"first_name": "Ann", "last_name": f"Surname{n}", "email": "crm.import@acme.com"})
             for n in range(200)]
    index.upsert_records(engine, "contact", [*person, *crowd], model, "US")

    def best(new: dict[str, Any]) -> float:
        candidates, tf = index.find_candidates(engine, "contact", prepare([new], "contact", "US", ["new"]), model,
                                               1000, cfg.tf_pseudo_count, common_value_after=cfg.common_value_after)
        return max((p["score"] for p in link_record("contact", new, candidates, rules, threshold=0.0, tf=tf)),
                   default=0.0)

    assert best({"first_name": "Eliza", "last_name": "Harrington",
                 "email": "elizabeth.harrington@vertexbio.com"}) > cfg.auto_merge
    assert best({"first_name": "Ann", "last_name": "Surname-New", "email": "crm.import@acme.com"}) < cfg.threshold


def test_people_are_counted_only_for_values_a_few_records_hold(tmp_path: Path, rules: Ruleset) -> None:
    """Counting a value's holders in people joins every holder's row: 50,000 holders of one switchboard made
    a lookup 13 times slower (helper-31). Past PEOPLE_COUNTED_UP_TO holders the records count, and a value of
    one holder needs no count at all."""
    from app.scoring.matching.linker import PEOPLE_COUNTED_UP_TO

    engine = make_engine(f"sqlite:///{tmp_path}/people.sqlite3")
    create_schema(engine)
    model = rules.match_models["contact"]
    crowd = [(f"c{n}", {"first_name": "Ann", "last_name": f"Surname{n}", "phone": "+1 415 555 0100"})
             for n in range(PEOPLE_COUNTED_UP_TO + 1)]
    few = [(f"f{n}", {"first_name": "Bo", "last_name": "Chen", "phone": "+1 415 555 0199"}) for n in range(3)]
    index.upsert_records(engine, "contact", [*crowd, *few], model, "US")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: statements.append(sql))

    def people_queries(phone: str) -> int:
        statements.clear()
        probe = {"first_name": "Zed", "last_name": "Quill", "phone": phone}
        index.find_candidates(engine, "contact", prepare([probe], "contact", "US", ["new"]), model, 1000, 1000)
        return sum("count(DISTINCT" in sql for sql in statements)

    assert people_queries("+1 415 555 0100") == 0  # 101 holders: counted as records
    assert people_queries("+1 415 555 0199") == 1  # three holders: counted in people
    assert people_queries("+1 415 555 0142") == 0  # nobody else holds it
    engine.dispose()


def test_a_pair_scores_the_same_in_a_batch_and_against_the_index(engine: Engine, rules: Ruleset) -> None:
    """'Zeta Corp' and 'Zeta Corporation' were review (0.999) in a batch and auto_merge (0.9994) against the
    index: the batch counted the pair's own two records in the name's frequency, the index only the indexed
    one. A batch now leaves one side of the pair out, as the index does for a new record (helper-53)."""
    from app.scoring.matching.dedupe import find_duplicates

    model = rules.match_models["account"]
    others = [(f"x{i}", {"name": f"Firm{i} Holdings", "website": f"firm{i}.com"}) for i in range(20)]
    old = {"id": "ZZ1", "name": "Zeta Corp", "website": "zeta.com"}
    new = {"id": "ZZ2", "name": "Zeta Corporation", "website": "www.zeta.com"}
    index.upsert_records(engine, "account", [("ZZ1", old), *others], model, "US")
    prepared = prepare([new], "account", "US", ["ZZ2"])
    candidates, tf = index.find_candidates(engine, "account", prepared, model, 300, 1000)
    [indexed] = link_record("account", new, candidates, rules, tf=tf)
    batch = find_duplicates("account", [old, new, *(record for _, record in others)], rules)["pairs"]
    [pair] = [p for p in batch if {p["a"], p["b"]} == {"ZZ1", "ZZ2"}]
    assert (pair["score"], pair["band"]) == (indexed["score"], indexed["band"])


def test_a_salesforce_id_finds_its_record_stored_under_the_other_form(engine: Engine, rules: Ruleset) -> None:
    """helper-78: '…QqQqQ' and '…QqQqQAAV' are one record: read, deleted (its total too) and excluded as
    the record itself by either form; a lower-cased 15-character id is another record."""
    model, short, long = rules.match_models["contact"], "0035g00000QqQqQ", "0035g00000QqQqQAAV"
    index.upsert_records(engine, "contact", [(long, BOB | {"id": long})], model, "US")
    assert index.get_record(engine, "contact", short) == BOB | {"id": long}
    assert index.get_record(engine, "contact", short.lower()) is None
    probe = prepare([BOB], "contact", "US", [short])
    found, _ = index.find_candidates(engine, "contact", probe, model, 100, 1000, exclude_ids=(short, long))
    assert found == []
    assert index.delete_record(engine, "contact", short) is True
    assert index.get_record(engine, "contact", long) is None and index.count_records(engine, "contact") == 0


def test_a_company_name_alone_finds_its_indexed_account_for_review(engine: Engine, rules: Ruleset) -> None:
    """`[duplicates.account] lift` against the index as in a batch: a new 'Stripe' meets the indexed 'Stripe,
    Inc.' (the name alone, nothing against it) as a review pair; a name eight indexed accounts hold does not
    lift ('Individual')."""
    model = rules.match_models["account"]
    cfg = rules.file.duplicates
    others = [(f"x{i}", {"name": f"Company Number {i}"}) for i in range(50)]
    crowd = [(f"p{i}", {"name": "Individual"}) for i in range(8)]
    index.upsert_records(engine, "account", [("s1", {"name": "Stripe, Inc."}), *others, *crowd], model, "US")

    def pairs(new: dict[str, Any]) -> list[dict[str, Any]]:
        prepared = prepare([new], "account", "US", ["new"])
        candidates, tf = index.find_candidates(engine, "account", prepared, model, 1000, cfg.tf_pseudo_count,
                                               common_value_after=cfg.common_value_after)
        return link_record("account", new, candidates, rules, threshold=0.0, tf=tf)

    [stripe] = pairs({"name": "Stripe"})
    assert stripe["b"] == "s1" and stripe["score"] == 0.85, stripe
    assert max(p["score"] for p in pairs({"name": "Individual"})) < cfg.threshold
