"""POST /v1/webhooks/{salesforce,hubspot,generic}: CRM payloads scored with no glue code, signed if set."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.adapters import hubspot_events
from app.api.routes import score as score_routes
from app.api.routes import webhooks as webhook_routes
from app.config import Settings
from app.main import create_app
from app.scoring import score_record
from app.scoring.registry import RULES
from tests.api.assertions import assert_problem, error_locs
from tests.api.signing import HUBSPOT_SECRET, WEBHOOK_SECRET, hubspot_headers, sign
from tests.conftest import NOW_ISO
from tests.metrics.support import value

FIXTURES = Path(__file__).parents[1] / "fixtures"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()["results"]  # type: ignore[no-any-return]


def issue(report: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(i for i in report["issues"] if i["rule"] == rule)


# ------------------------------------------------------------------------------------------- payloads
def test_salesforce_query_result_scores_every_record_naming_salesforce_fields(client: TestClient) -> None:
    reports = results(client.post("/v1/webhooks/salesforce", params={"now": NOW_ISO},
                                  content=raw("salesforce/contacts_query.json")))
    assert [r["record_id"] for r in reports] == ["003D000000QV9n2IAD", "003D000000QV9n3IAD"]
    assert all(r["record_type"] == "contact" and r["source"] == {"system": "salesforce", "object": "Contact"}
               for r in reports)
    email = issue(reports[0], "contact.email.invalid")
    assert (email["field"], email["source_field"], email["value"]) == ("email", "Email", "efrank@genepoint")
    assert issue(reports[1], "contact.required.missing")["source_field"] is not None
    assert reports[0]["duplicate_check"] == "index"
    # the answer names the Salesforce fields to fill, next to the canonical requirement
    completeness = reports[1]["completeness"]
    assert completeness["missing"] and list(completeness["missing_source_fields"]) == completeness["missing"]
    assert completeness["missing_source_fields"].get("decision_role", "absent") is None
    assert all(i["source_field"] for i in reports[1]["issues"] if i["rule"] == "contact.required.missing"
               and i["field"] != "decision_role")


def test_salesforce_single_records(client: TestClient) -> None:
    [account] = results(client.post("/v1/webhooks/salesforce", content=raw("salesforce/account.json")))
    assert account["record_type"] == "account" and account["record_id"] == "001D000000INjVeIAL"
    assert not [i for i in account["issues"] if i["rule"].endswith("field.unknown")]
    [opp] = results(client.post("/v1/webhooks/salesforce", params={"now": NOW_ISO},
                                content=raw("salesforce/opportunity.json")))
    assert opp["record_type"] == "opportunity"
    unknown = issue(opp, "opportunity.field.unknown")
    assert unknown["field"] == unknown["source_field"] == "Budget__c"
    [lead] = results(client.post("/v1/webhooks/salesforce", content=raw("salesforce/lead.json")))
    assert lead["record_type"] == "lead" and lead["lead_score"] is not None


def test_hubspot_epoch_seconds_are_an_invalid_date_not_1970(client: TestClient) -> None:
    deal = {"id": "9", "properties": {"dealname": "Renewal", "closedate": "1735603200", "dealstage": "closedwon"}}
    [result] = results(client.post("/v1/webhooks/hubspot", params={"now": NOW_ISO}, json=deal))
    invalid = issue(result, "opportunity.dates.invalid")
    assert invalid["field"] == "close_date" and invalid["value"] == "1735603200"


def test_hubspot_objects_single_results_and_inputs(client: TestClient) -> None:
    [contact] = results(client.post("/v1/webhooks/hubspot", content=raw("hubspot/contact.json")))
    assert contact["record_id"] == "512" and contact["source"] == {"system": "hubspot", "object": "contacts"}
    title = next(i for i in contact["issues"] if i["field"] == "title")
    assert title["source_field"] == "jobtitle"
    [company] = results(client.post("/v1/webhooks/hubspot", content=raw("hubspot/companies_batch_read.json")))
    assert company["record_type"] == "account"
    # HubSpot writes every number as text: the adapter reads it (the rule ids named here exist)
    assert {"account.employee_count.as_text", "account.employee_count.invalid"} <= set(RULES)
    assert not [i for i in company["issues"] if i["rule"] in ("account.employee_count.as_text",
                                                              "account.employee_count.invalid")]
    [deal] = results(client.post("/v1/webhooks/hubspot", params={"now": NOW_ISO},
                                 content=raw("hubspot/deals_batch_create.json")))
    assert deal["record_type"] == "opportunity"
    assert not [i for i in deal["issues"] if i["rule"] == "opportunity.stage.invalid"]
    unknown = issue(deal, "opportunity.field.unknown")
    assert unknown["source_field"] == "budget_approved"


def test_generic_canonical_records(client: TestClient) -> None:
    record = {"type": "contact", "id": "c1", "email": "bob@"}
    [one] = results(client.post("/v1/webhooks/generic", json=record))
    assert one["record_type"] == "contact" and "source_field" not in one["issues"][0]
    many = results(client.post("/v1/webhooks/generic", json={"records": [
        {"type": "accounts", "id": "a1", "name": "Acme"}, {"type": "lead", "id": "l1"}]}))
    assert [r["record_type"] for r in many] == ["account", "lead"]
    hinted_response = client.post("/v1/webhooks/generic", params={"type": "opportunity"}, json=[{"id": "o1"}])
    [hinted] = results(hinted_response)
    assert hinted["record_type"] == "opportunity"


def test_structural_errors_are_problems(client: TestClient) -> None:
    doc = assert_problem(client.post("/v1/webhooks/generic", json={"id": "x"}), 422)
    assert error_locs(doc) == ["body.type"]
    doc = assert_problem(client.post("/v1/webhooks/salesforce", json={"Id": "001"}), 422)
    assert error_locs(doc) == ["body.attributes.type"]
    assert_problem(client.post("/v1/webhooks/salesforce", json={"attributes": {"type": "Case"}}), 422)
    assert_problem(client.post("/v1/webhooks/hubspot", content=b"{not json"), 400)
    assert_problem(client.post("/v1/webhooks/generic", json={"records": [1]}), 422)


def test_a_malformed_event_is_rejected_alone_and_the_rest_of_its_delivery_counts(client: TestClient) -> None:
    """HubSpot retries a whole delivery it did not get a 2xx for: one bad event must not hold the others."""
    events = [{"eventId": 1, "subscriptionType": "contact.propertyChange", "propertyName": "email",
               "propertyValue": "a@b.co"},
              {"eventId": 2, "subscriptionType": "contact.creation", "objectId": 1},
              {"eventId": 3, "subscriptionType": "contact.propertyChange", "objectId": 1},
              {"eventId": 4, "objectId": 2},
              {"eventId": 5, "subscriptionType": "contact.propertyChange", "objectId": 8, "propertyName": "email",
               "propertyValue": "bob@"}]
    response = client.post("/v1/webhooks/hubspot", json=events)
    assert response.status_code == 200, response.text
    body = response.json()
    [report] = body["results"]
    assert report["record_id"] == "8" and "contact.email.invalid" in {i["rule"] for i in report["issues"]}
    rejected = {a["event_id"]: a for a in body["events"]["acknowledged"] if a["status"] == "rejected"}
    assert {n: a["loc"] for n, a in rejected.items()} == {
        1: "body.0.objectId", 3: "body.2.propertyName", 4: "body.3.subscriptionType"}
    assert "objectId" in rejected[1]["note"]
    assert [a["status"] for a in body["events"]["acknowledged"] if a["event_id"] == 2] == ["acknowledged"]


def test_property_changes_with_index_true_update_what_the_index_holds(client: TestClient) -> None:
    [stored] = results(client.post("/v1/webhooks/hubspot", params={"index": "true"},
                                   content=raw("hubspot/contact.json")))
    assert stored["indexed"] is True
    change = [{"eventId": 11, "subscriptionType": "contact.propertyChange", "objectId": 512, "occurredAt": 5,
               "propertyName": "email", "propertyValue": "bryan.cooper@newco.example"},
              {"eventId": 12, "subscriptionType": "contact.propertyChange", "objectId": 777, "occurredAt": 5,
               "propertyName": "email", "propertyValue": "first.seen@acme.example"}]
    without = client.post("/v1/webhooks/hubspot", json=change).json()
    assert [r.get("indexed") for r in without["results"]] == [None, None]
    assert client.get("/v1/index/contacts/512").json()["email"] == "bcooper@biglytics.net"

    body = client.post("/v1/webhooks/hubspot", params={"index": "true"}, json=change).json()
    assert [r["indexed"] for r in body["results"]] == [True, True]
    updated = client.get("/v1/index/contacts/512").json()
    assert updated["email"] == "bryan.cooper@newco.example"
    assert (updated["first_name"], updated["last_name"]) == ("Bryan", "Cooper")  # the rest is kept
    assert client.get("/v1/index/contacts/777").json()["email"] == "first.seen@acme.example"
    # the stored change is what later saves are matched against
    [report] = results(client.post("/v1/webhooks/generic", json={
        "type": "contact", "id": "c-new", "first_name": "Bryan", "last_name": "Cooper",
        "email": "bryan.cooper@newco.example"}))
    assert "512" in {d["a"] for d in report["duplicates"]} | {d["b"] for d in report["duplicates"]}


def test_a_hubspot_merge_event_removes_the_merged_away_objects_from_the_index(client: TestClient) -> None:
    for rid in ("512", "513"):
        payload = json.loads(raw("hubspot/contact.json")) | {"id": rid}
        payload["properties"] = payload["properties"] | {"hs_object_id": rid}
        [stored] = results(client.post("/v1/webhooks/hubspot", params={"index": "true"}, json=payload))
        assert stored["indexed"] is True
    merge = [{"eventId": 21, "subscriptionType": "contact.merge", "objectId": 512, "occurredAt": 9,
              "primaryObjectId": 512, "newObjectId": 512, "mergedObjectIds": [513, 512]}]
    [ack] = client.post("/v1/webhooks/hubspot", json=merge).json()["events"]["acknowledged"]
    assert ack["merged_object_ids"] == ["513"] and ack.get("unindexed") is None
    assert client.get("/v1/index/contacts/513").status_code == 200

    [ack] = client.post("/v1/webhooks/hubspot", params={"index": "true"}, json=merge).json()["events"][
        "acknowledged"]
    assert ack["unindexed"] is True
    assert client.get("/v1/index/contacts/513").status_code == 404
    assert client.get("/v1/index/contacts/512").status_code == 200  # the surviving object stays


def test_index_true_stores_records_and_later_saves_match_them(client: TestClient) -> None:
    body = json.loads(raw("salesforce/contacts_query.json"))
    first = body["records"][0]
    [stored] = results(client.post("/v1/webhooks/salesforce", params={"index": "true"}, json=first))
    assert stored["indexed"] is True
    again = dict(first, Id="003D000000QV9zzIAD")
    [report] = results(client.post("/v1/webhooks/salesforce", json=again))
    assert report["duplicates"], report
    assert "003D000000QV9n2IAD" in {report["duplicates"][0]["a"], report["duplicates"][0]["b"]}


def test_a_deleted_or_merged_away_record_is_not_judged_and_leaves_the_index(client: TestClient) -> None:
    """A merged-away Salesforce record (IsDeleted, MasterRecordId) or an archived HubSpot object was judged
    and indexed as live, so the merge's survivor was then an auto_merge duplicate of the record merged into
    it."""
    loser = {"attributes": {"type": "Contact"}, "Id": "003Dn00000MrgLsIAJ", "FirstName": "Priya",
             "LastName": "Raghunathan", "Email": "priya.r@contoso.com"}
    [stored] = results(client.post("/v1/webhooks/salesforce", params={"index": "true"}, json=loser))
    assert stored["indexed"] is True
    merged = loser | {"IsDeleted": True, "MasterRecordId": "003Dn00000MrgWn"}
    [removed] = results(client.post("/v1/webhooks/salesforce", params={"index": "true"}, json=merged))
    assert (removed["removed"], removed["source_field"], removed["merged_into"]) == (
        "merged", "MasterRecordId", "003Dn00000MrgWnIAJ")
    assert (removed["record_id"], removed["indexed"], removed["unindexed"]) == (
        "003Dn00000MrgLsIAJ", False, True)
    assert "issues" not in removed and "quality_score" not in removed and "not judged" in removed["note"]
    assert client.get("/v1/index/contacts/003Dn00000MrgLsIAJ").status_code == 404
    survivor = loser | {"Id": "003Dn00000MrgWnIAJ", "IsDeleted": False}
    [report] = results(client.post("/v1/webhooks/salesforce", json=survivor))
    assert report["duplicates"] == [] and report["decision"]["action"] == "allow"

    archived = {"id": "990001", "archived": True, "archivedAt": "2024-06-01T00:00:00Z",
                "properties": {"email": "arch@fab.com", "firstname": "Arch", "lastname": "Ived"}}
    [removed] = results(client.post("/v1/webhooks/hubspot", params={"index": "true"}, json=archived))
    assert (removed["removed"], removed["source_field"], removed["indexed"], removed["unindexed"]) == (
        "deleted", "archived", False, False)
    assert client.get("/v1/index/contacts/990001").status_code == 404
    live = archived | {"id": "990002", "archived": False}
    [report] = results(client.post("/v1/webhooks/hubspot", json=live))
    assert report["duplicates"] == []
    [removed] = results(client.post("/v1/webhooks/hubspot", json=archived))  # no ?index: nothing written
    assert removed["removed"] == "deleted" and "indexed" not in removed and "unindexed" not in removed


def test_webhook_records_are_counted_with_source_webhook(client: TestClient) -> None:
    name = "crm_dq_records_scored_total"
    before = value(client.get("/metrics").text, name, record_type="contact", source="webhook")
    results(client.post("/v1/webhooks/salesforce", content=raw("salesforce/contacts_query.json")))
    results(client.post("/v1/webhooks/hubspot", content=raw("hubspot/contact.json")))
    after = value(client.get("/metrics").text, name, record_type="contact", source="webhook")
    assert after - before == 3
    assert value(client.get("/metrics").text, name, record_type="contact", source="api") == 0


def on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def scoring_threads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each record scored from now on was scored on the event loop (True) or in a worker thread."""
    seen: list[bool] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(on_the_loop())
        return score_record(*args, **kwargs)

    for module in (webhook_routes, score_routes, hubspot_events):
        monkeypatch.setattr(module, "score_record", watched, raising=False)
    return seen


