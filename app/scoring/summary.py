"""The data health summary of a batch (seed 002's audit): counts filled one report at a time, or merged from
the partial summaries of chunks judged elsewhere, with the same result either way."""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from app.scoring.matching.dedupe import MATCHABLE
from app.scoring.registry import RULES
from app.scoring.ruleset import Ruleset

PLURAL = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities", "lead": "leads"}
SINGULAR = {v: k for k, v in PLURAL.items()}
TOP_FINDINGS = 10
# standardisation variants kept per record type and field, in order of first appearance (a chunk of a stream,
# 500 lines, never holds more, so merged chunks keep the very ones one pass keeps), record ids kept per
# variant, and variants listed per field (the most common first)
MAX_VARIANTS = 500
VARIANT_IDS = 20
LISTED_VARIANTS = 100


def impact_of(issue: dict[str, Any], record_type: str, deal_value: float, rules: Ruleset) -> float:
    """severity weight × (1 + log10(1 + deal value / 1,000)) × record weight (rules file [impact])."""
    cfg = rules.file.impact
    return round(cfg.severity_weight.get(issue["severity"], 1.0) * (1 + math.log10(1 + deal_value / 1000))
                 * cfg.record_weight.get(record_type, 1.0), 3)


def is_duplicate_record(report: dict[str, Any]) -> bool:
    """Whether a single-record report counts as a duplicate record, as a batch's `duplicate_records` counts
    them (DESIGN's duplicate rate): a pair with a record of its own type. A lead that is already a contact
    (`[duplicates] match_also`, `b_type`) is a conversion to make, as a batch's
    `lead.duplicate.existing_contact` is, not a duplicate record: the route had counted it and a batch had
    not (helper-64 #3)."""
    record_type = report["record_type"]
    return any(pair.get("b_type", record_type) == record_type for pair in report["duplicates"])


