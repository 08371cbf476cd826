"""`find_duplicates`: pairs, clusters, survivors and merge plans for a list of records (and a reference)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.scoring.matching.linker import (
    MatchModel,
    PairScores,
    Prepared,
    TermFrequencies,
    block_pairs,
    explain,
    match_band,
    prepare,
    record_id,
    score_pairs,
)
from app.scoring.matching.linker import own_id as own_record_id
from app.scoring.matching.merge import GuardedClusters, Ranking, merge_plan, merge_priority, survivor_of
from app.scoring.values import same_record_id

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
    records_by_id: Mapping[str, dict[str, Any]],
    rules: Any,
    *,
    threshold: float | None = None,
    deal_value_by_account: Mapping[str, float] | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Pairs, clusters and stats for already-prepared tables (`records_by_id` feeds survivors and plans)."""
    found = match_lazily(record_type, left, right, records_by_id, rules, threshold=threshold,
                         deal_value_by_account=deal_value_by_account, started=started)
    pairs = list(found.pairs())
    return {"pairs": pairs, "clusters": found.clusters, "stats": found.stats()}


def match_lazily(
    record_type: str,
    left: Prepared,
    right: Prepared | None,
    records_by_id: Mapping[str, dict[str, Any]],
    rules: Any,
    *,
    threshold: float | None = None,
    deal_value_by_account: Mapping[str, float] | None = None,
    started: float | None = None,
    model: MatchModel | None = None,
) -> Matches:
    """`match_tables`, with each pair made only as `Matches.pairs` yields it (a caller writing them out one
    at a time never holds them all). `model`: another than the record type's (`MatchModel.across_types`)."""
    started = time.perf_counter() if started is None else started
    cfg = rules.file.duplicates
    model = rules.match_models[record_type] if model is None else model
    threshold = cfg.threshold if threshold is None else threshold
    # pair_share=1: a value's other holders than one side of the pair, over the records but that one, as the
    # index counts them for a new record (`index.find_candidates`): 'Zeta Corp' and 'Zeta Corporation' were
    # review (0.999) here and auto_merge (0.9994) there, the pair's own two counts making 'zeta' common
    tf = TermFrequencies.of([left] + ([right] if right else []), model.tf_fields, cfg.tf_pseudo_count,
                            pair_share=1, shared_after=2 + cfg.common_value_after, model=model)
    i, j = block_pairs(left, right, model, cfg.max_block_size, cfg.crowded_block_window)
    other = right if right is not None else left
    scores = _matching_pairs(left, other, i, j, model, tf, threshold)
    keep = np.argsort(-scores.score, kind="stable")
    scores = scores.take(keep)
    edges = [(left.ids[a], other.ids[b])
             for a, b in zip(scores.left.tolist(), scores.right.tolist(), strict=True)]
    clusters = GuardedClusters(_PairScorer(left, other, model, tf, right is not None, edges), threshold,
                               cfg.auto_merge)
    for (a, b), score in zip(edges, scores.score.tolist(), strict=True):
        if not same_record_id(a, b):
            clusters.link(a, b, score)
    rank = Ranking(records_by_id, rules.empty_values, record_type, rules.field_empty_values)
    groups = clusters.groups()
    group_survivor = {}
    for group in groups:
        survivor = survivor_of(group, rank)
        group_survivor.update(dict.fromkeys(group, survivor))
    # no records, no rate: null, as the summary's duplicate_rate KPI is then (an empty batch showed 0.0 here
    # beside the KPI's null: a rate measured and met, where nothing was measured)
    duplicate_rate: float | None = None
    if len(left) and right is None:
        duplicate_rate = round(sum(len(g) - 1 for g in groups) / len(left), 6)
    elif len(left):
        duplicate_rate = round(len({a for a, b in edges if not same_record_id(a, b)}) / len(left), 6)
    stats = {"records": len(left), "reference": len(right) if right else 0, "pairs_compared": int(len(i)),
             "duplicate_rate": duplicate_rate, "threshold": threshold}
    return Matches(edges, scores, groups, group_survivor, model, cfg, threshold, rank,
                   deal_value_by_account or {}, stats, started)


