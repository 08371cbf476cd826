"""Seed 002's data health audit: what the cleanup list puts first, what it standardises, what changed."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.scoring.batch import SINGULAR
from tests.conftest import NOW_ISO

NDJSON = {"content-type": "application/x-ndjson"}
FULL_ACCOUNT = {"id": "a1", "name": "Acme", "website": "https://acme.com", "employee_count": 100,
                "owner_id": "u1", "billing_address": {"city": "Austin", "state": "TX", "country": "US"}}
GATED_DEAL = {"id": "o1", "account_id": "a1", "name": "Big", "amount": 75000, "stage": "Negotiation",
              "close_date": "2024-09-01", "owner_id": "u1", "next_step": "x", "problem_statement": "p",
              "contact_roles": [{"contact_id": "c1", "role": "champion"}]}
NO_STAGE = {"id": "o2", "account_id": "a9", "name": "NoStage", "amount": 20000, "close_date": "2024-09-01",
            "owner_id": "u1", "next_step": "x", "problem_statement": "p"}
NO_EMAIL = {"id": "c1", "account_id": "a1", "first_name": "Bob", "last_name": "Smith", "title": "CTO",
            "department": "IT", "phone": "+15125550100", "decision_role": "champion", "owner_id": "u1"}


def audit(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"/v1/audit?now={NOW_ISO}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stream_summary(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    lines = b"".join(orjson.dumps({"type": SINGULAR[plural], **r}) + b"\n"
                     for plural, records in body.items() for r in records)
    answer = client.post(f"/v1/batch?now={NOW_ISO}", content=lines, headers=NDJSON)
    assert answer.status_code == 200, answer.text
    return orjson.loads(answer.text.splitlines()[-1])["summary"]


def test_a_rule_weighs_once_per_record_so_seed_002s_critical_gaps_come_first(client: TestClient) -> None:
    """One deal's five unmet stage-gate criteria and its MEDDPICC gaps outranked seed 002's 'Critical Data
    Gaps' (a $75K account without industry, a $20K deal without stage): each finding was weighed. A rule now
    weighs once per record; the tasks still count every finding."""
    result = audit(client, {"accounts": [dict(FULL_ACCOUNT, industry=None)],
                            "opportunities": [GATED_DEAL, NO_STAGE], "contacts": [NO_EMAIL]})
    ranked = [t["rule"] for t in result["cleanup_tasks"]]
    assert ranked[:3] == ["account.industry.missing_high_value", "opportunity.stage.missing_high_value",
                          "contact.email.missing_on_active_deal"], ranked
    tasks = {t["rule"]: t for t in result["cleanup_tasks"]}
    gate = tasks["opportunity.stage_gate.unmet"]
    # twelve: Negotiation's gate carries the earlier stages' criteria ([stages] cumulative_gates)
    assert (gate["findings"], gate["records"]) == (12, 1) and "12 finding(s) on 1 record(s)" in gate["task"]
    top = [(f["record_id"], f["rule"]) for f in result["summary"]["top_findings"]]
    assert len(top) == len(set(top)), top  # one entry per record and rule
    entry = next(f for f in result["summary"]["top_findings"] if f["rule"] == "opportunity.stage_gate.unmet")
    assert entry["findings"] == 12 and round(entry["impact"], 1) == gate["impact"]


@pytest.mark.parametrize("account_id", ["a1", None, "a2"], ids=["its-account", "no-account", "other-account"])
def test_a_contact_without_email_weighs_by_the_deals_it_is_on(client: TestClient,
                                                              account_id: str | None) -> None:
    """A contact named in a $75K deal's contact roles weighed 10.0 (no deal value) when its account_id was
    missing or another account's, 28.8 when it matched: it is weighed by the deals it is on, on both paths."""
    other = dict(FULL_ACCOUNT, id="a2", name="Other", industry="Retail", website="other.com")
    body = {"accounts": [dict(FULL_ACCOUNT, industry="Technology"), other],
            "opportunities": [GATED_DEAL], "contacts": [dict(NO_EMAIL, account_id=account_id)]}
    for summary in (audit(client, body)["summary"], stream_summary(client, body)):
        tasks = {t["rule"]: t for t in summary["cleanup_tasks"]}
        assert tasks["contact.email.missing_on_active_deal"]["impact"] == 28.8


def test_a_streams_covered_gap_leaves_a_records_other_gaps_of_the_rule_weighed(client: TestClient) -> None:
    """A stream finds at its end that an account's missing industry is counted under
    account.industry.missing_high_value: the account's other required gap (website) still weighs under
    account.required.missing, once, and names the top entry, as in the JSON batch."""
    body = {"accounts": [dict(FULL_ACCOUNT, industry=None, website=None)], "opportunities": [GATED_DEAL]}
    streamed, whole = stream_summary(client, body), audit(client, body)["summary"]

    def required(summary: dict[str, Any]) -> tuple[Any, ...]:
        task = next(t for t in summary["cleanup_tasks"] if t["rule"] == "account.required.missing")
        entries = [(f["field"], f["findings"]) for f in summary["top_findings"]
                   if f["rule"] == "account.required.missing"]
        return task["findings"], task["records"], task["task"], entries

    assert required(streamed) == required(whole) == (
        1, 1, required(whole)[2], [("website", 1)])
    assert "(and 1 counted under another rule's" in required(whole)[2]
    # the stream weighs an account's own findings without its deals (README): 3 × 1.3
    impact = next(t["impact"] for t in streamed["cleanup_tasks"] if t["rule"] == "account.required.missing")
    assert impact == 3.9


