"""The app as it is deployed: a real uvicorn (uvloop + httptools) on loopback, configured by environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from app.models.report import Report
from tests.api.assertions import assert_problem
from tests.conftest import NOW_ISO

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
START_TIMEOUT = 30.0
TWO_MIB = 2 * 1024 * 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(base_url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"uvicorn exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"uvicorn did not answer /healthz within {START_TIMEOUT}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Base URL of a uvicorn serving app.main:app, and the SQLite file its environment points at."""
    tmp = tmp_path_factory.mktemp("uvicorn")
    db = tmp / "store" / "crm-dq.sqlite3"
    log = tmp / "uvicorn.log"
    # Only what this test sets: an inherited CRM_DQ_* (say, a smaller body limit) must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k != "DATABASE_URL"}
    env |= {"CRM_DQ_DATABASE_URL": f"sqlite:///{db}", "DATABASE_URL": f"sqlite:///{db}"}
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
             "--loop", "uvloop", "--http", "httptools"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, proc, log)
        yield base_url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def http(server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=10.0) as client:
        yield client


def test_the_store_is_the_one_the_environment_names(server: tuple[str, Path], http: httpx.Client) -> None:
    _, db = server
    assert db.is_file(), "the app did not create its store at CRM_DQ_DATABASE_URL / DATABASE_URL"
    assert http.get("/readyz").json() == {"status": "ready", "rules": True, "store": True}


def test_a_contact_is_scored_over_loopback(http: httpx.Client) -> None:
    contact = {"id": "003A1", "first_name": "Bob", "last_name": "Smith", "email": "bob@", "owner_id": "005U1"}
    response = http.post("/v1/contacts/score", json=contact, params={"now": NOW_ISO})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    Report.model_validate(report)
    assert report["record_type"] == "contact"
    assert report["record_id"] == "003A1"
    assert "contact.email.invalid" in {i["rule"] for i in report["issues"]}
    assert report["decision"] == {"action": "alert", "reasons": ["contact.email.invalid"]}
    again = http.post("/v1/contacts/score", json=contact, params={"now": NOW_ISO})
    assert again.content == response.content


def test_a_two_mebibyte_body_is_a_413_problem(http: httpx.Client) -> None:
    body = b'{"name": "' + b"x" * TWO_MIB + b'"}'
    response = http.post("/v1/contacts/score", content=body, headers={"content-type": "application/json"})
    assert response.request.headers["content-length"] == str(len(body))
    doc = assert_problem(response, 413)
    assert doc["type"] == "/problems/body-too-large"
    assert doc["limit"] == 1024 * 1024


def test_a_streamed_two_mebibyte_body_is_a_413_problem(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(TWO_MIB // 65536):
            yield b"x" * 65536
        yield b'"}'

    response = http.post("/v1/contacts/score", content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    doc = assert_problem(response, 413)
    assert doc["type"] == "/problems/body-too-large"


def test_the_server_still_serves_after_refusing_large_bodies(http: httpx.Client) -> None:
    assert http.post("/v1/leads/score", json={"first_name": "Ana"}).status_code == 200


def test_an_ndjson_stream_answers_a_client_that_sends_everything_before_reading(http: httpx.Client) -> None:
    """httpx (like requests) reads no answer until it has sent the whole body. The answer (about 40 MB
    here, far beyond the socket buffers) must not stall the server's reading of the body."""
    n = 30_000
    lines = [orjson.dumps({"type": "contact", "id": f"c{i}", "first_name": "Ann", "last_name": f"Lee{i}",
                           "email": f"ann{i}@example.com", "title": "VP Sales"}) for i in range(n)]
    lines[1234] = b"{not json"
    lines[5678] = b'{"type": "contact", "notes": "' + b"x" * (2 * TWO_MIB) + b'"}'  # over the size limit

    def body() -> Iterator[bytes]:
        for start in range(0, n, 1000):
            yield b"\n".join(lines[start:start + 1000]) + b"\n"

    with httpx.Client(timeout=httpx.Timeout(120.0)) as client:
        response = client.post(f"{str(http.base_url).rstrip('/')}/v1/batch", content=body(),
                               params={"now": NOW_ISO}, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200
    out = [orjson.loads(line) for line in response.content.splitlines()]
    assert len(out) == n + 1 and out[-1]["type"] == "summary"
    assert [o["line"] for o in out[:-1]] == list(range(n))
    assert "not valid JSON" in out[1234]["error"]["detail"]
    assert "size limit" in out[5678]["error"]["detail"]
    assert out[0]["record_id"] == "c0" and out[-2]["record_id"] == f"c{n - 1}"
    assert out[-1]["summary"]["totals"]["contacts"] == n - 2


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/v1/rules", "/openapi.json", "/docs"])
def test_head_is_answered_as_load_balancers_and_checkers_send_it(http: httpx.Client, path: str) -> None:
    """helper-58: both probes answered HEAD with 405, and so did /v1/rules and /docs (helper-75). HEAD is GET
    without the body: same status and headers, through the real server (which sends no body for a HEAD)."""
    got, head = http.get(path), http.head(path)
    assert head.status_code == got.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))
