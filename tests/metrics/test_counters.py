"""Counters move by exactly what was scored: the app in process (its own fresh registry), /metrics diffed
before and after known records go through the single-record routes, JSON and NDJSON batches and the audit."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.metrics import KPIS, RECORD_TYPES, SOURCES, UNMATCHED_ROUTE
from app.scoring import RULES, Ruleset
from tests.api.test_batch import ACCOUNT, CONTACT, DEALS
from tests.conftest import NOW_ISO
from tests.metrics.support import samples, total, value

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
# The hand-computed batch of tests/api/test_batch.py: contacts need 6 requirements; c1 fills 1, c2 and c3 fill 4;
# email and phone are checked in c2 and c3 (4 fields) and both emails are invalid; c3 duplicates c2.
C2 = {"id": "c2", "first_name": "Ana", "last_name": "Lopez", "email": "bob@", "phone": "+14155550123",
      "title": "CTO"}
C3 = dict(C2, id="c3")
KPI_FAMILIES = {"crm_dq_required_fields_total": ("completeness", "required"),
                "crm_dq_required_fields_filled_total": ("completeness", "filled"),
                "crm_dq_fields_checked_total": ("accuracy", "checked"),
                "crm_dq_fields_valid_total": ("accuracy", "valid")}
LEAD = {"id": "l1", "first_name": "Ana", "last_name": "Lopez", "email": "ana@globex.com", "company": "Globex",
        "title": "VP Engineering", "employee_count": 400, "industry": "Technology", "source": "webinar",
        "behavior": {"website_visits": 12, "content_downloads": 3, "email_opens": 8},
        "engagement": {"demo_requested": True}}


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def diff(before: Samples, after: Samples) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples that changed, by how much (HTTP timings left out: the scrape itself moves them)."""
    keys = set(before) | set(after)
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in keys
            if after.get(k, 0.0) != before.get(k, 0.0) and "http" not in k[0]}


def expected_from(reports: list[dict[str, Any]], source: str) -> Counter[tuple[str, frozenset[tuple[str, str]]]]:
    """The counter deltas the reports imply: one record each, their completeness and accuracy counts, issues."""
    want: Counter[tuple[str, frozenset[tuple[str, str]]]] = Counter()
    for report in reports:
        t = report["record_type"]
        want[("crm_dq_records_scored_total", frozenset({"record_type": t, "source": source}.items()))] += 1
        for family, (part, key) in KPI_FAMILIES.items():
            want[(family, frozenset({"record_type": t}.items()))] += report[part][key]
        for issue in report["issues"]:
            labels = {"record_type": t, "rule": issue["rule"], "severity": issue["severity"]}
            want[("crm_dq_issues_total", frozenset(labels.items()))] += 1
    return +want  # zero counts dropped


