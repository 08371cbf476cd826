"""Duplicate detection: blocking, vectorised Fellegi–Sunter scoring with term frequencies, explanations.

`find_duplicates` deduplicates one list of records, or links them against a reference list; the index
(`index.py`) uses the same `prepare` / `score_pairs` on the candidates it looks up.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import Any

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from app.scoring.matching.comparisons import NULL, SCRIPT_SUFFIX, Comparison, build_comparison
from app.scoring.matching.normalize import ALSO_SUFFIX, MULTI, MULTI_VALUED, nickname_pairs, record_keys
from app.scoring.values import id_text

PERSON_TYPES = ("contact", "lead")
SWAP_MIN = 0.85  # both crossed names at least this similar (Jaro-Winkler) to count as a swap


@dataclass(frozen=True)
class MatchModel:
    """One record family's comparisons, blocking keys and prior."""

    comparisons: tuple[Comparison, ...]
    blocking: tuple[tuple[str, ...], ...]
    prior_bits: float
    swap_fields: tuple[str, ...]
    # blocking keys whose crowded blocks are searched by sorted neighbourhood (`block_pairs`)
    neighbourhood: tuple[tuple[str, ...], ...] = ()
    # ((comparison, the levels at which it differs: its else level unless the veto names one), all of which
    # hold; (comparison, level or -1 for any) of which none agrees, by position; the most bits left): `veto`
    veto: tuple[tuple[tuple[tuple[int, tuple[int, ...]], ...], tuple[tuple[int, int], ...], float], ...] = ()
    # blocking of a batch's records against its records of another type (`match_also`); empty: `blocking`
    match_also_blocking: tuple[tuple[str, ...], ...] = ()
    # a `tf_only_weakens` value is shared by as many others as the distinct values of this field among the
    # records holding it (one person entered twelve times shares an email with nobody); '': records
    shared_counted_by: str = ""
    # ((comparison, level or -1 for any weighing for a match) all of which agree, by position; the bits a
    # pair with nothing against it scores at least): `lift`
    lift: tuple[tuple[tuple[tuple[int, int], ...], float], ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.comparisons)

    @cached_property
    def tf_fields(self) -> tuple[str, ...]:
        """Fields whose exact agreements weigh by the value's frequency."""
        return tuple(c.field for c in self.comparisons if c.tf)

    @cached_property
    def weakening_fields(self) -> tuple[str, ...]:
        """Fields whose shared values only weaken (`tf_only_weakens`)."""
        return tuple(c.field for c in self.comparisons if c.tf_only_weakens)

    @cached_property
    def implications(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """(comparison, the comparisons implying it) by position, for each comparison with `implied_by`."""
        position = {c.field: n for n, c in enumerate(self.comparisons)}
        return tuple((n, tuple(position[f] for f in c.implied_by))
                     for n, c in enumerate(self.comparisons) if c.implied_by)

    def across_types(self) -> MatchModel:
        """The model for matching a batch's records with its records of another type: blocked by
        `match_also_blocking` (linking two tables, crowded blocks are skipped, never windowed)."""
        return replace(self, blocking=self.match_also_blocking) if self.match_also_blocking else self

    @cached_property
    def own_key_fields(self) -> frozenset[str]:
        """Fields that are a blocking key on their own (`["email"]`): their key rows count their values."""
        return frozenset(recipe[0] for recipe in self.blocking if len(recipe) == 1)


def build_models(spec: Any) -> dict[str, MatchModel]:
    """Match models per matchable record type from the rules file's [duplicates] section."""
    def model(m: Any) -> MatchModel:
        fields = [c.field for c in m.comparisons]

        def agreeing(name: str) -> tuple[int, int]:
            """'email' (any level weighing for a match) or 'email.exact' (that level only), by position."""
            field, _, label = name.partition(".")
            position = fields.index(field)
            levels = [lv.label for lv in m.comparisons[position].levels]
            return position, levels.index(label) if label else -1

        def differing(name: str) -> tuple[int, tuple[int, ...]]:
            """'email' (at its else level) or 'email.same_domain' (every level so labelled), by position."""
            field, _, label = name.partition(".")
            position = fields.index(field)
            levels = [lv.label for lv in m.comparisons[position].levels]
            return position, tuple(n for n, lv in enumerate(levels) if lv == (label or "else"))

        return MatchModel(tuple(build_comparison(c) for c in m.comparisons), tuple(tuple(b) for b in m.blocking),
                          m.prior_bits, tuple(m.swap_fields), tuple(tuple(b) for b in m.neighbourhood),
                          tuple((tuple(map(differing, v.differ)), tuple(map(agreeing, v.unless)),
                                 m.prior_bits if v.cap is None else math.log2(v.cap / (1 - v.cap)))
                                for v in m.veto),
                          tuple(tuple(b) for b in m.match_also_blocking), m.shared_counted_by,
                          tuple((tuple(map(agreeing, lift.agree)), math.log2(lift.to / (1 - lift.to)))
                                for lift in m.lift))

    person = model(spec.person)
    return {"account": model(spec.account), "contact": person, "lead": person}


@dataclass
class Prepared:
    """Records turned into comparable columns (one object array per field)."""

    ids: list[str]
    keys: list[dict[str, str]]
    columns: dict[str, np.ndarray]
    _codes: dict[tuple[str, ...], tuple[dict[str, np.ndarray], np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def codes(self, fields: tuple[str, ...]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The columns as integer codes into one array of distinct values (code 0 is blank), so equal
        values compare as integers; fields that are compared with each other share one set of codes."""
        found = self._codes.get(fields)
        if found is None:
            index: dict[str, int] = {"": 0}
            codes = {f: np.fromiter((index.setdefault(v, len(index)) for v in _column(self, f)), np.int64,
                                    len(self)) for f in fields}
            values = np.empty(len(index), dtype=object)
            values[:] = list(index)
            found = self._codes[fields] = (codes, values)
        return found

    def derived(self, fields: tuple[str, ...], name: str, fn: Callable[[str], Any]) -> np.ndarray:
        """`fn` of every distinct value of `codes(fields)`, indexed by code, computed once."""
        key = (*fields, "\x00" + name)
        found = self._codes.get(key)
        if found is None:
            results = [fn(v) for v in self.codes(fields)[1]]
            flags = all(r.__class__ is bool for r in results)
            column = np.empty(len(results), dtype=bool if flags else object)
            column[:] = results
            found = self._codes[key] = ({}, column)
        return found[1]


def record_id(record: Any, position: int) -> str:
    """The record's id, or its position in the request when it has none."""
    own = own_id(record)
    return own if own is not None else str(position)


def own_id(record: Any) -> str | None:
    """The record's own id as text (`values.id_text`), or None when it has none (null, blank, not text or an
    integral number)."""
    return (id_text(record.get("id")) or None) if isinstance(record, dict) else None


def record_ids(records: Sequence[Any]) -> list[str]:
    """Each record's id, or its position where it has none, unless another record's id is that position: then
    '#<position>' (helper-58: an id-less record at position 0 and a record with id '0' were one id, so a
    cluster named '0' and merge plans read the wrong record)."""
    given = {rid for r in records if (rid := own_id(r)) is not None}
    return [rid if (rid := own_id(r)) is not None else str(n) if str(n) not in given else f"#{n}"
            for n, r in enumerate(records)]


def prepare(records: Sequence[dict[str, Any]], record_type: str, region: str,
            ids: Sequence[str] | None = None) -> Prepared:
    """Normalise every record once; columns are what comparisons and blocking read."""
    keys = [record_keys(r, record_type, region) if isinstance(r, dict) else {} for r in records]
    names = set().union(*(k.keys() for k in keys)) if keys else set()
    columns = {name: np.array([k.get(name, "") for k in keys], dtype=object) for name in names}
    return Prepared(list(ids) if ids is not None else record_ids(records),
                    keys, columns)


class TermFrequencies:
    """Value counts per field, so an exact match on a rare value weighs more than on a common one.

    `pair_share`: how many of a value's counts the agreeing pair itself put there, left out of its frequency.
    In a caller's five candidates "acme" twice is the pair agreeing, not a common name (`link_record` passes
    2). Batches pass 1: a value's frequency among the records but one side of the pair, which is what the
    index counts for a new record against the records it holds, so a pair scores the same in a batch and
    against the index (with 0, two records of 'Zeta' were review in a batch and auto_merge in the index).

    `shared_after`: for `tf_only_weakens` comparisons, how many of a value's counts are not yet "shared by
    other records": the pair's own (2 where both are counted, 1 for a new record against the index) plus
    `common_value_after`, so a person entered three or five times keeps the full weight of their email.
    """

    def __init__(self, counts: dict[str, Counter[str]], total: int, pseudo_count: float,
                 pair_share: int = 0, shared_after: int = 2) -> None:
        self.counts, self.total, self.pseudo, self.pair_share = counts, total, pseudo_count, pair_share
        self.shared_after = shared_after

    @classmethod
    def of(cls, tables: Iterable[Prepared], fields: Iterable[str], pseudo_count: float,
           pair_share: int = 0, shared_after: int = 2, model: MatchModel | None = None) -> TermFrequencies:
        """Counts over the given prepared tables (a batch, or a batch plus its reference). With a `model`
        whose `shared_counted_by` is set, its `weakening_fields` count the distinct values of that field among
        the records holding a value (a record without one counts alone): twelve entries of Elizabeth
        Harrington share her email with nobody, two hundred people on an import mailbox do."""
        tables = list(tables)
        by = model.shared_counted_by if model is not None else ""
        distinct = set(model.weakening_fields) if by and model is not None else set()
        counts = {f: _distinct_counts(tables, f, by) if f in distinct else
                  Counter(v for t in tables for v in t.columns.get(f, ()) if v) for f in fields}
        return cls(counts, sum(len(t) for t in tables), pseudo_count, pair_share, shared_after)

    def u(self, field: str, values: np.ndarray, default_u: float, share: int | None = None) -> np.ndarray:
        """Smoothed frequency of each value among the other records: (count + k·u) / (N + k); `share`
        overrides `pair_share`."""
        counts = self.counts.get(field, Counter())
        share = self.pair_share if share is None else share
        observed = np.fromiter((max(counts.get(v, 0) - share, 0) for v in values), float, len(values))
        return (observed + self.pseudo * default_u) / (max(self.total - share, 0) + self.pseudo)

    def widely_held(self, field: str, values: np.ndarray) -> np.ndarray:
        """Whether more records hold each value than `shared_after` counts as the pair's own and a few more
        (`common_value_after`): 'Individual' as the name of 400 person accounts is no company's name."""
        counts = self.counts.get(field, Counter())
        return np.fromiter((counts.get(v, 0) > self.shared_after for v in values), bool, len(values))

    def u_of_codes(self, field: str, values: np.ndarray, default_u: float,
                   share: int | None = None) -> np.ndarray:
        """`u` of every distinct value of a coded column (`Prepared.codes`), computed once per column."""
        cache: dict[tuple[str, float, int | None], tuple[np.ndarray, np.ndarray]]
        cache = self.__dict__.setdefault("_by_code", {})
        found = cache.get((field, default_u, share))
        if found is None or found[0] is not values:
            found = cache[(field, default_u, share)] = (values, self.u(field, values, default_u, share))
        return found[1]


PEOPLE_COUNTED_UP_TO = 100  # holders of one value; past them records count (the index's join gets costly)


def _distinct_counts(tables: list[Prepared], field: str, by: str) -> Counter[str]:
    """Per value of `field`, how many distinct values of `by` the records holding it have (each record
    without one counting alone); a value of more than PEOPLE_COUNTED_UP_TO holders counts its records, as the
    index does."""
    records: Counter[str] = Counter()
    holders: set[tuple[str, Any]] = set()
    for t, table in enumerate(tables):
        column, owners = table.columns.get(field), table.columns.get(by)
        if column is None:
            continue
        for n, value in enumerate(column.tolist()):
            if value:
                records[value] += 1
                owner = owners[n] if owners is not None else ""
                holders.add((value, owner if owner else (t, n)))
    people = Counter(value for value, _ in holders)
    return Counter({v: (people[v] if c <= PEOPLE_COUNTED_UP_TO else c) for v, c in records.items()})


def block_pairs(left: Prepared, right: Prepared | None, model: MatchModel,
                max_block: int, window: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs sharing at least one blocking key.

    Without `right` the pairs are within `left` (i < j); with it, between left and right. Each key is a
    sort-and-shift self-join in numpy, so the cost grows with the pairs produced, not with n².

    A block larger than `max_block` (per side) is too common to compare exhaustively. Linking, it is skipped.
    Deduplicating with a `window`, a crowded block of a key in `model.neighbourhood` (names, websites: not
    phones or emails, whose crowded values are placeholders and switchboards) is searched by sorted
    neighbourhood: each record is paired with the next `window` of its block in two orders (`_Orders`,
    `_neighbour_pairs`). One company entered 2,000 times still forms one cluster, and among 500 J. Smiths
    two writings of one person sit side by side, at a cost that grows with the block, not its square.
    """
    width = len(right) if right is not None else len(left)
    codes: list[np.ndarray] = []
    unsorted = model.own_key_fields - {recipe[0] for recipe in model.neighbourhood}
    orders = _Orders(left, tuple(f for f in model.fields if f not in unsorted)) if right is None else None
    for recipe in model.blocking:
        rows_l, keys_l = _block_keys(left, recipe)
        if right is None:
            side = np.zeros(len(rows_l), dtype=bool)
            rows, keys = rows_l, keys_l
        else:
            rows_r, keys_r = _block_keys(right, recipe)
            side = np.concatenate([np.zeros(len(rows_l), dtype=bool), np.ones(len(rows_r), dtype=bool)])
            rows, keys = np.concatenate([rows_l, rows_r]), np.concatenate([keys_l, keys_r])
        if len(rows) < 2:
            continue
        windowed = orders if window > 0 and recipe in model.neighbourhood else None
        codes.extend(_join(rows, keys, side, right is not None, max_block, width, window, windowed))
    if not codes:
        empty = np.array([], dtype=np.int64)
        return empty, empty
    pairs = np.concatenate(codes)
    del codes[:]  # each array is let go as soon as it is no longer needed: this is a batch's memory peak
    pairs.sort()
    unique = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs  # np.unique
    del pairs
    rows = max(len(left), width)
    index = np.int32 if rows < 2**31 else np.int64  # half the room for a stream's million candidate pairs
    return (unique // width).astype(index), (unique % width).astype(index)


def _block_keys(table: Prepared, recipe: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) for every row whose recipe parts are all non-blank; multi-valued parts expand."""
    columns = [table.columns.get(f) for f in recipe]
    if not len(table) or any(c is None for c in columns):
        return np.array([], dtype=np.int64), np.array([], dtype=object)
    present = np.logical_and.reduce([c != "" for c in columns])
    rows = np.flatnonzero(present)
    parts = [c[rows] for c in columns]
    multi = [f for f in recipe if f in MULTI_VALUED]
    if not multi:
        keys = parts[0].copy()
        for part in parts[1:]:
            keys = keys + "\x1f" + part
        return rows, keys
    out_rows: list[int] = []
    out_keys: list[str] = []
    for row, values in zip(rows.tolist(), zip(*parts, strict=True), strict=True):
        for combo in itertools.product(*(v.split(MULTI) for v in values)):
            out_rows.append(row)
            out_keys.append("\x1f".join(combo))
    return np.array(out_rows, dtype=np.int64), np.array(out_keys, dtype=object)


class _Orders:
    """Two orders of a table's rows for searching crowded blocks, each independent of the list's order
    (ties go by record id), computed on first use (only a crowded block needs them).

    `sorted`: by the compared fields in the model's order, leaving out those that are blocking keys on their
    own and never windowed (email, phone, birth date): two records agreeing on one already meet in its
    block, and one person's two writings seldom share them, so sorting by them would part the writings.
    `mixed`: by a checksum of the record id, a fixed shuffle that mixes the sorted runs.
    """

    def __init__(self, table: Prepared, fields: tuple[str, ...]) -> None:
        self.table, self.fields = table, fields
        self._sorted: np.ndarray | None = None
        self._mixed: np.ndarray | None = None

    def sorted(self, rows: np.ndarray) -> np.ndarray:
        if self._sorted is None:
            key = np.full(len(self.table), "", dtype=object)
            for field_ in self.fields:
                if field_ in self.table.columns:
                    key = key + self.table.columns[field_] + "\x1f"
            key = key + np.array(self.table.ids, dtype=object)
            order = np.argsort(key, kind="stable")
            self._sorted = np.empty(len(order), dtype=np.int64)
            self._sorted[order] = np.arange(len(order))
        return self._sorted[rows]

    def mixed(self, rows: np.ndarray) -> np.ndarray:
        if self._mixed is None:
            ids = self.table.ids
            self._mixed = np.fromiter((zlib.crc32(rid.encode("utf-8", "surrogatepass")) for rid in ids),
                                      np.int64, len(ids))
        return self._mixed[rows]


def _join(rows: np.ndarray, keys: np.ndarray, side: np.ndarray, linkage: bool, max_block: int,
          width: int, window: int = 0, orders: _Orders | None = None) -> list[np.ndarray]:
    """Pair codes (i * width + j) of rows sharing a key. A block over `max_block` per side is left out, or,
    deduplicating with a `window` and `orders`, gives only its rows' neighbours (`_neighbour_pairs`)."""
    ids: dict[str, int] = {}
    code = np.fromiter((ids.setdefault(k, len(ids)) for k in keys), np.int64, len(keys))
    per_side = np.bincount(code[~side], minlength=len(ids))
    if linkage:
        per_side = np.maximum(per_side, np.bincount(code[side], minlength=len(ids)))
    crowded = per_side[code] > max_block
    kept = ~crowded
    out = _every_pair_in_blocks(code[kept], rows[kept], side[kept], linkage, width)
    if not linkage and window > 0 and orders is not None and crowded.any():
        out.extend(_neighbour_pairs(code[crowded], rows[crowded], window, width, orders))
    return out


def _every_pair_in_blocks(code: np.ndarray, rows: np.ndarray, side: np.ndarray, linkage: bool,
                 width: int) -> list[np.ndarray]:
    """Every pair of rows within each block (across the sides when linking)."""
    order = np.argsort(code, kind="stable")
    code, rows, side = code[order], rows[order], side[order]
    out: list[np.ndarray] = []
    largest = int(np.bincount(code).max()) if len(code) else 0
    for shift in range(1, largest):
        same = code[shift:] == code[:-shift]
        if not same.any():
            break
        a, b = rows[:-shift][same], rows[shift:][same]
        if linkage:
            sa, sb = side[:-shift][same], side[shift:][same]
            cross = sa != sb
            left_rows = np.where(sa[cross], b[cross], a[cross])
            right_rows = np.where(sa[cross], a[cross], b[cross])
            out.append(left_rows * width + right_rows)
        else:
            out.append(_ordered(rows[:-shift][same], rows[shift:][same], width))
    return out


def _neighbour_pairs(code: np.ndarray, rows: np.ndarray, window: int, width: int,
                     orders: _Orders) -> list[np.ndarray]:
    """Each row of a crowded block with the next `window` rows of its block, twice: sorted by the compared
    fields (writings of one entity sit side by side) and in a fixed shuffle (which mixes the sorted runs,
    so one entity's runs that differ in, say, city still meet and join one cluster)."""
    out: list[np.ndarray] = []
    for secondary in (orders.sorted(rows), orders.mixed(rows)):
        order = np.lexsort((secondary, code))
        c, r = code[order], rows[order]
        for shift in range(1, window + 1):
            same = c[shift:] == c[:-shift]
            if not same.any():
                break
            out.append(_ordered(r[:-shift][same], r[shift:][same], width))
    return out


def _ordered(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    """Pair codes lo * width + hi of distinct rows (a multi-valued key can put a row twice in one block)."""
    distinct = a != b
    return np.minimum(a, b)[distinct] * width + np.maximum(a, b)[distinct]


@dataclass
class PairScores:
    """Scores of candidate pairs, with what each comparison saw (for explanations)."""

    left: np.ndarray
    right: np.ndarray
    score: np.ndarray
    levels: np.ndarray     # pairs × comparisons, level index or NULL
    sims: np.ndarray       # pairs × comparisons
    swapped: np.ndarray
    common: np.ndarray     # pairs × comparisons: an exact agreement on a value many other records share

    ARRAYS = ("left", "right", "score", "levels", "sims", "swapped", "common")

    def take(self, rows: np.ndarray) -> PairScores:
        """The given pairs, in the given order."""
        return PairScores(*(getattr(self, name)[rows] for name in self.ARRAYS))

    @staticmethod
    def concat(parts: Sequence[PairScores]) -> PairScores:
        return PairScores(*(np.concatenate([getattr(p, name) for p in parts]) for name in PairScores.ARRAYS))


def score_pairs(left: Prepared, right: Prepared, i: np.ndarray, j: np.ndarray, model: MatchModel,
                tf: TermFrequencies) -> PairScores:
    """Match probability of each candidate pair (i from left, j from right).

    Within one table (deduplication) values are compared as integer codes and each distinct pair of values
    is judged once; between two tables, value by value. Both give the same scores.
    """
    if left is right:
        return _score_coded(left, i, j, model, tf)
    n, k = len(i), len(model.comparisons)
    levels = np.full((n, k), NULL, dtype=np.int16)
    sims = np.zeros((n, k))
    common = np.zeros((n, k), dtype=bool)
    weights = np.zeros((n, k))
    total = np.full(n, model.prior_bits)
    swapped = _swapped(left, right, i, j, model) if model.swap_fields else np.zeros(n, dtype=bool)
    for c_idx, comp in enumerate(model.comparisons):
        a = _column(left, comp.field)[i]
        b = _column(right, comp.field)[j]
        if swapped.any() and comp.field in model.swap_fields:
            other = model.swap_fields[1 - model.swap_fields.index(comp.field)]
            b = b.copy()
            b[swapped] = _column(right, other)[j[swapped]]
        also = comp.field + ALSO_SUFFIX
        if also in left.columns or also in right.columns:
            a, b = _any_shared(a, b, _column(left, also)[i], _column(right, also)[j])
        level, sim = comp.evaluate(a, b)
        if comp.other_script >= 0:
            comp.across_scripts(level, *_scripts(left, right, i, j, comp.field, swapped, model.swap_fields))
        weights[:, c_idx] = _weights(comp, level, partial(_u_of_values, tf, comp.field, a), common[:, c_idx])
        levels[:, c_idx], sims[:, c_idx] = level, sim
    total += implied(weights, model).sum(axis=1)
    if model.lift:
        lift(total, levels, weights, model, lambda position, rows: tf.widely_held(
            model.comparisons[position].field, _column(left, model.comparisons[position].field)[i[rows]]))
    if model.veto:
        names = None
        if model.swap_fields:
            f, l_ = model.swap_fields
            names = (None, _column(left, f), _column(left, l_), _column(right, f), _column(right, l_), i, j)
        veto(total, levels, weights, model, names)
    return PairScores(i, j, probability(total), levels, sims, swapped, common)


def probability(bits: np.ndarray) -> np.ndarray:
    """Match probabilities of total weights in bits, to the 4 places a report shows: the threshold, the bands
    and the report read one number (helper-57: two identical contacts were shown 1.0 and fell below a
    threshold of 1.0 at 0.99997)."""
    return np.round(1.0 / (1.0 + np.exp2(-np.clip(bits, -60, 60))), 4)


def _score_coded(table: Prepared, i: np.ndarray, j: np.ndarray, model: MatchModel,
                 tf: TermFrequencies) -> PairScores:
    n, k = len(i), len(model.comparisons)
    levels = np.full((n, k), NULL, dtype=np.int16)
    sims = np.zeros((n, k))
    common = np.zeros((n, k), dtype=bool)
    weights = np.zeros((n, k))
    total = np.full(n, model.prior_bits)
    swap = model.swap_fields
    swapped = _swapped_coded(table, i, j, swap) if swap else np.zeros(n, dtype=bool)
    compared: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # left codes and their values, for `lift`
    for c_idx, comp in enumerate(model.comparisons):
        also = comp.field + ALSO_SUFFIX
        space = swap if comp.field in swap else (comp.field, also) if also in table.columns else (comp.field,)
        codes, values = table.codes(space)
        a, b = codes[comp.field][i], codes[comp.field][j]
        if swapped.any() and comp.field in swap:
            b[swapped] = codes[swap[1 - swap.index(comp.field)]][j[swapped]]
        if also in space:
            a, b = _any_shared(a, b, codes[also][i], codes[also][j], 0)
        compared[c_idx] = (a, values)
        level, sim = comp.evaluate_codes(a, b, values, partial(table.derived, space))
        if comp.other_script >= 0:
            comp.across_scripts(level, *_scripts(table, table, i, j, comp.field, swapped, swap))
        weights[:, c_idx] = _weights(comp, level, partial(_u_of_codes, tf, comp.field, values, a),
                                     common[:, c_idx])
        levels[:, c_idx], sims[:, c_idx] = level, sim
    total += implied(weights, model).sum(axis=1)
    if model.lift:
        lift(total, levels, weights, model, lambda position, rows: tf.widely_held(
            model.comparisons[position].field, compared[position][1][compared[position][0][rows]]))
    if model.veto:
        names = None
        if swap:
            codes, values = table.codes(swap)
            first, last = codes[swap[0]], codes[swap[1]]
            names = (values, first, last, first, last, i, j)  # decoded only for the pairs a veto caps
        veto(total, levels, weights, model, names)
    return PairScores(i, j, probability(total), levels, sims, swapped, common)


def _any_shared(a: np.ndarray, b: np.ndarray, a_also: np.ndarray, b_also: np.ndarray,
                blank: Any = "") -> tuple[np.ndarray, np.ndarray]:
    """Each pair's values, or where the two differ and a second value of one side (`normalize.ALSO_SUFFIX`: a
    contact's mobile beside its desk phone) equals one of the other's, that shared value on both sides: any
    number the two have in common counts."""
    rows = np.flatnonzero((a != b) & ((a_also != blank) | (b_also != blank)))
    if not rows.size:
        return a, b
    a, b = a.copy(), b.copy()
    for shared_a, shared_b in ((a_also, b), (a, b_also), (a_also, b_also)):
        hit = rows[(shared_a[rows] != blank) & (shared_a[rows] == shared_b[rows])]
        a[hit] = b[hit] = shared_a[hit]
        rows = np.setdiff1d(rows, hit, assume_unique=True)
    return a, b


def _scripts(left: Prepared, right: Prepared, i: np.ndarray, j: np.ndarray, field: str, swapped: np.ndarray,
             swap: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The scripts a field's names are written in (its `<field>_script` column), by pair: a swapped pair's
    right side is its other name's."""
    a = _column(left, field + SCRIPT_SUFFIX)[i]
    b = _column(right, field + SCRIPT_SUFFIX)[j]
    if field in swap and swapped.any():
        b = b.copy()
        b[swapped] = _column(right, swap[1 - swap.index(field)] + SCRIPT_SUFFIX)[j[swapped]]
    return a, b


def implied(weights: np.ndarray, model: MatchModel) -> np.ndarray:
    """A copy of the pairs' weights (pairs × comparisons) with an agreement dropped where one it is
    `implied_by` agrees.

    Fellegi-Sunter adds the comparisons' weights as if independent, but two records on one street are in one
    city, postal code and state whether or not they are one entity, so those agreements add nothing once the
    street agrees (eight companies at one registered agent's address would otherwise outweigh their
    different names), and colleagues share the switchboard with the company. A disagreement still counts:
    a street that agrees while the postal codes differ is weaker evidence.
    """
    if not model.implications:
        return weights
    counted = weights.copy()  # what agrees is read from the weights as compared, so no chain depends on order
    for target, sources in model.implications:
        agrees = np.zeros(len(weights), dtype=bool)
        for source in sources:
            agrees |= weights[:, source] > 0
        counted[agrees & (weights[:, target] > 0), target] = 0.0
    return counted


def _crossed(lf: np.ndarray, ll: np.ndarray, rf: np.ndarray, rl: np.ndarray) -> np.ndarray:
    """Pairs (names as values) where one side's first name is the other's last name and the remaining two
    are one name (equal, nicknames or close spellings): "Richard Quite" and "Quite Dick" swapped their names.
    "Thomas Thomas" and "Thomas Jackson" did not: their first names agree and Thomas is not Jackson. Also
    pairs whose last names are nicknames of each other ("Quite Richard" and "Quite Dick", both swapped)."""
    crossed = np.zeros(len(lf), dtype=bool)
    filled = (lf != "") & (ll != "") & (rf != "") & (rl != "")
    rows = np.flatnonzero(filled & (ll != rl) & (lf == rf))
    if rows.size:
        nicknames = nickname_pairs()
        crossed[rows] = np.fromiter(((a, b) in nicknames for a, b in zip(ll[rows], rl[rows], strict=True)), bool,
                                    rows.size)
    for rows, mine, theirs in ((np.flatnonzero(filled & (ll == rf) & (lf != rf)), lf, rl),
                               (np.flatnonzero(filled & (lf == rl) & (ll != rl)), ll, rf)):
        if rows.size:
            crossed[rows] |= np.fromiter((_one_name(a, b) for a, b in zip(mine[rows], theirs[rows], strict=True)),
                                         bool, rows.size)
    return crossed


def _one_name(a: str, b: str) -> bool:
    return a == b or (a, b) in nickname_pairs() or JaroWinkler.normalized_similarity(a, b) >= SWAP_MIN


def lift(total: np.ndarray, levels: np.ndarray, weights: np.ndarray, model: MatchModel,
         widely_held: Callable[[int, np.ndarray], np.ndarray]) -> None:
    """Raise to the lift's score (`to`) the total of each pair whose `agree` comparisons all agree (at the
    level named, if one is), no comparison weighing against it, on values that are not widely held
    (`widely_held(comparison, rows)`, for comparisons weighing by frequency): 'Stripe, Inc.' and 'Stripe' with
    nothing else known scored 0.09 in a small batch and 0.46 among 5,000 accounts (the name's frequency
    counts the pair's other side), so a team never saw them; a RevOps engineer reviews such a pair. Only a
    lift: a pair that scores more keeps its score, and a veto applied after still caps."""
    for agree, bits in model.lift:
        rows = (total < bits) & ~(weights < 0).any(axis=1)
        for position, level in agree:
            rows &= weights[:, position] > 0
            if level >= 0:
                rows &= levels[:, position] == level
        for position, _ in agree:
            found = np.flatnonzero(rows)
            if found.size and model.comparisons[position].tf:
                rows[found[widely_held(position, found)]] = False
        total[rows] = bits


def veto(total: np.ndarray, levels: np.ndarray, weights: np.ndarray, model: MatchModel,
         names: tuple[np.ndarray, ...] | None = None) -> None:
    """Cap at the prior (or the veto's `cap`) the total of each pair whose `differ` comparisons of one veto
    are all at their else level, or at the level a veto names ('email.same_domain': two mailboxes at one
    company), both sides filled, while none of its `unless` comparisons agrees: William
    and Linda Johnson, at one office on one switchboard, are two people however much of their workplace
    agrees; with the same birth date or mailbox they might be one person whose name was overwritten. A near
    spelling (Susan and Susen, Catherine and Katherine) is not 'else': a typo is as common as a colleague with
    a close name; two given names that sound different (Mark and Mary) are (comparisons._two_given_names). `names` (the distinct values when the columns are codes, else None; left first and last
    names, right first and last names, by row; the pairs' rows i and j) spares, in a veto on the names, names
    swapped with a nickname on top ("Richard Quite" and "Quite Dick", `_crossed`), which the swap test,
    needing both names close, leaves unswapped."""
    swap = model.swap_fields
    for differ, unless, cap in model.veto:
        vetoed = np.ones(len(total), dtype=bool)
        for position, at in differ:
            vetoed &= np.isin(levels[:, position], at) if len(at) > 1 else levels[:, position] == at[0]
        for position, level in unless:  # agreeing: weighing for a match (at the level named, if one is)
            vetoed &= (weights[:, position] <= 0) | ((levels[:, position] != level) if level >= 0 else False)
        rows = np.flatnonzero(vetoed & (total > cap))
        if names is not None and rows.size and any(model.comparisons[p].field in swap for p, _ in differ):
            values, lf, ll, rf, rl, i, j = names
            a, b = i[rows], j[rows]
            found = (lf[a], ll[a], rf[b], rl[b])
            if values is not None:
                found = tuple(values[column] for column in found)
            rows = rows[~_crossed(*found)]
        total[rows] = cap


def _u_of_values(tf: TermFrequencies, field: str, a: np.ndarray, exact: np.ndarray, default_u: float,
                 shared: bool = False) -> np.ndarray:
    return tf.u(field, a[exact], default_u, tf.shared_after if shared else None)


def _u_of_codes(tf: TermFrequencies, field: str, values: np.ndarray, a: np.ndarray, exact: np.ndarray,
                default_u: float, shared: bool = False) -> np.ndarray:
    u: np.ndarray = tf.u_of_codes(field, values, default_u, tf.shared_after if shared else None)[a[exact]]
    return u


def _weights(comp: Comparison, level: np.ndarray, frequencies: Callable[..., np.ndarray],
             common: np.ndarray) -> np.ndarray:
    """Each pair's match weight for one comparison: its level's, or from the value's frequency when exact
    (`frequencies(exact rows, default u[, shared])` gives the smoothed frequency of those rows' values).

    `tf_only_weakens`: the frequency of the value's counts past `TermFrequencies.shared_after`, never below
    the level's u, so only a value many other records share (a placeholder phone, an info@ address) counts
    for less; `common` (a view into the pairs' column) is set for those pairs, so `explain` can say why.
    """
    weights = np.array([lv.weight for lv in comp.levels])
    w = np.full(len(level), comp.null_weight)
    known = level >= 0
    w[known] = weights[level[known]]
    if comp.tf and comp.levels[0].label == "exact":
        exact = level == 0
        if exact.any():
            exact_level = comp.levels[0]
            if comp.tf_only_weakens:
                shared = frequencies(exact, exact_level.u, True)
                common[exact] = shared > exact_level.u
                u = np.maximum(shared, exact_level.u)
            else:
                u = frequencies(exact, exact_level.u)
            w[exact] = np.log2(exact_level.m / u)
    return w


def _column(table: Prepared, field: str) -> np.ndarray:
    column = table.columns.get(field)
    return column if column is not None else np.full(len(table), "", dtype=object)


def _swapped(left: Prepared, right: Prepared, i: np.ndarray, j: np.ndarray, model: MatchModel) -> np.ndarray:
    """Pairs whose first and last names agree far better when one side's are swapped ('Smith John')."""
    f, l_ = model.swap_fields
    lf, ll = _column(left, f)[i], _column(left, l_)[i]
    rf, rl = _column(right, f)[j], _column(right, l_)[j]
    swapped = np.zeros(len(i), dtype=bool)
    idx = np.flatnonzero((lf != "") & (ll != "") & (rf != "") & (rl != "") & ((lf != rf) | (ll != rl)))
    if idx.size == 0:
        return swapped
    def sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cpdist(list(a[idx]), list(b[idx]), scorer=JaroWinkler.normalized_similarity, workers=1)
    straight = sim(lf, rf) + sim(ll, rl)
    cross_f, cross_l = sim(lf, rl), sim(ll, rf)
    swapped[idx] = (cross_f >= SWAP_MIN) & (cross_l >= SWAP_MIN) & (cross_f + cross_l > straight + 0.2)
    return swapped


def _swapped_coded(table: Prepared, i: np.ndarray, j: np.ndarray, swap: tuple[str, ...]) -> np.ndarray:
    """`_swapped` within one table, on codes: each distinct pair of names is compared once."""
    codes, values = table.codes(swap)
    f, l_ = swap
    lf, ll, rf, rl = codes[f][i], codes[l_][i], codes[f][j], codes[l_][j]
    swapped = np.zeros(len(i), dtype=bool)
    idx = np.flatnonzero((lf != 0) & (ll != 0) & (rf != 0) & (rl != 0) & ((lf != rf) | (ll != rl)))
    if idx.size == 0:
        return swapped
    width = len(values)

    def sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        distinct, inverse = np.unique(a[idx] * width + b[idx], return_inverse=True)
        found = cpdist(list(values[distinct // width]), list(values[distinct % width]),
                       scorer=JaroWinkler.normalized_similarity, workers=1)
        return found[inverse.ravel()]
    straight = sim(lf, rf) + sim(ll, rl)
    cross_f, cross_l = sim(lf, rl), sim(ll, rf)
    swapped[idx] = (cross_f >= SWAP_MIN) & (cross_l >= SWAP_MIN) & (cross_f + cross_l > straight + 0.2)
    return swapped


def explain(levels: list[int], sims: list[float], swapped: bool, model: MatchModel,
            common: list[bool] | None = None) -> tuple[dict[str, float], list[str]]:
    """Per-field similarity and the human reasons behind one pair's score (its row of levels, sims and
    `PairScores.common`). An agreement that added nothing, because one it is `implied_by` agrees (the city
    with the street, the company with the switchboard), is no reason."""
    fields: dict[str, float] = {}
    reasons: list[str] = ["names match in a different order"] if swapped else []
    shared = common or [False] * len(model.comparisons)
    agrees = [level != NULL and comp.levels[level].weight > 0 for comp, level in zip(model.comparisons, levels,
                                                                                      strict=True)]
    implied = {target for target, sources in model.implications if any(agrees[s] for s in sources)}
    for n, (comp, level, sim, is_common) in enumerate(zip(model.comparisons, levels, sims, shared, strict=True)):
        if level == NULL:
            continue
        fields[comp.field] = round(sim, 3)
        lv = comp.levels[level]
        if lv.label == "else" or lv.weight <= 0 or n in implied:
            continue
        label = comp.field.replace("_", " ")
        if lv.label == "exact" and is_common:
            reasons.append(f"same {label}, which many other records share")
        elif lv.reason:
            reasons.append(f"{label}: {lv.reason}")
        elif lv.label == "exact":
            reasons.append(f"same {label}")
        else:
            reasons.append(f"similar {label} ({sim:.2f})")
    return fields, reasons


def match_band(score: float, threshold: float, auto_merge: float) -> str | None:
    """None below the threshold, 'review' up to auto_merge, 'auto_merge' above it."""
    if score < threshold:
        return None
    return "auto_merge" if score > auto_merge else "review"


def sigmoid_bits(bits: float) -> float:
    """Probability from a log2 odds."""
    return 1.0 / (1.0 + math.pow(2.0, -max(-60.0, min(60.0, bits))))
