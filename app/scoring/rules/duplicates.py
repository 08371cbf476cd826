"""Duplicates of a single scored record, found in the reference index or in caller-given candidates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.scoring.registry import Hit, rule

# pairs another rule reports: a lead that is a contact is converted (lead.duplicate.existing_contact)
REPORTED_ELSEWHERE = {"lead": "contact"}


def _band(band: str) -> Any:
    def check(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
        """A known record matches this one in the given confidence band."""
        elsewhere = REPORTED_ELSEWHERE.get(ctx.record_type)
        for pair in ctx.duplicates:
            if pair["band"] == band and (elsewhere is None or pair.get("b_type") != elsewhere):
                other = f"{pair['b_type']} {pair['b']}" if pair.get("b_type") else pair["b"]
                yield Hit("id", pair["b"], details={"score": pair["score"], "reasons": "; ".join(pair["reasons"]),
                                                    "other": other})

    return check


for _t in ("account", "contact", "lead"):
    rule(f"{_t}.duplicate.review", fields=("*",), severity="warning", category="duplicates", seed="001",
         config="duplicates", message="Possible duplicate of {other} (score {score:.2f}: {reasons}); review it.",
         description="Seed 001: duplicates by fuzzy names, email domains, phones, addresses, websites; "
                     "a pair between the duplicate threshold and the auto-merge line.")(_band("review"))
    rule(f"{_t}.duplicate.auto_merge", fields=("*",), severity="error", category="duplicates", seed="001",
         config="duplicates", message="Duplicate of {other} (score {score:.2f}: {reasons}); merge instead of "
                                      "creating another record.",
         description="Seed 001/002: a pair above the auto-merge line: the same company or person.")(_band("auto_merge"))
