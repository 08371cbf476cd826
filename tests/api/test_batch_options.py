"""`POST /v1/batch` options in the body and the cross-record checks that read which fields are present."""

from __future__ import annotations

from fastapi.testclient import TestClient

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
