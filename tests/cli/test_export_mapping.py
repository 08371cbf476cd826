"""The mapping that reads an export: the one recognising most of its columns, told on stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.adapters import annotate, choose_mapping, load_mappings
from app.adapters.written import ExportFormats, learn_formats, read_written
from app.cli import adapt_rows, read_rows
from app.scoring import Ruleset, score_record
from tests.cli.test_cli import run
from tests.conftest import NOW

# Salesforce's standard opportunity report, exported as CSV (the probe's columns; Amount, Close Date and Next
# Step are HubSpot deal labels too, so the HubSpot mapping was chosen and every deal "had no stage")
REPORT_OPPORTUNITIES = (
    "Opportunity Owner,Account Name,Opportunity Name,Stage,Fiscal Period,Amount,Probability (%),Age,"
    "Close Date,Created Date,Next Step,Lead Source,Type,Forecast Category,Last Stage Change Date,"
    "Opportunity ID\n"
    "Admin User,Edge Communications,Edge Emergency Generator,Id. Decision Makers,Q2-2024,75000,60,120,"
    "2024-09-15,2024-02-11,,Word of mouth,Existing Customer - Replacement,Pipeline,2024-02-12,006A1\n"
    "Admin User,United Oil & Gas Corp.,United Oil Installations,Negotiation/Review,Q3-2024,235000,90,120,"
    "2024-08-18,2024-02-11,Send quote,Partner,New Customer,Commit,2024-06-01,006A2\n")


def adapt(tmp_path: Path, text: str, record_type: str, source: str = "auto") -> tuple[list[Any], list[str]]:
    export = tmp_path / "export.csv"
    export.write_text(text)
    notes: list[str] = []
    return list(adapt_rows(read_rows(export), record_type, source, load_mappings(), say=notes.append)), notes


def test_a_salesforce_opportunity_report_is_read_with_the_salesforce_mapping(tmp_path: Path,
                                                                           rules: Ruleset) -> None:
    """The export probe (A1): the report's columns were read with the HubSpot deals mapping (stage, owner
    and the rest missing on every deal, opportunity.stage.missing_high_value on each) and nothing said so;
    with --source salesforce Stage, Close Date and the owner were missing all the same."""
    for source in ("auto", "salesforce"):
        deals, notes = adapt(tmp_path, REPORT_OPPORTUNITIES, "opportunity", source)
        first = deals[0]
        assert first.source == "salesforce" and first.object == "Opportunity"
        assert first.record == {"owner_id": "Admin User", "name": "Edge Emergency Generator",
                                "stage": "Proposal", "amount": 75000.0, "probability": 60.0,
                                "close_date": "2024-09-15", "created_at": "2024-02-11", "next_step": None,
                                "forecast_category": "Pipeline", "stage_changed_at": "2024-02-12",
                                "id": "006A1"}
        assert notes[0].startswith("read with the Salesforce Opportunity mapping: 16 of 16 columns")
        assert notes[1] == ("columns ignored (no canonical field): Account Name, Fiscal Period, Age, "
                            "Lead Source, Type")
        assert len(notes) == 2  # no rival: HubSpot's deal labels are 3 of the 16
        report = annotate(score_record("opportunity", first.record, rules, now=NOW), first, rules)
        found = {i["rule"]: i for i in report["issues"]}
        assert not {"opportunity.stage.missing_high_value", "opportunity.field.unknown"} & set(found)
        assert found["opportunity.stage.stuck"]["source_field"] == "Last Stage Change Date"
        assert report["completeness"]["missing_source_fields"]["next_step"] == "Next Step"


def test_salesforce_report_labels_of_accounts_contacts_and_leads(tmp_path: Path, rules: Ruleset) -> None:
    [account], _ = adapt(tmp_path, "Account Name,Account Owner,Type,Website,Phone,Industry,Billing City,"
                         "Billing State/Province,Billing Zip/Postal Code,Billing Country,Annual Revenue,"
                         "Employees,Account ID\nGenePoint,Admin User,Customer - Channel,www.genepoint.com,"
                         "(650) 867-3450,Biotechnology,Mountain View,CA,94043,US,30000000,265,001A1\n",
                         "account")
    assert account.source == "salesforce" and account.record == {
        "name": "GenePoint", "owner_id": "Admin User", "website": "www.genepoint.com",
        "phone": "(650) 867-3450", "industry": "Biotechnology",
        "billing_address": {"city": "Mountain View", "state": "CA", "postal_code": "94043", "country": "US"},
        "annual_revenue": 30000000.0, "employee_count": 265, "id": "001A1"}
    [contact], notes = adapt(tmp_path, "Contact Owner,First Name,Last Name,Title,Account Name,Email,Phone,"
                             "Mailing City,Mailing Country,Lead Source,Contact ID\nAdmin User,Edna,Frank,"
                             "VP Technology,GenePoint,efrank@genepoint.com,,Mountain View,US,Web,003A1\n",
                             "contact")
    assert contact.source == "salesforce" and contact.record["account"] == {"name": "GenePoint"}
    assert contact.record["first_name"] == "Edna"
    assert contact.record["mailing_address"] == {"city": "Mountain View", "country": "US"}
    assert notes[0].startswith("read with the Salesforce Contact mapping: 11 of 11")
    report = annotate(score_record("contact", contact.record, rules, now=NOW), contact, rules)
    # a column the report lacks is named as the report would label it, not by its API name (MobilePhone)
    assert report["completeness"]["missing_source_fields"]["phone"] == "Phone or Mobile"
    [lead], _ = adapt(tmp_path, "Lead Owner,First Name,Last Name,Company / Account,Title,Email,"
                      "Lead Status,Lead Source,Rating,Industry,No. of Employees,State/Province,Country,"
                      "Created Date,Lead ID\n"
                      "Admin User,Bertha,Boxer,Farmers Coop. of Florida,Director of Vendor Relations,"
                      "bertha@fcof.net,Working - Contacted,Web,Hot,Agriculture,120,FL,USA,2024-06-14,00QA1\n",
                      "lead")
    assert lead.source == "salesforce" and lead.record == {
        "owner_id": "Admin User", "first_name": "Bertha", "last_name": "Boxer",
        "company": "Farmers Coop. of Florida", "title": "Director of Vendor Relations",
        "email": "bertha@fcof.net",
        "status": "Working - Contacted", "source": "Web", "industry": "Agriculture", "employee_count": 120,
        "address": {"state": "FL", "country": "USA"}, "created_at": "2024-06-14", "id": "00QA1"}


def test_the_mapping_recognising_most_columns_wins_and_close_rivals_are_told() -> None:
    mappings = load_mappings()
    # HubSpot's contact labels: Salesforce's report labels share three of them
    choice = choose_mapping(["Record ID", "First Name", "Last Name", "Email"], "contact", "auto", mappings)
    assert (choice.chosen.source, choice.chosen.known) == ("hubspot", 4)
    # (Dynamics 365's and Zoho's contact labels share them too)
    assert [r.source for r in choice.rivals] == ["salesforce", "dynamics", "zoho"]
    assert choice.notes()[-3] == ("the Salesforce Contact mapping recognises nearly as many columns "
                                  "(3 of 4): --source salesforce reads the export with it")
    # a tie goes to the first of salesforce, hubspot, canonical, and says so
    choice = choose_mapping(["Email", "Nickname"], "contact", "auto", mappings)
    assert choice.chosen.source == "salesforce" and choice.unmapped == ["Nickname"]
    assert "the HubSpot contacts mapping recognises as many columns (1 of 2)" in choice.notes()[2]
    # canonical names are matched whatever their case too ('Email' is email); canonical comes last
    assert "canonical field names recognises as many columns (1 of 2)" in choice.notes()[-1]
    assert choice.notes()[1] == ("columns not mapped, kept under their own names and reported as unknown "
                                 "fields: Nickname")
    # canonical field names: one HubSpot property among them no longer makes the export HubSpot's
    choice = choose_mapping(["type", "first_name", "last_name", "email", "phone", "title"], "contact", "auto",
                            mappings)
    assert (choice.chosen.source, choice.chosen.known, choice.rivals) == ("canonical", 5, ())
    # nothing recognised: canonical names, every column unmapped; --source names the mapping outright
    # ('account', in any case, is Salesforce's Account relationship, ignored: no longer an example)
    choice = choose_mapping(["acct", "sector"], "account", "auto", mappings)
    assert choice.chosen.source == "canonical" and choice.unmapped == ["acct", "sector"]
    choice = choose_mapping(["Email", "Phone Number"], "contact", "salesforce", mappings)
    assert choice.chosen.source == "salesforce" and choice.unmapped == ["Phone Number"]
    assert "(--source salesforce)" in choice.notes()[0]
    choice = choose_mapping(["firstname", "email"], "lead", "hubspot", mappings)
    assert choice.chosen.source == "canonical" and "--source hubspot maps no lead" in choice.notes()[0]


def test_the_cli_says_which_mapping_read_the_export(tmp_path: Path) -> None:
    export = tmp_path / "report.csv"
    export.write_text(REPORT_OPPORTUNITIES)
    done = run("score", str(export), "--type", "opportunities", "--local", "--quiet", "--no-duplicates")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "crm-dq: read with the Salesforce Opportunity mapping: 16 of 16 columns recognised (guessed from the "
        "columns; --source to choose)",
        "crm-dq: columns ignored (no canonical field): Account Name, Fiscal Period, Age, Lead Source, Type"]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["source"] == {"system": "salesforce", "object": "Opportunity"}
    rules = {i["rule"] for r in lines[:-1] for i in r["issues"]}
    assert "opportunity.stage.missing_high_value" not in rules and "opportunity.stage.stuck" in rules


# The same report as a US user's Salesforce exports it: dates month first, times with AM/PM, amounts with their
# currency symbol and grouping
REPORT_US_LOCALE = (
    "Opportunity ID,Opportunity Name,Stage,Amount,Close Date,Created Date,Next Step,Opportunity Owner\n"
    "006B1,Edge Emergency Generator,Id. Decision Makers,\"$75,000.00\",1/15/2027,12/1/2026 3:45 PM,Call,Admin\n"
    "006B2,United Oil Installations,Negotiation/Review,\"$235,000.00\",2/3/2027,11/20/2026 9:05 AM,Quote,Admin\n")


def test_a_reports_locale_dates_and_amounts_are_read_as_the_export_writes_them(tmp_path: Path,
                                                                                rules: Ruleset) -> None:
    """A US user's report writes 1/15/2027 and '$75,000.00': every deal was an invalid close date, an
    invalid creation date and an amount that is no number. The file's 1/15/2027 says month first, so its
    2/3/2027 is 3 February; a day-first export reads the other way round, and one that never tells leaves
    the ambiguous dates as written (judged, as the API judges them)."""
    export = tmp_path / "report.csv"
    export.write_text(REPORT_US_LOCALE)
    done = run("score", str(export), "--type", "opportunities", "--local", "--quiet", "--no-duplicates")
    assert done.returncode == 0, done.stderr
    assert "crm-dq: dates read month first (1/15/2027 is 2027-01-15)" in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()][:-1]
    found = {i["rule"] for r in lines for i in r["issues"]}
    assert not {"opportunity.dates.invalid", "opportunity.amount.invalid", "opportunity.amount.as_text"} & found, found
    deals, _ = adapt(tmp_path, REPORT_US_LOCALE, "opportunity")
    assert [d.record["close_date"] for d in deals] == ["1/15/2027", "2/3/2027"]  # without formats: as written
    formats = learned(deals)
    assert formats == ExportFormats(day_first=False)
    read = [read_written("opportunity", dict(d.record), formats) for d in deals]
    assert [(r["close_date"], r["created_at"], r["amount"]) for r in read] == [
        ("2027-01-15", "2026-12-01T15:45:00Z", 75000.0), ("2027-02-03", "2026-11-20T09:05:00Z", 235000.0)]
    day_first = (REPORT_US_LOCALE.replace("1/15/2027", "15/1/2027").replace("12/1/2026", "1/12/2026")
                 .replace("11/20/2026", "20/11/2026"))
    export.write_text(day_first)
    deals, _ = adapt(tmp_path, day_first, "opportunity")
    formats = learned(deals)
    assert formats == ExportFormats(day_first=True)
    assert read_written("opportunity", dict(deals[1].record), formats)["close_date"] == "2027-03-02"
    never = REPORT_US_LOCALE.replace("1/15/2027", "1/5/2027").replace("11/20/2026", "11/2/2026")
    export.write_text(never)
    deals, _ = adapt(tmp_path, never, "opportunity")
    formats = learned(deals)
    assert formats == ExportFormats(day_first=None, undecided=True)
    assert read_written("opportunity", dict(deals[1].record), formats)["close_date"] == "2/3/2027"
    # an export whose dates tell both ways round is read neither way
    both = [("opportunity", {"close_date": "15/1/2027", "created_at": "1/15/2027"})]
    assert learn_formats(both) == ExportFormats(day_first=None)
    done = run("score", str(export), "--type", "opportunities", "--local", "--quiet", "--no-duplicates")
    assert "crm-dq: dates with day and month either way round (1/2/2027) are left as written" in done.stderr
    # only date fields tell: a next step written '13.01.2027' says nothing of the export's dates
    noted = REPORT_US_LOCALE.replace(",Call,", ",13.01.2027,")
    deals, _ = adapt(tmp_path, noted, "opportunity")
    assert deals[0].record["next_step"] == "13.01.2027" and learned(deals) == ExportFormats(day_first=False)


def learned(deals: list[Any]) -> Any:
    return learn_formats((d.record_type, d.record) for d in deals)


def test_an_exports_amounts_are_read_unless_their_currency_contradicts_the_deals() -> None:
    """'USD 75,000.00' on a EUR deal stays text (amount.currency_mismatch: which is right is unknown); a
    negative amount is read (amount.negative judges it); a time no clock shows makes no date, in a field that
    holds a day too; a year-first date is year-month-day whatever its padding."""
    us = ExportFormats(day_first=False)
    assert read_written("opportunity", {"amount": "USD 75,000.00", "currency": "EUR"}, us)["amount"] == \
        "USD 75,000.00"
    assert read_written("opportunity", {"amount": "EUR 75,000.00", "currency": "eur"}, us)["amount"] == 75000.0
    assert read_written("opportunity", {"amount": "75.000,00 €"}, us) == {"amount": 75000.0, "currency": "EUR"}
    assert read_written("opportunity", {"amount": "($1,200.00)"}, us)["amount"] == -1200.0
    read = read_written("opportunity", {"close_date": "1/15/2027 25:00", "created_at": "2027-1-5"}, us)
    assert read == {"close_date": "1/15/2027 25:00", "created_at": "2027-01-05"}
