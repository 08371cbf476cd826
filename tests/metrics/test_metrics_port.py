"""`CRM_DQ_METRICS_PORT`: /metrics leaves the API port (404 there) for a port of its own, one listener in all.

Real uvicorn on loopback: `python -m app.serve` with one and two workers (the launcher's thread answers from
every worker's files), plain `uvicorn app.main:app` (the app answers from its own registry), a taken port, and
Debian's Prometheus scraping the port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.metrics import TEXT_FORMAT
from app.metrics_port import SERVED_BY_ENV
from tests.e2e.test_uvicorn import free_port, wait_until_healthy
from tests.metrics.support import NEEDS_PROMETHEUS, ROOT, prometheus, serve, stop, value, wait_for
from tests.metrics.test_multiprocess import per_worker

pytestmark = pytest.mark.e2e
SCORED = "crm_dq_records_scored_total"


def listeners(port: int) -> list[int]:
    """The socket inodes listening on a TCP port of this machine (IPv4 and IPv6)."""
    inodes = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], int(fields[9])
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.append(inode)
    return inodes


def holders(inode: int, pids: list[int]) -> set[int]:
    """Which of `pids` hold the socket `inode` open."""
    found = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    found.add(pid)
            except OSError:
                continue
    return found


def score_on_new_connections(url: str, metrics_dir: Path | None, workers: int) -> int:
    """Score contacts, a new connection each, until every worker has counted some (at least 20)."""
    sent = 0
    while sent < 400:
        r = httpx.post(f"{url}/v1/contacts/score", json={"first_name": "Ana", "email": "ana@x.io"})
        assert r.status_code == 200
        sent += 1
        if sent >= 20 and (metrics_dir is None or len([v for v in per_worker(
                metrics_dir, "counter", SCORED).values() if v]) == workers):
            return sent
    pytest.fail(f"one worker served all {sent} requests")


def assert_only_the_port_serves_metrics(api_url: str, metrics_url: str, scored: int) -> None:
    for _ in range(6):  # whichever worker the API connection lands on
        assert httpx.get(f"{api_url}/metrics").status_code == 404
    response = httpx.get(metrics_url)
    assert response.status_code == 200 and response.headers["content-type"] == TEXT_FORMAT
    assert value(response.text, SCORED, record_type="contact", source="api") == scored
    assert value(response.text, "crm_dq_kpi_target", kpi="completeness") == 0.95
    assert httpx.get(metrics_url.replace("/metrics", "/healthz")).status_code == 404
    assert httpx.head(metrics_url).status_code == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_app_serve_answers_the_metrics_port_from_one_listener(tmp_path: Path, workers: int) -> None:
    port = free_port()
    with serve(tmp_path, workers=workers, extra_env={"CRM_DQ_METRICS_PORT": str(port)}) as served:
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        scored = score_on_new_connections(served.url, served.metrics_dir, workers)
        wait_for(lambda: value(httpx.get(metrics_url).text, SCORED, record_type="contact", source="api")
                 == scored, f"{scored} counted", served.log)
        assert_only_the_port_serves_metrics(served.url, metrics_url, scored)
        [inode] = listeners(port)  # one listening socket, held by the launcher alone (no worker shares it)
        assert holders(inode, [served.proc.pid, *served.worker_pids()]) == {served.proc.pid}
        assert f"/metrics on http://127.0.0.1:{port}/metrics" in served.log.read_text()


def test_one_worker_without_a_multiprocess_dir_serves_its_numbers_and_removes_its_directory(
        tmp_path: Path) -> None:
    """`make run` with the port set: one worker, no PROMETHEUS_MULTIPROC_DIR (it answered an empty body)."""
    port = free_port()
    made_in = tmp_path / "tmp"
    with serve(tmp_path, workers=1, metrics_dir=made_in, preset_dir=False,
               extra_env={"CRM_DQ_METRICS_PORT": str(port)}) as served:
        [made] = made_in.glob("crm-dq-metrics-*")
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        scored = score_on_new_connections(served.url, None, 1)
        wait_for(lambda: value(httpx.get(metrics_url).text, SCORED, record_type="contact", source="api")
                 == scored, f"{scored} counted", served.log)
        assert_only_the_port_serves_metrics(served.url, metrics_url, scored)
        assert list(made.glob("*.db"))
    assert served.proc.returncode == -signal.SIGTERM  # stopped by SIGTERM, and still dies of it
    assert not made.exists(), "the launcher's temporary metrics directory outlived it"


@contextmanager
def plain_uvicorn(tmp: Path, env: dict[str, str]) -> Iterator[str]:
    log = tmp / "uvicorn.log"
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, proc, log)  # type: ignore[arg-type]
        yield url
    finally:
        stop(proc)  # type: ignore[arg-type]


def test_plain_uvicorn_serves_the_port_from_the_apps_own_registry(tmp_path: Path) -> None:
    port = free_port()
    dropped = ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR", SERVED_BY_ENV)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k not in dropped}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path}/crm-dq.sqlite3", "CRM_DQ_METRICS_PORT": str(port)}
    with plain_uvicorn(tmp_path, env) as url:
        scored = score_on_new_connections(url, None, 1)
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        wait_for(lambda: value(httpx.get(metrics_url).text, SCORED, record_type="contact", source="api")
                 == scored, f"{scored} counted")
        assert_only_the_port_serves_metrics(url, metrics_url, scored)


def test_a_taken_metrics_port_stops_the_launcher_before_any_worker_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k != "DATABASE_URL"}
        env |= {"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "CRM_DQ_METRICS_PORT": str(port),
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m")}
        done = subprocess.run([sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port",
                               str(free_port()), "--workers", "2"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
    assert done.returncode != 0
    assert f"cannot serve /metrics on port {port}" in done.stderr and "Uvicorn running" not in done.stderr


def test_in_process_app_moves_metrics_off_the_api_port(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVED_BY_ENV, raising=False)
    port = free_port()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", metrics_port=port)
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.post("/v1/leads/score", json={"first_name": "Ana"}).status_code == 200
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert value(text, SCORED, record_type="lead", source="api") == 1
    with pytest.raises(httpx.TransportError):  # the lifespan's end released the port
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


@NEEDS_PROMETHEUS
def test_prometheus_scrapes_the_metrics_port(tmp_path: Path) -> None:
    port = free_port()
    with serve(tmp_path, workers=2, extra_env={"CRM_DQ_METRICS_PORT": str(port)}) as served:
        for _ in range(5):
            assert httpx.post(f"{served.url}/v1/leads/score", json={"first_name": "Ana"}).status_code == 200
        with prometheus(tmp_path, f"127.0.0.1:{port}") as prom:
            wait_for(lambda: prom.scalar('sum(crm_dq_records_scored_total{record_type="lead"})') == 5,
                     "Prometheus to scrape 5 leads", prom.log)
            assert prom.scalar('up{job="crm-dq"}') == 1
