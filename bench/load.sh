#!/usr/bin/env bash
# Load test: single-contact scoring under concurrency, against a parse-only FastAPI floor, on loopback.
#
#   bench/load.sh                 # 30 s per target, 32 connections, 2 workers each (the issue's setting)
#   DURATION=10 bench/load.sh     # shorter; CONNECTIONS, WORKERS, THREADS, BODIES, WARMUP also read
#
# Both servers run the same way (uvicorn, uvloop, httptools, WORKERS workers, SQLite in a temporary
# directory, request logs to a file) and get the same varied contact bodies in the same order
# (bench/load_bodies.py), driven by wrk (Debian's `wrk` package). The floor (bench/load_floor.py) only parses
# the body; crm-dq judges it, including the duplicate check against its (empty) reference index.
# Prints for each: requests/s, p50/p95/p99/max latency, every error class, and each worker's share of the
# CPU the workers used (keep-alive connections stay with the worker that accepted them) and the workers'
# CPU per request (independent of what else the machine runs); then crm-dq's
# requests/s as a ratio of the floor's. Exits non-zero on any error or non-2xx answer.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-30}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-2}
BODIES=${BODIES:-2000}
WARMUP=${WARMUP:-5}
PY=${PY:-.venv/bin/python}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk (Debian's package)" >&2; exit 2; }
[ -x "$PY" ] || { echo "$PY not found: run make test (or make run) once to create .venv" >&2; exit 2; }

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

"$PY" bench/load_bodies.py --n "$BODIES" > "$tmp/contacts.lua"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU ticks (user+system) of each direct child of a process: "pid ticks" per line.
worker_ticks() {
  local pid
  for pid in $(pgrep -P "$1"); do
    awk -v p="$pid" '{ sub(/^.*\) /, ""); print p, $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || true
  done
}

# run_target NAME CMD...: serve, warm up, measure; sets RPS_<NAME>.
run_target() {
  local name=$1; shift
  local port; port=$(free_port)
  # the metrics files of app.serve's workers go to this run's directory, removed with it
  PROMETHEUS_MULTIPROC_DIR="$tmp/$name-metrics" DATABASE_URL="sqlite:///$tmp/$name.sqlite3" "$@" --host 127.0.0.1 --port "$port" --workers "$WORKERS" \
    --loop uvloop --http httptools --log-level warning > "$tmp/$name.log" 2>&1 &
  server_pid=$!
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fsS "$url/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "$url/healthz" >/dev/null || { echo "$name did not start:"; cat "$tmp/$name.log"; exit 1; }
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${WARMUP}s" -s "$tmp/contacts.lua" "$url/v1/contacts/score" >/dev/null
  worker_ticks "$server_pid" > "$tmp/before"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 5s -s "$tmp/contacts.lua" \
    "$url/v1/contacts/score" > "$tmp/$name.wrk"
  worker_ticks "$server_pid" > "$tmp/after"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

  local result; result=$(grep '^RESULT' "$tmp/$name.wrk")
  printf '%-7s %s\n' "$name" "${result#RESULT }"
  local requests; requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$result")
  printf '%-7s' ""
  join "$tmp/before" "$tmp/after" | awk -v hz="$(getconf CLK_TCK)" -v n="$requests" '
    { d[$1] = $3 - $2; t += $3 - $2 }
    END { printf "server CPU %.3f ms/request; worker CPU share:", (n ? 1000 * t / hz / n : 0)
          for (p in d) if (d[p] > 0) printf " pid %s %.0f%%", p, 100 * d[p] / t; print "" }'
  local rps; rps=$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$result")
  printf -v "RPS_$name" '%s' "$rps"
  if grep -Eq 'errors_connect=0 errors_read=0 errors_write=0 errors_timeout=0 non_2xx=0' <<<"$result"; then
    return 0
  fi
  echo "$name: errors during the run (see above)" >&2
  FAILED=1
}

FAILED=0
echo "command: bench/load.sh  (DURATION=$DURATION CONNECTIONS=$CONNECTIONS WORKERS=$WORKERS THREADS=$THREADS" \
     "BODIES=$BODIES; nproc $(nproc); $(uname -sr); wrk and both servers share the machine)"
run_target floor "$PY" -m uvicorn bench.load_floor:app
run_target crm_dq "$PY" -m app.serve
"$PY" - "$RPS_crm_dq" "$RPS_floor" <<'PY'
import sys
ours, floor = map(float, sys.argv[1:])
print(f"ratio   crm-dq / floor requests per second = {ours / floor:.2f}  (target >= 0.70)")
PY
exit "$FAILED"
