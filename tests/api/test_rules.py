"""GET /v1/rules, and a rules file (Settings.rules_file) that reshapes what the endpoints report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.scoring import RULES, RulesError
from tests.api.assertions import SCORE_PATHS
from tests.conftest import NOW_ISO

ORG_RULES = """
[rules."contact.email.invalid"]
severity = "warning"

[decision]
block_rules = ["contact.email.invalid"]

[timeliness]
stale_days = 30
"""
# Idle for 45 days at NOW: past the overridden stale limit (30), short of the default one (60).
IDLE_DEAL = {"stage": "Proposal", "last_activity_at": "2024-05-01T12:00:00Z"}


def listed(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/rules")
    assert response.status_code == 200, response.text
    items = response.json()["rules"]
    by_id = {r["id"]: r for r in items}
    assert len(by_id) == len(items), "a rule is listed twice"
    return by_id


def score(client: TestClient, record_type: str, record: dict[str, Any]) -> dict[str, Any]:
    response = client.post(SCORE_PATHS[record_type], json=record, params={"now": NOW_ISO})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def timeliness_rules(report: dict[str, Any]) -> list[str]:
    return [i["rule"] for i in report["issues"] if i["category"] == "timeliness"]


@pytest.fixture
def org_rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "org-rules.toml"
    path.write_text(ORG_RULES)
    return path


@pytest.fixture
def org_client(settings: Settings, org_rules_file: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"rules_file": org_rules_file}))) as c:
        yield c


# ------------------------------------------------------------------------------------------- the listing

def test_every_registered_rule_is_listed_with_its_defaults(client: TestClient) -> None:
    rules = listed(client)
    assert set(rules) == set(RULES)
    for rule_id, rule in RULES.items():
        item = rules[rule_id]
        assert item["severity"] == rule.severity, rule_id
        assert item["enabled"] is True, rule_id
        assert item["seed"] == rule.seed and item["seed"], rule_id
        assert item["record_type"] == rule.record_type, rule_id


def test_the_listing_reports_the_settings_and_the_active_config(client: TestClient,
                                                                 settings: Settings) -> None:
    body = client.get("/v1/rules").json()
    assert body["settings"]["rules_file"] is None
    assert body["settings"]["max_body_bytes"] == settings.max_body_bytes
    assert body["config"]["timeliness"]["stale_days"] == 60
    version = client.post(SCORE_PATHS["contact"], json={}).json()["rules_version"]
    assert body["rules_version"] == version


# ------------------------------------------------------------------------------------ a rules file override

def test_an_override_changes_the_listed_severity(org_client: TestClient, org_rules_file: Path) -> None:
    rules = listed(org_client)
    assert rules["contact.email.invalid"]["severity"] == "warning"
    assert rules["contact.email.invalid"]["enabled"] is True
    untouched = {rid: r["severity"] for rid, r in rules.items() if rid != "contact.email.invalid"}
    assert untouched == {rid: r.severity for rid, r in RULES.items() if rid != "contact.email.invalid"}
    body = org_client.get("/v1/rules").json()
    assert body["settings"]["rules_file"] == str(org_rules_file)
    assert body["config"]["timeliness"]["stale_days"] == 30
    assert body["config"]["decision"]["block_rules"] == ["contact.email.invalid"]


def test_an_override_changes_the_reported_severity_and_decision(client: TestClient,
                                                                 org_client: TestClient) -> None:
    contact = {"first_name": "Bob", "email": "bob@"}
    default, org = score(client, "contact", contact), score(org_client, "contact", contact)

    [before] = [i for i in default["issues"] if i["rule"] == "contact.email.invalid"]
    [after] = [i for i in org["issues"] if i["rule"] == "contact.email.invalid"]
    assert (before["severity"], after["severity"]) == ("error", "warning")
    assert default["decision"] == {"action": "alert", "reasons": ["contact.email.invalid"]}
    assert org["decision"] == {"action": "block", "reasons": ["contact.email.invalid"]}
    assert org["counts"]["error"] == default["counts"]["error"] - 1
    assert org["rules_version"] != default["rules_version"]


def test_an_override_changes_the_stale_threshold(client: TestClient, org_client: TestClient) -> None:
    assert timeliness_rules(score(client, "opportunity", IDLE_DEAL)) == ["opportunity.activity.attention"]
    assert timeliness_rules(score(org_client, "opportunity", IDLE_DEAL)) == ["opportunity.activity.stale"]


def test_a_rule_can_be_disabled(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[rules."contact.email.invalid"]\nenabled = false\n')
    with TestClient(create_app(settings.model_copy(update={"rules_file": path}))) as c:
        assert listed(c)["contact.email.invalid"]["enabled"] is False
        report = score(c, "contact", {"email": "bob@"})
    assert "contact.email.invalid" not in {i["rule"] for i in report["issues"]}
    assert report["decision"]["action"] == "allow"


# ------------------------------------------------------------------------------- an invalid rules file

INVALID = {
    "unknown-key": ("[timeliness]\nstale_dayz = 3\n", "timeliness.stale_dayz"),
    "unknown-rule-id": ('[rules."contact.email.bogus"]\nseverity = "info"\n', "'contact.email.bogus'"),
    "unknown-rule-key": ('[rules."contact.email.invalid"]\nseverty = "info"\n',
                         "rules.contact.email.invalid.severty"),
    "bad-severity": ('[rules."contact.email.invalid"]\nseverity = "fatal"\n',
                     "rules.contact.email.invalid.severity"),
    "wrong-type": ('[timeliness]\nstale_days = "a month"\n', "timeliness.stale_days"),
    "not-toml": ("[timeliness\nstale_days = 3\n", "org.toml"),
}


@pytest.mark.parametrize(("text", "named"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_rules_file_stops_start_up_naming_the_key(settings: Settings, tmp_path: Path,
                                                            text: str, named: str) -> None:
    path = tmp_path / "org.toml"
    path.write_text(text)
    app = create_app(settings.model_copy(update={"rules_file": path}))
    with pytest.raises(RulesError) as caught, TestClient(app):
        pytest.fail("the app started with an invalid rules file")
    assert named in str(caught.value)


def test_a_missing_rules_file_stops_start_up(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    app = create_app(settings.model_copy(update={"rules_file": missing}))
    with pytest.raises(RulesError, match="nowhere.toml"), TestClient(app):
        pytest.fail("the app started without its rules file")


@pytest.mark.parametrize("key", ["block_rules", "alert_rules", "allow_rules"])
def test_a_misspelt_rule_id_in_decision_stops_start_up(settings: Settings, tmp_path: Path, key: str) -> None:
    """Otherwise a typo would start up fine and silently never block (or alert, or allow)."""
    path = tmp_path / "org.toml"
    path.write_text(f'[decision]\n{key} = ["contact.email.invalidd"]\n')
    app = create_app(settings.model_copy(update={"rules_file": path}))
    with pytest.raises(RulesError) as caught, TestClient(app):
        pytest.fail("the app started with a misspelt rule id")
    assert f"decision.{key}" in str(caught.value)
    assert "'contact.email.invalidd'" in str(caught.value)
