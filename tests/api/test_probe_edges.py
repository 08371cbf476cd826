"""Edges a black-box probe found (helper-79): the route label of a path with a trailing slash, a HubSpot
timestamp that is no number, HEAD on the routes probes and scrapers call, and an empty batch's duplicate
rate."""

from __future__ import annotations

from fastapi.testclient import TestClient


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
