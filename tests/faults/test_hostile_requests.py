"""Hostile requests against a real uvicorn, beyond their bodies: header values only a socket sends as they are,
clients that hang up mid-body, bodies big enough to hold the event loop. Never a 5xx, never a traceback, and
/healthz answers meanwhile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.api.assertions import assert_problem
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.e2e

HUBSPOT_SECRET = "hubspot-test-secret"
CONTACT = b'{"id": "512", "properties": {"email": "bcooper@biglytics.net", "firstname": "Bryan"}}'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("hostile-requests"),
                     env={"CRM_DQ_HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET}) as live:
        yield live


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60.0) as client:
        yield client


def hubspot_signature(uri: str, body: bytes, timestamp: bytes) -> str:
    digest = hmac.new(HUBSPOT_SECRET.encode(), b"POST" + uri.encode() + body + timestamp, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


@pytest.mark.parametrize("timestamp", [b"\xb2", b"1\xb9", b"9" * 5000, b"0" * 17 + b"1", b"-1"],
                         ids=["superscript-two", "superscript-one", "5000-digits", "17-digits", "minus"])
def test_a_hubspot_timestamp_that_is_no_number_of_milliseconds_is_a_401(server: LiveServer, http: httpx.Client,
                                                                        timestamp: bytes) -> None:
    """helper-58: '²' (byte B2, which Starlette reads as Latin-1) passed `isdigit` and failed `int`, and 5,000
    digits are past `int`'s limit: both were an unauthenticated 500, the signature never looked at."""
    uri = f"{server.url}/v1/webhooks/hubspot"
    headers = {"X-HubSpot-Signature-v3": hubspot_signature(uri, CONTACT, timestamp),
               "X-HubSpot-Request-Timestamp": timestamp, "content-type": "application/json"}
    doc = assert_problem(http.post("/v1/webhooks/hubspot", content=CONTACT, headers=headers), 401)
    assert doc["type"] == "/problems/unauthorized"
    now = str(int(time.time() * 1000)).encode()
    headers |= {"X-HubSpot-Signature-v3": hubspot_signature(uri, CONTACT, now), "X-HubSpot-Request-Timestamp": now}
    assert http.post("/v1/webhooks/hubspot", content=CONTACT, headers=headers).status_code == 200
    assert "Traceback" not in server.output()


# (method, path, content type, the first part of a body that never ends)
HANG_UPS = [
    ("POST", "/v1/contacts/score", "application/json", b'{"id": "c1", "first_name": "An'),
    ("POST", "/v1/batch", "application/json", b'{"contacts": [{"id": "c1"}, {"id":'),
    ("POST", "/v1/batch", "application/x-ndjson", b'{"type": "contact", "id": "c1"}\n{"type": "contact", "id":'),
    ("POST", "/v1/audit", "application/json", b'{"contacts": [{"id": "c1"}, {"id":'),
    ("POST", "/v1/audit", "application/x-ndjson", b'{"type": "contact", "id": "c1"}\n{"type": "lead", "id":'),
    ("POST", "/v1/webhooks/generic?type=contact", "application/json", b'{"id": "c1", "first_'),
    ("POST", "/v1/webhooks/salesforce?type=Contact", "application/json", b'{"Id": "003A", "Fir'),
    ("PUT", "/v1/index/contacts/c1", "application/json", b'{"first_name": "An'),
    ("POST", "/v1/index/contacts/bulk", "application/json", b'{"records": [{"id": "c1"}, {"id":'),
]


