"""Salesforce and HubSpot payloads, shaped as their REST API documentation shows, map to canonical records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.adapters import AdapterError, MappingsError, annotate, from_hubspot, from_salesforce, load_mappings
from app.adapters.hubspot_events import from_hubspot_events, partial_report
from app.scoring import Ruleset, score_record
from tests.conftest import NOW

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_salesforce_account_maps_standard_fields_and_drops_system_fields() -> None:
    [adapted] = from_salesforce(fixture("salesforce/account.json"), load_mappings())
    assert adapted.record_type == "account"
    assert adapted.record["id"] == "001D000000INjVeIAL"
    assert adapted.record["name"] == "GenePoint"
    assert adapted.record["employee_count"] == 265
    assert adapted.record["billing_address"]["city"] == "Mountain View"
    assert adapted.record["created_at"] == "2013-09-05T18:45:08.000+0000"
    assert not {"IsDeleted", "SystemModstamp", "attributes", "BillingAddress", "Fax"} & set(adapted.record)


def test_salesforce_query_result_gives_every_record_with_relationship_fields() -> None:
    adapted = from_salesforce(fixture("salesforce/contacts_query.json"), load_mappings())
    assert [a.record["id"] for a in adapted] == ["003D000000QV9n2IAD", "003D000000QV9n3IAD"]
    first = adapted[0].record
    assert first["email"] == "efrank@genepoint" and first["title"] == "VP, Technology"
    assert first["account"] == {"name": "GenePoint", "website": "www.genepoint.com"}
    assert first["mailing_address"]["postal_code"] == "94043"
    assert first["email_bounced"] is False


def test_findings_name_the_salesforce_field(rules: Ruleset) -> None:
    adapted = from_salesforce(fixture("salesforce/contacts_query.json"), load_mappings())[0]
    report = annotate(score_record("contact", adapted.record, rules, now=NOW), adapted, rules)
    email = next(i for i in report["issues"] if i["rule"] == "contact.email.invalid")
    assert (email["field"], email["source_field"]) == ("email", "Email")
    missing_role = next(i for i in report["issues"] if i["field"] == "decision_role")
    assert missing_role["source_field"] is None  # Salesforce has no standard field for it
    assert report["source"] == {"system": "salesforce", "object": "Contact"}
    second = from_salesforce(fixture("salesforce/contacts_query.json"), load_mappings())[1]
    report = annotate(score_record("contact", second.record, rules, now=NOW), second, rules)
    department = next(i for i in report["issues"] if i["field"] == "department")
    assert department["source_field"] == "Department"


def test_salesforce_stages_and_lead(rules: Ruleset) -> None:
    [opp] = from_salesforce(fixture("salesforce/opportunity.json"), load_mappings())
    assert opp.record["stage"] == "Proposal" and opp.record["amount"] == 85000
    assert opp.record["forecast_category"] == "Pipeline"
    assert opp.record["Budget__c"] == "Approved"  # unmapped custom field: kept, reported as unknown
    report = annotate(score_record("opportunity", opp.record, rules, now=NOW), opp, rules)
    unknown = next(i for i in report["issues"] if i["field"] == "Budget__c")
    assert unknown["source_field"] == "Budget__c"
    [lead] = from_salesforce(fixture("salesforce/lead.json"), load_mappings())
    assert lead.record_type == "lead"
    assert lead.record["address"]["country"] == "Taiwan" and lead.record["source"] == "Web"
    assert "Name" not in lead.record and "Salutation" not in lead.record


def test_hubspot_contact_company_batch_and_deal_inputs() -> None:
    [contact] = from_hubspot(fixture("hubspot/contact.json"), load_mappings())
    assert contact.record_type == "contact"
    assert contact.record == {"id": "512", "email": "bcooper@biglytics.net", "first_name": "Bryan",
                              "last_name": "Cooper", "created_at": "2019-10-30T03:30:17.883Z",
                              "updated_at": "2019-12-07T16:50:06.678Z"}
    [company] = from_hubspot(fixture("hubspot/companies_batch_read.json"), load_mappings())
    assert company.record_type == "account"
    assert company.record["website"] == "biglytics.net"
    assert company.record["employee_count"] == 250  # HubSpot sends every property as text
    assert company.record["billing_address"] == {"city": "Cambridge", "state": "Massachusetts"}
    [deal] = from_hubspot(fixture("hubspot/deals_batch_create.json"), load_mappings())
    assert deal.record_type == "opportunity"
    assert deal.record["stage"] == "Needs Analysis" and deal.record["amount"] == 1500.0
    assert deal.record["owner_id"] == "910901"


def test_object_type_hint_and_errors() -> None:
    [adapted] = from_hubspot({"properties": {"name": "Biglytics"}}, load_mappings(), "deals")
    assert adapted.record_type == "opportunity"
    with pytest.raises(AdapterError) as err:
        from_salesforce({"Id": "1"}, load_mappings())
    assert err.value.loc == "body.attributes.type"
    with pytest.raises(AdapterError):
        from_salesforce({"attributes": {"type": "Case"}}, load_mappings())
    with pytest.raises(AdapterError):
        event = {"eventId": 1, "subscriptionType": "contact.creation", "objectId": 123}
        from_hubspot([event], load_mappings())
    with pytest.raises(AdapterError):
        from_hubspot({"results": [1]}, load_mappings())


def test_organisation_file_maps_custom_fields_and_stages(tmp_path: Path, rules: Ruleset) -> None:
    org = tmp_path / "org.toml"
    org.write_text('[salesforce.objects.Opportunity.fields]\nBudget__c = "bant.budget"\n'
                   '[hubspot.objects.deals.fields]\nbudget_approved = "bant.budget"\n'
                   '[hubspot.stages]\npresentationscheduled = "Proposal"\n')
    mappings = load_mappings(org)
    [opp] = from_salesforce(fixture("salesforce/opportunity.json"), mappings)
    assert opp.record["bant"] == {"budget": "Approved"} and "Budget__c" not in opp.record
    assert opp.record["name"] == "GenePoint Standby Generator"  # defaults still apply
    [deal] = from_hubspot(fixture("hubspot/deals_batch_create.json"), mappings)
    assert deal.record["bant"] == {"budget": "yes"} and deal.record["stage"] == "Proposal"
    report = annotate(score_record("opportunity", opp.record, rules, now=NOW), opp, rules)
    assert all(i["field"] != "Budget__c" for i in report["issues"])


def test_bad_mappings_file_names_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[salesforce.objects.Case]\nrecord_type = "ticket"\nfields = {}\n')
    with pytest.raises(MappingsError, match="salesforce.objects.Case.record_type"):
        load_mappings(bad)
    bad.write_text('[salesforce]\nunknown = 1\n')
    with pytest.raises(MappingsError, match="salesforce.unknown"):
        load_mappings(bad)


def test_hubspot_csv_export_labels_map_like_property_names(tmp_path: Path) -> None:
    from app.cli import adapt_rows, read_rows

    export = tmp_path / "hubspot-deals.csv"
    export.write_text("Record ID,Deal Name,Amount,Close Date,Deal Stage,Pipeline,Deal owner\n"
                      "9001,Custom data integrations,1500.00,2024-07-01 00:00,Presentation Scheduled,"
                      "Sales Pipeline,Jane Doe\n")
    [deal] = adapt_rows(read_rows(export), "opportunity", "auto", load_mappings())
    assert deal.source == "hubspot" and deal.record_type == "opportunity"
    assert deal.record == {"id": "9001", "name": "Custom data integrations", "amount": 1500.0,
                           "close_date": "2024-07-01 00:00", "stage": "Needs Analysis",
                           "owner_id": "Jane Doe"}
    assert deal.source_fields["stage"] == "Deal Stage"


# ----------------------------------------------------------------------- findings name the caller's field
def mapped_paths(adapted: Any) -> set[str]:
    return set(adapted.mapping.fields.values()) | set(adapted.source_fields)


def has_mapping(field: str, paths: set[str], rules: Ruleset, record_type: str) -> bool:
    """Whether some CRM field feeds `field`: itself, a field inside it, or a field of its requirement."""
    groups = {r.name: r.paths()[0] for r in getattr(rules.file.completeness, record_type).required}
    wanted = [field, *groups.get(field, [])]
    return any(p == w or p.startswith(w + ".") for p in paths for w in wanted)


@pytest.mark.parametrize("source,name", [
    ("salesforce", "account.json"), ("salesforce", "contacts_query.json"), ("salesforce", "lead.json"),
    ("salesforce", "opportunity.json"), ("hubspot", "contact.json"), ("hubspot", "companies_batch_read.json"),
    ("hubspot", "deals_batch_create.json")])
def test_every_finding_with_a_mapped_field_names_it(source: str, name: str, rules: Ruleset) -> None:
    convert = from_salesforce if source == "salesforce" else from_hubspot
    for adapted in convert(fixture(f"{source}/{name}"), load_mappings()):
        report = annotate(score_record(adapted.record_type, adapted.record, rules, now=NOW), adapted, rules)
        paths = mapped_paths(adapted)
        assert report["issues"]
        for issue in report["issues"]:
            mapped = has_mapping(issue["field"], paths, rules, adapted.record_type)
            assert (issue["source_field"] is not None) == mapped, issue
        missing = report["completeness"]["missing_source_fields"]
        assert list(missing) == report["completeness"]["missing"]
        for field, crm in missing.items():
            assert (crm is not None) == has_mapping(field, paths, rules, adapted.record_type), field


def test_completeness_names_the_crm_fields_to_fill(rules: Ruleset) -> None:
    contact = {"attributes": {"type": "Contact"}, "Id": "003X", "LastName": "Frank", "Email": "e@x.io"}
    [adapted] = from_salesforce(contact, load_mappings())
    report = annotate(score_record("contact", adapted.record, rules, now=NOW), adapted, rules)
    assert report["completeness"]["missing_source_fields"] == {
        "full_name": "FirstName, LastName", "title": "Title", "department": "Department",
        "phone": "Phone or MobilePhone", "decision_role": None}
    by_field = {i["field"]: i["source_field"] for i in report["issues"]
                if i["rule"] == "contact.required.missing"}
    assert by_field["phone"] == "Phone or MobilePhone" and by_field["decision_role"] is None
    account = {"attributes": {"type": "Account"}, "Id": "001X", "Name": "Acme", "Website": "acme.com",
               "Industry": "Software", "NumberOfEmployees": 40, "BillingCountry": "Narnia"}
    [adapted] = from_salesforce(account, load_mappings())
    report = annotate(score_record("account", adapted.record, rules, now=NOW), adapted, rules)
    # a nested address requirement names the address fields; a finding on one names that field
    assert report["completeness"]["missing_source_fields"] == {"hq_location": "BillingCity, BillingCountry"}
    country = next(i for i in report["issues"] if i["field"] == "billing_address.country")
    assert country["source_field"] == "BillingCountry"


def test_custom_field_mappings_name_the_custom_field(tmp_path: Path, rules: Ruleset) -> None:
    org = tmp_path / "org.toml"
    org.write_text('[salesforce.objects.Lead.fields]\nBudget__c = "bant.budget"\n'
                   '[hubspot.objects.contacts.fields]\nbuying_role = "decision_role"\n')
    mappings = load_mappings(org)
    lead = {"attributes": {"type": "Lead"}, "Id": "00QX", "FirstName": "A", "LastName": "B", "Company": "C",
            "Email": "a@c.io", "LeadSource": "Web"}
    [adapted] = from_salesforce(lead, mappings)
    report = annotate(score_record("lead", adapted.record, rules, now=NOW), adapted, rules)
    budget = next(i for i in report["issues"] if i["field"] == "bant.budget")
    assert budget["source_field"] == "Budget__c"
    [contact] = from_hubspot({"id": "7", "properties": {"email": "x@y.io", "jobtitle": "CFO"}}, mappings)
    report = annotate(score_record("contact", contact.record, rules, now=NOW), contact, rules)
    assert report["completeness"]["missing_source_fields"]["decision_role"] == "buying_role"
    role = next(i for i in report["issues"] if i["field"] == "decision_role")
    assert role["source_field"] == "buying_role"


def test_a_hubspot_csv_export_is_told_its_column_labels(tmp_path: Path, rules: Ruleset) -> None:
    from app.cli import adapt_rows, read_rows

    export = tmp_path / "hubspot-contacts.csv"
    export.write_text("Record ID,First Name,Last Name,Email\n51,Bryan,Cooper,bcooper@biglytics\n")
    [contact] = adapt_rows(read_rows(export), "contact", "auto", load_mappings())
    report = annotate(score_record("contact", contact.record, rules, now=NOW), contact, rules)
    missing = report["completeness"]["missing_source_fields"]
    assert missing["title"] == "Job Title" and missing["phone"] == "Phone Number or Mobile Phone Number"
    email = next(i for i in report["issues"] if i["rule"] == "contact.email.invalid")
    assert email["source_field"] == "Email"
    [api] = from_hubspot({"id": "51", "properties": {"email": "bcooper@biglytics"}}, load_mappings())
    report = annotate(score_record("contact", api.record, rules, now=NOW), api, rules)
    assert report["completeness"]["missing_source_fields"]["title"] == "jobtitle"


def test_hubspot_event_notifications_group_into_partial_records() -> None:
    from app.adapters.hubspot_events import from_hubspot_events, is_event_delivery

    events = fixture("hubspot/webhook_events.json")
    assert is_event_delivery(events) and not is_event_delivery(fixture("hubspot/contact.json"))
    batch = from_hubspot_events(events, load_mappings())
    assert batch.received == 11
    by_object = {(c.object, c.object_id): c for c in batch.changes}
    deal = by_object[("deals", "5329120")].adapted
    assert deal.record == {"id": "5329120", "amount": -1500.0, "close_date": "2024-06-01"}
    assert deal.source_fields == {"id": "@id", "amount": "amount", "close_date": "closedate"}
    contact = by_object[("contacts", "1246999")].adapted  # the generic format: objectTypeId 0-1
    assert contact.record == {"id": "1246999", "phone": "555"} and contact.record_type == "contact"
    assert [a["subscription_type"] for a in batch.acknowledged] == [
        "contact.creation", "contact.deletion", "ticket.propertyChange"]
    # an event that is not well formed is answered on its own, never the whole delivery refused
    [rejected] = from_hubspot_events([{"subscriptionType": "deal.propertyChange", "objectId": 1}],
                                     load_mappings()).acknowledged
    assert (rejected["status"], rejected["loc"]) == ("rejected", "body.0.propertyName")
    with pytest.raises(AdapterError) as err:  # only is_event_delivery's own callers are spared this check
        from_hubspot_events([1], load_mappings())
    assert err.value.loc == "body.0"


def test_a_merge_names_the_objects_it_merged_away_never_the_survivor() -> None:
    from app.adapters.hubspot_events import merged_away

    assert merged_away({"objectId": 5, "primaryObjectId": 5, "newObjectId": 5, "mergedObjectIds": [7, 5]}) == ["7"]
    # a merge that made a new object: both former objects are gone
    assert merged_away({"objectId": 9, "primaryObjectId": 5, "newObjectId": 9, "mergedObjectIds": [7]}) == [
        "7", "5"]
    assert merged_away({"objectId": 5, "mergedObjectIds": "7"}) == []


def test_hubspot_millisecond_dates_become_iso_dates() -> None:
    [deal] = from_hubspot({"id": "1", "properties": {"closedate": "1717200000000", "dealname": "x"}},
                          load_mappings(), "deals")
    assert deal.record["close_date"] == "2024-06-01"
    [deal] = from_hubspot({"id": "1", "properties": {"closedate": "1717200123456"}}, load_mappings(), "deals")
    assert deal.record["close_date"] == "2024-06-01T00:02:03.456Z"
    [deal] = from_hubspot({"id": "1", "properties": {"closedate": "2024-06-01"}}, load_mappings(), "deals")
    assert deal.record["close_date"] == "2024-06-01"


@pytest.mark.parametrize(("sent", "read"), [
    ("-152236800000", "1965-03-06"),                   # before 1970: negative
    ("63072000000", "1972-01-01"),                     # 11 digits
    ("99999999999999", "5138-11-16T09:46:39.999Z"),    # integer milliseconds, no float rounding
    ("-99999999999999", "-99999999999999"),            # before year 1: left as text for the date rules
    ("¹²³⁴⁵⁶⁷⁸⁹⁰¹²", "¹²³⁴⁵⁶⁷⁸⁹⁰¹²"),                 # str.isdigit digits that int() refuses
    ("٣٠٧٢٠٠٠٠٠٠٠", "٣٠٧٢٠٠٠٠٠٠٠"),                   # other scripts' digits are not milliseconds either
    ("20240601", "20240601"),                          # a yyyymmdd date is not read as milliseconds
    ("1735603200", "1735603200"),                      # epoch seconds (2024-12-31) are no 1970 milliseconds
    ("-1735603200", "-1735603200"),
    ("173560320", "173560320"),                        # 9 and 11 digits that are no whole day: no date either
    ("17356032000", "17356032000"),
    ("-63072000000", "1968-01-02"),                    # a whole day near 1970 is: HubSpot's date properties
    ("000000000000", "000000000000"),                  # HubSpot writes no leading zero: no 1970-01-01
    ("0063072000000", "0063072000000"),
    ("1900022400000", "2030-03-18"),                   # HubSpot's own: not 1900-02-24 and a time
])
def test_millisecond_dates_any_era_and_only_ascii_digits(sent: str, read: str) -> None:
    [deal] = from_hubspot({"id": "1", "properties": {"closedate": sent}}, load_mappings(), "deals")
    assert deal.record["close_date"] == read


def test_hubspot_events_echo_only_bounded_values_and_keep_the_object_id() -> None:
    from app.adapters.hubspot_events import from_hubspot_events

    deep: Any = []
    for _ in range(600):
        deep = [deep]
    events = [{"eventId": deep, "subscriptionType": "contact.deletion", "objectId": deep},
              {"eventId": 2, "subscriptionType": "contact.propertyChange", "objectId": 7,
               "propertyName": "@id", "propertyValue": "not-the-id"}]
    batch = from_hubspot_events(events, load_mappings())
    [ack] = batch.acknowledged
    assert ack["object_id"] is None and isinstance(ack["event_id"], str)  # summarised, not echoed
    [change] = batch.changes
    assert change.adapted.record["id"] == "7"


def test_every_default_crm_stage_the_adapters_map_is_also_read_on_the_canonical_endpoints(rules: Ruleset) -> None:
    """A HubSpot deal posted straight to /v1/opportunities/score (stage 'qualifiedtobuy') was an unknown
    stage, though the webhook mapped it: the rules' aliases name every stage the shipped mappings do."""
    import tomllib
    from importlib import resources
    shipped = tomllib.loads(resources.files("app.adapters").joinpath("mappings.toml").read_text("utf-8"))
    for source in ("hubspot", "salesforce"):
        for raw, stage in shipped[source].get("stages", {}).items():
            assert rules.canonical_stage(raw) == stage, (source, raw)