def _account(n: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"s{n}", "name": f"Company {n}", "owner_id": "u1", "employee_count": 50, **fields}


VARIANTS = {"accounts": [
    _account(1, industry="Tech", website="www.a1.com", billing_address={"state": "Texas", "country": "USA"}),
    _account(2, industry="Tech", website="http://a2.com/",
             billing_address={"state": "texas", "country": "United States"}),
    _account(3, industry="IT Services", website="https://a3.com",
             billing_address={"state": "Calif.", "country": "U.S.A."}),
    _account(4, industry="tech", website="https://a4.com", billing_address={"state": "TX", "country": "US"})]}


def test_the_audit_lists_the_variations_to_standardise_with_their_updates(client: TestClient) -> None:
    """Seed 002 'Show me all variations that need standardization and create batch update commands': a batch
    whose only problems are written variants had an empty cleanup list and no top findings (info findings
    are not weighed). The summary lists each variant with its standard form, its records and an update;
    one cleanup task, last, points at them; the same on a JSON batch, a stream and the HTML audit."""
    result = audit(client, VARIANTS)
    found = result["summary"]["standardization"]
    updates = {(u["field"], u["from"]): (u["to"], u["records"], u["ids"])
               for f in found["fields"] for u in f["updates"]}
    assert updates[("industry", "Tech")] == ("Technology", 2, ["s1", "s2"])
    assert updates[("industry", "IT Services")] == ("Technology", 1, ["s3"])
    assert updates[("industry", "tech")] == ("Technology", 1, ["s4"])
    assert updates[("website", "www.a1.com")] == ("https://a1.com", 1, ["s1"])
    assert updates[("website", "http://a2.com/")] == ("https://a2.com", 1, ["s2"])
    assert updates[("billing_address.state", "Texas")][:2] == ("TX", 1)
    assert updates[("billing_address.state", "texas")][:2] == ("TX", 1)
    assert updates[("billing_address.state", "Calif.")][:2] == ("CA", 1)
    assert {updates[("billing_address.country", c)][0] for c in ("USA", "United States", "U.S.A.")} == {"US"}
    industry = next(f for f in found["fields"] if f["field"] == "industry")
    assert industry["updates"][0] == {"record_type": "account", "field": "industry", "from": "Tech",
                                      "to": "Technology", "records": 2, "ids": ["s1", "s2"],
                                      "ids_complete": True}
    task = result["cleanup_tasks"][-1]
    assert task["rule"] == "standardization" and "'Tech' ×2 → Technology" in task["task"]
    assert stream_summary(client, VARIANTS)["standardization"] == found
    lines = b"".join(orjson.dumps({"type": "account", **r}) + b"\n" for r in VARIANTS["accounts"])
    streamed = client.post(f"/v1/audit?now={NOW_ISO}", content=lines, headers=NDJSON).json()
    assert streamed["summary"]["standardization"] == found and streamed["cleanup_tasks"][-1] == task
    html = client.post(f"/v1/audit?now={NOW_ISO}&format=html", json=VARIANTS).text
    assert "Standardisation" in html and "&#x27;Tech&#x27; ×2 → Technology" in html


def test_a_batch_in_standard_forms_has_no_standardisation_task(client: TestClient) -> None:
    clean = {"accounts": [_account(1, industry="Technology", website="https://a1.com",
                                   billing_address={"state": "TX", "country": "US"})]}
    result = audit(client, clean)
    assert result["summary"]["standardization"] == {"variants": 0, "records": 0, "fields": []}
    assert not [t for t in result["cleanup_tasks"] if t["rule"] == "standardization"]


def test_the_audit_counts_records_added_and_updated_in_the_last_24_hours(client: TestClient) -> None:
    """Seed 002's morning health report: 'Records added/updated in the last 24 hours', per record type, on a
    JSON batch, a stream and the HTML audit (now = 2024-06-15T12:00Z)."""
    body = {"accounts": [_account(1, created_at="2024-06-15T08:00:00Z", updated_at="2024-06-15T09:00:00Z"),
                         _account(2, created_at="2024-06-14T11:59:00Z",
                                  updated_at="2024-06-14T12:00:00+00:00"),
                         _account(3, created_at="2024-06-16T08:00:00Z", updated_at="not a date")],
            "contacts": [{"id": "c1", "first_name": "Ann", "last_name": "Lee", "updated_at": "2024-06-15"}],
            "leads": [{"id": "l1", "first_name": "Bo", "created_at": "2024-06-15T11:00:00-05:00"}]}
    expected = {"hours": 24, "accounts": {"created": 1, "updated": 2},
                "contacts": {"created": 0, "updated": 1}, "opportunities": {"created": 0, "updated": 0},
                "leads": {"created": 0, "updated": 0}}
    assert audit(client, body)["summary"]["recent_activity"] == expected
    assert stream_summary(client, body)["recent_activity"] == expected
    html = client.post(f"/v1/audit?now={NOW_ISO}&format=html", json=body).text
    assert "Records added / updated in the last 24 hours" in html


