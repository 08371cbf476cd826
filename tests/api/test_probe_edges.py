"""Edges a black-box probe found (helper-79): the route label of a path with a trailing slash, a HubSpot
timestamp that is no number, HEAD on the routes probes and scrapers call, and an empty batch's duplicate
rate."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.api.problems import Unauthorized
from app.api.signatures import verify_hubspot

HUBSPOT_OBJECT = {"id": "1", "properties": {"email": "bob@acme.com"}}


def series(client: TestClient, route_part: str) -> list[str]:
    text = client.get("/metrics").text
    return [line for line in text.splitlines()
            if line.startswith("crm_dq_http_request_duration_seconds_count") and route_part in line]


def test_a_trailing_slash_is_counted_under_the_routes_own_label(client: TestClient) -> None:
    for path in ("/v1/webhooks/hubspot", "/v1/webhooks/hubspot/", "/v1/webhooks/generic/"):
        r = client.post(path, json=HUBSPOT_OBJECT if "hubspot" in path else {"type": "contact", "id": "1"})
        assert r.status_code == 200, r.text
    assert series(client, "hubspot") == [
        'crm_dq_http_request_duration_seconds_count{method="POST",route="/v1/webhooks/hubspot",status="200"} 2.0']
    assert series(client, "generic") == [
        'crm_dq_http_request_duration_seconds_count{method="POST",route="/v1/webhooks/generic",status="200"} 1.0']


def test_a_hubspot_timestamp_that_is_no_number_is_told_so() -> None:
    secret = SecretStr("s")
    for stamp in ("abc", "2024-06-15T12:00:00Z", "1.7e12", "²"):
        with pytest.raises(Unauthorized, match="is not a timestamp"):
            verify_hubspot(secret, "sig", stamp, "POST", "http://x/v1/webhooks/hubspot", b"{}")
    with pytest.raises(Unauthorized, match="more than 5 minutes away"):
        verify_hubspot(secret, "sig", "1000", "POST", "http://x/v1/webhooks/hubspot", b"{}")


def test_the_hubspot_webhook_says_a_garbage_timestamp_is_not_one(signed: TestClient) -> None:
    r = signed.post("/v1/webhooks/hubspot", json=HUBSPOT_OBJECT,
                    headers={"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "abc"})
    assert r.status_code == 401
    assert "is not a timestamp" in r.json()["detail"] and "5 minutes" not in r.json()["detail"]


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/readyz", "/v1/rules", "/docs", "/redoc",
                                  "/openapi.json", "/v1/index/contacts/nobody"])
def test_head_is_answered_wherever_get_is(client: TestClient, path: str) -> None:
    """RFC 9110: HEAD is GET without the body (`app.api.head`); HEAD /v1/rules and /docs were 405s."""
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code and got.status_code in (200, 404), (head, got)
    assert head.headers["content-type"] == got.headers["content-type"] and head.content == b""
    if path != "/metrics":  # the metrics count the GET before it
        assert head.headers["content-length"] == str(len(got.content))


def test_head_is_logged_and_counted_under_its_route(client: TestClient) -> None:
    client.head("/v1/rules")
    assert 'method="HEAD",route="/v1/rules",status="200"' in client.get("/metrics").text
    assert client.head("/v1/contacts/score").status_code == 405, "no GET there, so no HEAD either"


def test_an_empty_batch_measures_no_duplicate_rate_anywhere(client: TestClient) -> None:
    for body in ({}, {"opportunities": [{"id": "o1", "amount": 10}]}):
        result = client.post("/v1/batch", json=body).json()
        assert result["summary"]["kpis"]["duplicate_rate"]["value"] is None
        assert {t: d["stats"]["duplicate_rate"] for t, d in result["duplicates"].items()} == {
            "accounts": None, "contacts": None, "leads": None}
    stream = client.post("/v1/batch", content=b'{"type": "opportunity", "id": "o1"}\n',
                         headers={"content-type": "application/x-ndjson"}).text.splitlines()
    tail = orjson.loads(stream[-1])
    assert tail["summary"]["kpis"]["duplicate_rate"]["value"] is None
    assert all(d["stats"]["duplicate_rate"] is None for d in tail["duplicates"].values())
    assert client.post("/v1/duplicates", json={"record_type": "contacts", "records": []}).json()[
        "stats"]["duplicate_rate"] is None


def test_a_measured_duplicate_rate_is_still_a_number(client: TestClient) -> None:
    contact = {"id": "c1", "first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"}
    result = client.post("/v1/batch", json={"contacts": [contact, contact | {"id": "c2"}]}).json()
    assert result["duplicates"]["contacts"]["stats"]["duplicate_rate"] == 0.5
    assert result["duplicates"]["accounts"]["stats"]["duplicate_rate"] is None