def test_salesforce_country_and_state_codes_fill_the_address(rules: Ruleset) -> None:
    """Orgs with state and country picklists send MailingCountryCode beside a MailingCountry that may be
    blank: 'DK' was an unknown field and '33 12 34 56' an invalid US number."""
    contact = {"attributes": {"type": "Contact"}, "Id": "003X", "LastName": "Jensen", "Phone": "33 12 34 56",
               "MailingCountry": None, "MailingCountryCode": "DK", "MailingStateCode": None,
               "OtherCountryCode": "SE"}
    [adapted] = from_salesforce(contact, load_mappings())
    assert adapted.record["mailing_address"]["country"] == "DK" and "OtherCountryCode" not in adapted.record
    report = annotate(score_record("contact", adapted.record, rules, now=NOW), adapted, rules)
    assert report["normalized"]["phone"] == "+4533123456"
    assert not [i for i in report["issues"] if i["rule"] in ("contact.phone.invalid", "contact.field.unknown")]


def test_salesforce_contact_roles_from_the_relationship_subquery(rules: Ruleset) -> None:
    """An Opportunity read with (SELECT ContactId, Role FROM OpportunityContactRoles): the roles were an
    unknown field and the deal had 'no decision maker'; Salesforce's own default roles were invalid."""
    opportunity = {"attributes": {"type": "Opportunity"}, "Id": "006A", "Name": "Big deal", "Amount": 90000,
                   "StageName": "Negotiation/Review", "Probability": 90, "CloseDate": "2026-12-20",
                   "OpportunityContactRoles": {"totalSize": 2, "done": True, "records": [
                       {"attributes": {"type": "OpportunityContactRole"}, "ContactId": "003A",
                        "Role": "Economic Decision Maker", "IsPrimary": True},
                       {"attributes": {"type": "OpportunityContactRole"}, "ContactId": "003B",
                        "Role": "Executive Sponsor", "IsPrimary": False}]}}
    [adapted] = from_salesforce(opportunity, load_mappings())
    assert adapted.record["contact_roles"] == [
        {"contact_id": "003A", "role": "Economic Decision Maker", "is_primary": True},
        {"contact_id": "003B", "role": "Executive Sponsor", "is_primary": False}]
    report = annotate(score_record("opportunity", adapted.record, rules, now=NOW), adapted, rules)
    found = {i["rule"] for i in report["issues"]}
    assert not found & {"opportunity.decision_maker.missing", "opportunity.contact_roles.invalid",
                        "opportunity.field.unknown"}


