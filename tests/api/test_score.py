"""POST /v1/{accounts|contacts|opportunities|leads}/score: one record in, one documented report out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.models.records import KNOWN_FIELDS
from app.models.report import Report
from app.scoring import Ruleset
from app.scoring.registry import RULES
from tests.api.assertions import SCORE_PATHS, assert_problem, error_locs
from tests.conftest import NOW_ISO

RECORD_TYPES = list(SCORE_PATHS)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
ISSUE_KEYS = {"rule", "field", "severity", "category", "message", "value", "suggestion", "counted_under"}


def openapi_example(client: TestClient, record_type: str, name: str) -> dict[str, Any]:
    """A request-body example exactly as the OpenAPI document publishes it."""
    body = client.app.openapi()["paths"][SCORE_PATHS[record_type]]["post"]["requestBody"]  # type: ignore[attr-defined]
    return body["content"]["application/json"]["examples"][name]["value"]  # type: ignore[no-any-return]


def score(client: TestClient, record_type: str, record: Any, now: str | None = NOW_ISO) -> dict[str, Any]:
    params = {"now": now} if now else {}
    response = client.post(SCORE_PATHS[record_type], json=record, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()  # type: ignore[no-any-return]


def issues_of(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [i for i in report["issues"] if i["rule"] == rule]


def assert_documented_report(report: dict[str, Any], record_type: str, rules: Ruleset) -> Report:
    """The report validates against the published schema and its parts agree with each other."""
    model = Report.model_validate(report)
    assert report["record_type"] == record_type
    assert 0 <= report["quality_score"] <= 100
    assert 0 <= report["completeness"]["score"] <= 1
    assert 0 <= report["accuracy"]["score"] <= 1
    assert report["accuracy"]["valid"] <= report["accuracy"]["checked"]
    assert report["completeness"]["filled"] + len(report["completeness"]["missing"]) == \
        report["completeness"]["required"]
    for issue in report["issues"]:
        assert set(issue) == ISSUE_KEYS, issue
        assert issue["rule"].startswith(f"{record_type}."), issue
        assert issue["severity"] == rules.severity[issue["rule"]], issue
        assert issue["message"] and not PLACEHOLDER.search(issue["message"]), issue
    scoring = rules.file.scoring  # the documented formula, each gap penalised once (not `counted_under` another)
    weights = scoring.completeness_weight + scoring.accuracy_weight
    base = 100 * (scoring.completeness_weight * report["completeness"]["score"]
                  + scoring.accuracy_weight * report["accuracy"]["score"]) / weights
    penalty = sum(scoring.penalty.get(i["severity"], 0.0) for i in report["issues"] if i["counted_under"] is None)
    assert report["quality_score"] == round(min(100.0, max(0.0, base - penalty)), 1)
    # a finding counted under another has that rule's finding on its field (or on one of the fields either
    # rule's finding is about, `gap_fields`)
    covering = {(i["rule"], about) for i in report["issues"] for about in RULES[i["rule"]].gap_fields or (i["field"],)}
    for issue in report["issues"]:
        if issue["counted_under"] is not None:
            assert any((issue["counted_under"], about) in covering
                       for about in RULES[issue["rule"]].gap_fields or (issue["field"],)), issue
            assert issue["rule"] in RULES[issue["counted_under"]].covers, issue
    assert report["counts"] == {s: sum(i["severity"] == s for i in report["issues"])
                                for s in ("error", "warning", "info")}
    assert report["decision"]["action"] in {"allow", "alert", "block"}
    assert set(report["decision"]["reasons"]) <= {i["rule"] for i in report["issues"]}
    assert (report["decision"]["action"] == "allow") == (report["decision"]["reasons"] == [])
    assert report["rules_version"] == rules.version
    return model


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_the_openapi_example_scores_to_a_documented_report(client: TestClient, rules: Ruleset,
                                                           record_type: str) -> None:
    example = openapi_example(client, record_type, "dirty")
    assert example, "the published example should not be empty"
    report = score(client, record_type, example)
    assert_documented_report(report, record_type, rules)
    assert report["record_id"] == example["id"]
    # The examples are documented as "typical problems": the report must find some.
    assert report["issues"], "the dirty example produced no findings"
    assert report["quality_score"] < 100


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_every_published_example_is_scored(client: TestClient, rules: Ruleset, record_type: str) -> None:
    body = client.app.openapi()["paths"][SCORE_PATHS[record_type]]["post"]["requestBody"]  # type: ignore[attr-defined]
    for name, example in body["content"]["application/json"]["examples"].items():
        response = client.post(SCORE_PATHS[record_type], json=example["value"], params={"now": NOW_ISO})
        assert response.status_code == 200, f"example {name}: {response.text}"
        assert_documented_report(response.json(), record_type, rules)


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_an_empty_record_scores_with_every_required_field_missing(client: TestClient, rules: Ruleset,
                                                                  record_type: str) -> None:
    assert openapi_example(client, record_type, "empty") == {}
    report = score(client, record_type, {})
    assert_documented_report(report, record_type, rules)
    assert report["record_id"] is None
    assert report["completeness"]["score"] == 0
    assert report["completeness"]["filled"] == 0
    required = getattr(rules.file.completeness, record_type).required
    assert report["completeness"]["missing"] == [r.name for r in required]
    missing_findings = {i["field"] for i in issues_of(report, f"{record_type}.required.missing")}
    assert missing_findings == {r.name for r in required}


def test_a_dirty_contact_email_is_an_error_that_raises_an_alert(client: TestClient) -> None:
    report = score(client, "contact", {"first_name": "Bob", "email": "bob@"})
    [issue] = issues_of(report, "contact.email.invalid")
    assert issue["field"] == "email"
    assert issue["severity"] == "error"
    assert issue["category"] == "validity"
    assert issue["value"] == "bob@"
    assert "bob@" in issue["message"]
    assert report["decision"]["action"] == "alert"
    assert "contact.email.invalid" in report["decision"]["reasons"]
    assert report["accuracy"] == {"score": 0.0, "checked": 1, "valid": 0}


def test_a_valid_contact_email_is_not_a_finding(client: TestClient) -> None:
    report = score(client, "contact", {"first_name": "Bob", "email": "bob@acme.com"})
    assert issues_of(report, "contact.email.invalid") == []
    assert "contact.email.invalid" not in report["decision"]["reasons"]
    assert report["accuracy"]["valid"] == report["accuracy"]["checked"] >= 1


def test_leads_get_a_lead_score_with_a_grade(client: TestClient, rules: Ruleset) -> None:
    hot = score(client, "lead", openapi_example(client, "lead", "dirty"))
    cold = score(client, "lead", {})
    grades = rules.file.lead_scoring.grades
    for report in (hot, cold):
        lead_score = report["lead_score"]
        assert lead_score is not None
        assert 0 <= lead_score["total"] <= 100
        reached = [g for g, floor in sorted(grades.items(), key=lambda g: -g[1])
                   if lead_score["total"] >= floor]
        assert lead_score["grade"] == (reached[0] if reached else "D"), lead_score
        assert lead_score["total"] == pytest.approx(
            lead_score["demographics"] + lead_score["behavior"] + lead_score["engagement"])
    assert hot["lead_score"]["total"] > cold["lead_score"]["total"] == 0
    assert hot["lead_score"]["breakdown"], "a scored lead explains its points"
    assert cold["lead_score"]["grade"] == "D"


@pytest.mark.parametrize("record_type", ["account", "contact", "opportunity"])
def test_only_leads_get_a_lead_score(client: TestClient, record_type: str) -> None:
    assert score(client, record_type, openapi_example(client, record_type, "dirty"))["lead_score"] is None


def test_opportunities_get_meddpicc_qualification(client: TestClient, rules: Ruleset) -> None:
    example = openapi_example(client, "opportunity", "dirty")
    meddpicc = score(client, "opportunity", example)["qualification"]["meddpicc"]
    fields = rules.file.qualification.meddpicc_fields
    filled = {k for k, v in example["meddpicc"].items() if v}
    assert set(meddpicc["gaps"]) == set(fields) - filled
    assert meddpicc["score"] == pytest.approx(len(filled) / len(fields), abs=1e-3)

    empty = score(client, "opportunity", {})["qualification"]["meddpicc"]
    assert empty == {"score": 0.0, "gaps": fields}


def test_now_moves_timeliness_findings(client: TestClient) -> None:
    contact = {"email": "bob@acme.com", "last_verified_at": "2024-01-05"}  # 162 days before NOW
    fresh = score(client, "contact", contact, now=NOW_ISO)
    overdue = score(client, "contact", contact, now="2024-12-31T00:00:00Z")
    assert issues_of(fresh, "contact.verification.overdue") == []
    [issue] = issues_of(overdue, "contact.verification.overdue")
    assert issue["field"] == "last_verified_at" and issue["value"] == "2024-01-05"
    assert "361 days" in issue["message"]

    deal = {"stage": "Proposal", "last_activity_at": "2024-06-01T12:00:00Z"}
    soon = score(client, "opportunity", deal, now=NOW_ISO)  # 14 days idle: attention
    later = score(client, "opportunity", deal, now="2024-09-01T12:00:00Z")  # 92 days idle: stale
    assert [i["rule"] for i in soon["issues"] if i["category"] == "timeliness"] == \
        ["opportunity.activity.attention"]
    assert [i["rule"] for i in later["issues"] if i["category"] == "timeliness"] == \
        ["opportunity.activity.stale"]


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_same_body_and_same_now_give_identical_json(client: TestClient, record_type: str) -> None:
    example = openapi_example(client, record_type, "dirty")
    path = SCORE_PATHS[record_type]
    first = client.post(path, json=example, params={"now": NOW_ISO})
    second = client.post(path, json=example, params={"now": NOW_ISO})
    same_instant = client.post(path, json=example, params={"now": "2024-06-15T14:00:00+02:00"})
    assert first.status_code == second.status_code == same_instant.status_code == 200
    assert first.content == second.content
    assert same_instant.content == first.content


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_unknown_fields_are_kept_as_info_findings(client: TestClient, record_type: str) -> None:
    record = {"id": "X1", "favourite_colour": "teal", "Custom_Score__c": 7}
    report = score(client, record_type, record)
    unknown = issues_of(report, f"{record_type}.field.unknown")
    assert {(i["field"], i["value"]) for i in unknown} == {("favourite_colour", "teal"),
                                                            ("Custom_Score__c", 7)}
    assert all(i["severity"] == "info" for i in unknown)
    assert "id" in KNOWN_FIELDS[record_type]
    assert report["record_id"] == "X1"


def test_known_contact_fields_are_not_reported_as_unknown(client: TestClient) -> None:
    record = {name: None for name in KNOWN_FIELDS["contact"]}
    assert issues_of(score(client, "contact", record), "contact.field.unknown") == []


def test_unknown_contact_field_is_named_contact_field_unknown(client: TestClient) -> None:
    report = score(client, "contact", {"email": "bob@acme.com", "shoe_size": 44})
    [issue] = issues_of(report, "contact.field.unknown")
    assert issue == {**issue, "field": "shoe_size", "severity": "info", "value": 44}
    assert report["decision"]["action"] == "allow"


def test_an_unknown_record_type_is_a_404_problem(client: TestClient) -> None:
    response = client.post("/v1/widgets/score", json={})
    doc = assert_problem(response, 404)
    assert doc["instance"] == "/v1/widgets/score"
    # the path's part at fault and the types there are (helper-57: a bare 'Not Found')
    assert error_locs(doc) == ["path.record_type"] and doc["errors"][0]["input"] == "widgets"
    assert all(t in doc["detail"] for t in ("accounts", "contacts", "opportunities", "leads"))


# ------------------------------------------------------- dirty values are findings, never server errors
# Regressions for crashes tests/properties/test_never_5xx.py found (each was a 500):
# a list/dict currency (`value in CURRENCIES` on an unhashable value); ISO dates whose UTC instant falls
# outside years 1-9999 (astimezone overflow); 9999-12-31 close/created dates (date + timedelta overflow in
# close_date.past, close_date.before_created and lead.follow_up.due); and ?now= at either end of the
# calendar (parse overflow, now + future_years overflow).

DIRTY_VALUES = {  # id: (record type, record, the field a finding must name)
    "currency-list": ("opportunity", {"currency": ["USD"]}, "currency"),
    "currency-object": ("opportunity", {"currency": {"code": "USD"}}, "currency"),
    "currency-name": ("opportunity", {"currency": "Dollars"}, "currency"),
    "created-before-year-1-in-utc": ("account", {"created_at": "0001-01-01T00:00:00+14:00"}, "created_at"),
    "verified-after-year-9999-in-utc": ("contact", {"last_verified_at": "9999-12-31T23:59:59-14:00"},
                                        "last_verified_at"),
    "open-deal-closing-9999-12-31": ("opportunity", {"stage": "Proposal", "close_date": "9999-12-31"},
                                     "close_date"),
    "created-deal-closing-9999-12-31": ("opportunity",
                                        {"created_at": "2024-01-01", "close_date": "9999-12-31"},
                                        "close_date"),
    "lead-created-9999-12-31": ("lead", {"created_at": "9999-12-31"}, "created_at"),
    "lead-answered-9999-12-31": ("lead",
                                 {"created_at": "2024-06-01", "first_response_at": "9999-12-31T23:59:59Z"},
                                 "first_response_at"),
    "created-0001-01-01": ("account", {"created_at": "0001-01-01"}, "created_at"),
    "closing-9999-12-30": ("opportunity", {"stage": "Proposal", "close_date": "9999-12-30"}, "close_date"),
}


@pytest.fixture
def crash_client(settings: Settings) -> Iterator[TestClient]:
    """A client that returns a crash as the 500 a real caller would see instead of raising it."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(("record_type", "record", "field"), DIRTY_VALUES.values(), ids=DIRTY_VALUES.keys())
