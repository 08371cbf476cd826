"""`POST /v1/batch` options in the body and the cross-record checks that read which fields are present."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.assertions import assert_problem

SAME_PERSON = [{"id": "c1", "first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"},
               {"id": "c2", "first_name": "Robert", "last_name": "Smith", "email": "bob@acme.com"}]
DEAL = {"id": "o1", "account_id": "a1", "amount": 5000, "stage": "Proposal", "owner_id": "u1",
        "close_date": "2024-01-31"}


def test_options_now_sets_the_clock_of_a_json_batch(client: TestClient) -> None:
    def overdue(now: str) -> bool:
        r = client.post("/v1/batch", json={"opportunities": [DEAL], "options": {"now": now}})
        assert r.status_code == 200, r.text
        issues = r.json()["results"]["opportunities"][0]["issues"]
        return "opportunity.close_date.past" in {i["rule"] for i in issues}
    assert overdue("2024-06-15T12:00:00Z") and not overdue("2024-01-15T12:00:00Z")
    assert client.post("/v1/batch", json={"options": {"now": "yesterday"}}).status_code == 422


def test_cross_record_checks_see_the_fields_a_record_fills(client: TestClient) -> None:
    account = {"id": "a1", "name": "Acme", "owner_id": "u1", "industry": "Software"}
    deals = [dict(DEAL, amount=60000, contact_roles=[{"contact_id": "c1"}])]
    contact = {"id": "c1", "account_id": "a1", "first_name": "Bob", "last_name": "Smith", "owner_id": "u1",
               "email": "bob@acme.com"}
    body = {"accounts": [account], "opportunities": deals, "contacts": [contact], "options": {"now": "2024-01-01"}}
    found = {f["rule"] for f in client.post("/v1/batch", json=body).json()["cross_record"]}
    assert "account.industry.missing_high_value" not in found and "contact.email.missing_on_active_deal" not in found
    body["accounts"], body["contacts"] = [dict(account, industry=" ")], [dict(contact, email="n/a")]
    found = {f["rule"] for f in client.post("/v1/batch", json=body).json()["cross_record"]}
    assert {"account.industry.missing_high_value", "contact.email.missing_on_active_deal"} <= found


def clusters(client: TestClient, route: str, query: str = "", options: Any = ...) -> list[list[str]] | None:
    """The contacts' duplicate clusters of a batch or audit of one person entered twice (None: not run);
    `options` is sent when given (a null too)."""
    body: dict[str, Any] = {"contacts": SAME_PERSON}
    if options is not ...:
        body["options"] = options
    r = client.post(f"{route}{query}", json=body)
    assert r.status_code == 200, r.text
    found = r.json()["duplicates"].get("contacts")
    return None if found is None else found["clusters"]


@pytest.mark.parametrize("route", ["/v1/batch", "/v1/audit"])
def test_the_duplicates_query_parameter_switches_a_json_batch_too(client: TestClient, route: str) -> None:
    """`?duplicates=false` was honoured for NDJSON only."""
    assert clusters(client, route) == [["c1", "c2"]]
    assert clusters(client, route, "?duplicates=false") is None
    assert clusters(client, route, "?duplicates=no") is None
    assert clusters(client, route, "?duplicates=true") == [["c1", "c2"]]


@pytest.mark.parametrize("route", ["/v1/batch", "/v1/audit"])
def test_options_duplicates_overrides_the_query(client: TestClient, route: str) -> None:
    assert clusters(client, route, options={"duplicates": False}) is None
    assert clusters(client, route, "?duplicates=false", options={"duplicates": True}) == [["c1", "c2"]]
    assert clusters(client, route, "?duplicates=true", options={"duplicates": False}) is None


@pytest.mark.parametrize("value", ["false", "no", 0, 1, [], {}])
def test_options_duplicates_must_be_a_boolean(client: TestClient, value: Any) -> None:
    """"false", "no" or 0 had left duplicates on without a word."""
    r = client.post("/v1/batch", json={"contacts": SAME_PERSON, "options": {"duplicates": value}})
    assert assert_problem(r, 422)["errors"] == [{"loc": "body.options.duplicates", "msg": "not a boolean"}]


@pytest.mark.parametrize("options", ["x", ["duplicates"], 0, True])
def test_options_must_be_an_object(client: TestClient, options: Any) -> None:
    """A non-object `options` was ignored, while a bad `options.now` was a 422."""
    r = client.post("/v1/audit", json={"contacts": SAME_PERSON, "options": options})
    assert assert_problem(r, 422)["errors"] == [{"loc": "body.options", "msg": "not an object"}]


@pytest.mark.parametrize("route", ["/v1/batch", "/v1/audit"])
def test_a_bad_options_now_names_its_place_in_the_body(client: TestClient, route: str) -> None:
    """helper-57: it named `query.now`, a parameter the request never had."""
    r = client.post(route, json={"contacts": SAME_PERSON, "options": {"now": "garbage"}})
    assert [e["loc"] for e in assert_problem(r, 422)["errors"]] == ["body.options.now"]


@pytest.mark.parametrize("options", [None, {"duplicates": None}, {"now": None, "duplicates": None}])
def test_null_options_are_not_given(client: TestClient, options: Any) -> None:
    """SDKs write explicit nulls: a null `options` or `options.duplicates` was a 422 (helper-32), while a
    null `options.now` was always read as not given."""
    assert clusters(client, "/v1/batch", options=options) == [["c1", "c2"]]


def test_a_duplicates_query_that_is_no_boolean_is_a_problem(client: TestClient) -> None:
    r = client.post("/v1/batch?duplicates=maybe", json={"contacts": SAME_PERSON})
    assert assert_problem(r, 422)["errors"][0]["loc"] == "query.duplicates"
    r = client.post("/v1/batch?duplicates=maybe", content=b'{"type": "contact", "id": "c1"}\n',
                    headers={"content-type": "application/x-ndjson"})
    assert_problem(r, 422)


@pytest.mark.parametrize("route", ["/v1/batch", "/v1/audit"])
def test_the_openapi_document_describes_the_duplicates_parameter(client: TestClient, route: str) -> None:
    parameters = client.get("/openapi.json").json()["paths"][route]["post"]["parameters"]
    (duplicates,) = [p for p in parameters if p["name"] == "duplicates"]
    assert duplicates["in"] == "query" and duplicates["schema"]["type"] == "boolean"
    assert duplicates["schema"]["default"] is True and "options.duplicates" in duplicates["description"]
