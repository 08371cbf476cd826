"""`POST /v1/duplicates` (dedupe and linkage), the index endpoints, and duplicates in single-record scoring."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

BOB = {"id": "c1", "first_name": "Robert", "last_name": "Smith", "email": "bob.smith@acme.com",
       "phone": "(415) 555-0123", "decision_role": "economic_buyer"}
BOBBY = {"id": "c2", "first_name": "Bob", "last_name": "Smith", "email": "Bob.Smith@ACME.com",
         "phone": "+1 415 555 0123", "title": "CFO"}
ALICE = {"id": "c3", "first_name": "Alice", "last_name": "Jones", "email": "alice@globex.com"}


def test_dedupe_answers_in_the_documented_shape(client: TestClient) -> None:
    r = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [BOB, BOBBY, ALICE]})
    assert r.status_code == 200
    body = r.json()
    assert [(p["a"], p["b"]) for p in body["pairs"]] == [("c1", "c2")]
    pair = body["pairs"][0]
    assert pair["band"] == "auto_merge" and pair["score"] > 0.999
    assert "same phone" in pair["reasons"] and "same email" in pair["reasons"]
    assert pair["survivor"] == "c1" and pair["merge_priority"] == "high"
    assert pair["merge_plan"] == {"title": {"value": "CFO", "from": "c2"}}
    assert body["clusters"] == [["c1", "c2"]]
    assert body["stats"]["records"] == 3 and body["stats"]["reference"] == 0
    assert body["stats"]["duplicate_rate"] == round(1 / 3, 6)


def test_records_without_ids_get_their_position(client: TestClient) -> None:
    records = [{k: v for k, v in BOB.items() if k != "id"}, {k: v for k, v in BOBBY.items() if k != "id"}]
    pair = client.post("/v1/duplicates", json={"record_type": "contacts", "records": records}).json()["pairs"][0]
    assert (pair["a"], pair["b"]) == ("0", "1")


def test_linkage_only_pairs_records_with_reference(client: TestClient) -> None:
    r = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [BOB, dict(BOB, id="c4")],
                                            "reference": [BOBBY, ALICE]})
    assert {(p["a"], p["b"]) for p in r.json()["pairs"]} == {("c1", "c2"), ("c4", "c2")}
    assert r.json()["stats"]["reference"] == 2


def test_threshold_controls_what_is_listed(client: TestClient) -> None:
    near = [{"id": "a", "first_name": "Jon", "last_name": "Smyth", "mailing_address": {"city": "Austin"}},
            {"id": "b", "first_name": "John", "last_name": "Smith", "mailing_address": {"city": "Austin"}}]
    low = client.post("/v1/duplicates", json={"record_type": "contacts", "records": near, "threshold": 0.01})
    high = client.post("/v1/duplicates", json={"record_type": "contacts", "records": near, "threshold": 1.0})
    assert len(low.json()["pairs"]) == 1 and high.json()["pairs"] == []


def test_a_pair_shown_at_the_threshold_is_listed_at_it(client: TestClient) -> None:
    """The listed score is the compared one (helper-57: identical contacts were shown 1.0 and fell below a
    threshold of 1.0 at 0.99997)."""
    same = [dict(BOB, id="a"), dict(BOB, id="b")]
    body = client.post("/v1/duplicates", json={"record_type": "contacts", "records": same}).json()
    shown = body["pairs"][0]["score"]
    at = client.post("/v1/duplicates", json={"record_type": "contacts", "records": same, "threshold": shown})
    assert [(p["a"], p["b"], p["score"]) for p in at.json()["pairs"]] == [("a", "b", shown)]
    assert at.json()["clusters"] == [["a", "b"]]


def test_dirty_values_never_fail_the_call(client: TestClient) -> None:
    dirty = [{"id": 1, "first_name": 42, "phone": {"x": 1}, "email": ["a"], "mailing_address": "nowhere"},
             {"id": True, "last_name": None, "birthdate": "yesterday"}, {}]
    assert client.post("/v1/duplicates", json={"record_type": "contacts", "records": dirty}).status_code == 200


def test_structural_errors_are_problems(client: TestClient) -> None:
    r = client.post("/v1/duplicates", json={"record_type": "opportunities", "records": []})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == "body.record_type"
    r = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [BOB, "x"]})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == "body.records.1"
    assert r.headers["content-type"] == "application/problem+json"


def test_too_many_records_is_413(tmp_path) -> None:  # noqa: ANN001
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", max_batch=2)
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [BOB, BOBBY, ALICE]})
    assert r.status_code == 413


def test_index_endpoints_round_trip(client: TestClient) -> None:
    assert client.put("/v1/index/contacts/c2", json=BOBBY).json()["indexed"] is True
    assert client.get("/v1/index/contacts/c2").json() == BOBBY
    assert client.get("/v1/index/contacts/nope").status_code == 404
    assert client.get("/v1/index/opportunities/x").status_code == 404
    bulk = client.post("/v1/index/contacts/bulk", json={"records": [ALICE, {"first_name": "no id"}]}).json()
    assert bulk["indexed"] == 1 and bulk["errors"][0]["loc"] == "body.records.1"
    assert client.delete("/v1/index/contacts/c2").status_code == 204
    assert client.delete("/v1/index/contacts/c2").status_code == 404


def test_scoring_a_saved_record_finds_its_duplicate_in_the_index(client: TestClient) -> None:
    client.post("/v1/index/contacts/bulk", json={"records": [BOBBY, ALICE]})
    report = client.post("/v1/contacts/score?index=true", json=BOB).json()
    assert report["duplicate_check"] == "index"
    assert [d["b"] for d in report["duplicates"]] == ["c2"]
    assert report["decision"]["action"] == "alert"
    assert "contact.duplicate.auto_merge" in report["decision"]["reasons"]
    assert report["indexed"] is True and client.get("/v1/index/contacts/c1").json() == BOB
    again = client.post("/v1/contacts/score", json=BOB).json()
    assert [d["b"] for d in again["duplicates"]] == ["c2"], "a record is never its own duplicate"


def test_a_new_lead_is_matched_with_the_indexed_contacts(client: TestClient) -> None:
    """The classic duplicate: the person is already a contact and comes in again as a lead (match_also)."""
    hannah = {"id": "003H", "first_name": "Hannah", "last_name": "Oyelaran", "email": "hannah.oyelaran@wavecrest.io",
              "phone": "+1 617 555 0142", "mailing_address": {"city": "Boston"}}
    client.post("/v1/index/contacts/bulk", json={"records": [hannah, ALICE]})
    lead = {"id": "00QH", "first_name": "Hannah", "last_name": "Oyelaran", "email": "hannah.oyelaran@wavecrest.io",
            "company": "Wavecrest", "address": {"city": "Boston"}}
    report = client.post("/v1/leads/score", json=lead).json()
    [pair] = report["duplicates"]
    assert (pair["b"], pair["b_type"], pair["band"]) == ("003H", "contact", "auto_merge")
    assert pair["survivor"] == "003H" and pair["merge_plan"] == {}  # the lead converts into the contact
    finding = next(i for i in report["issues"] if i["rule"] == "lead.duplicate.existing_contact")
    assert finding["message"].startswith("Already a contact: 003H (score 1.00, auto-merge: ")
    # the other way round, and not when the rules file says so
    client.post("/v1/index/leads/bulk", json={"records": [lead]})
    report = client.post("/v1/contacts/score", json=hannah).json()
    assert [(d["b"], d.get("b_type")) for d in report["duplicates"]] == [("00QH", "lead")]


def test_a_lead_that_is_an_indexed_contact_is_judged_as_in_a_batch(client: TestClient) -> None:
    """helper-78: the index lookup called a lead matching a contact lead.duplicate.auto_merge (an error:
    "merge instead of creating another record", decision alert), a batch lead.duplicate.existing_contact (a
    warning: convert the lead). A lead cannot be merged into a contact: one verdict on both paths, with or
    without an id; a converted lead (no longer worked) is that contact already."""
    person = {"first_name": "Hannah", "last_name": "Oyelaran", "email": "hannah.oyelaran@wavecrest.io"}
    hannah = {"id": "003H", **person, "phone": "+1 617 555 0142", "mailing_address": {"city": "Boston"}}
    lead = {"id": "00QH", **person, "company": "Wavecrest", "status": "Working",
            "address": {"city": "Boston"}}
    now = {"now": "2024-06-15T12:00:00Z"}
    [batch] = client.post("/v1/batch", params=now,
                          json={"contacts": [hannah], "leads": [lead]}).json()["results"]["leads"]
    client.put("/v1/index/contacts/003H", json=hannah)
    single = client.post("/v1/leads/score", params=now, json=lead).json()

    def duplicates(report: dict[str, Any]) -> list[str]:
        return [i["rule"] for i in report["issues"] if ".duplicate." in i["rule"]]

    assert duplicates(single) == duplicates(batch) == ["lead.duplicate.existing_contact"]
    assert single["decision"] == batch["decision"] and single["quality_score"] == batch["quality_score"]
    no_id = client.post("/v1/leads/score", json={k: v for k, v in lead.items() if k != "id"}).json()
    assert duplicates(no_id) == ["lead.duplicate.existing_contact"]
    assert duplicates(client.post("/v1/leads/score", json=lead | {"status": "Converted"}).json()) == []


def test_matching_across_types_follows_the_rules_file(tmp_path) -> None:  # noqa: ANN001
    rules_file = tmp_path / "org.toml"
    rules_file.write_text("[duplicates]\nmatch_also = { lead = [], contact = [] }\n")
    app = create_app(Settings(rules_file=rules_file, database_url=f"sqlite:///{tmp_path / 'dq.db'}"))
    with TestClient(app) as client:
        client.post("/v1/index/contacts/bulk", json={"records": [BOBBY]})
        assert client.post("/v1/leads/score", json={**BOB, "id": "00Q1"}).json()["duplicates"] == []
        assert client.post("/v1/contacts/score", json=BOB).json()["duplicates"]


def test_caller_supplied_candidates_replace_the_index(client: TestClient) -> None:
    report = client.post("/v1/contacts/score", json={"record": BOB, "candidates": [BOBBY, ALICE]}).json()
    assert report["duplicate_check"] == "candidates"
    assert [d["b"] for d in report["duplicates"]] == ["c2"]
    assert report["record_id"] == "c1"


def test_duplicates_can_block_when_the_rules_say_so(tmp_path) -> None:  # noqa: ANN001
    rules_file = tmp_path / "org.toml"
    rules_file.write_text('[decision]\nblock_rules = ["contact.duplicate.auto_merge"]\n')
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", rules_file=rules_file)
    with TestClient(create_app(settings)) as client:
        report = client.post("/v1/contacts/score", json={"record": BOB, "candidates": [BOBBY]}).json()
    assert report["decision"] == {"action": "block", "reasons": ["contact.duplicate.auto_merge"]}


def test_record_type_may_be_singular_as_reports_write_it(client: TestClient) -> None:
    """helper-61: "contact" (every report's record_type) was a 422; both spellings name the type."""
    plural = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [BOB, BOBBY]}).json()
    singular = client.post("/v1/duplicates", json={"record_type": "contact", "records": [BOB, BOBBY]}).json()
    assert singular["pairs"] == plural["pairs"] and singular["clusters"] == [["c1", "c2"]]
    for wrong in ("opportunity", ["contacts"], {"type": "contacts"}):
        r = client.post("/v1/duplicates", json={"record_type": wrong, "records": [BOB]})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == "body.record_type"



def test_a_position_that_is_another_records_id_is_not_reused(client: TestClient) -> None:
    """helper-58: an id-less Robert at position 0 and Alice with id '0' were one id ('0'): the pair with
    Bobby was listed under Alice's id. A position some record holds as its id is written '#<position>'."""
    robert = {k: v for k, v in BOB.items() if k != "id"}
    body = client.post("/v1/duplicates", json={"record_type": "contacts", "records": [
        robert, dict(ALICE, id="0"), dict(BOBBY, id="x")]}).json()
    assert [(p["a"], p["b"]) for p in body["pairs"]] == [("#0", "x")]
    assert body["clusters"] == [["#0", "x"]]
