"""Duplicate pairs two audits against the seeds found wrong: seed 002's "duplicate company entries with
similar names" (the same company name in one city, Salesforce's standard account matching rule) and its
"similar email domains" as evidence (one company's domain weighed against two records of one name)."""

from __future__ import annotations

from typing import Any

from app.scoring import Ruleset
from app.scoring.matching.dedupe import find_duplicates


def _pair(record_type: str, a: dict[str, Any], b: dict[str, Any], rules: Ruleset) -> dict[str, Any] | None:
    """The pair of two records, whatever its score (threshold 0), None when they were never compared."""
    pairs = find_duplicates(record_type, [a, b], rules, threshold=0.0)["pairs"]
    return pairs[0] if pairs else None


def test_one_company_name_in_one_city_is_a_review_pair(rules: Ruleset) -> None:
    """'Acme Corp' and 'Acme Corporation' in Austin were 0.79, under the threshold."""
    austin = {"city": "Austin", "state": "TX", "country": "US"}
    pair = _pair("account", {"id": "A1", "name": "Acme Corp", "billing_address": austin},
                 {"id": "A2", "name": "Acme Corporation", "billing_address": austin}, rules)
    assert pair is not None, pair
    assert rules.file.duplicates.threshold <= pair["score"] <= rules.file.duplicates.auto_merge, pair


def test_one_company_name_alone_is_a_review_never_a_merge(rules: Ruleset) -> None:
    """Salesforce's standard rule asks for the city too; a name alone with nothing against it is still shown
    for review (`[duplicates.account] lift`, test_matching_accounts), never merged unseen."""
    pair = _pair("account", {"id": "A1", "name": "Acme Corp"}, {"id": "A2", "name": "Acme Corporation"},
                 rules)
    assert pair is not None and pair["band"] == "review", pair
    assert rules.file.duplicates.threshold <= pair["score"] <= rules.file.duplicates.auto_merge, pair


def test_two_addresses_at_one_company_domain_never_weigh_against_one_name(rules: Ruleset) -> None:
    """Jane Doe at jane@acme.com and at jdoe@acme.com was 0.51, the same two names without any email 0.58."""
    jane, other = {"first_name": "Jane", "last_name": "Doe"}, {"first_name": "Jane", "last_name": "Doe"}
    bare = _pair("contact", {"id": "C1", **jane}, {"id": "C2", **other}, rules)
    mailed = _pair("contact", {"id": "C1", **jane, "email": "jane@acme.com"},
                   {"id": "C2", **other, "email": "jdoe@acme.com"}, rules)
    assert bare is not None and mailed is not None
    assert mailed["score"] > bare["score"], (mailed, bare)


def test_two_colleagues_at_one_domain_are_still_two_people(rules: Ruleset) -> None:
    """The names decide colleagues: Mark and Mary Miller at one domain stay apart."""
    mark = {"id": "C1", "first_name": "Mark", "last_name": "Miller", "email": "mark.miller@globex.com"}
    mary = {"id": "C2", "first_name": "Mary", "last_name": "Miller", "email": "mary.miller@globex.com"}
    pair = _pair("contact", mark, mary, rules)
    assert pair is None or pair["score"] < rules.file.duplicates.threshold, pair


# ---- survivors: seed 002 "which record has more complete data and recent activity" ------------------------

def _whitaker(rid: str, email: str, active: str, **more: Any) -> dict[str, Any]:
    return {"id": rid, "first_name": "Jonathan", "last_name": "Whitaker", "email": email,
            "phone": "+14155550123", "title": "VP Sales", "department": "Sales", "last_activity_at": active,
            **more}