@dataclass
class Matches:
    """The pairs at or above the threshold (best first) and their clusters, from `match_lazily`."""

    edges: list[tuple[str, str]]
    scores: PairScores
    clusters: list[list[str]]
    group_survivor: dict[str, str]
    model: MatchModel
    cfg: Any
    threshold: float
    rank: Ranking
    deal_values: Mapping[str, float]
    base_stats: dict[str, Any]
    started: float

    def pairs(self) -> Iterator[dict[str, Any]]:
        """Each pair with its explanation, survivor, merge priority and plan, and its cluster's survivor."""
        survivors = self.group_survivor
        for n, (a, b) in enumerate(self.edges):
            if same_record_id(a, b):  # one record twice, or in its 15- and 18-character Salesforce forms
                continue
            s = self.scores
            fields, reasons = explain(s.levels[n].tolist(), s.sims[n].tolist(), bool(s.swapped[n]),
                                      self.model, s.common[n].tolist())
            pair = _pair(a, b, float(s.score[n]), fields, reasons, self.cfg, self.threshold, self.rank,
                         self.deal_values)
            if a in survivors and survivors[a] == survivors.get(b):
                pair["cluster_survivor"] = survivors[a]
            yield pair

    def stats(self) -> dict[str, Any]:
        """Records, pairs compared, duplicate rate, threshold, and the seconds taken so far."""
        return {**self.base_stats, "seconds": round(time.perf_counter() - self.started, 4)}


SCORE_CHUNK = 25_000  # candidate pairs scored at a time: each costs ~10 bytes per comparison while scored