def property_changes(count: int) -> list[dict[str, Any]]:
    return [{"eventId": n, "subscriptionType": "contact.propertyChange", "objectId": 100 + n,
             "propertyName": "email", "propertyValue": f"p{n}@example", "occurredAt": 1}
            for n in range(count)]


def test_a_large_payload_is_judged_off_the_event_loop_a_record_save_on_it(client: TestClient,
                                                                         scoring_threads: list[bool]) -> None:
    """Every record of a payload was scored on the event loop: 2,000 held /healthz for 0.9 s, 20,000 for more
    than 5 s. Over 20 entries they are adapted and judged in a worker thread, answered and counted alike."""
    contacts = [{"type": "contact", "id": f"c{n}", "first_name": "Ann", "last_name": f"Lee{n}",
                 "email": f"ann{n}@acme.com"} for n in range(25)]
    contacts[24]["email"] = "ann3@acme.com"  # the payload's own duplicate, found as each record is indexed
    name = "crm_dq_records_scored_total"
    before = value(client.get("/metrics").text, name, record_type="contact", source="webhook")
    reports = results(client.post("/v1/webhooks/generic", params={"now": NOW_ISO, "index": "true"},
                                  json=contacts))
    assert scoring_threads == [False] * 25
    assert [r["record_id"] for r in reports] == [f"c{n}" for n in range(25)]
    assert all(r["indexed"] is True and r["duplicate_check"] == "index" for r in reports)
    assert [{d["a"], d["b"]} for d in reports[24]["duplicates"]] == [{"c24", "c3"}]
    after = value(client.get("/metrics").text, name, record_type="contact", source="webhook")
    assert after - before == 25
    scoring_threads.clear()
    results(client.post("/v1/webhooks/generic", params={"now": NOW_ISO},
                        json={**contacts[7], "id": "c7b", "email": "x@y.org"}))
    assert scoring_threads == [True]  # a record save stays on the fast path
    scoring_threads.clear()
    sobjects = [{"attributes": {"type": "Contact"}, "Id": f"003A{n:04d}", "LastName": f"Lee{n}",
                 "Email": f"lee{n}@example"} for n in range(30)]
    reports = results(client.post("/v1/webhooks/salesforce", params={"now": NOW_ISO},
                                  json={"totalSize": 30, "done": True, "records": sobjects}))
    assert scoring_threads == [False] * 30 and len(reports) == 30
    assert issue(reports[29], "contact.email.invalid")["source_field"] == "Email"
    scoring_threads.clear()
    body = client.post("/v1/webhooks/hubspot", params={"now": NOW_ISO}, json=property_changes(30)).json()
    assert scoring_threads == [False] * 30 and len(body["results"]) == 30
    assert body["events"]["property_changes"] == 30
    assert issue(body["results"][0], "contact.email.invalid")["source_field"] == "email"
    scoring_threads.clear()
    body = client.post("/v1/webhooks/hubspot", params={"now": NOW_ISO}, json=property_changes(1)).json()
    assert scoring_threads == [True] and len(body["results"]) == 1