def counters_only(delta: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[Any, float]:
    return {k: v for k, v in delta.items() if not k[0].startswith(("crm_dq_quality_score", "crm_dq_lead_score"))
            and k[0] != "crm_dq_duplicate_records_total"}


def test_one_record_per_type_moves_each_counter_by_its_report(client: TestClient) -> None:
    records = {"account": ACCOUNT, "contact": CONTACT, "opportunity": DEALS[0], "lead": LEAD}
    before = scrape(client)
    reports = []
    for plural, record_type in (("accounts", "account"), ("contacts", "contact"), ("opportunities", "opportunity"),
                                ("leads", "lead")):
        response = client.post(f"/v1/{plural}/score", params={"now": NOW_ISO}, json=records[record_type])
        assert response.status_code == 200
        reports.append(response.json())
    after = scrape(client)
    delta = diff(before, after)
    assert counters_only(delta) == dict(expected_from(reports, "api"))
    for report in reports:
        t = {"record_type": report["record_type"]}
        assert value(after, "crm_dq_quality_score_count", **t) - value(before, "crm_dq_quality_score_count", **t) == 1
        assert value(after, "crm_dq_quality_score_sum", **t) - value(before, "crm_dq_quality_score_sum", **t) \
            == pytest.approx(report["quality_score"])
    lead = reports[3]["lead_score"]["total"]
    assert delta[("crm_dq_lead_score_count", frozenset({"record_type": "lead"}.items()))] == 1
    assert delta[("crm_dq_lead_score_sum", frozenset({"record_type": "lead"}.items()))] == pytest.approx(lead)
    assert total(delta, "crm_dq_lead_score_count") == 1  # only leads have a lead score
    assert total(delta, "crm_dq_duplicate_records_total") == 0


def test_the_hand_computed_batch_moves_the_kpi_counters_by_hand_computed_amounts(client: TestClient) -> None:
    before = scrape(client)
    body = {"contacts": [CONTACT, C2, C3, "not a record"], "options": {"now": NOW_ISO}}
    response = client.post("/v1/batch", json=body)
    assert response.status_code == 200
    after = scrape(client)
    contact = {"record_type": "contact"}
    assert value(after, "crm_dq_records_scored_total", record_type="contact", source="batch") \
        - value(before, "crm_dq_records_scored_total", record_type="contact", source="batch") == 3
    for name, amount in (("crm_dq_required_fields_total", 18), ("crm_dq_required_fields_filled_total", 9),
                         ("crm_dq_fields_checked_total", 4), ("crm_dq_fields_valid_total", 2),
                         ("crm_dq_duplicate_records_total", 1)):
        assert value(after, name, **contact) - value(before, name, **contact) == amount, name
    assert value(after, "crm_dq_quality_score_count", **contact) \
        - value(before, "crm_dq_quality_score_count", **contact) == 3


def test_a_json_batch_counts_every_record_with_source_batch(client: TestClient) -> None:
    body = {"accounts": [ACCOUNT], "opportunities": DEALS, "contacts": [CONTACT, C2, C3, 42], "leads": [LEAD],
            "options": {"now": NOW_ISO}}
    before = scrape(client)
    result = client.post("/v1/batch", json=body).json()
    delta = diff(before, scrape(client))
    reports = [r for entries in result["results"].values() for r in entries if "record_type" in r]
    assert len(reports) == 7
    assert counters_only(delta) == dict(expected_from(reports, "batch"))
    counts = result["summary"]["counts"]
    assert total(delta, "crm_dq_required_fields_total") == counts["required_fields"]
    assert total(delta, "crm_dq_required_fields_filled_total") == counts["required_filled"]
    assert total(delta, "crm_dq_fields_checked_total") == counts["fields_checked"]
    assert total(delta, "crm_dq_fields_valid_total") == counts["fields_valid"]
    assert total(delta, "crm_dq_duplicate_records_total") == counts["duplicate_records"] == 1
    assert dict(Counter({lbl["rule"]: v for (n, labels), v in delta.items() if n == "crm_dq_issues_total"
                         for lbl in [dict(labels)]})) == result["summary"]["issues_by_rule"]


def test_an_ndjson_stream_counts_what_the_same_json_batch_counts(client: TestClient) -> None:
    records = [("account", ACCOUNT), *(("opportunity", d) for d in DEALS), ("contact", CONTACT), ("contact", C2),
               ("contact", C3), ("lead", LEAD)]
    lines = b"".join(orjson.dumps({"type": t, **r}) + b"\n" for t, r in records) + b"not json\n"
    before = scrape(client)
    response = client.post("/v1/batch", params={"now": NOW_ISO}, content=lines,
                           headers={"content-type": "application/x-ndjson"})
    out = [orjson.loads(line) for line in response.content.splitlines()]
    stream_delta = diff(before, scrape(client))
    assert out[-1]["type"] == "summary" and "error" in out[-2]
    assert total(stream_delta, "crm_dq_records_scored_total", source="batch") == len(records) == 7
    assert total(stream_delta, "crm_dq_duplicate_records_total") == out[-1]["summary"]["counts"]["duplicate_records"]

    body: dict[str, Any] = {"options": {"now": NOW_ISO}}
    for t, r in records:
        body.setdefault({"account": "accounts", "contact": "contacts", "opportunity": "opportunities",
                         "lead": "leads"}[t], []).append(r)
    before = scrape(client)
    client.post("/v1/batch", json=body)
    json_delta = diff(before, scrape(client))
    # cross-record findings: in each record's report in a JSON batch, counted at the stream's end in NDJSON
    assert counters_only(stream_delta) == counters_only(json_delta)
    assert total(stream_delta, "crm_dq_duplicate_records_total") == total(json_delta, "crm_dq_duplicate_records_total")
    # the stream's workers sum each chunk; the histograms still observe every answer line's own scores
    scored = [line for line in out if "quality_score" in line]
    for t in {line["record_type"] for line in scored}:
        mine = [line for line in scored if line["record_type"] == t]
        assert value(stream_delta, "crm_dq_quality_score_count", record_type=t) == len(mine)
        assert value(stream_delta, "crm_dq_quality_score_sum", record_type=t) == pytest.approx(
            sum(line["quality_score"] for line in mine))
    leads = [line["lead_score"]["total"] for line in scored if line["lead_score"]]
    assert value(stream_delta, "crm_dq_lead_score_count", record_type="lead") == len(leads) == 1
    assert value(stream_delta, "crm_dq_lead_score_sum", record_type="lead") == pytest.approx(sum(leads))


def test_the_audit_counts_as_a_batch(client: TestClient) -> None:
    before = scrape(client)
    assert client.post("/v1/audit", json={"contacts": [CONTACT, C2, C3], "options": {"now": NOW_ISO}}).is_success
    delta = diff(before, scrape(client))
    assert delta[("crm_dq_records_scored_total", frozenset({"record_type": "contact", "source": "batch"}.items()))] == 3
    assert total(delta, "crm_dq_duplicate_records_total") == 1


def test_a_single_record_that_matches_the_index_or_a_candidate_is_a_duplicate(client: TestClient) -> None:
    before = scrape(client)
    first = client.post("/v1/contacts/score", params={"now": NOW_ISO, "index": "true"}, json=C2).json()
    assert first["indexed"] is True and first["duplicates"] == []
    again = client.post("/v1/contacts/score", params={"now": NOW_ISO}, json=C3).json()
    assert again["duplicate_check"] == "index" and again["duplicates"]
    other = client.post("/v1/contacts/score", params={"now": NOW_ISO},
                        json={"record": CONTACT, "candidates": [C2]}).json()
    assert other["duplicate_check"] == "candidates" and other["duplicates"] == []
    matched = client.post("/v1/contacts/score", params={"now": NOW_ISO},
                          json={"record": C3, "candidates": [C2]}).json()
    assert matched["duplicates"]
    delta = diff(before, scrape(client))
    assert delta[("crm_dq_duplicate_records_total", frozenset({"record_type": "contact"}.items()))] == 2
    assert delta[("crm_dq_records_scored_total", frozenset({"record_type": "contact", "source": "api"}.items()))] == 4


def test_refused_bodies_are_not_counted_as_scored(client: TestClient) -> None:
    before = scrape(client)
    assert client.post("/v1/contacts/score", content=b"[1, 2]",
                       headers={"content-type": "application/json"}).status_code == 422
    assert client.post("/v1/contacts/score", content=b"{", headers={"content-type": "application/json"}) \
        .status_code == 400
    assert diff(before, scrape(client)) == {}


def test_every_series_starts_at_zero_and_every_enabled_rule_has_one(client: TestClient, rules: Ruleset) -> None:
    found = scrape(client)
    scored = {dict(labels)["record_type"] + "/" + dict(labels)["source"]: v for (n, labels), v in found.items()
              if n == "crm_dq_records_scored_total"}
    assert scored == {f"{t}/{s}": 0.0 for t in RECORD_TYPES for s in SOURCES}
    issue_labels = [dict(labels) for (n, labels), v in found.items() if n == "crm_dq_issues_total"]
    assert {lbl["rule"] for lbl in issue_labels} == set(rules.enabled)
    for lbl in issue_labels:
        assert RULES[lbl["rule"]].record_type == lbl["record_type"]
        assert rules.severity[lbl["rule"]] == lbl["severity"]
    assert all(v == 0 for (n, _), v in found.items() if n == "crm_dq_issues_total")


def test_kpi_targets_come_from_the_rules_file(client: TestClient, rules: Ruleset, tmp_path: Path) -> None:
    found = scrape(client)
    assert {k: value(found, "crm_dq_kpi_target", kpi=k) for k in KPIS} == \
        {"completeness": 0.95, "duplicate_rate": 0.02, "accuracy": 0.98, "response_seconds": 2.0}
    assert {k: value(found, "crm_dq_kpi_target", kpi=k) for k in KPIS} == rules.file.kpi.model_dump()
    org = tmp_path / "org.toml"
    org.write_text("[kpi]\ncompleteness = 0.9\nresponse_seconds = 0.5\n")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/org.sqlite3", rules_file=org)
    with TestClient(create_app(settings)) as own:
        found = scrape(own)
    assert value(found, "crm_dq_kpi_target", kpi="completeness") == 0.9
    assert value(found, "crm_dq_kpi_target", kpi="response_seconds") == 0.5
    assert value(found, "crm_dq_kpi_target", kpi="accuracy") == 0.98


@pytest.fixture
def boom_client(settings: Settings) -> Iterator[TestClient]:
    """The real app plus one route that fails, to see a 5xx counted."""
    app: FastAPI = create_app(settings)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_http_requests_are_timed_by_route_template_never_by_raw_path(boom_client: TestClient) -> None:
    client = boom_client
    before = scrape(client)
    calls = [("GET", "/v1/index/contact/secret-id-123", 404), ("GET", "/no/such/path/42", 404),
             ("GET", "/healthz", 200), ("BREW", "/healthz", 405), ("POST", "/v1/contacts/score", 422),
             ("GET", "/boom", 500)]
    for method, path, status in calls:
        response = client.request(method, path, content=b"[]" if method == "POST" else None,
                                  headers={"content-type": "application/json"})
        assert response.status_code == status, (method, path, response.text)
    response = client.get("/metrics")
    after = samples(response.text)
    count = "crm_dq_http_request_duration_seconds_count"

    def moved(route: str, method: str, status: str) -> float:
        labels = {"route": route, "method": method, "status": status}
        return value(after, count, **labels) - value(before, count, **labels)

    assert moved("/v1/index/{record_type}/{record_id}", "GET", "404") == 1
    assert moved(UNMATCHED_ROUTE, "GET", "404") == 1
    assert moved("/healthz", "GET", "200") == 1
    assert moved("/healthz", "OTHER", "405") == 1
    assert moved("/v1/contacts/score", "POST", "422") == 1
    assert moved("/boom", "GET", "500") == 1
    assert "secret-id-123" not in response.text and "/no/such" not in response.text
    routes = {dict(labels)["route"] for (n, labels) in after if n == count}
    assert all(r == UNMATCHED_ROUTE or r.startswith("/") for r in routes)
    # the scrape counts itself as in flight; nothing else is
    assert value(after, "crm_dq_http_requests_in_flight") == 1
    assert "2.0" in {dict(labels).get("le") for (n, labels) in after
                     if n == "crm_dq_http_request_duration_seconds_bucket"}


def test_the_scoring_core_never_imports_metrics() -> None:
    scoring = Path(__file__).parents[2] / "app" / "scoring"
    for path in scoring.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("app.metrics", "prometheus_client", "app.api")), (path, name)


