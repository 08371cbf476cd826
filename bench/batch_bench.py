"""Batch throughput: mixed records through `POST /v1/batch` as an NDJSON stream over HTTP, duplicates on.

    .venv/bin/python bench/batch_bench.py              # 100,000 records
    .venv/bin/python bench/batch_bench.py --n 20000

    .venv/bin/python bench/batch_bench.py --processes 0  # score in a thread of the server process

Prints records/second end to end (client streams the body and reads every result line), the scoring
worker processes (`CRM_DQ_BATCH_PROCESSES`, default one per core) and the RSS of the server's whole process
tree (server + workers): before any stream (cold), after a 200-line warm-up stream that starts the workers,
and at its peak, so memory growth per stream is visible. The machine's load average is printed before and
after: the client runs on the same cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.generate import NOW, make_accounts, make_contacts, make_leads, make_opportunities  # noqa: E402
from bench.server import running_server  # noqa: E402


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (spawned workers, multiprocessing's resource tracker)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(k) for k in (task / "children").read_text().split())
    return found


def memory_mb(pid: int, field: str) -> float:
    """VmRSS (current) or VmHWM (peak) of one process, in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_mb(pid: int, field: str) -> tuple[float, float]:
    """(server process, its descendants) memory in MB."""
    return memory_mb(pid, field), sum(memory_mb(p, field) for p in process_tree(pid)[1:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def lines(n: int) -> list[bytes]:
    """n mixed records (10% accounts, 40% contacts, 20% opportunities, 30% leads) as NDJSON lines."""
    parts = [("account", make_accounts(n // 10, 1)), ("contact", make_contacts(n * 4 // 10, 2)),
             ("opportunity", make_opportunities(n // 5, 3)), ("lead", make_leads(n - n // 10 - n * 4 // 10 - n // 5, 4))]
    return [orjson.dumps({"type": kind, **record}) for kind, records in parts for record in records]


def body(data: list[bytes], chunk: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), chunk):
        yield b"\n".join(data[start:start + chunk]) + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=None,
                        help="CRM_DQ_BATCH_PROCESSES for the server (default: its own default, one per core)")
    args = parser.parse_args()
    data = lines(args.n)
    print(f"command: {os.path.relpath(sys.executable)} {' '.join(sys.argv)}  (nproc {os.cpu_count()}, "
          f"load average {load()})")
    env = {} if args.processes is None else {"CRM_DQ_BATCH_PROCESSES": str(args.processes)}
    processes = int(env.get("CRM_DQ_BATCH_PROCESSES") or os.environ.get("CRM_DQ_BATCH_PROCESSES")
                    or os.cpu_count() or 1)
    with running_server(env=env) as (url, pid), httpx.Client(timeout=3600) as client:
        cold = sum(tree_mb(pid, "VmRSS"))
        client.post(f"{url}/v1/batch", content=b"\n".join(data[:200]),
                    headers={"content-type": "application/x-ndjson"}).raise_for_status()
        time.sleep(1.0)  # let every worker finish starting
        workers = process_tree(pid)[1:]
        main_before, workers_before = tree_mb(pid, "VmRSS")
        before = main_before + workers_before
        cpu_before = {p: cpu_seconds(p) for p in [pid, *workers]}
        started, cpu_started = time.perf_counter(), time.process_time()
        results = 0
        with client.stream("POST", f"{url}/v1/batch", params={"now": NOW.isoformat()}, content=body(data),
                           headers={"content-type": "application/x-ndjson"}) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                item = orjson.loads(line)
                if item.get("type") == "summary":
                    summary = item["summary"]
                else:
                    results += 1
        elapsed, client_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        main_peak, workers_peak = tree_mb(pid, "VmHWM")
        cpu = {p: cpu_seconds(p) - cpu_before[p] for p in cpu_before}
        peak = main_peak + workers_peak
    assert results == len(data), f"{results} result lines for {len(data)} records"
    print(f"NDJSON batch of {len(data):,} mixed records over HTTP, duplicates on")
    where = f"{processes} worker processes" if processes > 1 else "a thread of the server process"
    print(f"  scoring in {where} (CRM_DQ_BATCH_PROCESSES={processes}); the server's process tree: "
          f"1 + {len(workers)} (workers, multiprocessing's resource tracker)")
    print(f"  {len(data) / elapsed:,.0f} records/s  ({elapsed:.1f} s; the client used {client_cpu:.1f} s of CPU "
          f"on the same cores)")
    others = f", {' + '.join(f'{cpu[p]:.1f}' for p in workers)} s in the others" if workers else ""
    print(f"  server CPU: {cpu[pid]:.1f} s in the server process{others}")
    print(f"  server RSS cold {cold:.0f} MB; before {before:.0f} MB (server {main_before:.0f} + others "
          f"{workers_before:.0f}); peak {peak:.0f} MB (server {main_peak:.0f} + others {workers_peak:.0f}); "
          f"growth {peak - before:.0f} MB ({peak - cold:.0f} MB over cold)")
    print(f"  load average after: {load()}")
    print(f"  KPIs: { {k: v['value'] for k, v in summary['kpis'].items()} }")


if __name__ == "__main__":
    main()