def test_the_thread_answers_as_the_loop_does(client: TestClient) -> None:
    """The same records judged one by one (on the loop) and in one payload of 21 (in a thread)."""
    now = {"now": NOW_ISO}
    contacts = [{"type": "contact", "id": f"c{n}", "last_name": f"Lee{n}", "email": f"lee{n}@example",
                 "phone": "650 555 0100"} for n in range(21)]
    alone = [results(client.post("/v1/webhooks/generic", params=now, json=c))[0] for c in contacts]
    assert results(client.post("/v1/webhooks/generic", params={"now": NOW_ISO}, json=contacts)) == alone
    sobjects = [{"attributes": {"type": "Lead"}, "Id": f"00QA{n:04d}", "LastName": f"Lee{n}",
                 "Company": "Acme", "Website": "www.acme.com"} for n in range(21)]
    alone = [results(client.post("/v1/webhooks/salesforce", params=now, json=s))[0] for s in sobjects]
    assert results(client.post("/v1/webhooks/salesforce", params={"now": NOW_ISO}, json=sobjects)) == alone


def test_hubspot_event_deliveries_have_the_record_limit_too(tmp_path: Path) -> None:
    """Event deliveries had no limit on their number of events; each webhook counts entries before adapting."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/crm-dq.sqlite3", max_batch=25)
    with TestClient(create_app(settings)) as client:
        assert len(client.post("/v1/webhooks/hubspot", json=property_changes(25)).json()["results"]) == 25
        doc = assert_problem(client.post("/v1/webhooks/hubspot", json=property_changes(26)), 413)
        assert "26 records" in doc["detail"]
        contacts = [{"id": str(n), "properties": {"email": f"a{n}@b.com"}} for n in range(26)]
        assert_problem(client.post("/v1/webhooks/hubspot", json={"results": contacts}), 413)
        assert_problem(client.post("/v1/webhooks/generic", json={"records": [{"type": "lead"}] * 26}), 413)


# ----------------------------------------------------------------------------------------- signatures
@pytest.mark.parametrize("path", ["/v1/webhooks/salesforce", "/v1/webhooks/generic"])
def test_body_signature_valid_tampered_missing(signed: TestClient, path: str) -> None:
    body = raw("salesforce/contacts_query.json") if path.endswith("salesforce") \
        else b'{"type": "contact", "id": "c1", "email": "bob@"}'
    ok = signed.post(path, content=body, headers={"X-CRM-DQ-Signature": sign(body)})
    assert results(ok)
    tampered = body.replace(b"c1", b"c2") if b"c1" in body else body.replace(b"Edna", b"Edda")
    assert_problem(signed.post(path, content=tampered, headers={"X-CRM-DQ-Signature": sign(body)}), 401)
    assert_problem(signed.post(path, content=body, headers={"X-CRM-DQ-Signature": sign(body, "other")}), 401)
    assert_problem(signed.post(path, content=body), 401)
    assert_problem(signed.post(path, content=body, headers={"X-CRM-DQ-Signature": "sha256=zz"}), 401)


def test_hubspot_signature_valid_tampered_stale_missing(signed: TestClient) -> None:
    body = raw("hubspot/contact.json")
    uri = "http://testserver/v1/webhooks/hubspot?index=true"
    ok = signed.post(uri, content=body, headers=hubspot_headers(uri, body))
    assert results(ok)[0]["indexed"] is True
    assert_problem(signed.post(uri, content=body.replace(b"Bryan", b"Brian"),
                               headers=hubspot_headers(uri, body)), 401)
    other_uri = "http://testserver/v1/webhooks/hubspot"
    assert_problem(signed.post(other_uri, content=body, headers=hubspot_headers(uri, body)), 401)
    stale = int(time.time() * 1000) - 5 * 60 * 1000 - 1000
    assert_problem(signed.post(uri, content=body, headers=hubspot_headers(uri, body, stale)), 401)
    assert_problem(signed.post(uri, content=body, headers=hubspot_headers(uri, body, secret="wrong")), 401)
    assert_problem(signed.post(uri, content=body, headers={"content-type": "application/json"}), 401)
    recent = int(time.time() * 1000) - 4 * 60 * 1000
    assert results(signed.post(uri, content=body, headers=hubspot_headers(uri, body, recent)))


def test_a_trailing_slash_is_served_not_redirected(signed: TestClient) -> None:
    """`/v1/webhooks/hubspot/` answered 307: a CRM does not replay its POST on a redirect, so the call was lost."""
    body = raw("hubspot/contact.json")
    uri = "http://testserver/v1/webhooks/hubspot/"
    response = signed.post(uri, content=body, headers=hubspot_headers(uri, body), follow_redirects=False)
    assert results(response)[0]["record_id"] == "512"
    body = json.dumps({"type": "contact", "id": "c1", "email": "bob@"}).encode()
    for path in ("/v1/webhooks/generic/", "/v1/webhooks/salesforce/"):
        response = signed.post(path, content=body, headers={"X-CRM-DQ-Signature": sign(body)},
                               params={"type": "Contact"}, follow_redirects=False)
        assert response.status_code == 200, (path, response.status_code)
    assert "/v1/webhooks/hubspot/" not in signed.app.openapi()["paths"]  # type: ignore[attr-defined]


OUTBOUND_MESSAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
 <notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00DD0000000abcd</OrganizationId>
  <Notification><Id>04lD0000000abcd</Id><sObject xsi:type="sf:Contact"
   xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>003D000000QV9n2IAD</sf:Id></sObject></Notification>
 </notifications></soapenv:Body></soapenv:Envelope>"""


