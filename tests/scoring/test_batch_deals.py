"""Cross-record findings about deals and links between records, on both batch paths: a JSON batch (the whole
batch known before scoring) and a stream (each record judged alone, the batch's end reads its kept fields)."""

from __future__ import annotations

from typing import Any

import orjson

from app.scoring.batch import BatchRun, score_batch
from app.scoring.engine import Options, score_record
from app.scoring.judge import judge_lines
from app.scoring.ruleset import Ruleset
from app.scoring.values import salesforce_id15
from tests.conftest import NOW

TYPES = {"accounts": "account", "contacts": "contact", "opportunities": "opportunity", "leads": "lead"}


def json_batch(body: dict[str, list[dict[str, Any]]], rules: Ruleset) -> dict[str, Any]:
    return score_batch(body, rules, NOW, Options())


def streamed_findings(body: dict[str, list[dict[str, Any]]], rules: Ruleset) -> list[dict[str, Any]]:
    run = BatchRun(rules, NOW, Options())
    lines: list[bytes | None] = [orjson.dumps({"type": TYPES[plural], **record})
                                 for plural, records in body.items() for record in records]
    run.absorb(judge_lines(lines, 0, rules, run.setup))
    return run.finish_line()[1]["cross_record"]


def found(body: dict[str, list[dict[str, Any]]], rules: Ruleset, rule: str) -> set[Any]:
    """The record ids `rule` reports among the batch's cross-record findings, the same on both paths."""
    whole = {f["record_id"] for f in json_batch(body, rules)["cross_record"] if f["rule"] == rule}
    streamed = {f["record_id"] for f in streamed_findings(body, rules) if f["rule"] == rule}
    assert whole == streamed, (whole, streamed)
    return whole


ACCOUNT = {"id": "a1", "name": "Acme", "industry": "Technology", "owner_id": "u1"}
CONTACT = {"id": "c1", "account_id": "a1", "first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"}


def deal(did: str, stage: str, **more: Any) -> dict[str, Any]:
    return {"id": did, "account_id": "a1", "name": f"Deal {did}", "amount": 20_000, "stage": stage,
            "close_date": "2024-09-30", **more}


def test_won_deals_count_as_an_accounts_deals_for_single_threading(rules: Ruleset) -> None:
    """Seed 001 'companies where we have 2+ deals but only 1 contact person': a customer with a won deal and
    an open one, and one contact, was not reported (open deals only were counted); a lost deal is none."""
    rule = "account.contacts.single_contact_multi_deal"
    body = {"accounts": [ACCOUNT], "contacts": [CONTACT],
            "opportunities": [deal("o1", "Closed Won", close_date="2024-01-31"), deal("o2", "Proposal")]}
    assert found(body, rules, rule) == {"a1"}
    message = next(f["message"] for f in json_batch(body, rules)["cross_record"] if f["rule"] == rule)
    assert message.startswith("2 open or won deals but only one contact"), message
    body["opportunities"][0] = deal("o1", "Closed Lost", close_date="2024-01-31")
    assert found(body, rules, rule) == set()


def test_a_deal_entered_twice_is_reported_on_each_copy(rules: Ruleset) -> None:
    """Seed 002 'clean up abandoned or duplicate deal records': two deals of one account with the same name
    (case and spacing aside), amount and close date raised nothing. A different amount, close date or account
    is another deal; a deal missing one of the four is compared with none."""
    rule = "opportunity.duplicate.in_batch"
    twin = deal("o2", "Proposal", name="  deal O1 ", close_date="2024-09-30T00:00:00Z")
    body = {"accounts": [ACCOUNT], "contacts": [CONTACT],
            "opportunities": [deal("o1", "Proposal"), twin, deal("o3", "Proposal", amount=20_001),
                              deal("o4", "Proposal", name="Deal o1", close_date="2024-10-01"),
                              deal("o5", "Proposal", name="Deal o1", account_id="a2"),
                              deal("o6", "Proposal", name="Deal o1", amount=None)]}
    assert found(body, rules, rule) == {"o1", "o2"}
    report = json_batch(body, rules)["results"]["opportunities"][0]
    issue = next(i for i in report["issues"] if i["rule"] == rule)
    assert "The same deal as 'o2'" in issue["message"] and issue["severity"] == "warning"
    single = score_record("opportunity", deal("o1", "Proposal"), rules, now=NOW)
    assert rule not in {i["rule"] for i in single["issues"]}  # batch scope: one deal has no twin


def test_many_copies_of_one_deal_name_ten_and_count_the_rest(rules: Ruleset) -> None:
    """A deal entered 30 times: each copy names ten others and counts the rest (one list per group, O(n))."""
    body = {"opportunities": [deal(f"o{n}", "Proposal", name="Renewal") for n in range(30)]}
    reports = json_batch(body, rules)["results"]["opportunities"]
    messages = [i["message"] for r in reports for i in r["issues"]
                if i["rule"] == "opportunity.duplicate.in_batch"]
    assert len(messages) == 30
    assert messages[0].startswith("The same deal as 'o1', 'o2'") and "and 19 more" in messages[0]
    assert "'o29'" not in messages[29] and "and 19 more" in messages[29]


