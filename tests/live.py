"""A real uvicorn serving app.main:app on a loopback port, for `make fuzz` and the fault tests.

Plain Python (no pytest), so the fuzz runner uses it too. The server's environment is only what the caller
sets: an inherited CRM_DQ_* or DATABASE_URL must not leak in.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class LiveServer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> int:
        return rss_bytes(self.proc.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL if it has not exited within `timeout`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_until_healthy(server: LiveServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.proc.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer /healthz within {timeout}s:\n{server.output()}")


@contextmanager
def live_server(workdir: Path, database_url: str | None = None, env: dict[str, str] | None = None,
                args: tuple[str, ...] = (), app: str = "app.main:app") -> Iterator[LiveServer]:
    """uvicorn (uvloop, httptools) on 127.0.0.1 and a free port; SQLite under `workdir` unless a URL is given.

    The server's output goes to `workdir/uvicorn.log`. Stopped with SIGTERM on exit.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{workdir}/crm-dq.sqlite3"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k != "DATABASE_URL"}
    clean |= {"DATABASE_URL": url} | (env or {})
    port = free_port()
    log = workdir / "uvicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
             "--loop", "uvloop", "--http", "httptools", *args],
            cwd=ROOT, env=clean, stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        server.stop()