@pytest.mark.parametrize("path", ["/v1/webhooks/salesforce", "/v1/webhooks/hubspot", "/v1/webhooks/generic"])
def test_an_xml_body_is_a_415_saying_json_is_expected(signed: TestClient, path: str) -> None:
    """A Salesforce Outbound Message (SOAP) got a 400 'not valid JSON', or with signing on a 401 for the
    signature header it cannot carry: it is a 415 that says JSON is expected and Outbound Messages are not
    supported, from its content type before its body is read, or from its body under another type."""
    soap = {"content-type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    doc = assert_problem(signed.post(path, content=OUTBOUND_MESSAGE, headers=soap), 415)
    assert "Outbound Messages" in doc["detail"] and error_locs(doc) == ["header.content-type"]
    headers = {"content-type": "application/json", "X-CRM-DQ-Signature": sign(OUTBOUND_MESSAGE)}
    if path.endswith("hubspot"):
        headers = hubspot_headers(f"http://testserver{path}", OUTBOUND_MESSAGE)
    doc = assert_problem(signed.post(path, content=OUTBOUND_MESSAGE, headers=headers), 415)
    assert error_locs(doc) == ["body"]


def test_unsigned_refusal_comes_before_parsing(signed: TestClient) -> None:
    doc = assert_problem(signed.post("/v1/webhooks/generic", content=b"not json"), 401)
    assert doc["type"] == "/problems/unauthorized"


def test_secrets_never_reach_responses_or_logs(signed: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = raw("hubspot/contact.json")
    uri = "http://testserver/v1/webhooks/hubspot"
    texts = [signed.post(uri, content=body, headers=hubspot_headers(uri, body, secret="wrong")).text,
             signed.post(uri, content=body, headers=hubspot_headers(uri, body)).text,
             signed.post("/v1/webhooks/generic", content=body, headers={"X-CRM-DQ-Signature": "sha25"}).text,
             signed.get("/openapi.json").text, signed.get("/v1/rules").text, signed.get("/metrics").text]
    settings_repr = repr(signed.app.state.settings)  # type: ignore[attr-defined]
    for secret in (WEBHOOK_SECRET, HUBSPOT_SECRET):
        assert all(secret not in text for text in texts)
        assert secret not in caplog.text
        assert secret not in settings_repr


# ------------------------------------------------------------------------- HubSpot event notifications
def test_hubspot_event_notifications_score_each_objects_changed_properties(client: TestClient) -> None:
    """A delivery shaped as HubSpot's webhook documentation shows: property changes grouped per object."""
    response = client.post("/v1/webhooks/hubspot", params={"now": NOW_ISO},
                           content=raw("hubspot/webhook_events.json"))
    assert response.status_code == 200, response.text
    body = response.json()
    reports = {(r["record_type"], r["record_id"]): r for r in body["results"]}
    assert list(reports) == [("contact", "1246965"), ("contact", "1246978"), ("opportunity", "5329120"),
                             ("account", "6355821024"), ("contact", "1246999")]
    contact = reports[("contact", "1246965")]
    assert contact["partial"] is True and contact["source"] == {"system": "hubspot", "object": "contacts"}
    assert contact["event_ids"] == [3816279340, 3816279341, 3816279342]
    assert contact["changed"] == [
        {"property": "email", "field": "email", "value": "bcooper@biglytics"},
        {"property": "jobtitle", "field": "title", "value": "VP of Sales"},
        {"property": "lifecyclestage", "field": None, "value": "subscriber"}]  # ignored by the mappings
    # findings about the changed properties only: no "department / phone / decision role missing"
    assert [(i["rule"], i["field"], i["source_field"]) for i in contact["issues"]] == [
        ("contact.email.invalid", "email", "email")]
    assert "completeness" not in contact and "quality_score" not in contact
    assert "partial record" in contact["note"] and "completeness" in contact["note"]
    assert contact["decision"] == {"action": "alert", "reasons": ["contact.email.invalid"]}
    assert contact["accuracy"]["checked"] >= 1 and contact["counts"]["error"] == 1
    # a property emptied is a finding: the name it belongs to is now missing
    cleared = reports[("contact", "1246978")]
    assert [(i["rule"], i["field"], i["source_field"]) for i in cleared["issues"]] == [
        ("contact.required.missing", "full_name", "firstname, lastname")]
    deal = reports[("opportunity", "5329120")]
    assert {i["rule"] for i in deal["issues"]} == {"opportunity.amount.negative"}
    assert next(i for i in deal["issues"])["source_field"] == "amount"
    # HubSpot's milliseconds date is read as a date, not reported as invalid
    assert {"property": "closedate", "field": "close_date", "value": "1717200000000"} in deal["changed"]
    assert not [i for i in deal["issues"] if i["field"] == "close_date"]
    company = reports[("account", "6355821024")]
    assert [(i["rule"], i["source_field"]) for i in company["issues"]] == [
        ("account.website.invalid", "domain")]
    generic = reports[("contact", "1246999")]  # "object.propertyChange" with objectTypeId 0-1
    assert [i["rule"] for i in generic["issues"]] == ["contact.phone.invalid"]
    events = body["events"]
    assert events["received"] == 11 and events["property_changes"] == 8
    acks = {a["subscription_type"]: a for a in events["acknowledged"]}
    assert set(acks) == {"contact.creation", "contact.deletion", "ticket.propertyChange"}
    creation, ticket = acks["contact.creation"], acks["ticket.propertyChange"]
    assert creation["status"] == "acknowledged" and creation["object_id"] == "1246978"
    assert ticket["status"] == "ignored" and "no mapping" in ticket["note"]


def test_the_latest_change_of_a_property_wins_whatever_the_delivery_order(client: TestClient) -> None:
    base = {"subscriptionType": "contact.propertyChange", "objectId": 7, "propertyName": "email",
            "portalId": 33, "appId": 1, "subscriptionId": 2, "attemptNumber": 0, "changeSource": "CRM_UI"}
    events = [dict(base, eventId=2, occurredAt=1700000000002, propertyValue="ann@globex.com"),
              dict(base, eventId=1, occurredAt=1700000000001, propertyValue="ann@")]
    [report] = client.post("/v1/webhooks/hubspot", json=events).json()["results"]
    assert report["changed"] == [{"property": "email", "field": "email", "value": "ann@globex.com"}]
    assert report["issues"] == [] and report["decision"]["action"] == "allow"
    assert report["event_ids"] == [1, 2]


def test_only_creation_and_deletion_events_are_acknowledged_with_nothing_scored(client: TestClient) -> None:
    events = [{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 123, "occurredAt": 1},
              {"eventId": 2, "subscriptionType": "deal.deletion", "objectId": 9, "occurredAt": 2}]
    body = client.post("/v1/webhooks/hubspot", json=events).json()
    assert body["results"] == [] and body["events"]["property_changes"] == 0
    assert [a["status"] for a in body["events"]["acknowledged"]] == ["acknowledged", "acknowledged"]


def test_a_hubspot_deletion_event_removes_the_object_from_the_index(client: TestClient) -> None:
    [stored] = results(client.post("/v1/webhooks/hubspot", params={"index": "true"},
                                   content=raw("hubspot/contact.json")))
    assert stored["indexed"] is True and client.get("/v1/index/contacts/512").status_code == 200
    deletion = [{"eventId": 9, "subscriptionType": "contact.deletion", "objectId": 512, "occurredAt": 1,
                 "portalId": 33, "appId": 1, "subscriptionId": 3, "attemptNumber": 0,
                 "changeSource": "CRM_UI"}]
    without_index = client.post("/v1/webhooks/hubspot", json=deletion).json()
    assert "unindexed" not in without_index["events"]["acknowledged"][0] or \
        without_index["events"]["acknowledged"][0]["unindexed"] is None
    assert client.get("/v1/index/contacts/512").status_code == 200
    [ack] = client.post("/v1/webhooks/hubspot", params={"index": "true"}, json=deletion).json()["events"][
        "acknowledged"]
    assert ack["unindexed"] is True
    assert client.get("/v1/index/contacts/512").status_code == 404


def test_partial_reports_count_their_findings_but_no_scored_record(client: TestClient) -> None:
    before = client.get("/metrics").text
    client.post("/v1/webhooks/hubspot", content=raw("hubspot/webhook_events.json"))
    after = client.get("/metrics").text
    scored = "crm_dq_records_scored_total"
    assert value(after, scored, record_type="contact", source="webhook") == \
        value(before, scored, record_type="contact", source="webhook")
    assert value(after, "crm_dq_required_fields_total", record_type="contact") == \
        value(before, "crm_dq_required_fields_total", record_type="contact")
    issues = "crm_dq_issues_total"
    assert value(after, issues, record_type="contact", rule="contact.email.invalid", severity="error") == \
        value(before, issues, record_type="contact", rule="contact.email.invalid", severity="error") + 1


def test_hubspot_event_deliveries_are_signed_like_any_other(signed: TestClient) -> None:
    body = raw("hubspot/webhook_events.json")
    uri = "http://testserver/v1/webhooks/hubspot"
    ok = signed.post(uri, content=body, headers=hubspot_headers(uri, body))
    assert ok.status_code == 200 and len(ok.json()["results"]) == 5
    tampered = body.replace(b"bcooper@biglytics", b"bcooper@biglytics.net")
    assert_problem(signed.post(uri, content=tampered, headers=hubspot_headers(uri, body)), 401)
    stale = int(time.time() * 1000) - 5 * 60 * 1000 - 1000
    assert_problem(signed.post(uri, content=body, headers=hubspot_headers(uri, body, stale)), 401)
    assert_problem(signed.post(uri, content=body, headers={"content-type": "application/json"}), 401)


# ------------------------------------------------ parameters the webhooks read themselves (hot path)

@pytest.mark.parametrize("path", ["/v1/webhooks/salesforce", "/v1/webhooks/hubspot", "/v1/webhooks/generic"])
def test_webhook_query_parameters_are_checked_and_documented(client: TestClient, path: str) -> None:
    assert error_locs(assert_problem(client.post(path, json={}, params={"index": "maybe"}), 422)) == ["query.index"]
    assert error_locs(assert_problem(client.post(path, json={}, params={"now": "soon"}), 422)) == ["query.now"]
    documented = {(p["in"], p["name"]) for p in client.app.openapi()["paths"][path]["post"]["parameters"]}  # type: ignore[attr-defined]
    assert {("query", "index"), ("query", "type"), ("query", "now")} <= documented
    assert any(where == "header" and "Signature" in name for where, name in documented)


@pytest.mark.parametrize("count", ["20000000000000000000", "1e20", "9223372036854775808", "-1e19"])
def test_an_integer_beyond_64_bits_is_judged_never_a_500(client: TestClient, count: str) -> None:
    """'numberofemployees': '1e20' became a Python int orjson cannot write: a 500 for objects and events."""
    [company] = results(client.post("/v1/webhooks/hubspot", json={
        "id": "5", "properties": {"name": "A", "numberofemployees": count}}))
    assert company["record_type"] == "account"
    event = {"eventId": 1, "subscriptionType": "company.propertyChange", "objectId": 5, "occurredAt": 1,
             "propertyName": "numberofemployees", "propertyValue": count}
    [partial] = results(client.post("/v1/webhooks/hubspot", json=[event]))
    assert partial["changed"][0]["property"] == "numberofemployees"


def test_an_unknown_hubspot_type_is_a_422_naming_the_known_ones(client: TestClient) -> None:
    """?type=lead was ignored and the object guessed; it now names the types HubSpot objects can be."""
    contact = {"id": "700", "properties": {"email": "lee@globex.com", "firstname": "Lee"}}
    doc = assert_problem(client.post("/v1/webhooks/hubspot", params={"type": "lead"}, json=contact), 422)
    assert error_locs(doc) == ["query.type"] and "contacts" in doc["detail"] and "deals" in doc["detail"]
    [report] = results(client.post("/v1/webhooks/hubspot", params={"type": "contact"}, json=contact))
    assert report["record_type"] == "contact"


@pytest.mark.parametrize(("properties", "record_type"), [
    ({"amount": "25000", "hs_next_step": "Send proposal", "hs_lastmodifieddate": "2024-06-10T00:00:00Z"},
     "opportunity"),
    ({"phone": "617-555-0100", "lastmodifieddate": "2024-06-10T00:00:00Z", "hs_object_id": "512"}, "contact"),
    ({"phone": "617-555-0100", "domain": "acme.com"}, "account"),
])
def test_the_hubspot_object_type_is_guessed_from_properties_only_it_has(
        client: TestClient, properties: dict[str, str], record_type: str) -> None:
    [report] = results(client.post("/v1/webhooks/hubspot", json={"id": "1", "properties": properties}))
    assert report["record_type"] == record_type


def test_hubspot_workflow_payloads_legacy_objects_and_a_flat_body(client: TestClient) -> None:
    """A workflow's "Send a webhook" posts the object as the legacy APIs read it (`vid`, `dealId`,
    `{"value": …}` properties) or a customised flat body: they were 422s or records with every field unknown."""
    contact = {"vid": 3234574, "canonical-vid": 3234574, "merged-vids": [], "portal-id": 62515,
               "is-contact": True, "properties": {
                   "firstname": {"value": "Bryan", "versions": [{"value": "Bryan", "timestamp": 1484026585538}]},
                   "lastname": {"value": "Cooper"}, "email": {"value": "bcooper@biglytics"},
                   "jobtitle": {"value": "CFO"}, "createdate": {"value": "1484026585538"}},
               "identity-profiles": [{"vid": 3234574, "identities": [{"type": "EMAIL", "value": "bcooper@x"}]}]}
    [report] = results(client.post("/v1/webhooks/hubspot", json=contact))
    assert (report["record_type"], report["record_id"]) == ("contact", "3234574")
    assert issue(report, "contact.email.invalid")["source_field"] == "email"
    assert not [i for i in report["issues"] if i["rule"] == "contact.field.unknown"]
    deal = {"portalId": 62515, "dealId": 151088, "isDeleted": False, "imports": [], "properties": {
        "dealname": {"value": "Big deal", "timestamp": 1409147350000, "source": "API", "versions": []},
        "amount": {"value": "60000", "timestamp": 1409147350000, "source": "API"},
        "dealstage": {"value": "closedwon"}, "pipeline": {"value": "default"}}}
    [report] = results(client.post("/v1/webhooks/hubspot", params={"now": NOW_ISO}, json=deal))
    assert (report["record_type"], report["record_id"]) == ("opportunity", "151088")
    assert report["normalized"].get("amount", 60000) == 60000
    assert {"opportunity.amount.as_text", "opportunity.amount.invalid"} <= set(RULES)
    assert not [i for i in report["issues"] if i["rule"] in ("opportunity.field.unknown", "opportunity.amount.as_text",
                                                            "opportunity.amount.invalid")]
    company = {"companyId": 8954037, "properties": {"name": {"value": "Biglytics"}, "domain": {"value": "x.io"}}}
    [report] = results(client.post("/v1/webhooks/hubspot", json=company))
    assert (report["record_type"], report["record_id"]) == ("account", "8954037")
    flat = {"hs_object_id": "512", "email": "bcooper@biglytics.net", "firstname": "Bryan", "lastname": "Cooper"}
    [report] = results(client.post("/v1/webhooks/hubspot", params={"type": "contacts"}, json=flat))
    assert (report["record_type"], report["record_id"]) == ("contact", "512")
    [report] = results(client.post("/v1/webhooks/hubspot", json={"properties": flat}))  # v3, no top-level id
    assert report["record_id"] == "512"


def test_one_bad_entry_gets_its_own_error_and_the_others_their_reports(client: TestClient) -> None:
    """A Task among Contacts, or one HubSpot entry with no properties, refused the whole payload with a 422;
    an empty query result was a 422 too."""
    records = [{"attributes": {"type": "Contact"}, "Id": "003A", "LastName": "A", "Email": "a@x.com"},
               {"attributes": {"type": "Task"}, "Id": "00TA", "Subject": "Call"},
               {"attributes": {"type": "Lead"}, "Id": "00QA", "LastName": "B", "Company": "X"}]
    for body in (records, {"totalSize": 3, "done": True, "records": records}):
        contact, task, lead = results(client.post("/v1/webhooks/salesforce", json=body))
        assert (contact["record_type"], lead["record_type"]) == ("contact", "lead")
        assert task["index"] == 1 and task["error"]["status"] == 422 and "Task" in task["error"]["detail"]
        assert task["error"]["errors"][0]["loc"].endswith("1.attributes.type")
    first, second = results(client.post("/v1/webhooks/hubspot", json={"results": [
        {"id": "5", "properties": {"email": "a@b.com"}}, {"id": "6", "properties": None}]}))
    assert first["record_id"] == "5" and second["error"]["errors"][0]["loc"] == "body.results.1.properties"
    record, entry = results(client.post("/v1/webhooks/generic", json=[{"type": "lead", "id": "l1"}, 7]))
    assert record["record_type"] == "lead" and entry["index"] == 1
    assert results(client.post("/v1/webhooks/salesforce",
                               json={"totalSize": 0, "done": True, "records": []})) == []
    doc = assert_problem(client.post("/v1/webhooks/salesforce", json=[records[1], records[1]]), 422)
    assert error_locs(doc) == ["body.0.attributes.type", "body.1.attributes.type"]  # no record at all


def test_a_query_page_over_the_single_record_limit_is_read_up_to_the_webhook_limit(tmp_path: Path) -> None:
    """Webhooks read the body with the single-record limit: a 2,000-record Salesforce page (~1.3 MB) was a
    413. They read up to CRM_DQ_MAX_WEBHOOK_BODY_BYTES; the signature still covers the raw body."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/crm-dq.sqlite3", webhook_secret=WEBHOOK_SECRET,
                        max_body_bytes=1024, max_webhook_body_bytes=64 * 1024, max_batch=5000)
    records = [{"attributes": {"type": "Contact"}, "Id": f"003A{i:04d}", "LastName": f"Lee{i}",
                "Email": f"lee{i}@example.com", "Phone": f"+1 650 555 {i:04d}"} for i in range(40)]
    body = json.dumps({"totalSize": 40, "done": True, "records": records}).encode()
    assert 1024 < len(body) < 64 * 1024
    with TestClient(create_app(settings)) as client:
        headers = {"X-CRM-DQ-Signature": sign(body), "content-type": "application/json"}
        assert len(results(client.post("/v1/webhooks/salesforce", content=body, headers=headers))) == 40
        tampered = body.replace(b"Lee1", b"Lea1")
        assert_problem(client.post("/v1/webhooks/salesforce", content=tampered, headers=headers), 401)
        big = json.dumps(records * 30).encode()
        assert_problem(client.post("/v1/webhooks/salesforce", content=big,
                                   headers={"X-CRM-DQ-Signature": sign(big)}), 413)
        assert len(big) > 64 * 1024 and 30 * 40 < 5000  # over the byte limit, not the record limit
    settings = settings.model_copy(update={"max_batch": 50})
    with TestClient(create_app(settings)) as client:
        many = json.dumps(records * 2).encode()  # 80 records, under the byte limit, over max_batch
        assert len(many) < 64 * 1024
        assert_problem(client.post("/v1/webhooks/salesforce", content=many,
                                   headers={"X-CRM-DQ-Signature": sign(many)}), 413)


def post_streamed(client: TestClient, path: str, chunks: list[bytes],
                  headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], int]:
    """POST `chunks` to the app as a body of unknown length (no content-length), straight through ASGI on the
    test client's loop: the status, the JSON answer and how many chunks the app took."""
    taken, sent = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal taken
        taken += 1
        if taken > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[taken - 1], "more_body": taken < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), *raw_headers], "client": ("testclient", 1),
             "server": ("testserver", 80), "state": dict(client.app_state)}
    assert client.portal is not None
    client.portal.call(client.app, scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), min(taken, len(chunks))