def _matching_pairs(left: Prepared, other: Prepared, i: np.ndarray, j: np.ndarray, model: MatchModel,
                    tf: TermFrequencies, threshold: float) -> PairScores:
    """The candidate pairs at or above the threshold, in candidate order, scored a slice at a time so that
    memory follows the slice and the matches, not every candidate pair's levels and similarities."""
    parts = []
    for start in range(0, len(i), SCORE_CHUNK) if len(i) else [0]:
        part = score_pairs(left, other, i[start:start + SCORE_CHUNK], j[start:start + SCORE_CHUNK], model, tf)
        hit = np.flatnonzero(part.score >= threshold)
        parts.append(part.take(hit))
    return parts[0] if len(parts) == 1 else PairScores.concat(parts)


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
    """Scores arbitrary id pairs for the cluster guard (pairs blocking never compared); built on first use.

    The guard only asks about records of one connected group of matched pairs (`edges`), and asks again and
    again as clusters grow, so all ordered pairs of a group are scored at once, before the first question
    for small groups (together, up to `EAGER_PAIRS` pairs: one call instead of one per group) and at the
    first question about it for larger ones (up to `BLOCK_MEMBERS` records); the largest groups are scored
    pair by pair as asked, once each.
    """

    BLOCK_MEMBERS = 500
    EAGER_PAIRS = 400_000

    def __init__(self, left: Prepared, other: Prepared, model: MatchModel, tf: TermFrequencies,
                 linkage: bool, edges: list[tuple[str, str]] | None = None) -> None:
        self.left, self.other, self.model, self.tf, self.linkage = left, other, model, tf, linkage
        self.edges = edges or []
        self.table: Prepared | None = None
        self.position: dict[str, int] = {}
        self.group_of: dict[int, int] = {}                    # table position -> its group's root
        self.members: dict[int, list[int]] = {}               # group root -> sorted positions
        self.blocks: dict[int, tuple[dict[int, int], np.ndarray]] = {}  # group root -> (slot, score matrix)
        self.scored: dict[tuple[int, int], float] = {}        # pairs of larger groups, as asked

    def _build(self) -> None:
        self.table = _concat(self.left, self.other) if self.linkage else self.left
        self.position = {rid: n for n, rid in enumerate(self.table.ids)}
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in self.edges:
            parent[find(self.position[a])] = find(self.position[b])
        for x in parent:
            root = find(x)
            self.group_of[x] = root
            self.members.setdefault(root, []).append(x)
        eager, pairs = [], 0
        for root, members in sorted(self.members.items(), key=lambda g: len(g[1])):
            if len(members) < 3 or len(members) > self.BLOCK_MEMBERS:  # a pair never needs the guard
                continue
            pairs += len(members) ** 2
            if pairs > self.EAGER_PAIRS:
                break
            eager.append((root, sorted(members)))
        if eager:
            i = np.concatenate([np.repeat(np.array(m, dtype=np.int64), len(m)) for _, m in eager])
            j = np.concatenate([np.tile(np.array(m, dtype=np.int64), len(m)) for _, m in eager])
            scores = np.concatenate([self._score(i[s:s + SCORE_CHUNK], j[s:s + SCORE_CHUNK])
                                     for s in range(0, len(i), SCORE_CHUNK)])
            start = 0
            for root, members in eager:
                k = len(members)
                matrix = scores[start:start + k * k].reshape(k, k)
                self.blocks[root] = ({x: n for n, x in enumerate(members)}, matrix)
                start += k * k

    def __call__(self, pairs: list[tuple[str, str]]) -> list[float]:
        if self.table is None:
            self._build()
        position = self.position
        xs = [position[x] for x, _ in pairs]
        ys = [position[y] for _, y in pairs]
        root = self.group_of.get(xs[0])
        if root is not None and len(self.members[root]) <= self.BLOCK_MEMBERS:
            block = self.blocks.get(root)
            if block is None:
                block = self.blocks[root] = self._score_block(sorted(self.members[root]))
            slot, matrix = block
            if all(x in slot for x in xs) and all(y in slot for y in ys):
                return [matrix.item(slot[x], slot[y]) for x, y in zip(xs, ys, strict=True)]
        missing = [(x, y) for x, y in zip(xs, ys, strict=True) if (x, y) not in self.scored]
        if missing:
            found = self._score([x for x, _ in missing], [y for _, y in missing]).tolist()
            self.scored.update(zip(missing, found, strict=True))
        return [self.scored[(x, y)] for x, y in zip(xs, ys, strict=True)]

    def _score_block(self, members: list[int]) -> tuple[dict[int, int], np.ndarray]:
        k = len(members)
        m = np.array(members, dtype=np.int64)
        i, j = np.repeat(m, k), np.tile(m, k)
        matrix = np.concatenate([self._score(i[s:s + SCORE_CHUNK], j[s:s + SCORE_CHUNK])
                                 for s in range(0, len(i), SCORE_CHUNK)]).reshape(k, k)
        return {x: n for n, x in enumerate(members)}, matrix

    def _score(self, i: Any, j: Any) -> np.ndarray:
        assert self.table is not None
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        return score_pairs(self.table, self.table, i, j, self.model, self.tf).score


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
    candidate_type: str | None = None,
) -> list[dict[str, Any]]:
    """The best duplicate candidates for one record (pair shape, best first, at most `max_candidates`).

    Args:
        candidates: (id, record) pairs: from the reference index, or fetched by the caller from its CRM.
        tf: term frequencies of the index; by default they come from the candidates themselves.
        candidate_type: the candidates' record type when it is not the record's (contacts for a lead: one
            person model, but each type's own address and company fields); its pairs name it as `b_type`.
    """
    cfg = rules.file.duplicates
    model: MatchModel = rules.match_models[record_type]
    threshold = cfg.threshold if threshold is None else threshold
    if not candidates:
        return []
    own_id = own_record_id(record) or "new"  # an id that reads as none (3.5) is not position '0', another's
    left = prepare([record], record_type, region, [own_id])
    right = prepare([c for _, c in candidates], candidate_type or record_type, region,
                    [cid for cid, _ in candidates])
    if tf is None:
        # a few candidates: the pair's own counts would dominate
        tf = TermFrequencies.of([left, right], model.tf_fields, cfg.tf_pseudo_count,
                                pair_share=2, shared_after=2 + cfg.common_value_after, model=model)
    scores = score_pairs(left, right, np.zeros(len(right), dtype=np.int64), np.arange(len(right)), model, tf)
    rank = Ranking({own_id: record, **dict(candidates)}, rules.empty_values, record_type,
                   rules.field_empty_values)
    # best first; among equal scores (ties are common at 4 places) by id: the store returns candidates in no
    # fixed order, and which of them made the max_candidates cut varied between calls (helper-62)
    order = sorted((k for k in range(len(right.ids)) if scores.score[k] >= threshold),
                   key=lambda k: (-scores.score[k], right.ids[k]))
    other_type = candidate_type not in (None, record_type)
    if not other_type:  # the record itself among the candidates (its id in either Salesforce form) is no pair
        order = [k for k in order if not same_record_id(right.ids[k], own_id)]
    pairs = []
    for k in order[: cfg.max_candidates]:
        fields, reasons = explain(scores.levels[k].tolist(), scores.sims[k].tolist(), bool(scores.swapped[k]),
                                  model, scores.common[k].tolist())
        pair = _pair(own_id, right.ids[k], float(scores.score[k]), fields, reasons, cfg, threshold, rank, {})
        if other_type:  # a lead is converted into the contact, not merged field by field (and ids may clash)
            pair["b_type"] = candidate_type
            pair["survivor"] = right.ids[k] if candidate_type == "contact" else own_id
            pair["merge_plan"] = {}
        pairs.append(pair)
    return pairs
