"""An organisation's rules file takes effect wherever its settings are read, and a mistake in it is refused
at start-up naming its key (helper-52's probe of a healthcare SaaS pipeline and ICP)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.scoring.engine import score_record
from app.scoring.ruleset import RulesError, Ruleset, load_rules, picklist_key

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def rules_of(report: dict[str, Any]) -> set[str]:
    return {i["rule"] for i in report["issues"]}


def test_a_stage_the_file_defines_is_its_own_not_a_default_alias() -> None:
    """'Discovery' (a default alias of Needs Analysis) defined as a stage of its own was judged as Needs
    Analysis: its range 20-60 %, its gates, 'better stored as Needs Analysis'."""
    rules = load_rules(override={"stages": {"definitions": {
        "Discovery": {"order": 2, "probability": [5, 15], "forecast_categories": ["Pipeline"]},
        "Contract Sent": {"order": 6, "probability": [80, 95], "forecast_categories": ["Commit"]}}}})
    assert rules.canonical_stage("discovery") == "Discovery"
    assert rules.canonical_stage("Contract Sent") == "Contract Sent"
    report = score_record("opportunity", {"stage": "Discovery", "probability": 10, "forecast_category": "Pipeline",
                                          "amount": 5000, "close_date": "2027-02-01"}, rules, now=NOW)
    assert not {"opportunity.probability.stage_mismatch", "opportunity.stage.nonstandard",
                "opportunity.stage_gate.unmet"} & rules_of(report), report["issues"]
    assert report["normalized"]["stage"] == "Discovery"
    # without the organisation's stage, the alias still reads as the default pipeline's
    assert load_rules().canonical_stage("Discovery") == "Needs Analysis"


def test_stage_gates_carry_forward_unless_the_organisation_turns_it_off() -> None:
    """A deal in Proposal with no BANT scored 100 where the same deal in Needs Analysis had four unmet gate
    criteria: a later stage's gate holds the earlier open stages' criteria ([stages] cumulative_gates)."""
    deal = {"stage": "Proposal", "problem_statement": "x", "technical_requirements": "x",
            "success_criteria": "x",
            "meddpicc": {"economic_buyer": "x", "decision_criteria": "x", "identified_pain": "x"}}
    gated = [i["field"] for i in score_record("opportunity", deal, load_rules(), now=NOW)["issues"]
             if i["rule"] == "opportunity.stage_gate.unmet"]
    assert gated == ["bant.need", "bant.budget", "bant.authority", "bant.timeline"]
    own = load_rules(override={"stages": {"cumulative_gates": False}})
    assert "opportunity.stage_gate.unmet" not in rules_of(score_record("opportunity", deal, own, now=NOW))


@pytest.mark.parametrize("written", ["needs analysis", "NEEDS ANALYSIS", "discovery"])
def test_bant_stages_are_read_as_stages_are(written: str) -> None:
    """bant_stages in any case, or an alias, passed validation and then matched no deal: BANT went unjudged."""
    rules = load_rules(override={"qualification": {"bant_stages": [written]}})
    report = score_record("opportunity", {"stage": "Needs Analysis", "bant": {}}, rules, now=NOW)
    assert "opportunity.bant.gaps" in rules_of(report)
    assert report["qualification"]["bant"]["gaps"] == ["budget", "authority", "need", "timeline"]


def test_picklist_aliases_count_wherever_the_picklist_is_read() -> None:
    """Aliases counted in the picklist check only: an aliased qualified status needed no BANT, an aliased
    worked status was an SLA breach, an aliased economic-buyer role was an invalid role and no decision maker."""
    rules = load_rules(override={"picklist_aliases": {
        "lead_status": {"Sales Qualified Lead": "qualified", "In Progress": "working"},
        "decision_role": {"EB": "economic_buyer"}}})
    lead = score_record("lead", {"status": "Sales Qualified Lead", "bant": {"budget": "50k"}}, rules, now=NOW)
    assert "lead.status.qualified_without_bant" in rules_of(lead)
    worked = score_record("lead", {"status": "In Progress", "created_at": "2026-11-20T10:00:00Z"}, rules, now=NOW)
    assert not {"lead.response.sla_breached", "lead.follow_up.due"} & rules_of(worked), worked["issues"]
    deal = score_record("opportunity", {"stage": "Negotiation", "contact_roles": [{"contact_id": "003A",
                                                                                    "role": "EB"}]}, rules, now=NOW)
    assert not {"opportunity.contact_roles.invalid", "opportunity.decision_maker.missing"} & rules_of(deal)
    assert "economic_buyer" not in deal["qualification"]["meddpicc"]["gaps"]


def test_a_grade_scale_replaces_the_default_one() -> None:
    """Hot = 70 merged with the default A = 75: a 72-point lead was graded B."""
    rules = load_rules(override={"lead_scoring": {"grades": {"Hot": 70, "Warm": 40, "Cool": 15}}})
    assert rules.lead_grades == (("Hot", 70), ("Warm", 40), ("Cool", 15))
    lead = {"employee_count": 500, "industry": "Technology", "title": "VP Sales",
            "behavior": {"website_visits": 10, "content_downloads": 5},
            "engagement": {"demo_requested": True}}
    report = score_record("lead", lead, rules, now=NOW)
    assert report["lead_score"]["total"] >= 70 and report["lead_score"]["grade"] == "Hot"


@pytest.mark.parametrize(("override", "message"), [
    # crashed at run time: a 500 on every deal in the stage, a ZeroDivisionError at start-up, a TypeError
    ({"stages": {"definitions": {"Proposal": {"forecast_categories": []}}}},
     r"stages.definitions.Proposal.forecast_categories: List should have at least 1 item"),
    ({"scoring": {"completeness_weight": 0, "accuracy_weight": 0}}, "must not both be 0"),
    ({"impact": {"high_value_deal": -1}}, r"impact.high_value_deal: Input should be greater than or equal to 0"),
    # a lead-scoring table's mistakes name their key
    ({"lead_scoring": {"behavior": {"maxx": 40}}}, r"lead_scoring.behavior: maxx: a criterion is a list of bands"),
    ({"lead_scoring": {"behavior": {"website_visits": [{"min": 1, "pionts": 10}]}}},
     r"lead_scoring.behavior: website_visits\[0\]: pionts: Extra inputs are not permitted"),
    ({"lead_scoring": {"behavior": {"website_vists": [{"min": 1, "points": 10}]}}},
     r"\[lead_scoring.behavior\] website_vists reads 'website_vists'.*'website_visits'\?"),
    ({"lead_scoring": {"demographics": {"size": [{"field": "employee_cuont", "min": 50, "points": 10}]}}},
     r"\[lead_scoring.demographics\] size reads 'employee_cuont'.*'employee_count'\?"),
    ({"lead_scoring": {"behavior": {"website_visits": [{"min": 1, "points": -5}]}}}, "greater than or equal to 0"),
    # a path is checked to its end
    ({"stages": {"definitions": {"Proposal": {"requires": ["meddpicc.economic_buyr"]}}}},
     r"requires fields an opportunity does not have: \['meddpicc.economic_buyr'\]"),
    ({"completeness": {"account": {"required": [{"name": "hq", "any_of": ["billing_address.cty"]}]}}},
     r"\['billing_address.cty'\]"),
    # a forecast category is one of the picklist's
    ({"stages": {"definitions": {"Proposal": {"forecast_categories": ["Best Cas"]}}}},
     r"forecast_categories not in \[picklists\] forecast_category: \['Best Cas'\]"),
    # numbers in their range
    ({"kpi": {"completeness": 95}}, r"kpi.completeness: Input should be less than or equal to 1"),
    ({"stages": {"definitions": {"Proposal": {"probability": [40, 180]}}}}, "less than or equal to 100"),
    ({"timeliness": {"stale_days": -5}}, "greater than or equal to 0"),
    ({"timeliness": {"attention_days": 90}}, "attention_days .90. is after stale_days"),
    ({"timeliness": {"follow_up_days": [1, 7, 3]}}, "follow_up_days must rise"),
    ({"completeness": {"lead": {"required": [{"name": "company", "weight": -1}]}}}, "greater than or equal to 0"),
    ({"scoring": {"penalty": {"error": -10}}}, "greater than or equal to 0"),
    ({"kpi": {"accuracy": float("nan")}}, "finite number"),
    ({"completeness": {"field_empty_values": {"owner": ["unassigned"]}}},
     r"field_empty_values names fields no record has: \['owner'\]"),
    # status lists are statuses
    # ('dead' is a default alias of disqualified)
    ({"timeliness": {"inactive_lead_statuses": ["defunct"]}},
     r"inactive_lead_statuses not in .* \['defunct'\]"),
    ({"qualification": {"qualified_lead_statuses": ["SQL-typo"]}}, r"qualified_lead_statuses not in"),
    ({"stages": {"replace_defaults": "yes"}}, "stages.replace_defaults: Input should be a valid boolean"),
    ({"stages": {"definitions": {"Closed Won": {"closed": False}}}}, "a won stage is closed"),
    ({"decision": {"allow_rules": ["contact.email.invalid"], "block_rules": ["contact.email.invalid"]}},
     r"both name \['contact.email.invalid'\]"),
])
def test_a_mistake_in_the_rules_file_is_refused_naming_its_key(override: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError, match=message):
        load_rules(override=override)


def test_an_organisations_own_lead_scoring_fields_are_read() -> None:
    """helper-56: a band on a field of the organisation's own (a webinar count, an export's revenue column) was
    refused once band fields were checked; only a slip of a documented field is."""
    rules = load_rules(override={"lead_scoring": {"behavior": {"webinars_attended": [{"min": 1, "points": 10}]}}})
    report = score_record("lead", {"behavior": {"webinars_attended": 2}}, rules, now=NOW)
    assert {b["criterion"]: b["points"] for b in report["lead_score"]["breakdown"]}["webinars_attended"] == 10


def test_own_lead_statuses_that_end_no_lead_name_the_key_to_set() -> None:
    """helper-56: statuses none of the default inactive ones are among left no status ending a lead's clock,
    so a 'Closed Lost' lead was an SLA breach and due a follow-up."""
    statuses = ["New", "Working", "Nurture", "Closed Won", "Closed Lost"]
    with pytest.raises(RulesError, match=r"set inactive_lead_statuses to your closed statuses"):
        load_rules(override={"picklists": {"lead_status": statuses}})
    rules = load_rules(override={"picklists": {"lead_status": statuses},
                                 "timeliness": {"inactive_lead_statuses": ["Closed Won", "Closed Lost"]}})
    report = score_record("lead", {"status": "Closed Lost", "created_at": "2026-11-01T10:00:00Z"}, rules, now=NOW)
    assert not {"lead.response.sla_breached", "lead.follow_up.due"} & rules_of(report)


def test_an_organisations_own_lead_statuses_keep_the_default_lists_to_them() -> None:
    """Salesforce's four default statuses as the whole picklist were refused: the default status lists named
    statuses the organisation does not have, though its file named none."""
    statuses = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]
    rules = load_rules(override={"picklists": {"lead_status": statuses}})
    assert rules.contacted_lead_statuses == {"working_contacted"}
    assert rules.inactive_lead_statuses == {"closed_converted", "closed_not_converted"}
    assert rules.qualified_lead_statuses == {"closed_converted"}
    assert rules.file.timeliness.inactive_status is None  # 'recycled' is none of its statuses
    lead = {"status": "Open - Not Contacted", "created_at": "2026-11-01T10:00:00Z",
            "first_response_at": "2026-11-01T10:30:00Z", "last_contacted_at": "2026-11-20T10:00:00Z"}
    done = [i for i in score_record("lead", lead, rules, now=NOW)["issues"] if i["field"] == "status"]
    assert [(i["suggestion"], i["message"].endswith("mark the lead inactive.")) for i in done] == [(None, True)], done
    # a list the file sets itself is checked as written
    with pytest.raises(RulesError, match=r"contacted_lead_statuses not in \[picklists\] lead_status: \['working'\]"):
        load_rules(override={"picklists": {"lead_status": statuses},
                             "timeliness": {"contacted_lead_statuses": ["working"]}})


def test_sales_qualified_statuses_are_the_qualified_status(rules: Ruleset) -> None:
    report = score_record("lead", {"status": "SQL", "bant": {}}, rules, now=NOW)
    assert "lead.status.unknown" not in rules_of(report)
    assert "lead.status.qualified_without_bant" in rules_of(report)


def test_an_organisation_may_keep_the_invalid_number_error_for_national_numbers() -> None:
    """[validity] phone_regions = [] reads a number only in the default region, as before helper-55."""
    report = score_record("contact", {"phone": "089 636-00"}, load_rules(override={"validity": {"phone_regions": []}}),
                          now=NOW)
    assert "contact.phone.invalid" in rules_of(report) and "contact.phone.no_country_code" not in rules_of(report)


def test_an_organisations_own_status_is_itself_whatever_a_default_alias_says() -> None:
    """The default aliases read 'Inactive' as recycled; an organisation whose own picklist has an 'Inactive'
    status keeps it (aliased away, it was an unknown status there)."""
    rules = load_rules(override={"picklists": {"lead_status": ["New", "Working", "Inactive"]},
                                 "timeliness": {"inactive_lead_statuses": ["Inactive"]}})
    lead = {"status": "Inactive", "created_at": "2026-11-01T10:00:00Z"}
    report = score_record("lead", lead, rules, now=NOW)
    assert not {"lead.status.unknown", "lead.response.sla_breached", "lead.follow_up.due"} & rules_of(report)


def test_an_ampersand_reads_as_and_in_every_picklist() -> None:
    """HubSpot writes 'Legal & Compliance' where its API name is legal_and_compliance: every picklist's keys
    read '&' as 'and', an organisation's own values and the values written alike."""
    assert picklist_key("Legal & Compliance") == picklist_key("legal and compliance")
    assert picklist_key("Legal & Compliance") == "legal_and_compliance"
    rules = load_rules(override={"picklists": {"lead_source": ["Events & Webinars", "Partner and Referral"]}})
    for source in ("Events and Webinars", "events&webinars", "Partner & Referral"):
        assert "lead.source.unknown" not in rules_of(score_record("lead", {"source": source}, rules, now=NOW))


