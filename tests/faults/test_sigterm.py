"""SIGTERM while a batch is in flight: the request finishes whole (every record answered), then the process
exits cleanly. This is what a rolling deploy or a scale-down does to a replica (Kubernetes sends SIGTERM).

The signal is sent from inside the request body's generator, halfway through the upload, so the server is
still reading the body when it starts shutting down; the test then checks that it stopped accepting new
connections (the shutdown had begun) and that the batch still came back complete.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import NOW_ISO
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.e2e
RECORDS = 3000
CHUNKS = 30


def contact(i: int) -> dict[str, object]:
    return {"id": f"c{i}", "first_name": f"Ann{i % 97}", "last_name": f"Lee{i % 89}",
            "email": f"ann{i}@acme{i % 13}.com", "phone": f"+1415555{i % 10000:04d}", "title": "VP of Sales"}


def refuses_new_connections(url: str, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=0.5)
        except httpx.TransportError:
            return True
        time.sleep(0.05)
    return False


class SigtermHalfway:
    """A request body sent in pieces that sends SIGTERM to the server after half of them."""

    def __init__(self, server: LiveServer, pieces: list[bytes]) -> None:
        self.server, self.pieces = server, pieces
        self.signalled_at: float | None = None
        self.refused_during_upload: bool | None = None
        self.workers: set[int] = set()

    def __iter__(self) -> Iterator[bytes]:
        for n, piece in enumerate(self.pieces):
            if n == len(self.pieces) // 2:
                self.workers = children(self.server.pid)
                os.kill(self.server.pid, signal.SIGTERM)
                self.signalled_at = time.monotonic()
                self.refused_during_upload = refuses_new_connections(self.server.url)
            yield piece
            time.sleep(0.01)


def pieces_of(body: bytes, count: int) -> list[bytes]:
    size = -(-len(body) // count)
    return [body[i:i + size] for i in range(0, len(body), size)]


@pytest.fixture(params=[0, 2], ids=["thread", "worker-processes"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path, env={"CRM_DQ_BATCH_PROCESSES": str(request.param)}) as live:
        yield live


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(k) for k in (task / "children").read_text().split()}
    return found


def assert_exits_cleanly(server: LiveServer, workers: set[int]) -> None:
    """uvicorn's orderly shutdown ran to its end (lifespan shutdown included), no worker process is left,
    and the exit status is 0 or, as uvicorn since 0.29 re-raises the signal it handled, SIGTERM's."""
    assert server.proc.wait(timeout=30) in (0, -signal.SIGTERM), server.output()[-3000:]
    log = server.output()
    assert "Traceback" not in log, log[-5000:]
    steps = ["Shutting down", "Waiting for connections to close", '"route":"/v1/batch","status":200',
             "Waiting for application shutdown", "Application shutdown complete", "Finished server process"]
    positions = [log.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), (steps, positions, log[-3000:])
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "worker processes outlived the server"


def test_an_ndjson_stream_in_flight_is_answered_whole(server: LiveServer) -> None:
    lines = [orjson.dumps({"type": "contact"} | contact(i)) for i in range(RECORDS)]
    body = SigtermHalfway(server, pieces_of(b"\n".join(lines) + b"\n", CHUNKS))
    response = httpx.post(f"{server.url}/v1/batch", params={"now": NOW_ISO}, content=body,
                          headers={"content-type": "application/x-ndjson"}, timeout=120)
    finished_at = time.monotonic()
    assert body.signalled_at is not None and finished_at > body.signalled_at
    assert body.refused_during_upload, "the server never began shutting down"
    assert response.status_code == 200
    out = [orjson.loads(line) for line in response.content.splitlines()]
    assert [o["line"] for o in out[:-1]] == list(range(RECORDS))
    assert [o["record_id"] for o in out[:-1]] == [f"c{i}" for i in range(RECORDS)]
    assert out[-1]["summary"]["totals"]["contacts"] == RECORDS
    assert_exits_cleanly(server, body.workers)


def test_a_json_batch_in_flight_is_answered_whole(server: LiveServer) -> None:
    raw = orjson.dumps({"contacts": [contact(i) for i in range(RECORDS)], "options": {"now": NOW_ISO}})
    body = SigtermHalfway(server, pieces_of(raw, CHUNKS))
    response = httpx.post(f"{server.url}/v1/batch", content=body,
                          headers={"content-type": "application/json"}, timeout=120)
    assert body.signalled_at is not None and body.refused_during_upload
    assert response.status_code == 200
    result = response.json()
    assert [r["record_id"] for r in result["results"]["contacts"]] == [f"c{i}" for i in range(RECORDS)]
    assert result["summary"]["totals"]["contacts"] == RECORDS
    assert_exits_cleanly(server, body.workers)
