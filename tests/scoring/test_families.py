"""Runs every case row in tests/scoring/cases/*.toml: each rule fires where it should and only there."""

from __future__ import annotations

import re
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
    report = score_record(record_type, case["record"], rules, now=NOW, lookups=lookups_of(case),
                          duplicates=duplicates)
    found = [i for i in report["issues"] if i["rule"] == case["rule"]]
    if case.get("absent"):
        assert found == [], f"{case['rule']} fired unexpectedly: {found}"
        return
    matching = [i for i in found if i["field"] == case["field"]]
    assert matching, f"{case['rule']} did not fire on {case['field']}; got {found}"
    if "suggestion" in case:
        assert matching[0]["suggestion"] == case["suggestion"]
    assert matching[0]["severity"] == rules.severity[case["rule"]]
    assert not PLACEHOLDER.search(matching[0]["message"]), f"unfilled placeholder: {matching[0]['message']}"
