"""The Grafana dashboard checked as data (no Grafana server runs here): it is what its generator builds, Grafana's
own models read it back unchanged, and the KPI panels carry the rules file's targets as thresholds."""

from __future__ import annotations

import json
import math
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.scoring import Ruleset
from tests.metrics.support import DEPLOY

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "crm-dq.json"
REGENERATE = "deploy/grafana/dashboards/crm-dq.json is stale: regenerate it with `make dashboard`"
DS = {"type": "prometheus", "uid": "${datasource}"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())  # type: ignore[no-any-return]


def panels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in doc["panels"] if p["type"] != "row"]


def test_the_committed_dashboard_is_the_generators_output() -> None:
    pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk is a dev extra: pip install -e '.[dev]'")
    generator = runpy.run_path(str(GRAFANA / "dashboard.py"))
    assert generator["render"]() == DASHBOARD.read_text(), REGENERATE


def test_grafanas_models_read_the_dashboard_back_unchanged(doc: dict[str, Any]) -> None:
    pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk is a dev extra: pip install -e '.[dev]'")
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()
    model = Dashboard.from_json(doc)
    assert json.loads(JSONEncoder(sort_keys=True).encode(model)) == doc


def test_the_dashboard_has_grafanas_shape(doc: dict[str, Any]) -> None:
    assert doc["uid"] and doc["title"] and isinstance(doc["schemaVersion"], int)
    assert doc["time"] == {"from": "now-6h", "to": "now"}
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["record_type"]["datasource"] == DS and variables["record_type"]["includeAll"]
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels(doc):
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["datasource"] == DS, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target["datasource"] == DS and target["expr"] and target["refId"], panel["title"]
    assert sum(p["type"] == "row" for p in doc["panels"]) == 4


def test_the_issue_lists_panels(doc: dict[str, Any]) -> None:
    """KPI stats; KPI series with their targets; issues by rule; score distributions; latency; rates."""
    by_title = {p["title"]: p for p in panels(doc)}
    for title in ("Completeness", "Accuracy", "Duplicate rate", "p95 response time"):
        assert by_title[title]["type"] == "stat"
    for title, kpi in (("Completeness", "completeness"), ("Accuracy", "accuracy"),
                       ("Duplicate rate", "duplicate_rate")):
        series = by_title[f"{title} vs target"]
        assert series["type"] == "timeseries"
        assert by_title[title]["targets"][0]["expr"].replace("$__range", "$__rate_interval") \
            == series["targets"][0]["expr"]
        assert any(f'kpi="{kpi}"' in t["expr"] and t["legendFormat"] == "target" for t in series["targets"])
    assert "by (rule)" in by_title["Issues by rule (top 10)"]["targets"][0]["expr"]
    for title, family in (("Quality score distribution", "crm_dq_quality_score_bucket"),
                          ("Lead score distribution", "crm_dq_lead_score_bucket")):
        assert family in by_title[title]["targets"][0]["expr"]
        assert by_title[title]["targets"][0]["format"] == "heatmap"
    latency = [t["expr"] for t in by_title["Latency p50 / p95 / p99 (interactive routes)"]["targets"]]
    assert [e.split(",")[0] for e in latency[:3]] == ["histogram_quantile(0.5", "histogram_quantile(0.95",
                                                      "histogram_quantile(0.99"]
    assert 'kpi="response_seconds"' in latency[3]
    assert "crm_dq_http_request_duration_seconds_count" in by_title["Requests by route"]["targets"][0]["expr"]
    assert 'status=~"5.."' in by_title["Error rate (4xx, 5xx)"]["targets"][0]["expr"]


def test_kpi_stats_turn_red_past_the_rules_files_targets(doc: dict[str, Any], rules: Ruleset) -> None:
    kpi = rules.file.kpi
    by_title = {p["title"]: p for p in panels(doc)}
    # above the target, as DESIGN writes it (completeness > 0.95): exactly 95% is red
    expected = {"Completeness": [("red", None), ("green", math.nextafter(kpi.completeness, 1))],
                "Accuracy": [("red", None), ("green", math.nextafter(kpi.accuracy, 1))],
                "Duplicate rate": [("green", None), ("red", kpi.duplicate_rate)],
                "p95 response time": [("green", None), ("red", kpi.response_seconds)]}
    for title, steps in expected.items():
        thresholds = by_title[title]["fieldConfig"]["defaults"]["thresholds"]
        assert thresholds["mode"] == "absolute"
        assert [(s["color"], s["value"]) for s in thresholds["steps"]] == steps, title


def test_provisioning_points_grafana_at_prometheus_and_the_dashboard() -> None:
    (source,) = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090" and source["isDefault"]
    (provider,) = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "crm-dq.yml").read_text())["providers"]
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["grafana"]["volumes"]}
    mounted = DEPLOY / mounts[provider["options"]["path"]]
    assert (mounted / DASHBOARD.name).resolve() == DASHBOARD.resolve()
    assert Path(mounts["/etc/grafana/provisioning"]) == Path("./grafana/provisioning")


def test_the_stats_are_coloured_at_the_organisations_targets(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """helper-52: the stats were coloured at the default 95% and 98% whatever the organisation's rules file
    said (the alerts and the series read the exported targets; the stats are built once, from a file)."""
    pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk is a dev extra: pip install -e '.[dev]'")
    org = tmp_path / "org.toml"
    org.write_text("[kpi]\ncompleteness = 0.97\naccuracy = 0.99\n")
    monkeypatch.setenv("CRM_DQ_RULES_FILE", str(org))
    generator = runpy.run_path(str(DEPLOY / "grafana" / "dashboard.py"), run_name="dashboard")
    built = {p["title"]: p for p in panels(json.loads(generator["render"]()))}
    for title, target in (("Completeness", 0.97), ("Accuracy", 0.99)):
        steps = built[title]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert [(s["color"], s["value"]) for s in steps] == [("red", None), ("green", math.nextafter(target, 1))], \
            title
