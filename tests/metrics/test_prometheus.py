"""Debian's Prometheus against our files and our server.

promtool checks the config and the rules and runs the alert unit tests; a real Prometheus on loopback (1 s
scrapes, a throwaway data dir, the alert rules loaded) scrapes `python -m app.serve --workers 2`; known records
are scored over HTTP and the dashboard's completeness expression comes back with the expected value; every
PromQL expression of the dashboard and the alerts evaluates without error and names only exported families.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from tests.api.test_batch import ACCOUNT, CONTACT, DEALS
from tests.conftest import NOW_ISO
from tests.metrics.support import (
    DEPLOY,
    NEEDS_PROMETHEUS,
    NEEDS_PROMTOOL,
    PROMETHEUS,
    PROMTOOL,
    RunningPrometheus,
    Served,
    family_names,
    prometheus,
    serve,
    wait_for,
)

pytestmark = [pytest.mark.prometheus]
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "crm-dq.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
# Grafana's variables as the dashboard's defaults resolve them ("All" record types is its allValue).
GRAFANA_VARS = {"$record_type": ".*", "$__rate_interval": "30s", "$__range": "10m"}
C2 = {"id": "c2", "first_name": "Ana", "last_name": "Lopez", "email": "bob@", "phone": "+14155550123",
      "title": "CTO"}
LEAD = {"id": "l1", "first_name": "Ana", "email": "ana@globex.com", "company": "Globex", "source": "web",
        "behavior": {"website_visits": 4}}


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


def dashboard_exprs() -> list[tuple[str, str]]:
    """(panel title, expression) of every dashboard query, Grafana's variables substituted."""
    doc = json.loads(DASHBOARD.read_text())
    found = [(p["title"], t["expr"]) for p in doc["panels"] for t in p.get("targets", [])]
    found += [("variable " + v["name"], v["query"].removeprefix("label_values(").split(",")[0])
              for v in doc["templating"]["list"] if v["type"] == "query"]
    return [(title, substitute(expr)) for title, expr in found]


def alert_exprs() -> list[tuple[str, str]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [(r["alert"], r["expr"]) for g in groups for r in g["rules"]]


def substitute(expr: str) -> str:
    for var, replacement in GRAFANA_VARS.items():
        expr = expr.replace(var, replacement)
    assert "$" not in expr, f"unresolved Grafana variable in {expr}"
    return expr


def selected_metrics(expr: str) -> set[str]:
    """Metric names the expression selects, from a real PromQL parser."""
    import promql_parser

    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name or next(m.value for m in node.matchers.matchers if m.name == "__name__"))
        for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, str | int | float):
                visit(child)
        for arg in getattr(node, "args", None) or []:
            visit(arg)

    visit(promql_parser.parse(expr))
    return names


