"""Records the reference index once failed to store, on SQLite and PostgreSQL alike, through every route that
writes it: a field nested deeper than orjson writes, a NUL in a value, an id PostgreSQL cannot hold (a NUL,
over 255 characters). Each was a 500 (helper-58); an id is now refused or left unindexed the same way on both
stores, and a value's NULs are dropped from what is stored and matched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.config import Settings
from app.main import create_app
from app.models.store import IndexKey
from app.scoring import Ruleset
from app.scoring.judge import PACK_DEPTH
from app.scoring.matching import index
from app.scoring.matching.linker import prepare
from tests.api.assertions import assert_problem, error_locs
from tests.conftest import NOW_ISO

ANN = {"first_name": "Ann", "last_name": "Lee", "email": "ann.lee@acme.com", "phone": "(415) 555-0100"}


@pytest.fixture
def client(database_url: str, engine: Engine) -> Iterator[TestClient]:
    """The app on the store under test (`engine` emptied it first)."""
    with TestClient(create_app(Settings(database_url=database_url))) as c:
        yield c


def nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, dict) and value:
        value, depth = value["a"], depth + 1
    return depth


@pytest.mark.parametrize("depth", [254, 300, 1000])
def test_a_field_nested_deeper_than_orjson_writes_is_indexed_by_every_route(client: TestClient,
                                                                              depth: int) -> None:
    """`orjson.dumps` refused the record ("Recursion limit reached"): a 500 on every index write. The index
    stores it with the containers below PACK_DEPTH emptied, as a stream packs such a field."""
    body = orjson.dumps(ANN | {"id": "c-deep"})[:-1] + b', "x": ' + nested(depth) + b"}"
    json = {"content-type": "application/json"}
    assert client.put("/v1/index/contacts/c-put", content=body, headers=json).status_code == 200
    stored = client.get("/v1/index/contacts/c-put").json()
    assert stored["first_name"] == "Ann" and depth_of(stored["x"]) == PACK_DEPTH - 1  # the record is level 1
    bulk = client.post("/v1/index/contacts/bulk", content=b'{"records": [' + body + b"]}", headers=json)
    assert bulk.json() == {"record_type": "contacts", "indexed": 1, "errors": []}
    score = client.post("/v1/contacts/score", params={"index": "true", "now": NOW_ISO}, content=body,
                        headers=json)
    assert score.status_code == 200 and score.json()["indexed"] is True
    assert score.json()["duplicate_check"] == "index"
    hook = client.post("/v1/webhooks/generic", params={"index": "true", "type": "contact"}, content=body,
                       headers=json)
    assert hook.status_code == 200 and hook.json()["results"][0]["indexed"] is True


def test_a_deep_record_is_stored_flattened_and_found(engine: Engine, rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    deep = ANN | {"id": "c1", "x": orjson.loads(nested(600))}
    assert index.upsert_records(engine, "contact", [("c1", deep)], model, "US") == 1
    stored = index.get_record(engine, "contact", "c1")
    assert stored is not None and depth_of(stored["x"]) == PACK_DEPTH - 1
    probe = prepare([ANN], "contact", "US", ["new"])
    candidates, _ = index.find_candidates(engine, "contact", probe, model, 10, 1000)
    assert [cid for cid, _ in candidates] == ["c1"]
    changed = index.update_record(engine, "contact", "c1", {"title": "CFO", "y": orjson.loads(nested(400))},
                                  model, "US")
    assert changed == index.get_record(engine, "contact", "c1") and depth_of(changed["y"]) == PACK_DEPTH - 1


UNSTORABLE_IDS = {"nul": "a\x00b", "256-characters": "c" * 256}


@pytest.mark.parametrize("rid", UNSTORABLE_IDS.values(), ids=UNSTORABLE_IDS.keys())
def test_an_id_the_index_cannot_store_is_a_422_naming_the_path(client: TestClient, rid: str) -> None:
    path = f"/v1/index/contacts/{quote(rid)}"
    for response in (client.put(path, json=ANN), client.get(path), client.delete(path)):
        doc = assert_problem(response, 422)
        assert error_locs(doc) == ["path.record_id"], doc
    longest = "c" * index.MAX_ID_LENGTH
    assert index.MAX_ID_LENGTH == 255
    assert client.put(f"/v1/index/contacts/{longest}", json=ANN).status_code == 200
    assert client.get(f"/v1/index/contacts/{longest}").json()["id"] == longest


@pytest.mark.parametrize("rid", UNSTORABLE_IDS.values(), ids=UNSTORABLE_IDS.keys())
def test_a_body_id_the_index_cannot_store_leaves_the_record_scored_and_unindexed(client: TestClient,
                                                                                  rid: str) -> None:
    """Bulk names the entry's id and indexes the others; scoring and webhooks answer with `indexed: false`
    and a duplicate check that ran (they said `unavailable` with the store up)."""
    bulk = client.post("/v1/index/contacts/bulk", json={"records": [ANN | {"id": "c-ok"}, ANN | {"id": rid}]})
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["indexed"] == 1
    assert [(e["index"], e["loc"]) for e in bulk.json()["errors"]] == [(1, "body.records.1.id")]
    score = client.post("/v1/contacts/score", params={"index": "true", "now": NOW_ISO},
                        json=ANN | {"id": rid})
    assert score.status_code == 200, score.text
    report = score.json()
    assert report["indexed"] is False and report["duplicate_check"] == "index"
    assert [d["b"] for d in report["duplicates"]] == ["c-ok"]
    hook = client.post("/v1/webhooks/generic", params={"index": "true", "type": "contact"},
                       json=ANN | {"id": rid})
    [result] = hook.json()["results"]
    assert result["indexed"] is False and result["duplicate_check"] == "index"


def test_a_name_that_becomes_another_without_its_nul_is_dropped(client: TestClient) -> None:
    """helper-62: with the NULs taken out of the written text, 'i\x00d' became a second 'id' and the last
    won: the record was stored under id 'evil' with the attacker's email."""
    sneaky = {"first_name": "Bob", "i\x00d": "evil", "email": "real@acme.com", "email\x00": "attacker@evil.example"}
    assert client.put("/v1/index/contacts/x1", json=sneaky).status_code == 200
    stored = client.get("/v1/index/contacts/x1").json()
    assert stored == {"id": "x1", "first_name": "Bob", "email": "real@acme.com"}
    assert client.get("/v1/index/contacts/evil").status_code == 404