def test_single_record_counts_wait_briefly_then_are_written_once(tmp_path: Path) -> None:
    """`record_soon` sums reports and writes them after COUNT_DELAY_SECONDS, or at the next scrape."""
    import asyncio

    from app.metrics import COUNT_DELAY_SECONDS, Metrics

    metrics = Metrics()
    report = {"record_type": "contact", "completeness": {"required": 4, "filled": 3},
              "accuracy": {"checked": 2, "valid": 1}, "quality_score": 50.0, "lead_score": None,
              "issues": [{"rule": "contact.email.invalid", "severity": "error"}]}
    scored = metrics.types["contact"].scored["api"]

    async def scenario() -> tuple[float, float, float]:
        metrics.record_soon(report, "api")
        metrics.record_soon(report, "api", duplicate=True)
        waiting = scored._value.get()
        await asyncio.sleep(COUNT_DELAY_SECONDS + 0.2)
        written = scored._value.get()
        metrics.record_soon(report, "api")
        metrics.exposition()  # a scrape writes what waits without waiting for the timer
        return waiting, written, scored._value.get()

    assert asyncio.run(scenario()) == (0.0, 2.0, 3.0)
    assert metrics.types["contact"].duplicates._value.get() == 1.0
    assert metrics.types["contact"].filled._value.get() == 9.0
    assert metrics.issue_child("contact", "contact.email.invalid", "error")._value.get() == 3.0
    assert metrics.types["contact"].quality._sum.get() == 150.0  # histograms observe each report at once


