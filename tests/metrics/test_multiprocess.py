"""Several workers, one set of numbers: `python -m app.serve --workers 2` on loopback, files in a temp directory.

Stale files of an earlier run are wiped before the workers start; a scrape sums both workers whichever answers;
a worker killed mid-request is restarted by uvicorn, its in-flight gauge leaves the sum and its counts stay.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from app.serve import prepare_metrics_dir, worker_count
from tests.metrics.support import ROOT, samples, serve, total, value, wait_for

pytestmark = pytest.mark.e2e
SCORED = "crm_dq_records_scored_total"


def per_worker(metrics_dir: Path, kind: str, name: str) -> dict[int, float]:
    """One family's total in each worker's file (`counter_<pid>.db`, `gauge_livesum_<pid>.db`)."""
    found = {}
    for path in metrics_dir.glob(f"{kind}_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        found[pid] = sum(v for key, v, *_ in MmapedDict.read_all_values_from_file(str(path))
                         if f'"{name}"' in key)
    return found


def write_stale_file(metrics_dir: Path) -> None:
    """A real multiprocess file from an 'earlier run': 1000 contacts that this run never scored."""
    code = ("from prometheus_client import Counter\n"
            "Counter('crm_dq_records_scored', 'x', ['record_type', 'source']).labels('contact', 'api').inc(1000)\n")
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert per_worker(metrics_dir, "counter", SCORED), "the stale file was not written"


def test_both_workers_are_summed_and_an_earlier_runs_files_are_wiped(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    write_stale_file(metrics_dir)
    with serve(tmp_path, workers=2, metrics_dir=metrics_dir) as served:
        assert value(httpx.get(f"{served.url}/metrics").text, SCORED, record_type="contact", source="api") == 0
        workers = set(served.worker_pids())
        sent = 0
        # a new connection per request: the kernel hands them to both workers' accept loops
        while sent < 400 and not (sent >= 20 and len([v for v in per_worker(metrics_dir, "counter", SCORED)
                                                      .values() if v]) == 2):
            r = httpx.post(f"{served.url}/v1/contacts/score", json={"first_name": "Ana", "email": "ana@x.io"})
            assert r.status_code == 200
            sent += 1
        # a worker counts a record just after sending its response: wait for the last one
        wait_for(lambda: sum(per_worker(metrics_dir, "counter", SCORED).values()) == sent, f"{sent} counted")
        counts = per_worker(metrics_dir, "counter", SCORED)
        assert set(counts) == workers and all(counts.values()), f"one worker served all {sent}: {counts}"
        for _ in range(6):  # whichever worker answers the scrape, it reports both
            text = httpx.get(f"{served.url}/metrics").text
            assert value(text, SCORED, record_type="contact", source="api") == sent
            assert "pid=" not in text


def hold_request(url: str) -> socket.socket:
    """A chunked NDJSON batch whose body never ends: the request stays in flight on one worker."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    line = b'{"type": "contact", "first_name": "Ana"}\n'
    sock.sendall(b"%x\r\n%s\r\n" % (len(line), line))
    return sock


def test_a_killed_worker_leaves_the_in_flight_sum_and_keeps_its_counts(tmp_path: Path) -> None:
    with serve(tmp_path, workers=2) as served:
        for _ in range(10):
            assert httpx.post(f"{served.url}/v1/leads/score", json={"first_name": "Ana"}).status_code == 200
        # single-record counts are written within app.metrics.COUNT_DELAY_SECONDS: wait until all ten are
        wait_for(lambda: sum(per_worker(served.metrics_dir, "counter", SCORED).values()) == 10, "10 counted")
        held = hold_request(served.url)
        try:
            wait_for(lambda: 1 in per_worker(served.metrics_dir, "gauge_livesum",
                                             "crm_dq_http_requests_in_flight").values(), "a request in flight")
            busy = [pid for pid, n in per_worker(served.metrics_dir, "gauge_livesum",
                                                  "crm_dq_http_requests_in_flight").items() if n == 1]
            assert len(busy) == 1 and busy[0] in served.worker_pids()
            before = samples(httpx.get(f"{served.url}/metrics").text)
            assert value(before, "crm_dq_http_requests_in_flight") == 2  # the held request and this scrape
            os.kill(busy[0], signal.SIGKILL)  # a worker of the uvicorn this test started
            wait_for(lambda: busy[0] not in served.worker_pids() and len(served.worker_pids()) == 2,
                     "uvicorn to replace the killed worker", served.log)
            # a worker lowers its gauge just after the response is sent, so poll: only this scrape stays
            wait_for(lambda: value(httpx.get(f"{served.url}/metrics").text,
                                   "crm_dq_http_requests_in_flight") == 1, "in flight back to this scrape alone")
            after = samples(httpx.get(f"{served.url}/metrics").text)
        finally:
            held.close()
        assert not (served.metrics_dir / f"gauge_livesum_{busy[0]}.db").exists()
        assert (served.metrics_dir / f"counter_{busy[0]}.db").exists()
        # the killed worker's counts stay in the sum (the held stream had not scored its chunk yet)
        assert total(after, SCORED) == total(before, SCORED) == 10
        assert value(after, "crm_dq_kpi_target", kpi="completeness") == 0.95


def test_the_launcher_reads_workers_and_prepares_the_directory(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    args = ["--port", "1"]
    assert worker_count(args, env) == 1 and prepare_metrics_dir(1, env) is None and env == {}
    env = {"CRM_DQ_WORKERS": "3"}
    assert worker_count(args, env) == 3 and args[-2:] == ["--workers", "3"]
    assert worker_count(["--workers=4"], env) == 4
    made = prepare_metrics_dir(2, env)
    assert made is not None and made.is_dir() and env["PROMETHEUS_MULTIPROC_DIR"] == str(made)
    made.rmdir()
    own = tmp_path / "m"
    own.mkdir()
    (own / "counter_1.db").write_bytes(b"x")
    (own / "keep.txt").write_text("not ours")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(own)}
    assert prepare_metrics_dir(1, env) == own
    assert sorted(p.name for p in own.iterdir()) == ["keep.txt"]


def test_make_run_starts_the_launcher() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-m app.serve" in makefile and "--workers $(WORKERS)" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"-m", "app.serve"' in dockerfile and "PROMETHEUS_MULTIPROC_DIR=" in dockerfile