def test_hubspot_fields_get_suggestions_they_can_hold(rules: Ruleset) -> None:
    """HubSpot's company `domain` holds a bare domain and its `industry` an enumeration: 'https://acme.com'
    and 'Technology' written back would break them (helper-19's probe)."""
    company = {"id": "1", "properties": {"name": "Acme", "domain": "acme.com", "industry": "COMPUTER_SOFTWARE",
                                         "city": "Paris", "country": "France"}}
    [adapted] = from_hubspot(company, load_mappings(), "companies")
    report = annotate(score_record("account", adapted.record, rules, now=NOW), adapted, rules)
    found = {i["rule"] for i in report["issues"]}
    assert not found & {"account.website.nonstandard", "account.industry.nonstandard"}
    assert report["normalized"]["industry"] == "Technology"  # still read for reporting
    assert report["counts"]["info"] == sum(1 for i in report["issues"] if i["severity"] == "info")
    company["properties"]["domain"] = "WWW.Acme.com"
    [adapted] = from_hubspot(company, load_mappings(), "companies")
    report = annotate(score_record("account", adapted.record, rules, now=NOW), adapted, rules)
    [website] = [i for i in report["issues"] if i["rule"] == "account.website.nonstandard"]
    assert (website["source_field"], website["suggestion"]) == ("domain", "acme.com")
    assert website["message"] == "Website 'WWW.Acme.com' is better stored as acme.com."
    company["properties"]["industry"] = "IT"  # no enumeration id: still told its standard form
    [adapted] = from_hubspot(company, load_mappings(), "companies")
    report = annotate(score_record("account", adapted.record, rules, now=NOW), adapted, rules)
    assert [i["suggestion"] for i in report["issues"] if i["rule"] == "account.industry.nonstandard"] == \
        ["Technology"]


