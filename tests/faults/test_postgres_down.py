"""PostgreSQL stopped under a running server: scoring keeps answering (duplicates marked unavailable),
/readyz fails and the index routes answer 503 problems, and everything recovers by itself when the database
returns, in the same process. A throwaway cluster is stopped, never the shared one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import NOW_ISO
from tests.faults.pg import ThrowawayPostgres, pg_bin
from tests.live import live_server

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(pg_bin() is None, reason="no PostgreSQL binaries (.ci/run installs them)")]

BOB = {"id": "c1", "first_name": "Robert", "last_name": "Smith", "email": "bob.smith@acme.com",
       "phone": "+14155550123"}
BOBBY = {"id": "c2", "first_name": "Bob", "last_name": "Smith", "email": "Bob.Smith@ACME.com",
         "phone": "(415) 555-0123"}
RECOVERY_SECONDS = 20.0


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres()
    try:
        yield cluster
    finally:
        cluster.destroy()


def score(http: httpx.Client, record: dict[str, object] = BOBBY, **params: str) -> dict[str, object]:
    response = http.post("/v1/contacts/score", params={"now": NOW_ISO, **params}, json=record)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def wait_for(check: object, seconds: float = RECOVERY_SECONDS) -> float:
    """Seconds until `check()` is true; fails the test after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"not recovered within {seconds} s")


class Hammer(threading.Thread):
    """Scores a contact over and over from another client while the database goes away and comes back."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopping = url, threading.Event()
        self.statuses: Counter[int] = Counter()
        self.checks: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stopping.wait(0.01):
                response = http.post("/v1/contacts/score", params={"now": NOW_ISO}, json=BOBBY)
                self.statuses[response.status_code] += 1
                if response.status_code == 200:
                    check = response.json()["duplicate_check"]
                    if not self.checks or self.checks[-1] != check:
                        self.checks.append(check)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


def test_the_store_goes_away_and_comes_back(postgres: ThrowawayPostgres, tmp_path: Path) -> None:
    url = postgres.createdb("crm_dq_fault")
    with live_server(tmp_path, database_url=url) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/readyz").status_code == 200
        assert http.put("/v1/index/contacts/c1", json=BOB).status_code == 200
        before = score(http)
        assert before["duplicate_check"] == "index" and before["duplicates"], before
        hammer = Hammer(server.url)
        hammer.start()
        try:
            time.sleep(0.5)

            postgres.stop()
            started = time.monotonic()
            down = score(http)
            assert time.monotonic() - started < 5, "a score waited on the dead store"
            assert down["duplicate_check"] == "unavailable" and down["duplicates"] == []
            assert down["completeness"] == before["completeness"] and down["accuracy"] == before["accuracy"]
            unstored = score(http, BOBBY | {"id": "c3"}, index="true")
            assert (unstored["indexed"], unstored["not_indexed_reason"]) == (
                False, "the reference index could not be reached")
            ready = http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["store"] is False
            for method, path in (("GET", "/v1/index/contacts/c1"), ("PUT", "/v1/index/contacts/c9"),
                                 ("DELETE", "/v1/index/contacts/c1"), ("POST", "/v1/index/contacts/bulk")):
                body = {"records": [BOB]} if path.endswith("bulk") else BOB
                response = http.request(method, path, json=None if method in ("GET", "DELETE") else body)
                doc = assert_problem_503(response)
                assert doc["type"] == "/problems/store-unavailable" and response.headers["retry-after"] == "1"
            batch = http.post("/v1/batch", json={"contacts": [BOB, BOBBY], "options": {"now": NOW_ISO}})
            # a batch needs no store
            assert batch.status_code == 200 and batch.json()["duplicates"]["contacts"]["clusters"]
            time.sleep(1.0)

            postgres.start()
            recovered = wait_for(lambda: http.get("/readyz").status_code == 200)
            after = score(http)
            assert after["duplicate_check"] == "index" and after["duplicates"] == before["duplicates"]
            assert http.get("/v1/index/contacts/c1").json()["email"] == BOB["email"]
            assert http.put("/v1/index/contacts/c3", json=BOBBY | {"id": "c3"}).status_code == 200
            time.sleep(0.5)
        finally:
            hammer.stop()
        assert server.proc.poll() is None, "the server restarted or died"
        print(f"ready again {recovered:.1f} s after PostgreSQL restarted; hammer: {dict(hammer.statuses)}, "
              f"checks {hammer.checks}")
        assert set(hammer.statuses) == {200}, hammer.statuses
        assert hammer.checks[0] == "index" and "unavailable" in hammer.checks and hammer.checks[-1] == "index"
        assert "Traceback" not in server.output()


def assert_problem_503(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    doc = response.json()
    assert doc["status"] == 503 and doc["detail"]
    return doc  # type: ignore[no-any-return]


def test_a_store_down_at_start_up_is_used_as_soon_as_it_answers(postgres: ThrowawayPostgres,
                                                                tmp_path: Path) -> None:
    """Started without its database: it serves, and the first index call after the database appears creates
    the schema (before, index writes were a 500 'relation does not exist' until something called /readyz)."""
    url = postgres.createdb("crm_dq_fault_late")
    postgres.stop()
    try:
        with live_server(tmp_path, database_url=url) as server, \
                httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/readyz").status_code == 503
            assert score(http)["duplicate_check"] == "unavailable"
            assert_problem_503(http.put("/v1/index/contacts/c1", json=BOB))
            postgres.start()
            wait_for(lambda: http.put("/v1/index/contacts/c1", json=BOB).status_code == 200, 10)
            assert score(http)["duplicates"][0]["b"] == "c1"
            assert http.get("/readyz").status_code == 200
            assert "Traceback" not in server.output()
    finally:
        if not postgres.running():
            postgres.start()

