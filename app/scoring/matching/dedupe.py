"""`find_duplicates`: pairs, clusters, survivors and merge plans for a list of records (and a reference)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.scoring.matching.linker import (
    MatchModel,
    Prepared,
    TermFrequencies,
    block_pairs,
    explain,
    match_band,
    prepare,
    record_id,
    score_pairs,
)
from app.scoring.matching.merge import GuardedClusters, Ranking, merge_plan, merge_priority, survivor_of

MATCHABLE = ("account", "contact", "lead")


def find_duplicates(
    record_type: str,
    records: Sequence[dict[str, Any]],
    rules: Any,
    *,
    reference: Sequence[dict[str, Any]] | None = None,
    threshold: float | None = None,
    region: str = "US",
    deal_value_by_account: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Duplicate pairs within `records`, or between `records` and `reference` when it is given.

    Args:
        record_type: account, contact or lead.
        records: canonical records; one without an id gets its position as id.
        reference: records already known; pairs then link records (a) to reference (b) only.
        threshold: match probability at or above which a pair is listed (default: the rules file's).
    """
    started = time.perf_counter()
    left = prepare(records, record_type, region)
    right = prepare(reference, record_type, region, _reference_ids(reference, left)) if reference is not None else None
    by_id = {**({rid: r for rid, r in zip(right.ids, reference, strict=True)} if right and reference else {}),
             **{rid: r for rid, r in zip(left.ids, records, strict=True)}}
    return match_tables(record_type, left, right, by_id, rules, threshold=threshold,
                        deal_value_by_account=deal_value_by_account, started=started)


