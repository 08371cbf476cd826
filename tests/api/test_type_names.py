"""Record type names are read alike everywhere: singular or plural, in any case, and a name that is no type
is called unknown, at the place (body or query) it came from."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.scoring.type_names import record_type_named
from tests.api.assertions import assert_problem, error_locs

CONTACT = {"id": "003A1", "first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"}


@pytest.mark.parametrize(("name", "meant"), [
    ("contact", "contact"), ("Contact", "contact"), ("CONTACTS", "contact"), (" leads ", "lead"),
    ("Opportunities", "opportunity"), ("widget", None), ("", None), (3, None), (None, None),
])
def test_a_type_name_in_any_case_singular_or_plural(name: object, meant: str | None) -> None:
    assert record_type_named(name) == meant


@pytest.mark.parametrize("name", ["Contact", "CONTACTS", "contact", "contacts", " Contacts "])
def test_duplicates_reads_record_type_in_any_case(client: TestClient, name: str) -> None:
    r = client.post("/v1/duplicates", json={"record_type": name, "records": [CONTACT, CONTACT | {"id": "2"}]})
    assert r.status_code == 200, r.text
    assert r.json()["clusters"] == [["003A1", "2"]]


@pytest.mark.parametrize(("name", "msg"), [
    ("widget", "unknown type 'widget'"), ("Opportunity", "'Opportunity' records are not matched for duplicates"),
    (7, "not a string"), (None, "missing"),
])
def test_duplicates_says_what_is_wrong_with_record_type(client: TestClient, name: object, msg: str) -> None:
    doc = assert_problem(client.post("/v1/duplicates", json={"record_type": name, "records": []}), 422)
    assert doc["errors"] == [{"loc": "body.record_type", "msg": msg}]
    assert doc["detail"].endswith(f": {msg}.")


def test_generic_webhook_calls_an_unknown_type_unknown(client: TestClient) -> None:
    doc = assert_problem(client.post("/v1/webhooks/generic", json={"type": "widget"}), 422)
    assert error_locs(doc) == ["body.type"]
    assert "unknown type 'widget'" in doc["detail"] and "needs a `type`" not in doc["detail"]


def test_generic_webhook_without_a_type_says_it_needs_one(client: TestClient) -> None:
    doc = assert_problem(client.post("/v1/webhooks/generic", json={"id": "1"}), 422)
    assert error_locs(doc) == ["body.type"] and "needs a `type`" in doc["detail"]


def test_generic_webhook_reads_type_and_query_type_in_any_case(client: TestClient) -> None:
    r = client.post("/v1/webhooks/generic", json=[{"type": "Contacts", **CONTACT}, {"type": "LEAD", "id": "l1"}])
    assert [x["record_type"] for x in r.json()["results"]] == ["contact", "lead"]
    r = client.post("/v1/webhooks/generic?type=Contact", json=CONTACT)
    assert r.json()["results"][0]["record_type"] == "contact"


def test_an_unknown_query_type_is_named_as_the_query(client: TestClient) -> None:
    doc = assert_problem(client.post("/v1/webhooks/generic?type=widget", json=CONTACT), 422)
    assert error_locs(doc) == ["query.type"] and "Unknown type 'widget'" in doc["detail"]
    doc = assert_problem(client.post("/v1/webhooks/salesforce?type=Case", json={"Id": "500A"}), 422)
    assert error_locs(doc) == ["query.type"] and "'Case' has no mapping" in doc["detail"]
    doc = assert_problem(client.post("/v1/webhooks/hubspot?type=tickets", json={"id": "1", "properties": {}}), 422)
    assert error_locs(doc) == ["query.type"]


def test_an_sobjects_own_unknown_type_is_named_in_the_body(client: TestClient) -> None:
    doc = assert_problem(client.post("/v1/webhooks/salesforce", json={"attributes": {"type": "Case"}}), 422)
    assert error_locs(doc) == ["body.attributes.type"]


@pytest.mark.parametrize(("path", "query"), [("salesforce", "contacts"), ("salesforce", "CONTACT"),
                                             ("hubspot", "Contacts"), ("hubspot", "opportunities")])
def test_webhook_query_types_in_any_case(client: TestClient, path: str, query: str) -> None:
    body = {"Id": "003A1", "LastName": "Smith"} if path == "salesforce" else {"id": "1", "properties": {}}
    r = client.post(f"/v1/webhooks/{path}?type={query}", json=body)
    assert r.status_code == 200, r.text


def test_the_index_reads_its_type_in_any_case(client: TestClient) -> None:
    r = client.put("/v1/index/Contacts/003A1", json=CONTACT)
    assert r.status_code == 200 and r.json()["record_type"] == "contacts"
    assert client.get("/v1/index/CONTACTS/003A1").status_code == 200
    assert_problem(client.get("/v1/index/opportunities/1"), 404)


def test_a_score_path_in_another_case_is_told_the_path_meant(client: TestClient) -> None:
    doc = assert_problem(client.post("/v1/Contacts/score", json=CONTACT), 404)
    assert "POST /v1/contacts/score" in doc["detail"]
    assert doc["errors"][0]["msg"] == "did you mean 'contacts'?"