def test_a_webhook_body_over_its_own_limit_is_a_413_before_it_is_read_whole(tmp_path: Path) -> None:
    """Webhooks read up to the batch limit (512 MiB) before checking the signature, and a signed webhook needs
    no API key: an unsigned 300 MB POST grew a worker by 600 MB before its 401. They have a limit of their own
    now (16 MiB by default), and an unsigned body is refused before any of it is read."""
    assert Settings().max_webhook_body_bytes == 16 * 1024 * 1024
    settings = Settings(database_url=f"sqlite:///{tmp_path}/crm-dq.sqlite3", max_webhook_body_bytes=64 * 1024,
                        max_batch_body_bytes=64 * 1024 * 1024)
    chunk = b" " * 16 * 1024
    record = b'{"type": "contact", "id": "c1"}'
    with TestClient(create_app(settings)) as client:
        status, doc, taken = post_streamed(client, "/v1/webhooks/generic", [record] + [chunk] * 200)
        assert status == 413 and doc["type"] == "/problems/body-too-large", doc
        assert taken <= 6  # 64 KiB and one chunk more, not the 3.2 MB sent
        declared = client.post("/v1/webhooks/salesforce", content=record + chunk * 5,
                               headers={"content-type": "application/json"})
        assert_problem(declared, 413)
        status, doc, taken = post_streamed(client, "/v1/webhooks/generic", [record, chunk, chunk])
        assert status == 200 and doc["results"][0]["record_id"] == "c1"  # under the limit: judged
        batch = {"contacts": [{"id": "c", "phone": "5" * 100_000}]}  # the batch limit is not the webhooks'
        assert client.post("/v1/batch", json=batch).status_code == 200


