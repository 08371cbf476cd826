"""NDJSON scoring workers under a real uvicorn: configured by environment, same answers, no orphans."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.api.test_batch_processes import MAX_LINE, alive, mixed_body, wait_gone, without_seconds
from tests.conftest import NOW_ISO
from tests.e2e.test_uvicorn import ROOT, free_port, wait_until_healthy

pytestmark = pytest.mark.e2e
NDJSON = {"content-type": "application/x-ndjson"}


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(k) for k in (task / "children").read_text().split()]
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """A uvicorn with two scoring workers and a rules file that disables one rule, both from environment."""
    tmp = tmp_path_factory.mktemp("workers")
    org = tmp / "org.toml"
    org.write_text('[rules."contact.email.invalid"]\nenabled = false\n')
    log = tmp / "uvicorn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k != "DATABASE_URL"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp}/store.sqlite3", "CRM_DQ_BATCH_PROCESSES": "2",
            "CRM_DQ_RULES_FILE": str(org), "CRM_DQ_MAX_BODY_BYTES": str(MAX_LINE)}
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
             "--loop", "uvloop", "--http", "httptools"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, proc, log)
        yield url, proc, org
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def post_stream(url: str, body: bytes) -> list[bytes]:
    def pieces() -> Iterator[bytes]:  # as a client streams a file: the lines cross the pieces
        for start in range(0, len(body), 50_000):
            yield body[start:start + 50_000]

    with httpx.Client(timeout=120) as client:
        response = client.post(f"{url}/v1/batch", params={"now": NOW_ISO}, content=pieces(), headers=NDJSON)
    assert response.status_code == 200
    return response.content.splitlines()


def test_the_workers_judge_by_the_rules_file_of_the_environment(
        served: tuple[str, subprocess.Popen[bytes], Path], tmp_path: Path) -> None:
    url, proc, org = served
    body = mixed_body(1800)
    answer = post_stream(url, body)
    assert len(children(proc.pid)) >= 2  # the workers (and multiprocessing's resource tracker)
    out = [orjson.loads(line) for line in answer]
    assert len(out) == 1802 + 1 and out[-1]["type"] == "summary"  # mixed_body's blank line gets no answer
    assert not any(i["rule"] == "contact.email.invalid" for o in out[:-1] for i in o.get("issues", []))
    assert "contact.email.invalid" not in out[-1]["summary"]["issues_by_rule"]
    # the same stream scored in a thread of a process that read the same rules file: the same answer
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", batch_processes=0, rules_file=org,
                        max_body_bytes=MAX_LINE)
    with TestClient(create_app(settings)) as client:
        local = client.post(f"/v1/batch?now={NOW_ISO}", content=body, headers=NDJSON).content.splitlines()
    assert local[:-1] == answer[:-1]
    assert without_seconds(orjson.loads(local[-1])) == without_seconds(out[-1])


def test_workers_do_not_outlive_a_killed_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k != "DATABASE_URL"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path}/store.sqlite3", "CRM_DQ_BATCH_PROCESSES": "2"}
    port, log = free_port(), tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, proc, log)
        post_stream(url, mixed_body(100))
        workers = children(proc.pid)
        assert workers and all(alive(p) for p in workers)
    finally:
        proc.send_signal(signal.SIGKILL)  # no shutdown: nobody tells the workers to stop
        proc.wait()
    assert wait_gone(workers, seconds=15), "scoring workers outlived their server"