def test_a_domain_suggestion_says_the_same_in_its_message(rules: Ruleset) -> None:
    """The suggestion for a company `domain` of 'https://www.acme.com/' became 'acme.com' while its message
    still said '…is better stored as https://acme.com.': on whole objects and property-change events alike."""
    company = {"id": "1", "properties": {"name": "Acme", "domain": "https://www.acme.com/"}}
    [adapted] = from_hubspot(company, load_mappings(), "companies")
    report = annotate(score_record("account", adapted.record, rules, now=NOW), adapted, rules)
    [website] = [i for i in report["issues"] if i["rule"] == "account.website.nonstandard"]
    assert (website["suggestion"], website["message"]) == (
        "acme.com", "Website 'https://www.acme.com/' is better stored as acme.com.")
    event = {"eventId": 1, "subscriptionType": "company.propertyChange", "objectId": 7, "occurredAt": 1,
             "propertyName": "domain", "propertyValue": "https://acme.com/"}
    [change] = from_hubspot_events([event], load_mappings()).changes
    [website] = [i for i in partial_report(change, rules, NOW)["issues"]
                 if i["rule"] == "account.website.nonstandard"]
    assert (website["suggestion"], website["message"]) == (
        "acme.com", "Website 'https://acme.com/' is better stored as acme.com.")