def test_nul_characters_in_values_are_dropped_from_what_is_stored_and_matched(client: TestClient) -> None:
    with_nul = {"first_name": "A\x00nn", "last_name": "Lee\x00", "email": "ann.lee\x00@acme.com",
                "phone": "(415) 555\x00-0100", "x\x00": ["\x00", {"k": "\\u0000\x00"}]}
    clean = {"first_name": "Ann", "last_name": "Lee", "email": "ann.lee@acme.com", "phone": "(415) 555-0100",
             "x": ["", {"k": "\\u0000"}]}  # an escaped backslash before u0000 is text, kept
    assert client.put("/v1/index/contacts/c-put", json=with_nul).status_code == 200
    assert client.get("/v1/index/contacts/c-put").json() == clean | {"id": "c-put"}
    bulk = client.post("/v1/index/contacts/bulk", json={"records": [with_nul | {"id": "c-bulk"}]})
    assert bulk.json()["indexed"] == 1
    assert client.get("/v1/index/contacts/c-bulk").json()["first_name"] == "Ann"
    score = client.post("/v1/contacts/score", params={"index": "true", "now": NOW_ISO},
                        json=with_nul | {"id": "c-score"}).json()
    assert score["indexed"] is True and score["duplicate_check"] == "index"
    assert {"c-put", "c-bulk"} <= {d["b"] for d in score["duplicates"]}, score["duplicates"]
    [hooked] = client.post("/v1/webhooks/generic", params={"index": "true", "type": "contact"},
                           json=with_nul | {"id": "c-hook"}).json()["results"]
    assert hooked["indexed"] is True and hooked["duplicate_check"] == "index"


def test_a_nul_makes_no_matching_key_of_its_own(engine: Engine, rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    with_nul = {"first_name": "A\x00nn", "last_name": "L\x00ee", "email": "ann.lee@acme.\x00com"}
    stored = index.storable(with_nul)[0]
    assert stored == {"first_name": "Ann", "last_name": "Lee", "email": "ann.lee@acme.com"}
    index.upsert_records(engine, "contact", [("c1", with_nul)], model, "US")
    keys = index.record_index_keys(prepare([stored], "contact", "US", ["c1"]), 0, model)
    with engine.connect() as conn:
        query = select(IndexKey.name, IndexKey.value).where(IndexKey.record_id == "c1")
        rows = set(conn.execute(query).all())
    assert rows == keys and keys
    for rid in UNSTORABLE_IDS.values():
        with pytest.raises(index.UnstorableId):
            index.upsert_records(engine, "contact", [(rid, ANN)], model, "US")
        assert index.get_record(engine, "contact", rid) is None
        assert index.delete_record(engine, "contact", rid) is False


def test_equal_candidates_are_listed_by_id(client: TestClient) -> None:
    """Scores are to 4 places, so ties are common; which tied candidates made the max_candidates cut followed
    the store's row order, which PostgreSQL does not fix (helper-62). Among equal scores: by id."""
    ids = ["g", "f", "e", "d", "c", "b", "a"]
    for rid in ids:  # stored in reverse order
        assert client.put(f"/v1/index/contacts/{rid}", json=ANN | {"id": rid}).status_code == 200
    for rid in ("a", "c"):  # rewritten: PostgreSQL moves an updated row to the end of its table
        assert client.put(f"/v1/index/contacts/{rid}", json=ANN | {"id": rid}).status_code == 200
    report = client.post("/v1/contacts/score", json=ANN | {"id": "new"}).json()
    listed = [d["b"] for d in report["duplicates"]]
    assert len({d["score"] for d in report["duplicates"]}) == 1
    assert listed == ["a", "b", "c", "d", "e"]
