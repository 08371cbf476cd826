"""A UTF-8 byte order mark before a JSON body, as Windows tools write one (PowerShell 5's `Out-File`,
`Set-Content -Encoding UTF8`, Notepad): every JSON route reads the body after it, as NDJSON lines always did
(orjson refuses it: 'BOM is not supported' was a 400)."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.api.assertions import assert_problem, error_locs
from tests.api.signing import hubspot_headers, sign

BOM = b"\xef\xbb\xbf"
JSON = {"content-type": "application/json"}
CONTACT = {"id": "003A1", "first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"}


def with_bom(value: object) -> bytes:
    return BOM + orjson.dumps(value)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/contacts/score", CONTACT),
    ("POST", "/v1/batch", {"contacts": [CONTACT]}),
    ("POST", "/v1/audit", {"contacts": [CONTACT]}),
    ("POST", "/v1/duplicates", {"record_type": "contacts", "records": [CONTACT]}),
    ("PUT", "/v1/index/contacts/003A1", CONTACT),
    ("POST", "/v1/index/contacts/bulk", {"records": [CONTACT]}),
    ("POST", "/v1/webhooks/generic", {"type": "contact", **CONTACT}),
    ("POST", "/v1/webhooks/salesforce", {"attributes": {"type": "Contact"}, "Id": "003A1", "LastName": "Smith"}),
    ("POST", "/v1/webhooks/hubspot", {"id": "1", "properties": {"email": "bob@acme.com"}}),
])
def test_a_json_body_may_begin_with_a_byte_order_mark(client: TestClient, method: str, path: str,
                                                      body: object) -> None:
    r = client.request(method, path, content=with_bom(body), headers=JSON)
    assert r.status_code == 200, r.text


def test_a_repeated_name_after_a_byte_order_mark_is_still_named(client: TestClient) -> None:
    r = client.post("/v1/contacts/score", content=BOM + b'{"id": "1", "email": "a@b.co", "email": "x"}',
                    headers=JSON)
    assert error_locs(assert_problem(r, 422)) == ["body.email"]


def test_only_a_leading_byte_order_mark_is_skipped(client: TestClient) -> None:
    r = client.post("/v1/contacts/score", content=b" " + with_bom(CONTACT), headers=JSON)
    assert_problem(r, 400)


def test_a_signed_webhooks_signature_covers_the_byte_order_mark_as_sent(signed: TestClient) -> None:
    body = with_bom({"type": "contact", **CONTACT})
    r = signed.post("/v1/webhooks/generic", content=body,
                    headers={**JSON, "X-CRM-DQ-Signature": sign(body)})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["record_id"] == "003A1"
    # signed without the mark, sent with it: not the bytes that were signed
    r = signed.post("/v1/webhooks/generic", content=body,
                    headers={**JSON, "X-CRM-DQ-Signature": sign(body[3:])})
    assert_problem(r, 401)


def test_a_hubspot_signature_covers_the_byte_order_mark_as_sent(signed: TestClient) -> None:
    body = with_bom({"id": "1", "properties": {"email": "bob@acme.com"}})
    uri = "http://testserver/v1/webhooks/hubspot"
    headers = hubspot_headers(uri, body)
    assert signed.post(uri, content=body, headers=headers).status_code == 200
    assert_problem(signed.post(uri, content=body[3:], headers=headers), 401)