def test_an_unusable_email_or_an_unmapped_field_makes_no_record_more_complete(rules: Ruleset) -> None:
    """A 2019 record with 'jon.whitaker@northwind' (no deliverable address) and one more field, a mobile or a
    legacy export's fax, survived the 2024 record with the valid address, whose email was in no plan."""
    for extra in ({"mobile_phone": "+14155550999"}, {"fax": "+14155550998", "legacy_id": "L-9"}):
        stale = _whitaker("C1", "jon.whitaker@northwind", "2019-03-01T00:00:00Z", **extra)
        current = _whitaker("C2", "jon.whitaker@northwind.com", "2024-06-01T00:00:00Z")
        pair = find_duplicates("contact", [stale, current], rules)["pairs"][0]
        assert pair["survivor"] == "C2", (extra, pair)


def test_a_survivors_unusable_email_is_replaced_in_the_merge_plan(rules: Ruleset) -> None:
    """When the record with the unusable address survives (as complete with its mobile, and more recent), the
    plan offers the other's valid address in its place."""
    survivor = _whitaker("C1", "jon.whitaker@northwind", "2024-06-01T00:00:00Z", mobile_phone="+14155550999")
    other = _whitaker("C2", "jon.whitaker@northwind.com", "2019-03-01T00:00:00Z")
    pair = find_duplicates("contact", [survivor, other], rules)["pairs"][0]
    assert pair["survivor"] == "C1", pair
    assert pair["merge_plan"]["email"] == {"value": "jon.whitaker@northwind.com", "from": "C2",
                                           "replaces": "jon.whitaker@northwind"}, pair


def test_a_national_phone_of_the_records_country_is_no_unusable_value(rules: Ruleset) -> None:
    """A London contact's '020 7946 0958' is valid there, not in the US: read as unusable, it made the 2019
    record survive the 2024 one, and the plan 'replaced' the valid number."""
    london = {"city": "London", "country": "GB"}
    current = {"id": "c1", "first_name": "Olivia", "last_name": "Hart", "phone": "020 7946 0958",
               "title": "CFO", "mailing_address": london, "last_activity_at": "2024-06-01T00:00:00Z"}
    stale = {**current, "id": "c2", "phone": "+44 20 7946 0000", "last_activity_at": "2019-03-01T00:00:00Z"}
    pair = find_duplicates("contact", [current, stale], rules)["pairs"][0]
    assert pair["survivor"] == "c1" and "phone" not in pair["merge_plan"], pair


def test_an_unassigned_owner_is_no_value_the_survivor_keeps(rules: Ruleset) -> None:
    """Seed 002's records without proper owners: an owner of 'Unassigned' or 0 (`[completeness]
    field_empty_values`) counted as filled, so a survivor kept it and the plan left the other's real owner
    out; nor does it make its record the more complete one."""
    kept = _whitaker("C1", "jon.whitaker@northwind.com", "2024-06-01T00:00:00Z", owner_id="Unassigned",
                     mobile_phone="+14155550999")
    other = _whitaker("C2", "jon.whitaker@northwind.com", "2019-03-01T00:00:00Z", owner_id="005A1")
    pair = find_duplicates("contact", [kept, other], rules)["pairs"][0]
    assert pair["survivor"] == "C1", pair
    assert pair["merge_plan"].get("owner_id") == {"value": "005A1", "from": "C2"}, pair
    zero = _whitaker("C3", "jon.whitaker@northwind.com", "2024-06-01T00:00:00Z", owner_id=0)
    pair = find_duplicates("contact", [zero, other], rules)["pairs"][0]
    assert pair["survivor"] == "C2", "an owner of 0 is none: the record with a real owner is more complete"
    placeholder_only = _whitaker("C4", "jon.whitaker@northwind.com", "2019-03-01T00:00:00Z",
                                 owner_id="Unassigned")
    plain = _whitaker("C5", "jon.whitaker@northwind.com", "2024-06-01T00:00:00Z")
    pair = find_duplicates("contact", [placeholder_only, plain], rules)["pairs"][0]
    assert pair["survivor"] == "C5", "an 'Unassigned' owner makes no record more complete"