@pytest.mark.parametrize("order", [("domain", "website"), ("website", "domain")])
def test_hubspot_domain_is_the_website_whatever_the_property_order(order: tuple[str, str]) -> None:
    """A company with both `domain` and `website`: the later key replaced the earlier one, so the judged
    website depended on HubSpot's property order; `website` now only fills a blank domain."""
    sent = {"domain": "acme.com", "website": "http://acme-old.com"}
    company = {"id": "1", "properties": {"name": "Acme", **{k: sent[k] for k in order}}}
    [adapted] = from_hubspot(company, load_mappings(), "companies")
    assert (adapted.record["website"], adapted.source_fields["website"]) == ("acme.com", "domain")
    company["properties"]["domain"] = ""
    [adapted] = from_hubspot(company, load_mappings(), "companies")
    assert (adapted.record["website"], adapted.source_fields["website"]) == ("http://acme-old.com", "website")


@pytest.mark.parametrize("order", [("BillingCountry", "BillingCountryCode"),
                                   ("BillingCountryCode", "BillingCountry")])
def test_salesforce_country_code_wins_over_its_name_in_any_order(order: tuple[str, str],
                                                                 rules: Ruleset) -> None:
    """An org with state and country picklists sends the name beside its ISO code: the name won, and every
    such account was address.nonstandard ('Massachusetts': ISO code is MA), nothing the user could fix
    (helper-43). The code is read; the name only fills a blank code."""
    sent = {"BillingCountry": "United States", "BillingCountryCode": "US"}
    account = {"attributes": {"type": "Account"}, "Id": "001X", **{k: sent[k] for k in order},
               "BillingState": "Massachusetts", "BillingStateCode": "MA"}
    [adapted] = from_salesforce(account, load_mappings())
    assert adapted.record["billing_address"] == {"country": "US", "state": "MA"}
    assert adapted.source_fields["billing_address.country"] == "BillingCountryCode"
    report = score_record("account", adapted.record, rules, now=NOW)
    assert "account.address.nonstandard" not in {i["rule"] for i in report["issues"]}
    [named] = from_salesforce({"attributes": {"type": "Account"}, "Id": "001Y", "BillingCountry": "Germany",
                               "BillingCountryCode": ""}, load_mappings())
    assert named.record["billing_address"] == {"country": "Germany"}


def test_salesforce_compound_addresses_fill_the_canonical_address(rules: Ruleset) -> None:
    """SELECT BillingAddress / MailingAddress / Address returns one object: it was ignored, so an Account
    sent with only its BillingAddress had no HQ location and its UK phone was read as a US number."""
    account = {"attributes": {"type": "Account"}, "Id": "001UK", "Name": "Acme UK", "Phone": "020 7946 0958",
               "BillingAddress": {"street": "1 High St", "city": "London", "state": None, "stateCode": None,
                                  "postalCode": "EC1A 1BB", "country": None, "countryCode": "GB",
                                  "latitude": 51.5, "longitude": -0.1, "geocodeAccuracy": "Address"}}
    [adapted] = from_salesforce(account, load_mappings())
    assert adapted.record["billing_address"] == {"street": "1 High St", "city": "London", "state": None,
                                                 "postal_code": "EC1A 1BB", "country": "GB"}
    report = annotate(score_record("account", adapted.record, rules, now=NOW), adapted, rules)
    assert "hq_location" not in report["completeness"]["missing"]
    assert report["normalized"]["phone"] == "+442079460958"
    assert not [i for i in report["issues"] if i["rule"] in ("account.phone.invalid", "account.field.unknown")]
    contact = {"attributes": {"type": "Contact"}, "Id": "003A", "MailingCity": "Cambridge",
               "MailingAddress": {"city": "Boston", "postalCode": "02110", "country": "United States"}}
    [adapted] = from_salesforce(contact, load_mappings())  # the flat field wins, the compound fills blanks
    assert adapted.record["mailing_address"] == {"city": "Cambridge", "postal_code": "02110",
                                                 "country": "United States"}
    lead = {"attributes": {"type": "Lead"}, "Id": "00QA", "LastName": "Lee", "Company": "Acme",
            "Address": {"street": "1 Main", "city": "Austin", "state": "Texas", "stateCode": "TX",
                        "postalCode": "78701", "country": None, "countryCode": "US"}}
    [adapted] = from_salesforce(lead, load_mappings())
    assert adapted.record["address"] == {"street": "1 Main", "city": "Austin", "state": "Texas",
                                         "postal_code": "78701", "country": "US"}
    [adapted] = from_salesforce({**contact, "MailingAddress": None}, load_mappings())
    assert "MailingAddress" not in adapted.record


