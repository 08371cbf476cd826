"""Single-record latency over HTTP: sequential requests on one keep-alive connection to one uvicorn worker.

    .venv/bin/python bench/latency_bench.py [--n 500]

Prints p50 / p95 per route and the server's CPU per request (from /proc/<pid>/stat), which shows the
framework's own cost next to scoring: /healthz is the floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.server import running_server  # noqa: E402

OPPORTUNITY = {"id": "o1", "name": "Deal", "account_id": "a1", "amount": 50000, "stage": "Proposal",
               "close_date": "2026-12-01", "owner_id": "u1"}
CONTACT = {"id": "c9", "first_name": "Ann", "last_name": "Lee", "email": "ann@acme.com",
           "phone": "+1 415 555 0100"}
ROUTES: list[tuple[str, dict[str, Any] | None]] = [
    ("/v1/opportunities/score", OPPORTUNITY), ("/v1/contacts/score", CONTACT), ("/healthz", None)]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    n = parser.parse_args().n
    print(f"command: {os.path.relpath(sys.executable)} {' '.join(sys.argv)}  (nproc {os.cpu_count()})")
    with running_server() as (url, pid), httpx.Client() as client:
        for path, body in ROUTES:
            def call(path: str = path, body: dict[str, Any] | None = body) -> None:
                response = client.post(url + path, json=body) if body else client.get(url + path)
                response.raise_for_status()

            for _ in range(50):
                call()
            times, cpu = [], cpu_seconds(pid)
            for _ in range(n):
                started = time.perf_counter()
                call()
                times.append(time.perf_counter() - started)
            cpu = cpu_seconds(pid) - cpu
            times.sort()
            print(f"  {path:<26} p50 {statistics.median(times) * 1e3:6.2f} ms  p95 "
                  f"{times[int(0.95 * n)] * 1e3:6.2f} ms  server CPU {cpu / n * 1e3:5.2f} ms/request")


if __name__ == "__main__":
    main()