def test_counts_waiting_are_written_on_close_and_timed_on_a_new_event_loop() -> None:
    import asyncio

    from app.metrics import COUNT_DELAY_SECONDS, Metrics

    metrics = Metrics()
    report = {"record_type": "lead", "completeness": {"required": 1, "filled": 1},
              "accuracy": {"checked": 0, "valid": 0}, "quality_score": 90.0, "lead_score": {"total": 40},
              "issues": []}
    scored = metrics.types["lead"].scored["webhook"]

    async def record() -> None:
        metrics.record_soon(report, "webhook")

    asyncio.run(record())  # its loop ends before the timer fires
    assert scored._value.get() == 0.0

    async def record_and_wait() -> None:
        metrics.record_soon(report, "webhook")
        await asyncio.sleep(COUNT_DELAY_SECONDS + 0.2)

    asyncio.run(record_and_wait())  # a timer on this loop writes both
    assert scored._value.get() == 2.0
    asyncio.run(record())
    metrics.close()
    assert scored._value.get() == 3.0


def test_observations_summed_before_writing_expose_as_one_observe_each() -> None:
    """Request durations and scores are summed per bucket and written later (each moved bucket once, through
    prometheus_client's own values): the exposition is the one `Histogram.observe` per value would give,
    including values on a bucket's bound, below the first and above the last."""
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from app.metrics import LATENCY_BUCKETS, PendingObservations

    amounts = [0.0, 0.001, 0.0011, 0.0025, 0.3, 2.0, 59.9, 60.0, 61.0, 1e9, 0.004, 0.001]
    exposed = []
    for summed in (False, True):
        registry = CollectorRegistry()
        family = Histogram("t", "t", ["route"], buckets=LATENCY_BUCKETS, registry=registry)
        child = family.labels("/v1/contacts/score")
        pending = PendingObservations(child)
        for amount in amounts:
            pending.observe(amount) if summed else child.observe(amount)
        pending.flush()
        pending.flush()  # nothing twice
        exposed.append(generate_latest(registry))
    assert exposed[0] == exposed[1] and b't_count{route="/v1/contacts/score"} 12.0' in exposed[1]