def test_hubspot_property_changes_get_suggestions_their_fields_can_hold(rules: Ruleset) -> None:
    """Event notifications skipped the fitting whole objects get: a `domain` change was told
    'https://acme.com' and an industry enumeration id was a nonstandard industry."""
    from app.adapters.hubspot_events import from_hubspot_events, partial_report
    events = [{"eventId": 1, "subscriptionType": "company.propertyChange", "objectId": 77, "occurredAt": 1,
               "propertyName": "domain", "propertyValue": "https://www.acme.com/"},
              {"eventId": 2, "subscriptionType": "company.propertyChange", "objectId": 78, "occurredAt": 1,
               "propertyName": "industry", "propertyValue": "COMPUTER_SOFTWARE"}]
    changes = from_hubspot_events(events, load_mappings()).changes
    domain, industry = (partial_report(change, rules, NOW) for change in changes)
    [website] = [i for i in domain["issues"] if i["rule"] == "account.website.nonstandard"]
    assert (website["source_field"], website["suggestion"]) == ("domain", "acme.com")
    assert website["message"] == "Website 'https://www.acme.com/' is better stored as acme.com."
    assert not [i for i in industry["issues"] if i["rule"] == "account.industry.nonstandard"]
    assert sum(industry["counts"].values()) == len(industry["issues"])


def test_a_hubspot_object_with_no_telling_property_asks_for_its_type() -> None:
    """Anything unrecognised used to be a company; a phone alone is on companies and contacts alike."""
    with pytest.raises(AdapterError, match=r"\?type="):
        from_hubspot({"id": "1", "properties": {"phone": "617-555-0100"}}, load_mappings())
    [adapted] = from_hubspot({"id": "1", "properties": {"phone": "617-555-0100"}}, load_mappings(), "contacts")
    assert adapted.record_type == "contact"


def test_salesforce_ids_take_their_18_character_form() -> None:
    """001D000000INjVe and 001D000000INjVeIAL are one Account (the suffix encodes the case of the first 15)."""
    opportunity = {"attributes": {"type": "Opportunity"}, "Id": "006d000000crjwgiaz",
                   "AccountId": "001D000000INjVe", "OwnerId": "005D0000001KyEI", "OpportunityContactRoles": {"records": [
                       {"ContactId": "003D000000QV9n2", "Role": "Economic Buyer"}]}}
    [adapted] = from_salesforce(opportunity, load_mappings())
    assert adapted.record["id"] == "006D000000CrjWGIAZ"
    assert adapted.record["account_id"] == "001D000000INjVeIAL"
    assert adapted.record["owner_id"] == "005D0000001KyEIIA0"
    assert adapted.record["contact_roles"][0]["contact_id"] == "003D000000QV9n2IAD"
    [hubspot] = from_hubspot({"id": "123456789012345", "properties": {"email": "a@b.co"}}, load_mappings())
    assert hubspot.record["id"] == "123456789012345"  # HubSpot ids are left alone


def test_hubspot_associations_name_a_deals_account_and_labelled_contact_roles(rules: Ruleset) -> None:
    """A HubSpot deal has no company property: read without its `associations` (as the API returns them with
    ?associations=companies,contacts) every deal lacked its account, and no cross-record rule saw it. The
    primary company is the account (v3's deal_to_company type, v4's 'Primary' label; else the first); a
    contact with an association label is a contact role in that role; a property wins over an association."""
    deal = {"id": "9001", "properties": {"dealname": "Renewal", "dealstage": "contractsent", "amount": "50000"},
            "associations": {
                "companies": {"results": [{"id": "77", "type": "deal_to_company_unlabeled"},
                                          {"id": "55", "type": "deal_to_company"}]},
                "contacts": {"results": [
                    {"toObjectId": 201, "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None},
                        {"category": "USER_DEFINED", "typeId": 12, "label": "Decision maker"}]},
                    {"id": "202", "type": "deal_to_contact"}]}}}
    [adapted] = from_hubspot(deal, load_mappings())
    assert adapted.record["account_id"] == "55"
    assert adapted.record["contact_roles"] == [{"contact_id": "201", "role": "Decision maker"}]
    assert adapted.source_fields["account_id"] == "associations.companies"
    report = score_record("opportunity", adapted.record, rules, now=NOW)
    assert not {"opportunity.decision_maker.missing", "opportunity.contact_roles.invalid"} & {
        i["rule"] for i in report["issues"]}
    assert "account_id" not in {i["field"] for i in report["issues"] if i["rule"].endswith("recommended.missing")}
    # v3 names a labelled association by its label; a contact in two roles holds both
    deal["associations"] = {"contacts": {"results": [
        {"id": "201", "type": "deal_to_contact"}, {"id": "201", "type": "decision_maker"},
        {"toObjectId": 202, "associationTypes": [{"label": "Champion"}, {"label": "Decision maker"}]}]}}
    assert from_hubspot(deal, load_mappings())[0].record["contact_roles"] == [
        {"contact_id": "201", "role": "decision maker"}, {"contact_id": "202", "role": "Champion"},
        {"contact_id": "202", "role": "Decision maker"}]
    v4_primary = {"toObjectId": 56, "associationTypes": [{"typeId": 5, "label": "Primary"}]}
    deal["associations"] = {"companies": {"results": [{"toObjectId": 78, "associationTypes": []}, v4_primary]}}
    assert from_hubspot(deal, load_mappings())[0].record["account_id"] == "56"
    contact = {"id": "301", "properties": {"email": "ann@acme.com", "firstname": "Ann"},
               "associations": {"companies": {"results": [{"id": "88", "type": "contact_to_company"}]}}}
    assert from_hubspot(contact, load_mappings())[0].record["account_id"] == "88"
    contact["properties"]["associatedcompanyid"] = "99"
    assert from_hubspot(contact, load_mappings())[0].record["account_id"] == "99"
    for odd in ([], {"companies": "x"}, {"companies": {"results": [None, {"id": None}, {"id": True}]}}):
        deal["associations"] = odd
        assert "account_id" not in from_hubspot(deal, load_mappings())[0].record