@pytest.mark.parametrize(("path", "headers"), [
    ("/v1/webhooks/generic", {}), ("/v1/webhooks/salesforce", {}),
    ("/v1/webhooks/hubspot", {"X-HubSpot-Request-Timestamp": "1"})])
def test_an_unsigned_webhook_is_refused_before_its_body_is_read(signed: TestClient, path: str,
                                                                headers: dict[str, str]) -> None:
    status, doc, taken = post_streamed(signed, path, [b"[", b" " * 1024 * 1024, b"]"], headers)
    assert status == 401 and doc["type"] == "/problems/unauthorized", doc
    assert taken == 0


@pytest.mark.parametrize("same_id", ["003D000000QV9n2", "003d000000qv9n2iad", "003D000000QV9n2IAD"])
def test_a_salesforce_id_in_any_of_its_forms_is_one_record(client: TestClient, same_id: str) -> None:
    """A contact indexed under its 18-character id and re-saved under its 15-character form (or lower-cased)
    was flagged as its own duplicate."""
    contact = {"attributes": {"type": "Contact"}, "Id": "003D000000QV9n2IAD", "AccountId": "001D000000INjVe",
               "FirstName": "Edna", "LastName": "Frank", "Email": "efrank@genepoint.com",
               "Phone": "(650) 867-3450", "Title": "VP, Technology", "MailingCity": "Mountain View"}
    [first] = results(client.post("/v1/webhooks/salesforce", params={"index": "true"}, json=contact))
    assert first["indexed"] is True
    [again] = results(client.post("/v1/webhooks/salesforce", json={**contact, "Id": same_id}))
    assert again["record_id"] == "003D000000QV9n2IAD" and again["duplicates"] == []


