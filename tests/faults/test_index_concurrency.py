"""Eight clients upserting overlapping ids into the reference index over HTTP, on SQLite and PostgreSQL.

A real uvicorn with two worker processes (so SQLite sees writers in two processes, PostgreSQL concurrent
transactions). For CONCURRENCY_SECONDS (5 by default; `make faults` runs 20) each client keeps writing one
of 24 shared ids: PUT, bulk upserts (sometimes repeating an id, where the last one counts), scoring with
`?index=true`, and deletes. Every call must succeed (a delete of an absent id is a 404). Afterwards the
store is read directly: each id has at most one record row; the record is the payload of a write that may
have been the last one (no write to the id started after it had been answered), or absent when that write
was a delete; and its key rows are exactly the keys of that record (none left over from another version).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import psycopg
import pytest
from sqlalchemy import select

from app.models.store import IndexedRecord, IndexKey, make_engine
from app.scoring import load_rules
from app.scoring.matching.index import record_index_keys
from app.scoring.matching.linker import prepare
from tests.conftest import NOW_ISO
from tests.live import live_server

pytestmark = pytest.mark.e2e
SECONDS = float(os.environ.get("CONCURRENCY_SECONDS", "5"))
CLIENTS = 8
IDS = [f"k{i:02d}" for i in range(24)]


@dataclass
class Write:
    record_id: str
    started: float
    answered: float
    record: dict[str, Any] | None  # None: a delete


def postgres_database(base_url: str, name: str) -> str:
    """A fresh database on the server of TEST_DATABASE_URL (the shared test database stays untouched)."""
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/index.sqlite3"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL to test against (.ci/run starts one)")
    yield postgres_database(base, "crm_dq_concurrency")


class Client(threading.Thread):
    def __init__(self, n: int, url: str, until: float) -> None:
        super().__init__(daemon=True)
        self.n, self.url, self.until = n, url, until
        self.rng = random.Random(n)
        self.writes: list[Write] = []
        self.failures: list[str] = []
        self.calls: Counter[str] = Counter()

    def payload(self, record_id: str, seq: int) -> dict[str, Any]:
        """A version no other write repeats, with names, email and phone that make different index keys."""
        tag = f"{self.n}x{seq}"
        return {"id": record_id, "first_name": self.rng.choice(["Ann", "Bob", "Cy", "Di"]) + tag,
                "last_name": self.rng.choice(["Lee", "Smith", "Ng"]), "email": f"v{tag}@co{seq % 7}.com",
                "phone": f"+1415{self.n}{seq % 1000000:06d}",
                "mailing_address": {"postal_code": f"9{seq % 9999:04d}"},
                "version": tag}

    def run(self) -> None:
        seq = 0
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while time.monotonic() < self.until:
                seq += 1
                op = self.rng.choices(["put", "bulk", "score", "delete"], [50, 25, 15, 10])[0]
                self.calls[op] += 1
                started = time.monotonic()
                if op == "bulk":
                    ids = self.rng.sample(IDS, self.rng.randint(2, 6))
                    ids.append(self.rng.choice(ids))  # a repeated id: its last entry counts
                    entries = [self.payload(rid, seq * 10 + k) for k, rid in enumerate(ids)]
                    response = http.post("/v1/index/contacts/bulk", json={"records": entries})
                    ok = response.status_code == 200 and response.json()["indexed"] == len(set(ids))
                    last = {e["id"]: e for e in entries}
                    done = time.monotonic()
                    self.writes += [Write(rid, started, done, rec) for rid, rec in last.items()]
                else:
                    rid = self.rng.choice(IDS)
                    record = self.payload(rid, seq)
                    if op == "put":
                        response = http.put(f"/v1/index/contacts/{rid}", json=record)
                        ok = response.status_code == 200
                    elif op == "score":
                        response = http.post("/v1/contacts/score", params={"index": "true", "now": NOW_ISO},
                                             json=record)
                        ok = response.status_code == 200 and response.json()["indexed"] is True
                    else:
                        response = http.delete(f"/v1/index/contacts/{rid}")
                        ok = response.status_code in (204, 404)
                        record = None
                    self.writes.append(Write(rid, started, time.monotonic(), record))
                if not ok:
                    self.failures.append(f"{op}: {response.status_code} {response.text[:300]}")


def possible_last(writes: list[Write]) -> list[Write]:
    """Writes no other write followed: none started after it was answered."""
    latest_start = max(w.started for w in writes)
    return [w for w in writes if w.answered >= latest_start]


def test_eight_clients_upserting_overlapping_ids(database_url: str, tmp_path: Path) -> None:
    with live_server(tmp_path / "server", database_url=database_url, args=("--workers", "2")) as server:
        until = time.monotonic() + SECONDS
        clients = [Client(n, server.url, until) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=SECONDS + 120)
        assert not any(c.is_alive() for c in clients)
        log = server.output()
    failures = [f for c in clients for f in c.failures]
    assert failures == [], failures[:20]
    assert "Traceback" not in log and "database is locked" not in log, log[-5000:]

    writes: dict[str, list[Write]] = defaultdict(list)
    for client in clients:
        for write in client.writes:
            writes[write.record_id].append(write)
    calls = sum((c.calls for c in clients), Counter())
    print(f"{sum(calls.values())} calls in {SECONDS:.0f} s ({dict(calls)}), "
          f"{sum(map(len, writes.values()))} writes to {len(writes)} ids")
    assert set(writes) == set(IDS) and calls["bulk"] and calls["delete"] and calls["score"]

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(IndexedRecord.record_id, IndexedRecord.data).where(
                IndexedRecord.record_type == "contact")).all()
            keys = conn.execute(select(IndexKey.record_id, IndexKey.name, IndexKey.value).where(
                IndexKey.record_type == "contact")).all()
    finally:
        engine.dispose()
    stored: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rid, data in rows:
        stored[rid].append(orjson.loads(data))
    assert set(stored) <= set(IDS), set(stored) - set(IDS)
    assert all(len(v) == 1 for v in stored.values()), {k: len(v) for k, v in stored.items() if len(v) > 1}
    keys_by_id: dict[str, set[tuple[str, str]]] = defaultdict(set)
    key_rows = Counter((rid, name, value) for rid, name, value in keys)
    assert all(n == 1 for n in key_rows.values()), "a key row is doubled"
    for rid, name, value in keys:
        keys_by_id[rid].add((name, value))
    assert set(keys_by_id) <= set(stored), f"keys of deleted records: {set(keys_by_id) - set(stored)}"

    model = load_rules().match_models["contact"]
    for rid in IDS:
        candidates = possible_last(writes[rid])
        record = stored[rid][0] if rid in stored else None
        versions = [w.record for w in candidates]
        if record is None:
            assert None in versions, (rid, "absent, but its last write was no delete", versions)
            continue
        assert record in versions, (rid, record, versions)
        expected = record_index_keys(prepare([record], "contact", "US", [rid]), 0, model)
        assert keys_by_id[rid] == expected, (rid, keys_by_id[rid] ^ expected)