@NEEDS_PROMTOOL
def test_promtool_checks_the_rules_and_the_config() -> None:
    rules = promtool("check", "rules", str(ALERTS))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 5 rules found" in rules.stdout
    config = promtool("check", "config", str(DEPLOY / "prometheus" / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


@NEEDS_PROMTOOL
def test_promtool_runs_the_alert_unit_tests() -> None:
    result = promtool("test", "rules", "alerts.test.yml", cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def score_known_records(url: str) -> list[dict[str, Any]]:
    """Single records, a JSON batch and an NDJSON stream; every report that came back."""
    reports = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for path, record in (("/v1/contacts/score", CONTACT), ("/v1/contacts/score", C2),
                             ("/v1/accounts/score", ACCOUNT), ("/v1/leads/score", LEAD),
                             ("/v1/opportunities/score", DEALS[0])):
            response = http.post(path, params={"now": NOW_ISO}, json=record)
            assert response.status_code == 200
            reports.append(response.json())
        batch = http.post("/v1/batch", json={"contacts": [CONTACT, C2, dict(C2, id="c3")], "opportunities": DEALS,
                                             "accounts": [ACCOUNT], "options": {"now": NOW_ISO}}).json()
        reports += [r for entries in batch["results"].values() for r in entries]
        lines = b"".join(orjson.dumps({"type": "contact", **c}) + b"\n" for c in (CONTACT, C2, LEAD))
        out = http.post("/v1/batch", params={"now": NOW_ISO}, content=lines,
                        headers={"content-type": "application/x-ndjson"}).content.splitlines()
        reports += [orjson.loads(line) for line in out[:-1]]
        assert http.post("/v1/contacts/score", content=b"[]", headers={"content-type": "application/json"}) \
            .status_code == 422
    return reports


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, RunningPrometheus,
                                                                         list[dict[str, Any]]]]:
    """crm-dq with 2 workers scraped every second by a real Prometheus, after known records were scored."""
    if PROMETHEUS is None or PROMTOOL is None:
        pytest.skip("prometheus is not installed (Debian: apt-get install prometheus; .ci/run does this)")
    tmp = tmp_path_factory.mktemp("stack")
    with serve(tmp, workers=2) as served:
        (tmp / "prom").mkdir()
        with prometheus(tmp / "prom", served.url.removeprefix("http://")) as prom:
            wait_for(lambda: prom.scalar('up{job="crm-dq"}') == 1, "the first scrape", prom.log)
            reports = score_known_records(served.url)
            scored = len(reports)
            wait_for(lambda: prom.scalar("sum(crm_dq_records_scored_total)") == scored,
                     f"Prometheus to see {scored} records", prom.log)
            yield served, prom, reports


@NEEDS_PROMETHEUS
def test_the_dashboards_completeness_ratio_comes_back_from_prometheus(stack: Any) -> None:
    _, prom, reports = stack
    filled = sum(r["completeness"]["filled"] for r in reports)
    required = sum(r["completeness"]["required"] for r in reports)
    assert required > filled > 0
    (expr,) = [e for title, e in dashboard_exprs() if title == "Completeness"]
    assert prom.scalar(expr) == pytest.approx(filled / required, rel=1e-9)
    checked = sum(r["accuracy"]["checked"] for r in reports)
    valid = sum(r["accuracy"]["valid"] for r in reports)
    (expr,) = [e for title, e in dashboard_exprs() if title == "Accuracy"]
    assert prom.scalar(expr) == pytest.approx(valid / checked, rel=1e-9)
    # increase() extrapolates a count to the window's edges (the ratios above cancel that out); the raw sum is exact
    (expr,) = [e for title, e in dashboard_exprs() if title == "Records scored"]
    assert prom.scalar(expr) >= len(reports)
    assert prom.scalar("sum(crm_dq_records_scored_total)") == len(reports)
    assert prom.scalar('sum(crm_dq_records_scored_total{source="batch"})') == len(reports) - 5
    assert prom.scalar("sum(crm_dq_duplicate_records_total)") == 1  # c3 in the JSON batch


@NEEDS_PROMETHEUS
def test_every_dashboard_and_alert_expression_evaluates_and_names_exported_families(stack: Any) -> None:
    served, prom, _ = stack
    exported = family_names(httpx.get(f"{served.url}/metrics").text)
    for title, expr in dashboard_exprs():
        data = prom.query(expr)
        assert data["result"], f"{title}: {expr} returned nothing"
        unknown = selected_metrics(expr) - exported
        assert not unknown, f"{title}: {expr} names {unknown}, which /metrics does not export"
    for name, expr in alert_exprs():
        prom.query(expr)
        unknown = selected_metrics(expr) - exported
        assert not unknown, f"{name}: names {unknown}, which /metrics does not export"


@NEEDS_PROMETHEUS
def test_prometheus_evaluates_the_alert_rules_and_the_completeness_alert_is_pending(stack: Any) -> None:
    _, prom, _ = stack

    def rules() -> list[dict[str, Any]]:
        body = httpx.get(f"{prom.url}/api/v1/rules", timeout=5).json()
        return [r for g in body["data"]["groups"] for r in g["rules"]]

    wait_for(lambda: len(rules()) == 5 and all(r.get("lastEvaluation", "").startswith("2") and
                                               not r["lastEvaluation"].startswith("0001") for r in rules()),
             "every rule evaluated", prom.log)
    for rule in rules():
        assert rule["health"] == "ok", rule
    # the known records fill well under 95 % of their required fields: pending for its 5 minutes (from the
    # first evaluation that saw them; one may have run before the scrape that brought them)
    def states() -> dict[str, str]:
        alerts = httpx.get(f"{prom.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return {a["labels"]["alertname"]: a["state"] for a in alerts}

    wait_for(lambda: states().get("CrmDqCompletenessBelowTarget") == "pending",
             "the completeness alert pending", prom.log)
    assert "CrmDqServerErrors" not in states()


@NEEDS_PROMTOOL
def test_promtool_accepts_our_exposition(stack: Any) -> None:
    served, _, _ = stack
    text = httpx.get(f"{served.url}/metrics").text
    assert re.search(r"^crm_dq_http_request_duration_seconds_bucket\{.*le=\"2\.0\"", text, re.M)
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
