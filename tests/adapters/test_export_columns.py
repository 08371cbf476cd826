"""Export columns the mappings read: Salesforce report labels, stage change dates, HubSpot date properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.adapters import annotate, from_hubspot, from_salesforce, load_mappings
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


def test_hubspot_internal_name_exports_keep_their_dates(tmp_path: Path, rules: Ruleset) -> None:
    """The export probe (A13): an export of internal property names lost createdate and lastmodifieddate (on
    the ignore list: a CRM v3 object has them as createdAt / updatedAt too), so contact.verification.overdue
    never fired; notes_last_contacted and num_notes were reported as unknown fields."""
    from app.cli import adapt_rows, read_rows

    export = tmp_path / "hubspot-contacts.csv"
    export.write_text("hs_object_id,firstname,lastname,email,jobtitle,createdate,lastmodifieddate,"
                      "notes_last_contacted,num_notes,hs_lead_status\n"
                      "1001,Mary,Davis,mary.davis@northwind.com,VP of Sales,2023-02-11T10:00:00.000Z,"
                      "2024-05-25T10:00:00.000Z,2024-02-15T10:00:00.000Z,1,\n")
    [contact] = adapt_rows(read_rows(export), "contact", "auto", load_mappings())
    assert contact.source == "hubspot"
    assert (contact.record["created_at"], contact.record["updated_at"], contact.record["last_activity_at"]) \
        == ("2023-02-11T10:00:00.000Z", "2024-05-25T10:00:00.000Z", "2024-02-15T10:00:00.000Z")
    assert "num_notes" not in contact.record
    report = annotate(score_record("contact", contact.record, rules, now=NOW), contact, rules)
    found = rules_of(report)
    assert "contact.verification.overdue" in found and "contact.field.unknown" not in found


def test_hubspot_date_properties_fill_only_what_the_object_leaves_blank() -> None:
    """A CRM v3 object's createdAt / updatedAt win over its createdate / hs_lastmodifieddate properties; a
    deal's last activity date wins over its last contact, which fills in only when it is blank."""
    deal = {"id": "5001", "createdAt": "2024-01-05T10:00:00Z", "updatedAt": "2024-06-01T10:00:00Z",
            "properties": {"dealname": "Northwind renewal", "dealstage": "contractsent",
                           "createdate": "2024-01-04T10:00:00Z",
                           "hs_lastmodifieddate": "2024-05-31T10:00:00Z",
                           "notes_last_contacted": "2024-05-02T10:00:00Z",
                           "notes_last_updated": "2024-05-20"}}
    [adapted] = from_hubspot(deal, load_mappings(), "deals")
    assert (adapted.record["created_at"], adapted.record["updated_at"], adapted.record["last_activity_at"]) \
        == ("2024-01-05T10:00:00Z", "2024-06-01T10:00:00Z", "2024-05-20")
    flat = {"hs_object_id": "5002", "dealname": "Apex", "createdate": "1704448800000",
            "notes_last_updated": "", "hs_lastmodifieddate": "2024-05-31T10:00:00Z",
            "notes_last_contacted": "2024-05-02T10:00:00Z"}
    [adapted] = from_hubspot(flat, load_mappings(), "deals")
    assert adapted.record["created_at"] == "2024-01-05T10:00:00.000Z"
    assert adapted.record["updated_at"] == "2024-05-31T10:00:00Z"
    assert adapted.record["last_activity_at"] == "2024-05-02T10:00:00Z"
    assert adapted.source_fields["last_activity_at"] == "notes_last_contacted"
