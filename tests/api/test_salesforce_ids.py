"""A Salesforce id in its 15- and 18-character forms names one record: never its own duplicate, and the index
finds it by either form (helper-78)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.scoring.values import id_forms, same_record_id

SHORT, LONG = "0035g00000QqQqQ", "0035g00000QqQqQAAV"
PERSON = {"first_name": "Quinn", "last_name": "Quarles", "email": "quinn.quarles@acme-widgets.com",
          "phone": "+1 415 555 0199", "title": "VP Sales"}


def test_the_two_forms_of_one_id_are_one_record() -> None:
    assert same_record_id(SHORT, LONG) and same_record_id(LONG, SHORT) and same_record_id("c1", "c1")
    assert id_forms(SHORT) == (SHORT, LONG) and id_forms(LONG) == (LONG, SHORT)
    assert not same_record_id(SHORT.lower(), LONG), "the 15-character form is case-sensitive"
    assert not same_record_id(SHORT, SHORT + "AAA"), "a suffix that is not the checksum is another id"
    assert id_forms("c-1") == ("c-1",) and id_forms("order-2024-00001") == ("order-2024-00001",)


def test_a_record_is_not_a_duplicate_of_itself_in_a_reference_list(client: TestClient) -> None:
    short, long = {"id": SHORT, **PERSON}, {"id": LONG, **PERSON}
    body = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [short],
                                               "reference": [long]}).json()
    assert body["pairs"] == [] and body["stats"]["duplicate_rate"] == 0.0
    within = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [short, long]})
    assert within.json()["pairs"] == []


def test_a_record_is_not_a_duplicate_of_itself_among_candidates(client: TestClient) -> None:
    report = client.post("/v1/contacts/score", json={"record": {"id": SHORT, **PERSON},
                                                     "candidates": [{"id": LONG, **PERSON}]}).json()
    assert report["duplicates"] == [] and report["decision"]["action"] != "alert", report["decision"]


def test_a_record_is_not_a_duplicate_of_itself_in_the_index(client: TestClient) -> None:
    sf = {"attributes": {"type": "Contact"}, "Id": LONG, "FirstName": "Quinn", "LastName": "Quarles",
          "Email": PERSON["email"], "Phone": PERSON["phone"]}
    [stored] = client.post("/v1/webhooks/salesforce", params={"index": "true"}, json=sf).json()["results"]
    assert (stored["record_id"], stored["indexed"]) == (LONG, True)
    report = client.post("/v1/contacts/score", json={"id": SHORT, **PERSON}).json()
    assert report["duplicate_check"] == "index" and report["duplicates"] == [], report["duplicates"]
    other = client.post("/v1/contacts/score", json={"id": "0035g00000ZzZzZ", **PERSON}).json()
    assert [d["b"] for d in other["duplicates"]] == [LONG], "another id is still its duplicate"


def test_the_index_finds_a_record_by_either_form_of_its_id(client: TestClient) -> None:
    assert client.put(f"/v1/index/contacts/{LONG}", json=PERSON).status_code == 200
    assert client.get(f"/v1/index/contacts/{SHORT}").json() == {"id": LONG, **PERSON}
    assert client.get(f"/v1/index/contacts/{SHORT.lower()}").status_code == 404
    assert client.delete(f"/v1/index/contacts/{SHORT}").status_code == 204
    assert client.get(f"/v1/index/contacts/{LONG}").status_code == 404
    client.put(f"/v1/index/contacts/{SHORT}", json=PERSON)
    assert client.get(f"/v1/index/contacts/{LONG}").json() == {"id": SHORT, **PERSON}
    assert client.delete(f"/v1/index/contacts/{LONG}").status_code == 204
    assert client.delete(f"/v1/index/contacts/{SHORT}").status_code == 404