def test_a_hubspot_deals_manual_forecast_category_is_judged(client: TestClient) -> None:
    """hs_manual_forecast_category was dropped with the other hs_* properties."""
    deal = {"id": "9", "properties": {"dealname": "D", "dealstage": "closedwon", "amount": "100",
                                      "closedate": "2024-06-01", "hs_manual_forecast_category": "PIPELINE"}}
    [report] = results(client.post("/v1/webhooks/hubspot", params={"now": NOW_ISO}, json=deal))
    found = [i for i in report["issues"] if i["field"] == "forecast_category"]
    assert found and found[0]["source_field"] == "hs_manual_forecast_category"


def test_wrapped_salesforce_records_are_unwrapped_or_refused_never_scored_as_the_wrapper(
        client: TestClient) -> None:
    """`{"record": sObject}` was a 422 asking for attributes.type, and with ?type=Contact a contact of
    completeness 0 whose fields were the unknown `record.Id`, `record.Email`, …"""
    jo = {"attributes": {"type": "Contact"}, "Id": "003Dn00000XyZabIAF", "FirstName": "Jo",
          "LastName": "Park", "Email": "jo@acme.com"}
    bob = jo | {"Id": "003Dn00000XyZacIAF", "FirstName": "Bob", "Email": "bob@"}
    bare = {k: v for k, v in jo.items() if k != "attributes"}
    for body, params in (({"record": jo}, {}), ({"record": bare}, {"type": "Contact"})):
        [report] = results(client.post("/v1/webhooks/salesforce", params=params, json=body))
        assert report["record_id"] == jo["Id"] and "email" not in report["completeness"]["missing"]
        assert not [i for i in report["issues"] if i["rule"] == "contact.field.unknown"]
    new_map = {jo["Id"]: jo, bob["Id"]: bob}  # Trigger.newMap, serialised
    reports = results(client.post("/v1/webhooks/salesforce", json=new_map))
    assert [r["record_id"] for r in reports] == [jo["Id"], bob["Id"]]
    assert issue(reports[1], "contact.email.invalid")["source_field"] == "Email"
    wrappers = (({"new": [jo], "old": [jo]}, "body.new"),
                ({"record": bare, "candidates": [bare]}, "body.record"),
                ({jo["Id"]: jo, bob["Id"]: "not an sObject"}, f"body.{jo['Id']}"))
    for body, loc in wrappers:
        response = client.post("/v1/webhooks/salesforce", params={"type": "Contact"}, json=body)
        doc = assert_problem(response, 422)
        assert error_locs(doc) == [loc] and "Trigger.newMap" in doc["detail"]
