"""Hostile requests against a real uvicorn, beyond their bodies: header values only a socket sends as they are,
clients that hang up mid-body, bodies big enough to hold the event loop. Never a 5xx, never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator

import httpx
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
