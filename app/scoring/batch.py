"""Batches: every record scored (or given its own error), duplicates per type, cross-record findings, and the
data health summary of seed 002's audit. `BatchRun` is incremental so an NDJSON stream keeps memory flat:
it keeps only each record's matching keys and the few fields the cross-record rules read."""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np

from app.scoring.engine import Context, Lookups, Options, present_fields, render, score_record
from app.scoring.matching.dedupe import MATCHABLE, match_tables
from app.scoring.matching.linker import Prepared, record_id
from app.scoring.matching.merge import completeness_count
from app.scoring.matching.normalize import record_keys
from app.scoring.registry import RULES
from app.scoring.ruleset import Ruleset, picklist_key
from app.scoring.values import parse_number

PLURAL = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities", "lead": "leads"}
SINGULAR = {v: k for k, v in PLURAL.items()}
# what the cross-record rules and the lookups read; NDJSON keeps only these per record
KEPT_FIELDS = {"account": ("id", "industry", "owner_id", "name"),
               "contact": ("id", "account_id", "email", "decision_role", "owner_id"),
               "opportunity": ("id", "account_id", "amount", "stage", "contact_roles", "owner_id"),
               "lead": ("id", "owner_id")}
TOP_FINDINGS = 10


def batch_lookups(records: dict[str, list[dict[str, Any]]], rules: Ruleset) -> Lookups:
    """What each record needs to know about the others, linked by `account_id`."""
    accounts = {r["id"]: r for r in records.get("account", []) if isinstance(r.get("id"), str)}
    open_deals: Counter[str] = Counter()
    deal_value: defaultdict[str, float] = defaultdict(float)
    active_contacts: set[str] = set()
    for deal in records.get("opportunity", []):
        name = rules.canonical_stage(deal.get("stage"))
        if name is not None and rules.stage(name).closed:
            continue
        roles = deal.get("contact_roles")
        for role in roles if isinstance(roles, list) else []:
            if isinstance(role, dict) and isinstance(role.get("contact_id"), str):
                active_contacts.add(role["contact_id"])
        aid = deal.get("account_id")
        if isinstance(aid, str) and aid:
            open_deals[aid] += 1
            deal_value[aid] += max(0.0, parse_number(deal.get("amount")) or 0.0)
    contacts: Counter[str] = Counter()
    decision_makers: Counter[str] = Counter()
    dm_roles = {picklist_key(r) for r in rules.file.qualification.decision_maker_roles}
    for contact in records.get("contact", []):
        aid = contact.get("account_id")
        if isinstance(aid, str) and aid:
            contacts[aid] += 1
            role = contact.get("decision_role")
            if isinstance(role, str) and picklist_key(role) in dm_roles:
                decision_makers[aid] += 1
    return Lookups(accounts=accounts, deal_value_by_account=dict(deal_value),
                   active_deal_contacts=frozenset(active_contacts), open_deals_by_account=dict(open_deals),
                   contacts_by_account=dict(contacts), decision_makers_by_account=dict(decision_makers),
                   in_batch=True)


def impact_of(issue: dict[str, Any], record_type: str, deal_value: float, rules: Ruleset) -> float:
    """severity weight × (1 + log10(1 + deal value / 1,000)) × record weight (rules file [impact])."""
    cfg = rules.file.impact
    return round(cfg.severity_weight.get(issue["severity"], 1.0) * (1 + math.log10(1 + deal_value / 1000))
                 * cfg.record_weight.get(record_type, 1.0), 3)


