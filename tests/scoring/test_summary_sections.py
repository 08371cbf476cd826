"""The audit's summary sections counted one record at a time or merged from chunks, alike and bounded."""

from __future__ import annotations

from typing import Any

from app.scoring.ruleset import load_rules
from app.scoring.summary import LISTED_VARIANTS, MAX_VARIANTS, VARIANT_IDS, BatchSummary


def _report(n: int, industry: str) -> dict[str, Any]:
    return {"record_id": f"r{n}", "completeness": {"required": 1, "filled": 1, "missing": []},
            "accuracy": {"checked": 0, "valid": 0},
            "issues": [{"rule": "account.website.nonstandard", "field": "website", "severity": "info",
                        "category": "standardization", "message": "m", "value": industry,
                        "suggestion": "https://x.com", "counted_under": None}]}


def test_standardisation_variants_stay_bounded_and_merged_chunks_keep_the_same_ones() -> None:
    """A 100k-record stream of websites each written its own way keeps at most MAX_VARIANTS variants per
    field, each with its first VARIANT_IDS ids, counting the rest; chunks of 500 merged keep the same."""
    rules = load_rules()
    values = [f"www.site{n % 1500}.com" if n % 3 else "www.common.com" for n in range(6000)]
    whole = BatchSummary(rules)
    chunks = [BatchSummary(rules) for _ in range(12)]
    for n, value in enumerate(values):
        whole.add("account", _report(n, value), 0.0)
        chunks[n // 500].add("account", _report(n, value), 0.0)
    merged = BatchSummary(rules)
    for chunk in chunks:
        merged.merge(chunk)
    assert len(whole.variants[("account", "website")]) == MAX_VARIANTS
    assert merged.standardization() == whole.standardization()
    (field,) = whole.standardization()["fields"]
    assert field["records"] == len(values) and len(field["updates"]) == LISTED_VARIANTS
    top = field["updates"][0]
    assert (top["from"], top["records"], len(top["ids"]), top["ids_complete"]) == (
        "www.common.com", 2000, VARIANT_IDS, False)
    assert field["unlisted_records"] == len(values) - sum(u["records"] for u in field["updates"])