def test_the_share_of_records_with_every_required_field_is_given_beside_the_completeness_kpi(
        client: TestClient) -> None:
    """Seed 000 'Percentage of records with all required fields': the completeness KPI is the share of
    required fields filled (DESIGN) and stays so; the share of complete records is given beside it, per list
    and overall, on a JSON batch, a stream and the HTML audit."""
    complete = dict(FULL_ACCOUNT, industry="Technology")
    body = {"accounts": [complete, dict(complete, id="a2", website=None), dict(complete, id="a3")],
            "leads": [{"id": "l1", "first_name": "Bo", "last_name": "Li", "email": "bo@li.com",
                       "company": "Li", "source": "Web"}, "not a record"]}
    summary = audit(client, body)["summary"]
    share = summary["records_complete"]
    assert share["accounts"] == {"complete": 2, "records": 3, "ratio": 0.6667}
    assert share["leads"] == {"complete": 1, "records": 1, "ratio": 1.0}
    assert share["contacts"] == {"complete": 0, "records": 0, "ratio": None}
    assert share["overall"] == {"complete": 3, "records": 4, "ratio": 0.75}
    assert summary["kpis"]["completeness"]["value"] > share["overall"]["ratio"]  # fields, not records
    streamed = dict(body, leads=body["leads"][:1])
    assert stream_summary(client, streamed)["records_complete"] == share
    html = client.post(f"/v1/audit?now={NOW_ISO}&format=html", json=body).text
    assert "Records with all required fields" in html and "75.0%" in html


TWIN_ACCOUNTS = [{"id": "d1", "name": "Northwind Traders Inc", "website": "northwind.com",
                  "phone": "+1 206 555 0100", "owner_id": "u1"},
                 {"id": "d2", "name": "Northwind Traders", "website": "https://northwind.com",
                  "phone": "206-555-0100", "owner_id": "u1"}]


@pytest.mark.parametrize(("deal", "priority"), [
    ({"amount": 200_000, "stage": "Closed Won", "close_date": "2024-03-01"}, "high"),
    ({"amount": 10_001, "stage": "Proposal", "close_date": "2024-09-01"}, "high"),
    ({"amount": 10_000, "stage": "Proposal", "close_date": "2024-09-01"}, "medium"),
    ({"amount": 200_000, "stage": "Closed Lost", "close_date": "2024-03-01"}, None),
], ids=["won-200k", "open-over-10k", "open-exactly-10k", "lost-200k"])
def test_a_duplicate_accounts_merge_priority_counts_its_won_deals_over_10k(
        client: TestClient, deal: dict[str, Any], priority: str | None) -> None:
    """Seed 002 'Prioritize duplicate merges by business impact - start with companies involved in active
    deals or high-value accounts': a duplicate account with a $200K Closed Won deal was 'low' (open deals
    only), and exactly $10K was 'high' where every seed-002 threshold is 'over'."""
    body = {"accounts": TWIN_ACCOUNTS, "opportunities": [{"id": "dd1", "account_id": "d2", "name": "Deal",
                                                          "owner_id": "u1", **deal}]}
    for result in (client.post(f"/v1/batch?now={NOW_ISO}", json=body).json(),
                   audit(client, body)):
        (pair,) = result["duplicates"]["accounts"]["pairs"]
        # an auto-merge pair with no deal value is medium: a lost deal is none
        assert pair["merge_priority"] == (priority or "medium"), pair
    tasks = [t["task"] for t in audit(client, body)["cleanup_tasks"] if t["rule"] == "account.duplicate"]
    merge = f"Merge 1 {priority or 'medium'}-priority duplicate record(s) of accounts into their survivors"
    assert tasks == [merge]
    streamed = stream_summary(client, body)
    assert [t["task"] for t in streamed["cleanup_tasks"] if t["rule"] == "account.duplicate"] == tasks


def test_the_recent_activity_window_is_the_rules_files() -> None:
    """`[impact] recent_hours` sets the morning report's window: a record created 30 hours before `now` is
    recent under a 48-hour window, not under the default 24."""
    from datetime import UTC, datetime, timedelta

    from app.scoring.judge import recent
    from app.scoring.ruleset import load_rules

    now = datetime(2024, 6, 15, 12, tzinfo=UTC)
    created = (now - timedelta(hours=30)).isoformat()
    assert not recent(created, now, load_rules())
    assert recent(created, now, load_rules(override={"impact": {"recent_hours": 48}}))