def test_a_lead_that_is_already_a_contact_counts_as_a_duplicate_record_on_no_path(client: TestClient) -> None:
    """helper-64 #3: the route counted a lead matching an indexed contact (`match_also`) as a duplicate
    record, a batch counts it as `lead.duplicate.existing_contact` and not in `duplicate_records`: the
    dashboard's duplicate rate and the audit's disagreed. One definition: a duplicate of its own type."""
    contact = {"id": "xc1", "first_name": "Maria", "last_name": "Gonzalez",
               "email": "maria.gonzalez@northwind.com", "phone": "+1 650-253-0001"}
    lead = {"id": "xl1", "first_name": "Maria", "last_name": "Gonzalez",
            "email": "maria.gonzalez@northwind.com", "phone": "+1 650-253-0001", "company": "Northwind Traders",
            "source": "Web"}
    assert client.post("/v1/index/contacts/bulk", json={"records": [contact]}).json()["indexed"] == 1
    before = scrape(client)
    routed = client.post("/v1/leads/score", params={"now": NOW_ISO}, json=lead).json()
    assert [(d["b"], d.get("b_type")) for d in routed["duplicates"]] == [("xc1", "contact")]
    body = {"contacts": [contact], "leads": [lead], "options": {"now": NOW_ISO}}
    batch = client.post("/v1/batch", json=body)
    summary = batch.json()["summary"]
    assert summary["issues_by_rule"].get("lead.duplicate.existing_contact") == 1
    delta = diff(before, scrape(client))
    assert total(delta, "crm_dq_duplicate_records_total") == summary["counts"]["duplicate_records"] == 0


def test_duplicates_findings_are_counted_once_on_both_batch_paths(client: TestClient) -> None:
    """A JSON batch's reports hold their records' batch duplicates and a lead's existing contact; a stream's
    end counts them from the pairs and the cross-record findings: each path moves the issue counters once per
    finding, the same (a lead's existing contact was counted from the report and again from `cross_record`
    would be two)."""
    from tests.api.test_batch import KNOWN_CONTACT, LEAD_AS_CONTACT, TWINS

    body = {"accounts": TWINS, "contacts": [KNOWN_CONTACT], "leads": [LEAD_AS_CONTACT],
            "options": {"now": NOW_ISO}}
    before = scrape(client)
    client.post("/v1/batch", json=body)
    json_delta = diff(before, scrape(client))
    lines = b"".join(orjson.dumps({"type": t, **r}) + b"\n" for t, r in
                     [*(("account", a) for a in TWINS), ("contact", KNOWN_CONTACT), ("lead", LEAD_AS_CONTACT)])
    before = scrape(client)
    client.post("/v1/batch", params={"now": NOW_ISO}, content=lines,
                headers={"content-type": "application/x-ndjson"})
    stream_delta = diff(before, scrape(client))
    for delta in (json_delta, stream_delta):
        assert value(delta, "crm_dq_issues_total", record_type="account", rule="account.duplicate.auto_merge",
                     severity="error") == 2
        assert value(delta, "crm_dq_issues_total", record_type="lead", rule="lead.duplicate.existing_contact",
                     severity="warning") == 1
    issues = {k: v for k, v in json_delta.items() if k[0] == "crm_dq_issues_total"}
    assert issues == {k: v for k, v in stream_delta.items() if k[0] == "crm_dq_issues_total"}