def hang_up(server: LiveServer, method: str, path: str, content_type: str, part: bytes, rid: str) -> None:
    """Declare 100,000 bytes, send a few, wait until the server reads them, close the socket."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
                     f"Content-Length: 100000\r\nX-Request-ID: {rid}\r\n\r\n".encode() + part)
        time.sleep(0.3)


def access_line(server: LiveServer, rid: str, within: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for line in server.output().splitlines():
            if line.startswith("{") and f'"request_id":"{rid}"' in line:
                return orjson.loads(line)  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"no access line for {rid}:\n{server.output()[-3000:]}")


def test_a_client_hanging_up_mid_body_is_a_499_not_a_500(server: LiveServer, http: httpx.Client) -> None:
    """helper-58: Starlette's ClientDisconnect escaped every body route (the NDJSON stream's after its 200)
    and was logged and counted as a 500 with a traceback; an alert fires on any 5xx. nginx's 499 instead."""
    for n, (method, path, content_type, part) in enumerate(HANG_UPS):
        rid = f"hang-up-{n}"
        hang_up(server, method, path, content_type, part, rid)
        line = access_line(server, rid)
        assert (line["method"], line["status"]) == (method, 499), (path, content_type, line)
    output = server.output()
    assert "Exception in ASGI application" not in output and "Traceback" not in output, output[-5000:]
    exposition = http.get("/metrics").text
    counts = [line for line in exposition.splitlines() if line.startswith("crm_dq_http_request_duration_seconds_count")]
    for route in {"/v1/contacts/score", "/v1/batch", "/v1/audit", "/v1/webhooks/generic",
                  "/v1/webhooks/salesforce", "/v1/index/{record_type}/{record_id}", "/v1/index/{record_type}/bulk"}:
        assert any(f'route="{route}"' in c and 'status="499"' in c for c in counts), (route, counts)
    assert not [c for c in counts if 'status="5' in c], counts
    assert http.get("/healthz").status_code == 200


def slowest_probe_while(http: httpx.Client, method: str, path: str, body: bytes) -> tuple[int, float, float]:
    """Send `body` from another thread and probe /healthz meanwhile: its status, how long it took and the
    slowest /healthz answer while it ran."""
    done: dict[str, Any] = {}

    def send() -> None:
        started = time.monotonic()
        with httpx.Client(base_url=str(http.base_url), timeout=120.0) as other:
            done["status"] = other.request(method, path, content=body,
                                           headers={"content-type": "application/json"}).status_code
        done["seconds"] = time.monotonic() - started

    sender = threading.Thread(target=send)
    sender.start()
    slowest = 0.0
    while sender.is_alive():
        started = time.monotonic()
        assert http.get("/healthz").status_code == 200
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.02)
    return done["status"], done["seconds"], slowest


RECORD_OF_200000_FIELDS = orjson.dumps({"type": "contact", "id": "c1"} | {f"f{i}": i for i in range(200_000)})
BATCH_REPEATING_A_NAME = (b'{"contacts": [' + b'"x", ' * 1_000_000
                          + b'"x"], "options": {"now": "1", "now": "2"}}')
LARGE_BODIES = {
    # one record of 200,000 fields (3 MB): judged on the event loop, as a record save is
    "record_of_200000_fields": ("/v1/webhooks/generic", 200,
                                RECORD_OF_200000_FIELDS),
    # 1,500,001 entries (3 MB): counted on the event loop before the 413 for more than CRM_DQ_MAX_BATCH
    "salesforce_list_of_numbers": ("/v1/webhooks/salesforce?type=Contact", 413,
                                   b'{"records": [' + b"1, " * 1_500_000 + b"1]}"),
    # a JSON batch of 1,000,000 entries whose options repeat a name: read and checked on the event loop
    "batch_repeating_a_name": ("/v1/batch", 422,
                               BATCH_REPEATING_A_NAME),
}


@pytest.mark.parametrize("name", list(LARGE_BODIES))
def test_a_large_body_leaves_the_event_loop_to_other_requests(http: httpx.Client, name: str) -> None:
    """helper-58: a large webhook or batch body was parsed, counted, checked and judged on the event loop, and
    /healthz waited for all of it (1-3 s here; a 15 MB record held it 6-21 s). What still holds it is a single
    C call (orjson reading the body), a fraction of the whole."""
    path, status, body = LARGE_BODIES[name]
    answered, seconds, slowest = slowest_probe_while(http, "POST", path, body)
    assert answered == status
    assert slowest < max(0.5, seconds / 3), f"/healthz waited {slowest:.2f} s of the {seconds:.2f} s request"
