"""Write the wrk script bench/load.sh drives: varied generated contacts, one per request in turn.

Varied bodies keep the service's per-value caches (phone, email domain, URL) honest: a single repeated body
would time cache hits. Both the floor and crm-dq get the same bodies in the same order.

    .venv/bin/python bench/load_bodies.py --n 2000 > /tmp/contacts.lua
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.generate import make_contacts  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, wrk.path, nil, bodies[(n % #bodies) + 1])
end
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d non_2xx=%d\\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="distinct contacts (default 2000)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    lines = ["bodies = {"]
    for record in make_contacts(args.n, args.seed):
        body = orjson.dumps(record).decode()
        assert "]==]" not in body
        lines.append(f"  [==[{body}]==],")
    lines.append("}")
    sys.stdout.write("\n".join(lines) + LUA)


if __name__ == "__main__":
    main()
