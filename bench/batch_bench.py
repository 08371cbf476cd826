"""Batch throughput: mixed records through `POST /v1/batch` as an NDJSON stream over HTTP, duplicates on.

    .venv/bin/python bench/batch_bench.py              # 100,000 records
    .venv/bin/python bench/batch_bench.py --n 20000

Prints records/second end to end (client streams the body and reads every result line) and the server's
RSS before and at its peak, so memory growth per stream is visible.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.generate import NOW, make_accounts, make_contacts, make_leads, make_opportunities  # noqa: E402
from bench.server import peak_rss_mb, rss_mb, running_server  # noqa: E402


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
    args = parser.parse_args()
    data = lines(args.n)
    print(f"command: {os.path.relpath(sys.executable)} {' '.join(sys.argv)}  (nproc {os.cpu_count()})")
    with running_server() as (url, pid), httpx.Client(timeout=3600) as client:
        client.post(f"{url}/v1/batch", content=b"\n".join(data[:200]),
                    headers={"content-type": "application/x-ndjson"}).raise_for_status()
        before = rss_mb(pid)
        started = time.perf_counter()
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
        elapsed = time.perf_counter() - started
        peak = peak_rss_mb(pid)
    assert results == len(data), f"{results} result lines for {len(data)} records"
    print(f"NDJSON batch of {len(data):,} mixed records over HTTP, duplicates on")
    print(f"  {len(data) / elapsed:,.0f} records/s  ({elapsed:.1f} s)")
    print(f"  server RSS before {before:.0f} MB, peak {peak:.0f} MB, growth {peak - before:.0f} MB")
    print(f"  KPIs: { {k: v['value'] for k, v in summary['kpis'].items()} }")


if __name__ == "__main__":
    main()
