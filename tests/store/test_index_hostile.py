"""Records the reference index once failed to store, on SQLite and PostgreSQL alike, through every route that
writes it: a field nested deeper than orjson writes (helper-58)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from app.scoring import Ruleset
from app.scoring.judge import PACK_DEPTH
from app.scoring.matching import index
from app.scoring.matching.linker import prepare
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
