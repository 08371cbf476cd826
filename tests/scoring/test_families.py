"""Runs every case row in tests/scoring/cases/*.toml: each rule fires where it should and only there."""

from __future__ import annotations

import re
from datetime import datetime
import tomllib
from pathlib import Path
from typing import Any

import pytest

from app.scoring import Lookups, Ruleset, score_record
from app.scoring.matching.dedupe import link_record
from tests.conftest import NOW

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
CASES_DIR = Path(__file__).parent / "cases"


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        for i, case in enumerate(tomllib.loads(path.read_text())["case"]):
            cases.append((f"{path.stem}:{i}:{case['rule']}", case))
    return cases


CASES = load_cases()


def lookups_of(case: dict[str, Any]) -> Lookups:
    raw = dict(case.get("lookups", {}))
    if "active_deal_contacts" in raw:
        raw["active_deal_contacts"] = frozenset(raw["active_deal_contacts"])
    return Lookups(**raw)


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_case(case: dict[str, Any], rules: Ruleset) -> None:
    record_type = case["rule"].split(".", 1)[0]
    candidates = [(c["id"], c) for c in case.get("candidates", [])]
    duplicates = link_record(record_type, case["record"], candidates, rules) if candidates else None
    now = datetime.fromisoformat(case["now"]) if "now" in case else NOW  # a case's own clock: boundaries
    report = score_record(record_type, case["record"], rules, now=now, lookups=lookups_of(case),
                          duplicates=duplicates)
    found = [i for i in report["issues"] if i["rule"] == case["rule"]]
    if case.get("absent"):  # on the case's field, if it names one; else at all
        unexpected = [i for i in found if i["field"] == case["field"]] if "field" in case else found
        assert unexpected == [], f"{case['rule']} fired unexpectedly: {unexpected}"
        return
    matching = [i for i in found if i["field"] == case["field"]]
    assert matching, f"{case['rule']} did not fire on {case['field']}; got {found}"
    if "suggestion" in case:
        assert matching[0]["suggestion"] == case["suggestion"]
    if case.get("no_suggestion"):  # TOML has no null: the finding offers nothing to store (ambiguous value)
        assert matching[0]["suggestion"] is None, matching[0]
    if "counted_under" in case:  # the finding stays, penalised and weighed once under the covering rule
        assert matching[0].get("counted_under") == (case["counted_under"] or None), matching[0]
    if "message" in case:  # words the message must hold
        assert case["message"] in matching[0]["message"], matching[0]["message"]
    assert matching[0]["severity"] == rules.severity[case["rule"]]
    assert not PLACEHOLDER.search(matching[0]["message"]), f"unfilled placeholder: {matching[0]['message']}"


def test_when_present_rules_never_need_their_fields_absent(rules: Ruleset) -> None:
    """Skipping `when_present` rules for records without their fields changes no report.

    Every case record and a sample of generated dirty records are scored twice: with the engine's
    skip, and with every rule forced to run. A rule wrongly declared `when_present` (one that fires
    on an absent field) makes the reports differ.
    """
    from dataclasses import replace

    from bench.generate import make_accounts, make_contacts, make_leads, make_opportunities

    ungated = replace(rules, runs={t: [run[:-1] + (None,) for run in runs] for t, runs in rules.runs.items()})
    assert any(run[-1] is not None for runs in rules.runs.values() for run in runs), "no rule is gated"
    samples = [(c["rule"].split(".", 1)[0], c["record"], lookups_of(c)) for _, c in CASES]
    for record_type, make in (("account", make_accounts), ("contact", make_contacts),
                              ("opportunity", make_opportunities), ("lead", make_leads)):
        samples += [(record_type, r, Lookups()) for r in make(300, 11)]
    # records stripped down to a few fields make absence common
    samples += [(t, {k: v for i, (k, v) in enumerate(r.items()) if i % 3 == 0}, lk) for t, r, lk in samples]
    for record_type, record, lookups in samples:
        gated = score_record(record_type, record, rules, now=NOW, lookups=lookups)
        full = score_record(record_type, record, ungated, now=NOW, lookups=lookups)
        assert gated["issues"] == full["issues"], (record_type, record)
