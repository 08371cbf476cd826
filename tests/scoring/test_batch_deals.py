"""Cross-record findings about deals and links between records, on both batch paths: a JSON batch (the whole
batch known before scoring) and a stream (each record judged alone, the batch's end reads its kept fields)."""

from __future__ import annotations

from typing import Any

import orjson

from app.scoring.batch import BatchRun, score_batch
from app.scoring.engine import Options
from app.scoring.judge import judge_lines
from app.scoring.ruleset import Ruleset
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