def test_salesforce_standard_name_and_dnb_fields_are_no_unknown_fields(rules: Ruleset) -> None:
    """MiddleName, Suffix (Contact and Lead) and a Lead's D&B ids are standard fields with no canonical field:
    ignored, not reported on every record as unknown fields (helper-43)."""
    lead = {"attributes": {"type": "Lead"}, "Id": "00Q1", "FirstName": "Ann", "MiddleName": "B",
            "LastName": "Lee", "Suffix": "Jr.", "CompanyDunsNumber": "123456789", "DandbCompanyId": "0Zx1", "Company": "Acme"}
    contact = {"attributes": {"type": "Contact"}, "Id": "0031", "FirstName": "Ann", "MiddleName": "B",
               "LastName": "Lee", "Suffix": "Jr."}
    for sobject, record_type in ((lead, "lead"), (contact, "contact")):
        [adapted] = from_salesforce(sobject, load_mappings())
        report = score_record(record_type, adapted.record, rules, now=NOW)
        assert not [i for i in report["issues"] if i["rule"].endswith("field.unknown")], report["issues"]


@pytest.mark.parametrize(("source", "item", "removal"), [
    ("salesforce", {"attributes": {"type": "Contact"}, "Id": "003A", "IsDeleted": True},
     ("deleted", "IsDeleted", None)),
    ("salesforce", {"attributes": {"type": "Lead"}, "Id": "00QA", "IsDeleted": "true"},
     ("deleted", "IsDeleted", None)),
    ("salesforce", {"attributes": {"type": "Contact"}, "Id": "003A", "IsDeleted": True,
                    "MasterRecordId": "003Dn00000MrgWn"}, ("merged", "MasterRecordId", "003Dn00000MrgWnIAJ")),
    ("hubspot", {"id": "7", "properties": {"email": "a@b.co"}, "archived": True},
     ("deleted", "archived", None)),
    ("hubspot", {"dealId": 7, "isDeleted": True, "properties": {"dealname": {"value": "D"}}},
     ("deleted", "isDeleted", None)),
])
def test_a_deleted_or_merged_away_record_says_so(source: str, item: dict[str, Any],
                                                 removal: tuple[str, str, str | None]) -> None:
    adapt = from_salesforce if source == "salesforce" else from_hubspot
    [adapted] = adapt(item, load_mappings())
    assert adapted.removal is not None
    assert (adapted.removal.kind, adapted.removal.source_field, adapted.removal.merged_into) == removal


@pytest.mark.parametrize("item", [
    {"attributes": {"type": "Contact"}, "Id": "003A", "IsDeleted": False, "MasterRecordId": None},
    {"attributes": {"type": "Contact"}, "Id": "003A", "IsDeleted": "false", "MasterRecordId": ""},
    {"id": "7", "properties": {"email": "a@b.co"}, "archived": False},
])
def test_a_live_record_is_no_removal(item: dict[str, Any]) -> None:
    adapt = from_salesforce if "attributes" in item else from_hubspot
    [adapted] = adapt(item, load_mappings())
    assert adapted.removal is None


def test_a_leads_mobile_and_a_contacts_home_phone_are_kept(rules: Ruleset) -> None:
    """A Lead's MobilePhone was ignored: a lead with no Email or Phone but a mobile number was missing its
    contact point and had no phone to match on; a Contact's HomePhone / OtherPhone were dropped too. A lead's
    mobile is its mobile_phone, judged as a contact's is (it filled a blank phone, and was lost beside one)."""
    lead = {"attributes": {"type": "Lead"}, "Id": "00QA", "FirstName": "Ana", "LastName": "Lopez",
            "Company": "Initech", "Email": None, "Phone": None, "MobilePhone": "+1 512 555 0199"}
    [adapted] = from_salesforce(lead, load_mappings())
    assert adapted.record["mobile_phone"] == "+1 512 555 0199"
    assert adapted.source_fields["mobile_phone"] == "MobilePhone"
    report = annotate(score_record("lead", adapted.record, rules, now=NOW), adapted, rules)
    assert "contact_point" not in report["completeness"]["missing"]
    assert report["normalized"]["mobile_phone"] == "+15125550199"
    both = from_salesforce(lead | {"Phone": "+1 512 555 0100", "MobilePhone": "512 555 01"}, load_mappings())[0]
    assert (both.record["phone"], both.record["mobile_phone"]) == ("+1 512 555 0100", "512 555 01")
    report = annotate(score_record("lead", both.record, rules, now=NOW), both, rules)
    assert [i["source_field"] for i in report["issues"] if i["rule"] == "lead.mobile_phone.invalid"] == [
        "MobilePhone"]
    contact = {"attributes": {"type": "Contact"}, "Id": "003A", "LastName": "Lee", "Phone": "",
               "OtherPhone": "+1 415 555 0101", "HomePhone": "+1 415 555 0100"}
    [adapted] = from_salesforce(contact, load_mappings())
    assert (adapted.record["phone"], adapted.source_fields["phone"]) == ("+1 415 555 0100", "HomePhone")
    assert not {"HomePhone", "OtherPhone"} & set(adapted.record)