class BatchSummary:
    """Counts for the summary, filled one report at a time."""

    def __init__(self, rules: Ruleset) -> None:
        self.rules = rules
        self.totals: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.field_filled: dict[str, Counter[str]] = defaultdict(Counter)
        self.required = self.filled = self.checked = self.valid = 0
        self.by_rule: Counter[str] = Counter()
        self.by_severity: Counter[str] = Counter()
        self.top: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = 0
        self.tasks: defaultdict[str, dict[str, Any]] = defaultdict(lambda: {"records": 0, "impact": 0.0})

    def add(self, record_type: str, report: dict[str, Any], deal_value: float) -> None:
        """Count one scored record."""
        self.totals[record_type] += 1
        completeness, accuracy = report["completeness"], report["accuracy"]
        self.required += completeness["required"]
        self.filled += completeness["filled"]
        self.checked += accuracy["checked"]
        self.valid += accuracy["valid"]
        missing = set(completeness["missing"])
        for req in getattr(self.rules.file.completeness, record_type).required:
            self.field_filled[record_type][req.name] += req.name not in missing
        for issue in report["issues"]:
            self.by_rule[issue["rule"]] += 1
            self.by_severity[issue["severity"]] += 1
            if issue["severity"] == "info":
                continue
            impact = impact_of(issue, record_type, deal_value, self.rules)
            task = self.tasks[issue["rule"]]
            task["records"] += 1
            task["impact"] += impact
            self._seq += 1
            entry = (impact, -self._seq, {"impact": impact, "record_type": record_type,
                                          "record_id": report["record_id"], "rule": issue["rule"],
                                          "field": issue["field"], "severity": issue["severity"],
                                          "message": issue["message"]})
            if len(self.top) < TOP_FINDINGS:
                heapq.heappush(self.top, entry)
            else:
                heapq.heappushpop(self.top, entry)

    def add_error(self, record_type: str) -> None:
        """Count an entry that was not a record."""
        self.totals[record_type] += 1
        self.errors[record_type] += 1

    def finish(self, duplicates: dict[str, dict[str, Any]], cross_record: list[dict[str, Any]],
               seconds: float) -> dict[str, Any]:
        """The summary: totals, completeness by field, KPI ratios against targets, issue counts, top findings."""
        kpi = self.rules.file.kpi
        dup_records = sum(sum(len(c) - 1 for c in d["clusters"]) for d in duplicates.values())
        matchable = sum(self.totals[t] - self.errors[t] for t in MATCHABLE)
        completeness = self.filled / self.required if self.required else 1.0
        accuracy = self.valid / self.checked if self.checked else 1.0
        duplicate_rate = dup_records / matchable if matchable else 0.0
        return {
            "totals": {PLURAL[t]: self.totals[t] for t in PLURAL},
            "errors": {PLURAL[t]: self.errors[t] for t in PLURAL if self.errors[t]},
            "completeness_by_field": {
                PLURAL[t]: {f: round(100 * n / max(1, self.totals[t] - self.errors[t]), 1) for f, n in c.items()}
                for t, c in self.field_filled.items()},
            "kpis": {
                "completeness": _kpi(completeness, kpi.completeness, higher_is_better=True),
                "accuracy": _kpi(accuracy, kpi.accuracy, higher_is_better=True),
                "duplicate_rate": _kpi(duplicate_rate, kpi.duplicate_rate, higher_is_better=False),
            },
            "counts": {"required_fields": self.required, "required_filled": self.filled,
                       "fields_checked": self.checked, "fields_valid": self.valid, "duplicate_records": dup_records},
            "issues_by_rule": dict(self.by_rule.most_common()),
            "issues_by_severity": {s: self.by_severity[s] for s in ("error", "warning", "info")},
            "cross_record_findings": len(cross_record),
            "top_findings": [e[2] for e in sorted(self.top, reverse=True)],
            "cleanup_tasks": self.cleanup_tasks(duplicates),
            "impact_formula": "severity_weight × (1 + log10(1 + deal value / 1,000)) × record_weight",
            "seconds": round(seconds, 3),
        }

    def cleanup_tasks(self, duplicates: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """What to fix first: rules by total impact, and duplicate merges by priority."""
        tasks = [{"task": f"{rid}: {t['records']} finding(s). {RULES[rid].description}", "rule": rid,
                  "findings": t["records"], "impact": round(t["impact"], 1)}
                 for rid, t in self.tasks.items()]
        for plural, result in duplicates.items():
            by_priority = Counter(p["merge_priority"] for p in result["pairs"])
            weight = {"high": 30.0, "medium": 10.0, "low": 3.0}
            for priority, count in by_priority.items():
                tasks.append({"task": f"Merge {count} {priority}-priority duplicate pair(s) of {plural}",
                              "rule": f"{SINGULAR[plural]}.duplicate", "findings": count,
                              "impact": weight[priority] * count})
        return sorted(tasks, key=lambda t: -t["impact"])[:25]


def _kpi(value: float, target: float, higher_is_better: bool) -> dict[str, Any]:
    passed = value >= target if higher_is_better else value <= target
    return {"value": round(value, 4), "target": target, "pass": passed}


class BatchRun:
    """Scores records as they come and keeps what the end of the batch needs (keys, cross-record fields)."""

    def __init__(self, rules: Ruleset, now: datetime, options: Options, duplicates: bool = True,
                 lookups: Lookups | None = None, keep_records: bool = False) -> None:
        self.rules, self.now, self.options, self.with_duplicates = rules, now, options, duplicates
        self.keep_records = keep_records  # JSON batches: full records give full merge plans
        self.lookups = lookups
        self.summary = BatchSummary(rules)
        self.kept: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.keys: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.ranks: dict[str, dict[str, Any]] = {}
        self.started = time.perf_counter()

    def score(self, record_type: str, position: int, entry: Any) -> dict[str, Any]:
        """One entry's result: its report, or its own error when it is not a record."""
        if not isinstance(entry, dict):
            self.summary.add_error(record_type)
            return {"index": position, "error": {"type": "/problems/not-a-record", "title": "Not a record",
                                                 "status": 422, "detail": "entry is not a JSON object",
                                                 "errors": [{"loc": f"{PLURAL[record_type]}.{position}"}]}}
        report = score_record(record_type, entry, self.rules, now=self.now, options=self.options,
                              lookups=self.lookups)
        deal_value = self._deal_value(record_type, entry)
        self.summary.add(record_type, report, deal_value)
        self.kept[record_type].append({f: entry.get(f) for f in KEPT_FIELDS[record_type] if f in entry})
        if self.with_duplicates and record_type in MATCHABLE:
            rid = record_id(entry, position)
            rid = rid if rid not in self.ranks else f"{rid}#{position}"
            self.ids[record_type].append(rid)
            self.keys[record_type].append(record_keys(entry, record_type, self.options.default_region))
            self.ranks[rid] = entry if self.keep_records else {
                "_filled": completeness_count(entry),
                **{f: entry.get(f) for f in ("id", "decision_role", "account_id", "last_activity_at", "updated_at")
                   if f in entry}}
        return report

    def _deal_value(self, record_type: str, entry: dict[str, Any]) -> float:
        if record_type == "opportunity":
            return max(0.0, parse_number(entry.get("amount")) or 0.0)
        key = entry.get("id") if record_type == "account" else entry.get("account_id")
        if self.lookups is not None and isinstance(key, str):
            return self.lookups.deal_value_by_account.get(key, 0.0)
        return 0.0

    def finish(self) -> dict[str, Any]:
        """Duplicates per type, cross-record findings and the summary."""
        lookups = batch_lookups(self.kept, self.rules)
        duplicates = {PLURAL[t]: self._duplicates(t, lookups) for t in MATCHABLE if self.with_duplicates}
        cross = list(cross_record_findings(self.kept, lookups, self.rules, self.now, self.options))
        return {"duplicates": duplicates, "cross_record": cross,
                "summary": self.summary.finish(duplicates, cross, time.perf_counter() - self.started)}

    def _duplicates(self, record_type: str, lookups: Lookups) -> dict[str, Any]:
        keys = self.keys.get(record_type, [])
        names = set().union(*(k.keys() for k in keys)) if keys else set()
        columns = {n: np.array([k.get(n, "") for k in keys], dtype=object) for n in names}
        table = Prepared(self.ids.get(record_type, []), keys, columns)
        by_id = {rid: self.ranks[rid] for rid in table.ids}
        return match_tables(record_type, table, None, by_id, self.rules,
                            deal_value_by_account=lookups.deal_value_by_account)


def cross_record_findings(kept: dict[str, list[dict[str, Any]]], lookups: Lookups, rules: Ruleset,
                          now: datetime, options: Options) -> Iterable[dict[str, Any]]:
    """Findings of the batch-scope rules over the records' kept fields, with the batch's lookups."""
    for record_type, records in kept.items():
        plan = [(r, p, s) for r, p, s in rules.plans[record_type] if r.scope == "batch"]
        if not plan:
            continue
        for record in records:
            ctx = Context(record_type, rules, now, options, lookups)
            ctx.present = present_fields(record, rules.empty_values)  # rules test presence, as in score_record
            for rule, params, severity in plan:
                for hit in rule.check(record, params, ctx):
                    yield {"rule": rule.id, "record_type": record_type, "record_id": record.get("id"),
                           "field": hit.field, "severity": severity, "value": hit.value,
                           "message": render(rule.message, field=hit.field, value=hit.value,
                                             record_type=record_type, **hit.details)}


def score_batch(batch: dict[str, Any], rules: Ruleset, now: datetime, options: Options,
                duplicates: bool = True) -> dict[str, Any]:
    """A whole JSON batch: results per type in input order, duplicates, cross-record findings, summary."""
    records = {t: [e for e in (batch.get(PLURAL[t]) or []) if isinstance(e, dict)] for t in PLURAL}
    run = BatchRun(rules, now, options, duplicates, batch_lookups(records, rules), keep_records=True)
    results = {PLURAL[t]: [run.score(t, i, e) for i, e in enumerate(batch.get(PLURAL[t]) or [])] for t in PLURAL}
    return {"results": results, **run.finish()}
