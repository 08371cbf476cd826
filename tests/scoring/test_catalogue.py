"""The rule catalogue is closed: registered ids = case-file ids = documented ids (docs/RULES.md).

Removing a rule, or its cases, or its documentation, fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.scoring import RULES
from app.scoring.catalogue import render_catalogue
from tests.scoring.test_families import CASES

DOC = Path(__file__).parents[2] / "docs" / "RULES.md"


def test_every_rule_has_a_firing_case_and_a_silent_case() -> None:
    firing = {c["rule"] for _, c in CASES if not c.get("absent")}
    silent = {c["rule"] for _, c in CASES if c.get("absent")}
    assert set(RULES) - firing == set(), "rules without a case where they fire"
    assert set(RULES) - silent == set(), "rules without a case where they stay silent"
    assert {c["rule"] for _, c in CASES} <= set(RULES), "cases for rules that do not exist"


def test_documented_rules_match_the_registry() -> None:
    assert DOC.read_text() == render_catalogue(), "docs/RULES.md is stale: run `make docs`"


def test_every_rule_is_declared_completely() -> None:
    for rule in RULES.values():
        assert rule.id.count(".") == 2 and rule.id == rule.id.lower()
        assert rule.seed and rule.message and rule.description, rule.id
        assert all(s.strip() in {"000", "001", "002", "003", "004"} for s in rule.seed.split(",")), rule.id


def test_the_catalogue_covers_every_design_area() -> None:
    categories = {r.category for r in RULES.values()}
    assert categories >= {"completeness", "validity", "consistency", "qualification", "timeliness", "impact",
                          "standardization", "lead_scoring"}
    assert len(RULES) >= 90


def test_a_rule_covers_only_registered_rules_of_its_own_record_type() -> None:
    """`covers` names the rules whose findings a rule's finding on the same field already reports; a misspelt
    or foreign id would silently cover nothing."""
    covering = [r for r in RULES.values() if r.covers]
    assert covering, "no rule covers another"
    for rule in covering:
        for covered in rule.covers:
            assert covered in RULES and RULES[covered].record_type == rule.record_type, (rule.id, covered)


def test_a_finding_is_counted_only_under_one_at_least_as_severe(tmp_path: Path) -> None:
    """A rules file sets severities: with the stage gate an info finding, the MEDDPICC gaps it would cover
    (warnings) keep their own penalties; an error gap under a warning gate likewise."""
    from app.scoring import load_rules, score_record
    from tests.conftest import NOW

    deal = {"stage": "Negotiation", "amount": 1000, "close_date": "2030-01-01"}

    def gaps(toml: str) -> dict[str, Any]:
        path = tmp_path / "org.toml"
        path.write_text(toml)
        report = score_record("opportunity", deal, load_rules(path), now=NOW)
        return {i["field"]: i["counted_under"] for i in report["issues"] if i["rule"] == "opportunity.meddpicc.gaps"}

    assert gaps("")["meddpicc.economic_buyer"] == "opportunity.stage_gate.unmet"
    # an info gate: the gap is the (warning) decision maker's, whose finding is about the economic buyer too
    assert gaps('[rules."opportunity.stage_gate.unmet"]\nseverity = "info"\n')["meddpicc.economic_buyer"] == \
        "opportunity.decision_maker.missing"
    assert gaps('[rules."opportunity.stage_gate.unmet"]\nseverity = "info"\n[rules."opportunity.decision_maker.missing"]'
                '\nseverity = "info"\n')["meddpicc.economic_buyer"] is None
    assert gaps('[rules."opportunity.meddpicc.gaps"]\nseverity = "error"\n')["meddpicc.economic_buyer"] is None
    assert gaps('[rules."opportunity.stage_gate.unmet"]\nseverity = "error"\n')["meddpicc.economic_buyer"] == \
        "opportunity.stage_gate.unmet"


def test_rule_descriptions_are_whole_sentences() -> None:
    """A rule's description (GET /v1/rules, docs/RULES.md, an audit's cleanup tasks) is its docstring's first
    paragraph: the first line alone cut wrapped sentences off mid-word (helper-44)."""
    cut = [(r.id, r.description[-40:]) for r in RULES.values() if not r.description.rstrip().endswith(
        (".", ")", "!", "?", ":", "'", '"'))]
    assert cut == []


def test_no_developer_note_reaches_a_customer() -> None:
    """Rule descriptions and messages are customer-facing (/v1/rules, docs/RULES.md, the audit's cleanup
    tasks): a rule's docstring carried '(helper-57: it was not until a second later)' into the audit."""
    import re

    from app.scoring.registry import RULES
    leaks = [(r.id, text) for r in RULES.values() for text in (r.description, r.message)
             if re.search(r"\bhelper-\d+", text)]
    assert leaks == []