def test_links_to_records_missing_from_the_batch_are_reported(rules: Ruleset) -> None:
    """Seed 002 'relationship integrity maintenance': a contact role naming a contact the batch does not hold,
    and a parent account it does not hold, raised nothing (a record's account did); as for an account, a batch
    without contacts says nothing of them."""
    parent = dict(ACCOUNT, id="a0")
    child = dict(ACCOUNT, id="a1", parent_account_id="a0")
    orphan = dict(ACCOUNT, id="a2", parent_account_id="a9")
    roles = [{"contact_id": "c1", "role": "champion"}, {"contact_id": "c9", "role": "influencer"},
             {"contact_id": "c9", "role": "user"}]
    body = {"accounts": [parent, child, orphan], "contacts": [CONTACT],
            "opportunities": [deal("o1", "Proposal", contact_roles=roles)]}
    assert found(body, rules, "account.parent.not_in_batch") == {"a2"}
    assert found(body, rules, "opportunity.contact.not_in_batch") == {"o1"}
    missing = [f for f in json_batch(body, rules)["cross_record"]
               if f["rule"] == "opportunity.contact.not_in_batch"]
    assert [(f["value"], f["severity"]) for f in missing] == [("c9", "info")]
    del body["contacts"]
    assert found(body, rules, "opportunity.contact.not_in_batch") == set()


LONG, SHORT = "0015g00000ABCDEAA5", "0015g00000ABCDE"  # one Salesforce account: its 18- and 15-character ids


def test_salesforce_ids_read_as_their_15_character_form_only_with_a_valid_checksum() -> None:
    assert salesforce_id15(LONG) == SHORT
    assert salesforce_id15("001A0000006Vm9rIAC") == "001A0000006Vm9r"  # Salesforce's documented example
    assert salesforce_id15("0015g00000ABCDEAA2") is None  # a wrong checksum: another id, left as it is
    assert salesforce_id15("0015g00000abcdeAA5") is None  # the case the checksum records differs
    assert salesforce_id15(SHORT) is None and salesforce_id15("order-2024-000001x") is None


def test_an_18_character_salesforce_id_links_to_the_same_records_15_character_id(rules: Ruleset) -> None:
    """An account exported with its 18-character id and its deals and contacts naming the 15-character one
    (or the other way round) were different accounts: the industry gap on $60K went unreported and every
    deal and contact was 'not in this batch'."""
    for account_id, reference in ((LONG, SHORT), (SHORT, LONG)):
        account = {"id": account_id, "name": "Acme", "owner_id": "u1"}
        contact = dict(CONTACT, account_id=reference)
        body = {"accounts": [account], "contacts": [contact],
                "opportunities": [deal("o1", "Proposal", account_id=reference, amount=60_000),
                                  deal("o2", "Closed Won", account_id=LONG, close_date="2024-01-31")]}
        assert found(body, rules, "account.industry.missing_high_value") == {account_id}
        assert found(body, rules, "account.contacts.single_contact_multi_deal") == {account_id}
        assert found(body, rules, "opportunity.account.not_in_batch") == set()
        assert found(body, rules, "contact.account.not_in_batch") == set()
    # an 18-character id without its checksum is another id
    body = {"accounts": [{"id": "0015g00000ABCDEAA2", "name": "Acme"}],
            "opportunities": [deal("o1", "Proposal", account_id=SHORT)]}
    assert found(body, rules, "opportunity.account.not_in_batch") == {"o1"}


def test_contact_roles_and_parents_link_18_character_ids_too(rules: Ruleset) -> None:
    """The same reading wherever ids are compared: a contact role's contact, a parent account."""
    contact = {"id": "0035g00000XyZab", "account_id": SHORT, "first_name": "Ann", "last_name": "Lee"}
    roles = [{"contact_id": "0035g00000XyZabAAF", "role": "champion"}]
    subsidiary = {"id": "a2", "name": "Acme EU", "parent_account_id": LONG}
    body = {"accounts": [{"id": SHORT, "name": "Acme"}, subsidiary], "contacts": [contact],
            "opportunities": [deal("o1", "Proposal", account_id=SHORT, contact_roles=roles)]}
    assert found(body, rules, "opportunity.contact.not_in_batch") == set()
    assert found(body, rules, "account.parent.not_in_batch") == set()
    assert found(body, rules, "contact.email.missing_on_active_deal") == {"0035g00000XyZab"}


def test_merge_priority_reads_an_accounts_18_character_id_as_its_deals_do(rules: Ruleset) -> None:
    """A duplicate account written with its 18-character id, whose $200K won deal names the 15-character one,
    was a 'medium' merge: its booked value was keyed by the 15-character form only."""
    twin = {"name": "Northwind Traders", "billing_address": {"street": "1 Main St", "city": "Austin"}}
    body = {"accounts": [{"id": LONG, **twin}, {"id": "A2", **twin, "name": "Northwind Traders Inc"}],
            "opportunities": [deal("o1", "Closed Won", account_id=SHORT, amount=200_000,
                                   close_date="2024-01-31")]}
    pairs = json_batch(body, rules)["duplicates"]["accounts"]["pairs"]
    assert [p["merge_priority"] for p in pairs] == ["high"], pairs
    assert streamed_duplicates(body, rules)["accounts"]["merges"] == {"high": 1}


def streamed_duplicates(body: dict[str, list[dict[str, Any]]], rules: Ruleset) -> dict[str, Any]:
    run = BatchRun(rules, NOW, Options())
    lines: list[bytes | None] = [orjson.dumps({"type": TYPES[plural], **record})
                                 for plural, records in body.items() for record in records]
    run.absorb(judge_lines(lines, 0, rules, run.setup))
    return run.finish_line()[1]["duplicates"]