class BatchSummary:
    """Counts for the summary, filled one report at a time (`add`) or chunk by chunk (`merge`).

    Picklable without its ruleset, so a worker process can fill one per chunk. A rule is weighed once per
    record (its findings there share one impact: the rule's severity, the record's deal value), so one deal's
    five unmet stage-gate criteria weigh as one deal's gap, not five; each rule's impacts are kept in order
    (8 bytes a record) and summed at the end, so merged chunks give the very same totals as one pass over
    the records, however the stream was cut.
    """

    def __init__(self, rules: Ruleset | None) -> None:
        self.rules = rules
        self.totals: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.field_filled: dict[str, Counter[str]] = defaultdict(Counter)
        # per type, records a requirement did not apply to (a closed deal's next step)
        self.field_skipped: dict[str, Counter[str]] = defaultdict(Counter)
        self.line_errors = 0  # NDJSON lines that were no record of any type
        self.required = self.filled = self.checked = self.valid = 0
        self.by_rule: Counter[str] = Counter()
        self.by_severity: Counter[str] = Counter()
        self.top: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = 0
        self.impacts: dict[str, array[float]] = {}  # per rule, its impact on each record it has findings on
        self.findings: Counter[str] = Counter()  # per rule, its non-info findings weighed (not covered)
        self.covered: Counter[str] = Counter()  # per rule, its findings `counted_under` another rule's
        self._required: dict[str, tuple[str, ...]] = {}
        # (type, field) -> (written, standard) -> [records, first ids]: standardisation findings' variants
        self.variants: dict[tuple[str, str], dict[tuple[str, str], list[Any]]] = {}
        self.unlisted: Counter[tuple[str, str]] = Counter()  # records of variants past MAX_VARIANTS
        self.complete: Counter[str] = Counter()  # per type, records with every required field filled
        # per type, records created (updated) in the [impact] recent_hours before now
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "rules": None}

    def add(self, record_type: str, report: dict[str, Any], deal_value: float,
            recent: tuple[bool, bool] = (False, False)) -> None:
        """Count one scored record (`recent`: whether it was created, updated in `[impact] recent_hours`)."""
        assert self.rules is not None
        self.totals[record_type] += 1
        if recent[0]:
            self.created[record_type] += 1
        if recent[1]:
            self.updated[record_type] += 1
        completeness, accuracy = report["completeness"], report["accuracy"]
        self.required += completeness["required"]
        self.filled += completeness["filled"]
        self.checked += accuracy["checked"]
        self.valid += accuracy["valid"]
        missing = set(completeness["missing"])
        if not missing:
            self.complete[record_type] += 1
        skipped = completeness.get("not_applicable")
        if skipped:
            self.field_skipped[record_type].update(skipped)
            missing.update(skipped)
        filled = self.field_filled[record_type]
        for name in self._required_names(record_type):
            filled[name] += name not in missing
        impact_cfg = self.rules.file.impact
        severity_weight = impact_cfg.severity_weight
        factor = 1 + math.log10(1 + deal_value / 1000)  # impact_of, with what all the record's issues share
        record_weight = impact_cfg.record_weight.get(record_type, 1.0)
        issues = report["issues"]
        self.by_rule.update([issue["rule"] for issue in issues])  # counted in C
        self.by_severity.update([issue["severity"] for issue in issues])
        severity_impact: dict[str, float] = {}  # impact_of: one per severity, the record's findings share it
        groups: dict[str, list[Any]] = {}  # per rule, its non-info findings on this record, weighed once
        for issue in issues:
            if issue["suggestion"] is not None and issue["category"] == "standardization":
                self._note_variant(record_type, report["record_id"], issue)
            if issue["counted_under"]:  # a gap weighed once, under the covering rule
                self.covered[issue["rule"]] += 1
                continue
            if issue["severity"] == "info":
                continue
            group = groups.get(issue["rule"])
            if group is None:
                groups[issue["rule"]] = [issue]
            else:
                group.append(issue)
        for group in groups.values():
            severity = group[0]["severity"]  # one per rule (rules files set it per rule)
            impact = severity_impact.get(severity)
            if impact is None:
                weight = severity_weight.get(severity, 1.0)
                impact = severity_impact[severity] = round(weight * factor * record_weight, 3)
            self._weigh(impact, record_type, report["record_id"], group)

    def _note_variant(self, record_type: str, record_id: Any, issue: dict[str, Any]) -> None:
        """Count a written value a standardisation finding gives a standard form for ('Tech' is
        Technology)."""
        written, standard = issue["value"], issue["suggestion"]
        if not isinstance(written, str) or not isinstance(standard, str) or written == standard:
            return
        key = (record_type, issue["field"])
        table = self.variants.get(key)
        if table is None:
            table = self.variants[key] = {}
        entry = table.get((written, standard))
        if entry is None:
            if len(table) >= MAX_VARIANTS:
                self.unlisted[key] += 1
                return
            entry = table[(written, standard)] = [0, []]
        entry[0] += 1
        if record_id is not None and len(entry[1]) < VARIANT_IDS:
            entry[1].append(record_id)

    def _required_names(self, record_type: str) -> tuple[str, ...]:
        names = self._required.get(record_type)
        if names is None:
            assert self.rules is not None
            names = self._required[record_type] = tuple(
                req.name for req in getattr(self.rules.file.completeness, record_type).required)
        return names

    def _keep_top(self, entry: tuple[float, int, dict[str, Any]]) -> None:
        if len(self.top) < TOP_FINDINGS:
            heapq.heappush(self.top, entry)
        else:
            heapq.heappushpop(self.top, entry)

    def add_error(self, record_type: str | None) -> None:
        """Count an entry that was not a record (None: an NDJSON line of no known type)."""
        if record_type is None:
            self.line_errors += 1
            return
        self.totals[record_type] += 1
        self.errors[record_type] += 1

    def add_cross(self, findings: list[dict[str, Any]],
                  deal_value: Callable[[str, Any], float] | None = None) -> None:
        """Count the cross-record findings of a stream, whose records were judged before the batch was
        known (a JSON batch's reports already hold them), weighed as `add` weighs a record's findings: each
        rule once per record, by the record's deal value (`deal_value(record type, record id)`, else 0)."""
        assert self.rules is not None
        groups: dict[tuple[str, Any, str], list[dict[str, Any]]] = {}
        for n, finding in enumerate(findings):
            record_type, severity = finding["record_type"], finding["severity"]
            self.by_rule[finding["rule"]] += 1
            self.by_severity[severity] += 1
            if severity == "info":
                continue
            rid = finding["record_id"]  # records without an id are each their own
            groups.setdefault((record_type, rid if rid is not None else f"\x00{n}", finding["rule"]),
                              []).append(finding)
        for (record_type, _, _), group in groups.items():
            rid = group[0]["record_id"]
            value = deal_value(record_type, rid) if deal_value is not None else 0.0
            self._weigh(impact_of(group[0], record_type, value, self.rules), record_type, rid, group)

    def count_under(self, record_type: str, record_id: Any, rule: str, fields: list[str], severity: str,
                    remaining: int) -> None:
        """Count a record's findings of `rule` on `fields`, weighed when it was judged, as `counted_under`
        another after all (a stream's gaps that a cross-record finding at its end covers), `remaining` of the
        rule's findings on the record left uncovered. With none left, the record's impact under the rule
        (weighed without a deal value, as a stream weighs accounts' and contacts' findings) comes out of the
        rule's, and it leaves the top; else its top entry names the first finding left."""
        assert self.rules is not None
        self.covered[rule] += len(fields)
        if severity == "info":
            return
        self.findings[rule] -= len(fields)
        if self.findings[rule] <= 0:
            del self.findings[rule]
        key = (record_type, record_id, rule)
        if remaining <= 0:
            impact = impact_of({"severity": severity}, record_type, 0.0, self.rules)
            impacts = self.impacts.get(rule)
            if impacts is not None and impact in impacts:
                impacts.remove(impact)
                if not impacts:
                    del self.impacts[rule]
            self.top = [e for e in self.top if (e[2]["record_type"], e[2]["record_id"], e[2]["rule"]) != key]
            heapq.heapify(self.top)
            return
        for _, _, entry in self.top:
            if (entry["record_type"], entry["record_id"], entry["rule"]) == key:
                group = [(entry["field"], entry["message"]), *entry["_rest"]]
                left = [f for f in group if f[0] not in fields]
                if left:
                    (entry["field"], entry["message"]), *entry["_rest"] = left
                entry["findings"] = remaining

    def _weigh(self, impact: float, record_type: str, record_id: Any, group: list[dict[str, Any]]) -> None:
        """Count a record's non-info findings of one rule (`group`), and weigh them once: the rule's impact on
        the record, kept in the top if it is among the highest."""
        first = group[0]
        rule = first["rule"]
        self.findings[rule] += len(group)
        impacts = self.impacts.get(rule)
        if impacts is None:
            impacts = self.impacts[rule] = array("d")
        impacts.append(impact)
        self._seq += 1
        if len(self.top) < TOP_FINDINGS or impact > self.top[0][0]:  # a later finding never wins a tie
            self._keep_top((impact, -self._seq, {
                "impact": impact, "record_type": record_type, "record_id": record_id, "rule": rule,
                "field": first["field"], "severity": first["severity"], "message": first["message"],
                "findings": len(group), "_rest": [(f["field"], f["message"]) for f in group[1:]]}))

    def merge(self, part: BatchSummary) -> None:
        """Add the counts of the records after these (a later chunk), as if they had been added here."""
        self.totals.update(part.totals)
        self.errors.update(part.errors)
        for record_type, filled in part.field_filled.items():
            self.field_filled[record_type].update(filled)
        for record_type, skipped in part.field_skipped.items():
            self.field_skipped[record_type].update(skipped)
        self.line_errors += part.line_errors
        self.required += part.required
        self.filled += part.filled
        self.checked += part.checked
        self.valid += part.valid
        self.by_rule.update(part.by_rule)
        self.by_severity.update(part.by_severity)
        self.covered.update(part.covered)
        self.findings.update(part.findings)
        for rule_id, impacts in part.impacts.items():
            mine = self.impacts.get(rule_id)
            if mine is None:
                self.impacts[rule_id] = array("d", impacts)
            else:
                mine.extend(impacts)
        for key, table in part.variants.items():
            mine = self.variants.setdefault(key, {})
            for variant, (records, ids) in table.items():  # in the part's order of first appearance
                entry = mine.get(variant)
                if entry is None:
                    if len(mine) >= MAX_VARIANTS:
                        self.unlisted[key] += records
                        continue
                    entry = mine[variant] = [0, []]
                entry[0] += records
                entry[1].extend(ids[:VARIANT_IDS - len(entry[1])])
        self.unlisted.update(part.unlisted)
        self.created.update(part.created)
        self.complete.update(part.complete)
        self.updated.update(part.updated)
        for impact, neg_seq, finding in part.top:  # the part numbered its findings from 1
            self._keep_top((impact, neg_seq - self._seq, finding))
        self._seq += part._seq

    def finish(self, duplicates: dict[str, dict[str, Any]], cross_record: list[dict[str, Any]],
               seconds: float) -> dict[str, Any]:
        """The summary: totals, completeness by field, KPI ratios against targets, issue counts, top findings."""
        assert self.rules is not None
        kpi = self.rules.file.kpi
        dup_records = sum(sum(len(c) - 1 for c in d["clusters"]) for d in duplicates.values())
        matchable = sum(self.totals[t] - self.errors[t] for t in MATCHABLE)
        completeness = self.filled / self.required if self.required else 1.0
        accuracy = self.valid / self.checked if self.checked else 1.0
        duplicate_rate = dup_records / matchable if matchable else 0.0
        errors = {PLURAL[t]: self.errors[t] for t in PLURAL if self.errors[t]}
        if self.line_errors:
            errors["lines"] = self.line_errors
        scored = sum(self.totals.values()) - sum(self.errors.values())
        by_rule, by_severity = self.by_rule.copy(), self.by_severity.copy()
        # counted from the pairs on every path (the merges they ask for are the cleanup list's duplicate
        # tasks, not weighed again)
        for _, rule, findings in duplicate_findings(duplicates, self.rules):
            by_rule[rule] += findings
            by_severity[self.rules.severity[rule]] += findings
        return {
            "totals": {PLURAL[t]: self.totals[t] for t in PLURAL},
            "errors": errors,
            "recent_activity": {"hours": self.rules.file.impact.recent_hours if self.rules else 24, **{
                PLURAL[t]: {"created": self.created[t], "updated": self.updated[t]} for t in PLURAL}},
            "completeness_by_field": {  # a field that applied to no record (only closed deals) is left out
                PLURAL[t]: {f: round(100 * n / applied, 1) for f, n in c.items()
                            if (applied := self.totals[t] - self.errors[t] - self.field_skipped[t][f]) > 0}
                for t, c in self.field_filled.items()},
            "records_complete": self._records_complete(),
            "kpis": {  # with no record scored there is nothing to pass: each KPI's pass is null
                "completeness": _kpi(completeness, kpi.completeness, higher_is_better=True, measured=scored > 0),
                "accuracy": _kpi(accuracy, kpi.accuracy, higher_is_better=True, measured=scored > 0),
                "duplicate_rate": _kpi(duplicate_rate, kpi.duplicate_rate, higher_is_better=False,
                                       measured=matchable > 0),
            },
            "counts": {"required_fields": self.required, "required_filled": self.filled,
                       "fields_checked": self.checked, "fields_valid": self.valid, "duplicate_records": dup_records},
            "issues_by_rule": dict(by_rule.most_common()),
            "issues_by_severity": {s: by_severity[s] for s in ("error", "warning", "info")},
            # batch-scope findings only: a stream's end also re-runs record rules that read the batch's
            # accounts, which a JSON batch's reports hold (helper-64 #5: 38 against 37)
            "cross_record_findings": sum(RULES[f["rule"]].scope == "batch" for f in cross_record),
            "top_findings": [{k: v for k, v in e[2].items() if k != "_rest"}
                             for e in sorted(self.top, reverse=True)],
            "cleanup_tasks": self.cleanup_tasks(duplicates),
            "standardization": self.standardization(),
            "impact_formula": "severity_weight × (1 + log10(1 + deal value / 1,000)) × record_weight",
            "seconds": round(seconds, 3),
        }

    def _records_complete(self) -> dict[str, Any]:
        """Seed 000's 'percentage of records with all required fields', per list and overall: records whose
        every required field that applies is filled, of those scored (null ratio: none scored). The
        completeness KPI is the share of required fields filled, over all records (DESIGN)."""
        def share(complete: int, scored: int) -> dict[str, Any]:
            return {"complete": complete, "records": scored,
                    "ratio": round(complete / scored, 4) if scored else None}

        scored = {t: self.totals[t] - self.errors[t] for t in PLURAL}
        return {**{PLURAL[t]: share(self.complete[t], scored[t]) for t in PLURAL},
                "overall": share(sum(self.complete.values()), sum(scored.values()))}

    def _also_covered(self, rule_id: str) -> str:
        """For a task's text: the rule's findings weighed under another rule's (its count leaves them out)."""
        covered = self.covered.get(rule_id, 0)
        return f" (and {covered} counted under another rule's finding on the same field)" if covered else ""

    def cleanup_tasks(self, duplicates: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """What to fix first: rules by total impact (each weighed once per record), and duplicate merges by
        priority."""
        tasks: list[dict[str, Any]] = [
            {"task": f"{rid}: {self.findings[rid]} finding(s) on {len(impacts)} record(s)"
                     f"{self._also_covered(rid)}. {RULES[rid].description}",
             "rule": rid, "findings": self.findings[rid], "records": len(impacts),
             "impact": round(_total(impacts), 1)}
            for rid, impacts in self.impacts.items()]
        weight = {"high": 30.0, "medium": 10.0, "low": 3.0}
        for plural, result in duplicates.items():
            for priority, count in merges_by_priority(result).items():
                task = f"Merge {count} {priority}-priority duplicate record(s) of {plural} into their survivors"
                tasks.append({"task": task, "rule": f"{SINGULAR[plural]}.duplicate", "findings": count,
                              "impact": weight[priority] * count})
        tasks = sorted(tasks, key=lambda t: -t["impact"])[:25]
        if self.variants or self.unlisted:  # last, whatever the others: a form to fix, no gap
            tasks[24:] = [self._standardization_task()]
        return tasks

    def standardization(self) -> dict[str, Any]:
        """Seed 002's 'variations that need standardization' with 'batch update commands': per record type
        and field, each written value a standardisation rule gives a standard form for, most records first
        (then first seen), with its records and their first ids: each entry is an update to apply (set
        `field` to `to` where it is `from`; `ids` lists all its records when `ids_complete`)."""
        fields = []
        for (record_type, name), table in sorted(self.variants.items(),
                                                 key=lambda kv: (list(PLURAL).index(kv[0][0]), kv[0][1])):
            ranked = sorted(table.items(), key=lambda kv: -kv[1][0])[:LISTED_VARIANTS]  # stable: first seen
            records = sum(entry[0] for entry in table.values()) + self.unlisted[(record_type, name)]
            fields.append({
                "record_type": record_type, "field": name, "variants": len(table), "records": records,
                "unlisted_records": records - sum(entry[0] for _, entry in ranked),
                "updates": [{"record_type": record_type, "field": name, "from": written, "to": standard,
                             "records": records, "ids": ids, "ids_complete": records == len(ids)}
                            for (written, standard), (records, ids) in ranked]})
        return {"variants": sum(f["variants"] for f in fields), "records": sum(f["records"] for f in fields),
                "fields": fields}

    def _standardization_task(self) -> dict[str, Any]:
        """The cleanup task of the standardisation variants (no impact: a value written another way)."""
        found = self.standardization()
        shown = [f["updates"][0] for f in found["fields"] if f["updates"]][:4]  # each field's commonest
        examples = "; ".join(f"{u['field']} {u['from']!r} ×{u['records']} → {u['to']}" for u in shown)
        return {"task": f"Standardise {found['variants']} written variant(s) in {found['records']} value(s) "
                        f"(summary.standardization lists the updates): {examples}",
                "rule": "standardization", "findings": found["records"], "impact": 0.0}


def duplicate_findings(duplicates: Mapping[str, Mapping[str, Any]],
                       rules: Ruleset) -> Iterator[tuple[str, str, int]]:
    """(record type, rule, findings) of a batch's duplicate pairs: each pair is a `*.duplicate.<band>` finding
    on either record (where the rule is enabled), which a JSON batch's reports hold and a stream's do not."""
    for plural, result in duplicates.items():
        bands = result["bands"] if "bands" in result else Counter(p["band"] for p in result.get("pairs", ()))
        for band, pairs in bands.items():
            rule = f"{SINGULAR[plural]}.duplicate.{band}"
            if rule in rules.enabled:
                yield SINGULAR[plural], rule, 2 * pairs


PRIORITY_RANK = {"low": 0, "medium": 1, "high": 2}


def note_priority(best: dict[str, str], pair: Mapping[str, Any]) -> None:
    """Note a pair's merge priority on both its records, keeping each record's highest."""
    priority = pair["merge_priority"]
    for member in (pair["a"], pair["b"]):
        if PRIORITY_RANK[priority] > PRIORITY_RANK.get(best.get(member, ""), -1):
            best[member] = priority


def merges_of(clusters: list[list[str]], best: Mapping[str, str]) -> dict[str, int]:
    """Records to merge into their cluster's survivor, by merge priority: a cluster of n records is n − 1
    merges (ten entries of one lead are nine, not 45 pairs; as `counts.duplicate_records` counts them), at
    the highest priority of its records' pairs."""
    merges: Counter[str] = Counter()
    for cluster in clusters:
        ranked = [best[m] for m in cluster if m in best]
        if ranked and len(cluster) > 1:
            merges[max(ranked, key=PRIORITY_RANK.__getitem__)] += len(cluster) - 1
    return dict(merges)


def merges_by_priority(result: Mapping[str, Any]) -> dict[str, int]:
    """`merges_of` a type's duplicates: precomputed (`merges`, a stream's) or from its pairs and clusters."""
    if "merges" in result:
        return result["merges"]
    best: dict[str, str] = {}
    for pair in result["pairs"]:
        note_priority(best, pair)
    return merges_of(result["clusters"], best)


def _total(impacts: array[float]) -> float:
    total = 0.0
    for impact in impacts:  # in order, as a running total would have added them
        total += impact
    return total


def _kpi(value: float, target: float, higher_is_better: bool, measured: bool = True) -> dict[str, Any]:
    """A KPI against its target as DESIGN and seed 001 write them, judged as Grafana's stat and the alert rules
    judge it: a ratio to raise must be above its target (completeness '> 0.95': exactly 95% is missed), one to
    lower below it (duplicates '< 0.02': 2.0% is missed). Judged on the value itself; the value reported is
    rounded to 4 places, else rounded the way the verdict reads (0.019996 is reported 0.0199, met: '0.02 …
    met' contradicted itself), else as it is."""
    if not measured:
        return {"value": None, "target": target, "pass": None}
    def meets(v: float) -> bool:
        return v > target if higher_is_better else v < target

    passed = meets(value)
    shown = round(value, 4)
    if meets(shown) != passed:
        shown = (math.ceil if passed == higher_is_better else math.floor)(value * 10_000) / 10_000
        if meets(shown) != passed:
            shown = value
    return {"value": shown, "target": target, "pass": passed}
