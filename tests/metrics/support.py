"""Helpers of the monitoring tests: read an exposition, run crm-dq under `python -m app.serve`, run Prometheus."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_uvicorn import free_port, wait_until_healthy

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
NEEDS_PROMTOOL = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus; .ci/run does this)")
NEEDS_PROMETHEUS = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus is not installed (Debian: apt-get install prometheus; .ci/run does this)")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by (sample name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text_or_samples: str | dict[Any, float], name: str, **labels: str) -> float:
    """One sample's value (0 when the sample is absent)."""
    found = samples(text_or_samples) if isinstance(text_or_samples, str) else text_or_samples
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """Sum of a sample name's values over every label set that contains `labels`."""
    want = set(labels.items())
    return sum(v for (n, lbls), v in found.items() if n == name and want <= lbls)


def family_names(text: str) -> set[str]:
    """Every sample name of an exposition (`x_total`, `x_bucket`, …)."""
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[bytes]
    metrics_dir: Path
    log: Path

    def worker_pids(self) -> list[int]:
        """uvicorn's worker processes: children of the supervisor other than multiprocessing's tracker."""
        kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        pids = []
        for kid in map(int, kids):
            try:
                cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                pids.append(kid)
        return pids


@contextmanager
def serve(tmp: Path, workers: int = 2, metrics_dir: Path | None = None,
          extra_env: dict[str, str] | None = None, preset_dir: bool = True) -> Iterator[Served]:
    """crm-dq started as `make run` and the image start it: `python -m app.serve`, on a free loopback port.

    `preset_dir=False` leaves PROMETHEUS_MULTIPROC_DIR unset, as `make run` does: a directory the launcher
    makes lands under `metrics_dir` (its TMPDIR).
    """
    metrics_dir = metrics_dir or tmp / "metrics"
    log = tmp / "serve.log"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CRM_DQ_") and k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp}/crm-dq.sqlite3"}
    if preset_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    else:
        metrics_dir.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = str(metrics_dir)
    env |= extra_env or {}
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
             str(workers), "--loop", "uvloop", "--http", "httptools", "--timeout-worker-healthcheck", "5"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, proc, log)
        served = Served(url, proc, metrics_dir, log)
        spawned = workers if workers > 1 else 0  # one worker: uvicorn serves in the launcher's own process
        wait_for(lambda: len(served.worker_pids()) == spawned, f"{workers} workers", log)
        yield served
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s (a process this test started)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(check: Any, what: str, log: Path | None = None, timeout: float = 30.0) -> None:
    """Poll `check()` until it is true, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.TransportError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{log.read_text()}" if log else ""))


@dataclass
class RunningPrometheus:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def query(self, expr: str) -> dict[str, Any]:
        """An instant query's `data`; a PromQL error fails the test with Prometheus' message."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (expr, body)
        return body["data"]  # type: ignore[no-any-return]

    def scalar(self, expr: str) -> float | None:
        """The single value of an instant query, or None when the result is empty."""
        result = self.query(expr)["result"]
        if not result:
            return None
        assert len(result) == 1, (expr, result)
        return float(result[0]["value"][1])


@contextmanager
def prometheus(tmp: Path, target: str, scrape_interval: str = "1s") -> Iterator[RunningPrometheus]:
    """Debian's Prometheus on a free loopback port with deploy/prometheus/prometheus.yml, retargeted at `target`
    with a short scrape interval, the alert rules loaded, and a throwaway data directory."""
    assert PROMETHEUS is not None
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval}
    config["rule_files"] = [str(DEPLOY / "prometheus" / name) for name in config["rule_files"]]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [target]}]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    log = tmp / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={tmp / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/-/ready", timeout=1).status_code == 200, "Prometheus ready", log)
        yield RunningPrometheus(url, proc, log)
    finally:
        stop(proc)
