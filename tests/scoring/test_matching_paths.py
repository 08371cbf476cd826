"""The fast paths of batch deduplication give exactly what the plain ones give.

Within one table, comparisons run on integer codes and judge each distinct pair of values once; the
cluster guard scores a whole connected group at a time. Both must reproduce the value-by-value scores
bit for bit, or pairs near the threshold would come and go with the batch's size.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.scoring import Ruleset
from app.scoring.matching.dedupe import _PairScorer, find_duplicates
from app.scoring.matching.linker import Prepared, TermFrequencies, block_pairs, prepare, score_pairs
from bench.generate import make_accounts, make_contacts, make_leads


def dirty(records: list[dict], seed: int) -> list[dict]:
    """Records and near copies of them: swapped names, one-digit typos, blanks, other local parts."""
    rng = np.random.default_rng(seed)
    out = list(records)
    for r in records[: len(records) // 2]:
        c = dict(r, id=f"{r.get('id')}-copy")
        roll = rng.integers(0, 5)
        if roll == 0 and c.get("first_name") and c.get("last_name"):
            c["first_name"], c["last_name"] = c["last_name"], c["first_name"]
        elif roll == 1 and isinstance(c.get("phone"), str) and c["phone"]:
            c["phone"] = c["phone"][:-1] + str((int(c["phone"][-1]) + 1) % 10 if c["phone"][-1].isdigit() else 0)
        elif roll == 2:
            c["email"] = None
        elif roll == 3 and isinstance(c.get("email"), str) and "@" in c["email"]:
            c["email"] = "x" + c["email"]
        out.append(c)
    return out


CASES = [("contact", lambda: dirty(make_contacts(900, 5), 1)), ("lead", lambda: dirty(make_leads(700, 6), 2)),
         ("account", lambda: dirty(make_accounts(500, 7), 3))]


@pytest.mark.parametrize(("record_type", "make"), CASES, ids=[c[0] for c in CASES])
def test_coded_scores_equal_value_by_value_scores(rules: Ruleset, record_type: str, make) -> None:
    table = prepare(make(), record_type, "US")
    model = rules.match_models[record_type]
    tf = TermFrequencies.of([table], [c.field for c in model.comparisons if c.tf], 1000)
    i, j = block_pairs(table, None, model, 100)
    assert len(i) > 1000
    coded = score_pairs(table, table, i, j, model, tf)  # one table: codes
    twin = Prepared(table.ids, table.keys, table.columns)  # the same values as another table: value by value
    plain = score_pairs(table, twin, i, j, model, tf)
    for name in ("score", "levels", "sims", "swapped"):
        assert np.array_equal(getattr(coded, name), getattr(plain, name)), name
    assert coded.swapped.any() or record_type == "account"
    found = {lv for c_idx, comp in enumerate(model.comparisons)
             for lv in (comp.levels[x].label for x in np.unique(coded.levels[:, c_idx]) if x >= 0)}
    assert {"exact", "else", "similar"} <= found


@pytest.mark.parametrize("block_members", [500, 3])
def test_the_cluster_guard_scores_groups_as_single_pairs_would(rules: Ruleset, block_members: int) -> None:
    records = dirty(make_contacts(400, 8), 4)
    # a third writing of some people, so groups of three are there whatever chance pairs the generator makes
    records += [dict(r, id=f"{r['id']}-again", email=None) for r in records[:30]]
    table = prepare(records, "contact", "US")
    model = rules.match_models["contact"]
    tf = TermFrequencies.of([table], [c.field for c in model.comparisons if c.tf], 1000)
    i, j = block_pairs(table, None, model, 100)
    scores = score_pairs(table, table, i, j, model, tf)
    keep = np.flatnonzero(scores.score >= 0.5)
    edges = [(table.ids[a], table.ids[b]) for a, b in zip(scores.left[keep], scores.right[keep], strict=True)]
    scorer = _PairScorer(table, table, model, tf, False, edges)
    scorer.BLOCK_MEMBERS = block_members
    scorer._build()
    groups = [m for m in scorer.members.values() if len(m) >= 3]
    assert groups
    for members in groups[:20]:
        ids = [table.ids[x] for x in members]
        asked = [(x, y) for x in ids for y in ids if x != y]
        one_by_one = [score_pairs(table, table, np.array([table.ids.index(x)]), np.array([table.ids.index(y)]),
                                  model, tf).score[0] for x, y in asked]
        assert scorer(asked) == one_by_one


def test_dedupe_within_a_list_scores_pairs_as_linkage_between_its_halves(rules: Ruleset) -> None:
    records = dirty(make_contacts(600, 9), 5)
    within = find_duplicates("contact", records, rules, threshold=0.5)  # codes
    between = find_duplicates("contact", records[:400], rules, reference=records[400:], threshold=0.5)  # values
    # term frequencies count the same 1,200 records either way, so a pair found by both scores the same
    left = {r["id"] for r in records[:400]}
    scored = {(p["a"], p["b"]): (p["score"], p["fields"]) for p in within["pairs"]}  # a comes first: left
    common = [(p["a"], p["b"]) for p in between["pairs"] if p["a"] in left and (p["a"], p["b"]) in scored]
    assert len(common) > 20
    for a, b in common:
        pair = next(p for p in between["pairs"] if (p["a"], p["b"]) == (a, b))
        assert (pair["score"], pair["fields"]) == scored[(a, b)]