def match_tables(
    record_type: str,
    left: Prepared,
    right: Prepared | None,
    records_by_id: dict[str, dict[str, Any]],
    rules: Any,
    *,
    threshold: float | None = None,
    deal_value_by_account: Mapping[str, float] | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Pairs, clusters and stats for already-prepared tables (`records_by_id` feeds survivors and plans)."""
    started = time.perf_counter() if started is None else started
    cfg = rules.file.duplicates
    model: MatchModel = rules.match_models[record_type]
    threshold = cfg.threshold if threshold is None else threshold
    tf = TermFrequencies.of([left] + ([right] if right else []), [c.field for c in model.comparisons if c.tf],
                            cfg.tf_pseudo_count)
    i, j = block_pairs(left, right, model, cfg.max_block_size)
    other = right if right is not None else left
    scores = score_pairs(left, other, i, j, model, tf)
    rank = Ranking(records_by_id)
    keep = np.flatnonzero(scores.score >= threshold)
    keep = keep[np.argsort(-scores.score[keep], kind="stable")]

    clusters = GuardedClusters(_PairScorer(left, other, model, tf, right is not None), threshold, cfg.auto_merge)
    pairs_out = []
    rows = zip(scores.left[keep].tolist(), scores.right[keep].tolist(), scores.score[keep].tolist(),
               scores.levels[keep].tolist(), scores.sims[keep].tolist(), scores.swapped[keep].tolist(), strict=True)
    for li, ri, score, levels, sims, swapped in rows:
        a, b = left.ids[li], other.ids[ri]
        if a == b:
            continue
        clusters.link(a, b, score)
        fields, reasons = explain(levels, sims, swapped, model)
        pairs_out.append(_pair(a, b, score, fields, reasons, cfg, threshold, rank, deal_value_by_account or {}))
    groups = clusters.groups()
    group_survivor = {}
    for group in groups:
        survivor = survivor_of(group, rank)
        group_survivor.update(dict.fromkeys(group, survivor))
    for pair in pairs_out:
        if pair["a"] in group_survivor and group_survivor[pair["a"]] == group_survivor.get(pair["b"]):
            pair["cluster_survivor"] = group_survivor[pair["a"]]
    matched = {p["a"] for p in pairs_out}
    if right is None:
        duplicate_rate = sum(len(g) - 1 for g in groups) / len(left) if len(left) else 0.0
    else:
        duplicate_rate = len(matched) / len(left) if len(left) else 0.0
    return {
        "pairs": pairs_out,
        "clusters": groups,
        "stats": {"records": len(left), "reference": len(right) if right else 0, "pairs_compared": int(len(i)),
                  "duplicate_rate": round(duplicate_rate, 6), "threshold": threshold,
                  "seconds": round(time.perf_counter() - started, 4)},
    }


def _reference_ids(reference: Sequence[dict[str, Any]], left: Prepared) -> list[str]:
    """Reference ids; positions become 'ref-N' so they never collide with the records' positions."""
    ids = []
    for n, r in enumerate(reference):
        rid = record_id(r, n)
        ids.append(rid if isinstance(r, dict) and r.get("id") not in (None, "") else f"ref-{n}")
    return ids


def _pair(a: str, b: str, score: float, fields: dict[str, float], reasons: list[str], cfg: Any,
          threshold: float, rank: Ranking, deal_values: Mapping[str, float]) -> dict[str, Any]:
    band = match_band(score, threshold, cfg.auto_merge) or "review"
    survivor = survivor_of([a, b], rank)
    loser = b if survivor == a else a
    return {"a": a, "b": b, "score": round(score, 4), "fields": fields, "reasons": reasons, "band": band,
            "survivor": survivor, "merge_priority": merge_priority([a, b], rank.records, band, deal_values, cfg),
            "merge_plan": merge_plan(survivor, [loser], rank)}


class _PairScorer:
    """Scores arbitrary id pairs for the cluster guard (pairs blocking never compared); built on first use."""

    def __init__(self, left: Prepared, other: Prepared, model: MatchModel, tf: TermFrequencies,
                 linkage: bool) -> None:
        self.left, self.other, self.model, self.tf, self.linkage = left, other, model, tf, linkage
        self.table: Prepared | None = None
        self.position: dict[str, int] = {}

    def __call__(self, pairs: list[tuple[str, str]]) -> list[float]:
        if self.table is None:
            self.table = _concat(self.left, self.other) if self.linkage else self.left
            self.position = {rid: n for n, rid in enumerate(self.table.ids)}
        i = np.array([self.position[x] for x, _ in pairs], dtype=np.int64)
        j = np.array([self.position[y] for _, y in pairs], dtype=np.int64)
        return score_pairs(self.table, self.table, i, j, self.model, self.tf).score.tolist()


def _concat(a: Prepared, b: Prepared) -> Prepared:
    names = set(a.columns) | set(b.columns)
    cols = {n: np.concatenate([a.columns.get(n, np.full(len(a), "", dtype=object)),
                               b.columns.get(n, np.full(len(b), "", dtype=object))]) for n in names}
    return Prepared(a.ids + b.ids, a.keys + b.keys, cols)


def link_record(
    record_type: str,
    record: dict[str, Any],
    candidates: Sequence[tuple[str, dict[str, Any]]],
    rules: Any,
    *,
    region: str = "US",
    tf: TermFrequencies | None = None,
    threshold: float | None = None,
) -> list[dict[str, Any]]:
    """The best duplicate candidates for one record (pair shape, best first, at most `max_candidates`).

    Args:
        candidates: (id, record) pairs: from the reference index, or fetched by the caller from its CRM.
        tf: term frequencies of the index; by default they come from the candidates themselves.
    """
    cfg = rules.file.duplicates
    model: MatchModel = rules.match_models[record_type]
    threshold = cfg.threshold if threshold is None else threshold
    if not candidates:
        return []
    own_id = record_id(record, 0) if record.get("id") not in (None, "") else "new"
    left = prepare([record], record_type, region, [own_id])
    right = prepare([c for _, c in candidates], record_type, region, [cid for cid, _ in candidates])
    if tf is None:
        tf = TermFrequencies.of([left, right], [c.field for c in model.comparisons if c.tf], cfg.tf_pseudo_count)
    scores = score_pairs(left, right, np.zeros(len(right), dtype=np.int64), np.arange(len(right)), model, tf)
    rank = Ranking({own_id: record, **{cid: c for cid, c in candidates}})
    order = [int(k) for k in np.argsort(-scores.score, kind="stable") if scores.score[k] >= threshold]
    pairs = []
    for k in order[: cfg.max_candidates]:
        if right.ids[k] == own_id:
            continue
        fields, reasons = explain(scores.levels[k].tolist(), scores.sims[k].tolist(), bool(scores.swapped[k]), model)
        pairs.append(_pair(own_id, right.ids[k], float(scores.score[k]), fields, reasons, cfg, threshold, rank, {}))
    return pairs