def test_dirty_values_are_findings_not_server_errors(crash_client: TestClient, rules: Ruleset,
                                                     record_type: str, record: dict[str, Any],
                                                     field: str) -> None:
    response = crash_client.post(SCORE_PATHS[record_type], json=record, params={"now": NOW_ISO})
    assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
    report = response.json()
    assert_documented_report(report, record_type, rules)
    findings = [i for i in report["issues"] if i["field"] == field and i["severity"] != "info"]
    assert findings, f"the dirty {field} was not judged: {report['issues']}"


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                 "9999-12-31T23:59:59-14:00", "9990-06-15T12:00:00Z"])
@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_extreme_now_is_scored_or_refused_never_a_server_error(crash_client: TestClient, record_type: str,
                                                               now: str) -> None:
    response = crash_client.post(SCORE_PATHS[record_type], json={}, params={"now": now})
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    if response.status_code != 200:
        assert error_locs(assert_problem(response, 422)) == ["query.now"]


# ------------------------------------------------ query parameters the endpoint reads itself (hot path)

@pytest.mark.parametrize("word", ["maybe", "2", ""])
def test_an_index_flag_that_is_not_a_boolean_is_a_422_naming_it(client: TestClient, word: str) -> None:
    response = client.post("/v1/contacts/score", json={"id": "c1"}, params={"index": word})
    doc = assert_problem(response, 422)
    assert error_locs(doc) == ["query.index"]


@pytest.mark.parametrize(("word", "indexed"), [("true", True), ("YES", True), ("1", True), ("on", True),
                                              ("false", False), ("no", False), ("0", False), ("off", False)])
def test_the_index_flag_reads_the_words_a_declared_boolean_reads(client: TestClient, word: str,
                                                                 indexed: bool) -> None:
    report = client.post("/v1/contacts/score", json={"id": f"flag-{word}", "email": "ann@acme.com"},
                         params={"index": word}).json()
    assert report.get("indexed", False) is indexed


def test_a_now_that_is_not_a_date_is_a_422_naming_it(client: TestClient) -> None:
    response = client.post("/v1/contacts/score", json={}, params={"now": "yesterday"})
    assert error_locs(assert_problem(response, 422)) == ["query.now"]


def test_the_score_routes_document_now_and_index(client: TestClient) -> None:
    for path in SCORE_PATHS.values():
        params = client.app.openapi()["paths"][path]["post"]["parameters"]  # type: ignore[attr-defined]
        assert {(p["name"], p["in"], p["schema"].get("type")) for p in params} >= {("index", "query", "boolean")}
        assert "now" in {p["name"] for p in params}