def test_a_legacy_hubspot_deals_and_contacts_company_is_its_account(rules: Ruleset) -> None:
    """A workflow's webhook posts a deal's associations in the legacy shape (`associatedCompanyIds`,
    `associatedVids`) and a contact's company as `associated-company`: they were not read, so the deal had
    no account_id."""
    deal = {"dealId": 14230002, "portalId": 62515, "isDeleted": False,
            "associations": {"associatedVids": [512, 513], "associatedCompanyIds": [9876543210],
                             "associatedDealIds": []},
            "properties": {"dealname": {"value": "Expansion"}, "dealstage": {"value": "contractsent"}}}
    [adapted] = from_hubspot(deal, load_mappings())
    assert adapted.record["account_id"] == "9876543210"
    assert adapted.source_fields["account_id"] == "associations.associatedCompanyIds"
    assert "contact_roles" not in adapted.record  # legacy associations carry no label, so no role
    report = annotate(score_record("opportunity", adapted.record, rules, now=NOW), adapted, rules)
    assert "account_id" not in {i["field"] for i in report["issues"]}
    contact = {"vid": 512, "properties": {"email": {"value": "b@biglytics.net"}},
               "associated-company": {"company-id": 9876543210, "portal-id": 62515}}
    [adapted] = from_hubspot(contact, load_mappings())
    assert (adapted.record["account_id"], adapted.source_fields["account_id"]) == (
        "9876543210", "associated-company.company-id")
    contact["properties"]["associatedcompanyid"] = {"value": "77"}  # the property comes first
    assert from_hubspot(contact, load_mappings())[0].record["account_id"] == "77"


def test_a_null_or_unmapped_relationship_is_no_unknown_field(rules: Ruleset) -> None:
    """SOQL's `"Account": null` (SELECT Account.Name for a contact without an account) and HubSpot's legacy
    `merge-audits` were reported as unknown fields; a relationship's fields are another record's."""
    contact = {"attributes": {"type": "Contact"}, "Id": "003A", "LastName": "Lee", "Account": None,
               "Owner": {"attributes": {"type": "User"}, "Name": "Jo Rep"}, "Partner__r": None,
               "Reseller__r": {"attributes": {"type": "Account"}, "Name": "R"},
               "Manager": {"attributes": {"type": "User"}, "Name": "M"},
               "Cases": {"totalSize": 0, "done": True, "records": []}, "Level__c": "Primary"}
    [adapted] = from_salesforce(contact, load_mappings())
    report = annotate(score_record("contact", adapted.record, rules, now=NOW), adapted, rules)
    unknown = [i["field"] for i in report["issues"] if i["rule"] == "contact.field.unknown"]
    assert unknown == ["Level__c"]  # a custom field is still reported
    account = {"attributes": {"type": "Account"}, "Name": "Acme", "Website": "acme.com",
               "Industry": "Software"}
    [adapted] = from_salesforce(contact | {"Account": account}, load_mappings())
    assert adapted.record["account"] == {"name": "Acme", "website": "acme.com"}  # mapped ones are still read
    legacy = {"vid": 512, "properties": {"email": {"value": "b@biglytics.net"}}, "merge-audits": []}
    [adapted] = from_hubspot(legacy, load_mappings())
    assert "merge-audits" not in adapted.record


def test_standard_fields_are_mapped_or_known(rules: Ruleset) -> None:
    """Default HubSpot properties and standard Salesforce fields were reported as unknown fields; those with a
    canonical field now fill it (a blank one, for a second source), the others are known and ignored."""
    company = {"id": "1", "properties": {
        "name": "Biglytics", "domain": "biglytics.net", "type": "PROSPECT", "founded_year": "2009",
        "is_public": "false", "address2": "Floor 4", "timezone": "America/New_York", "twitterhandle": "big",
        "web_technologies": "salesforce;google_analytics"}}
    deal = {"id": "2", "properties": {"dealname": "D", "dealstage": "closedlost", "dealtype": "newbusiness",
                                      "closed_lost_reason": "Price", "hs_deal_stage_probability": "0"}}
    contact = {"id": "3", "properties": {"firstname": "A", "salutation": "Dr.", "job_function": "Engineering",
                                         "work_email": "a@acme.com"}}
    sf_contact = {"attributes": {"type": "Contact"}, "Id": "003A", "LastName": "Lee", "RecordTypeId": "012A",
                  "CurrencyIsoCode": "EUR", "Owner": {"attributes": {"type": "User"}, "Name": "Jo"},
                  "Account": {"attributes": {"type": "Account"}, "Name": "Acme"}}
    sf_deal = {"attributes": {"type": "Opportunity"}, "Id": "006A", "CurrencyIsoCode": "EUR",
               "RecordTypeId": "012B", "Account": {"attributes": {"type": "Account"}, "Name": "Acme"}}
    adapted = [*from_hubspot({"results": [company, deal, contact]}, load_mappings()),
               *from_salesforce([sf_contact, sf_deal], load_mappings())]
    for one in adapted:
        report = annotate(score_record(one.record_type, one.record, rules, now=NOW), one, rules)
        assert not [i["field"] for i in report["issues"] if i["rule"].endswith(".field.unknown")], one.object
    account, _, person, sf_person, opportunity = (a.record for a in adapted)
    assert account["tech_stack"] == ["salesforce", "google_analytics"]
    assert (person["department"], person["email"]) == ("Engineering", "a@acme.com")
    assert sf_person["account"] == {"name": "Acme"} and opportunity["currency"] == "EUR"
    both = contact | {"properties": contact["properties"] | {"email": "a@b.co", "department": "R&D"}}
    assert {k: from_hubspot(both, load_mappings())[0].record[k] for k in ("email", "department")} == {
        "email": "a@b.co", "department": "R&D"}  # a second source only fills a blank
