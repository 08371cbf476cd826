"""Export columns the mappings read: Salesforce report labels, stage change dates, HubSpot date properties."""

from __future__ import annotations

from typing import Any

from app.adapters import annotate, from_salesforce, load_mappings
from app.scoring import Ruleset, score_record
from tests.conftest import NOW


def rules_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["rule"]: i for i in report["issues"]}


def test_a_salesforce_stage_change_date_finds_stuck_deals(rules: Ruleset) -> None:
    """The export probe (A8): LastStageChangeDate was ignored, so opportunity.stage.stuck never fired."""
    opp = {"attributes": {"type": "Opportunity"}, "Id": "006D000000CrjWGIAZ", "Name": "GenePoint Standby",
           "StageName": "Needs Analysis", "Amount": 85000, "CloseDate": "2024-09-30",
           "LastStageChangeDate": "2024-01-02T10:00:00.000+0000", "LastActivityDate": "2024-06-10"}
    [adapted] = from_salesforce(opp, load_mappings())
    assert adapted.record["stage_changed_at"] == "2024-01-02T10:00:00.000+0000"
    report = annotate(score_record("opportunity", adapted.record, rules, now=NOW), adapted, rules)
    stuck = rules_of(report)["opportunity.stage.stuck"]
    assert stuck["source_field"] == "LastStageChangeDate"
    assert "opportunity.field.unknown" not in rules_of(report)