def test_reengagement_reports_what_the_follow_up_schedule_would_have_when_that_rule_is_off() -> None:
    """An untouched open lead is the follow-up schedule's (its Day 14 follow-up), not also re-engagement's;
    with lead.follow_up.due disabled, re-engagement tells it."""
    lead = {"status": "New", "created_at": "2026-09-01T10:00:00Z"}
    assert "lead.reengagement.due" not in rules_of(score_record("lead", lead, load_rules(), now=NOW))
    rules = load_rules(override={"rules": {"lead.follow_up.due": {"enabled": False}},
                                 "timeliness": {"reengagement_days": 45}})
    found = [i["message"] for i in score_record("lead", lead, rules, now=NOW)["issues"]
             if i["rule"] == "lead.reengagement.due"]
    assert found == ["Lead not contacted for 90 days (re-engage after 45): contact it again."]


def test_a_day_count_below_a_limit_that_is_not_whole_keeps_a_decimal() -> None:
    """Floored whole days never read as over a limit they are under; under a limit of 7.5 days, 7.6 idle days
    floored to '7' would read as under it: one decimal then."""
    rules = load_rules(override={"timeliness": {"attention_days": 7.5}})
    deal = {"stage": "Proposal", "last_activity_at": "2026-11-23T09:36:00Z"}  # 7.6 days before NOW
    found = [i["message"] for i in score_record("opportunity", deal, rules, now=NOW)["issues"]
             if i["rule"] == "opportunity.activity.attention"]
    assert found == ["No activity or stage change for 7.6 days (attention after 7.5); schedule the next "
                     "step."]
