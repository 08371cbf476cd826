"""The half of batch scoring that needs no other record ("judging"), so chunks of a stream can be judged in
worker processes: each record's report and answer line, the counts the metrics move (`Counts`, summed per
chunk), its partial summary, and what the end of the batch keeps of it, packed small (cross-record fields,
matching keys, survivor ranking). `BatchRun` (batch.py) absorbs the results in order."""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import orjson

from app.scoring.engine import Lookups, Options, score_record
from app.scoring.json_keys import duplicate_key_paths, has_duplicate_keys
from app.scoring.matching.dedupe import MATCHABLE
from app.scoring.matching.linker import record_id
from app.scoring.matching.merge import completeness_count
from app.scoring.matching.normalize import record_keys
from app.scoring.registry import RULES
from app.scoring.ruleset import Ruleset
from app.scoring.summary import BatchSummary
from app.scoring.type_names import record_type_named
from app.scoring.values import parse_datetime

# what the cross-record rules and the lookups read; a stream keeps only these per record
KEPT_FIELDS = {"account": ("id", "industry", "owner_id", "name", "website", "parent_account_id"),
               # names too: one person entered twice counts once among an account's contacts (batch._person)
               "contact": ("id", "account_id", "email", "decision_role", "owner_id", "title", "first_name",
                           "last_name"),
               # name and close date: a deal entered twice (opportunity.duplicate.in_batch)
               "opportunity": ("id", "account_id", "amount", "stage", "contact_roles", "owner_id", "currency",
                               "name", "close_date"),
               "lead": ("id", "owner_id", "status")}  # a converted lead is no duplicate of its contact
# what survivor ranking, merge plans and merge priority read of a streamed record, after its filled count
RANK_FIELDS = ("id", "decision_role", "account_id", "last_activity_at", "updated_at")
# kept last for a streamed account or contact: per rule a batch-scope finding may cover (its missing industry,
# email), its findings weighed on the record, so the stream's end knows whether a covered gap was its only one
COVERED_COUNTS = "\x00covered_counts"
Packed = bytes | list[Any]  # a JSON array as bytes (compact), or the list itself if it cannot be encoded


@dataclass(frozen=True, slots=True)
class JudgeSetup:
    """What every record of one batch is judged with, besides the ruleset."""

    now: datetime
    options: Options
    duplicates: bool
    lookups: Lookups | None = None  # JSON batches: the whole batch is known before scoring
    keep_records: bool = False      # JSON batches: full records give full merge plans


def add_sums(sums: list[int], report: dict[str, Any]) -> None:
    """Add one report to `sums`: scored, required fields, filled, checked, valid (the metrics' counters)."""
    completeness, accuracy = report["completeness"], report["accuracy"]
    sums[0] += 1
    sums[1] += completeness["required"]
    sums[2] += completeness["filled"]
    sums[3] += accuracy["checked"]
    sums[4] += accuracy["valid"]


@dataclass(slots=True)
class Counts:
    """What the metrics count of judged records (app.metrics `Tally.merge`), summed where they were judged:
    a worker process sends these few numbers per chunk, not something of every report."""

    # per record type: scored, required, filled, checked, valid
    sums: dict[str, list[int]] = field(default_factory=dict)
    findings: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (type, rule, severity)
    quality: dict[str, array[float]] = field(default_factory=dict)  # each record's quality score, by type
    lead: dict[str, array[float]] = field(default_factory=dict)     # each lead score total, by type

    def add(self, report: dict[str, Any]) -> None:
        """One record's report."""
        record_type = report["record_type"]
        sums = self.sums.get(record_type)
        if sums is None:
            sums = self.sums[record_type] = [0, 0, 0, 0, 0]
            self.quality[record_type] = array("d")
        add_sums(sums, report)
        self.quality[record_type].append(report["quality_score"])
        lead = report["lead_score"]
        if lead is not None:
            self.lead.setdefault(record_type, array("d")).append(lead["total"])
        issues = report["issues"]
        if issues:
            self.findings.update([(record_type, i["rule"], i["severity"]) for i in issues])


@dataclass(slots=True)
class Judged:
    """Records judged in order: answer lines and what the batch keeps of each, ready to absorb."""

    summary: BatchSummary
    out: bytes = b""
    counts: Counts = field(default_factory=Counts)  # what the metrics count of them
    kept: list[tuple[str, Packed | None]] = field(default_factory=list)  # per scored record
    # type, id, position, keys, ranking data (or the whole record)
    matches: list[tuple[str, str, int, Packed, Any]] = field(default_factory=list)


PACK_DEPTH = 200  # orjson writes at most 255 levels; pickle (worker processes) fails near 1,000


def pack(values: list[Any]) -> Packed:
    """Values as one small bytes object (about a quarter of the same values as Python objects)."""
    try:
        packed = orjson.dumps(values)
    except orjson.JSONEncodeError:
        return [flatten_deep(v, PACK_DEPTH) for v in values]
    return bytes(memoryview(packed))  # a copy of its length: orjson's own result keeps a 4 KiB buffer


def flatten_deep(value: Any, depth: int) -> Any:
    """`value` with every container below `depth` levels emptied (the outer ones keep their type).

    A field nested deeper than orjson writes was kept as the value itself, and a stream's worker process
    could not pickle one nested about 1,000 deep (JSON allows 1,024) back to the server: the NDJSON answer
    broke off mid-stream. What the end of a batch reads of such a field (filled or not, a string id or
    not) is the same either way. The reference index stores such a record so too (`index.storable`).
    """
    if depth <= 0 and isinstance(value, dict | list):
        return value.__class__()
    if isinstance(value, dict):
        return {k: flatten_deep(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [flatten_deep(v, depth - 1) for v in value]
    return value


def unpack(packed: Packed) -> list[Any]:
    """The values `pack` was given."""
    return orjson.loads(packed) if packed.__class__ is bytes else packed  # type: ignore[return-value]


@cache
def key_names(record_type: str) -> tuple[str, ...]:
    """The matching key names of a type, in the order `record_keys` gives them (always the same)."""
    return tuple(record_keys({}, record_type, "US"))


def judge_record(record_type: str, position: int, entry: dict[str, Any], rules: Ruleset, setup: JudgeSetup,
                 into: Judged) -> dict[str, Any]:
    """Score one record, count it into `into.summary` and keep what the end of the batch needs."""
    report = score_record(record_type, entry, rules, now=setup.now, options=setup.options,
                          lookups=setup.lookups)
    into.summary.add(record_type, report, deal_value(record_type, entry, setup.lookups, rules),
                     (recent(entry.get("created_at"), setup.now, rules),
                      recent(entry.get("updated_at"), setup.now, rules)))
    fields = KEPT_FIELDS[record_type]
    counts = _covered_counts(record_type, report, rules) if setup.lookups is None else None
    into.kept.append((record_type, pack([*map(entry.get, fields), counts])
                      if counts or any(f in entry for f in fields) else None))
    if setup.duplicates and record_type in MATCHABLE:
        keys = record_keys(entry, record_type, setup.options.default_region, checked=True)
        rank = entry if setup.keep_records else pack([
            completeness_count(entry, rules.empty_values, record_type, rules.field_empty_values),
            *map(entry.get, RANK_FIELDS)])
        into.matches.append((record_type, record_id(entry, position), position, pack(list(keys.values())),
                             rank))
    return report


def recent(value: Any, now: datetime, rules: Ruleset) -> bool:
    """Whether a record's date (created_at, updated_at) is in the `[impact] recent_hours` up to `now`."""
    when = parse_datetime(value) if value is not None else None
    return when is not None and now - timedelta(hours=rules.file.impact.recent_hours) <= when <= now


def deal_value(record_type: str, entry: dict[str, Any], lookups: Lookups | None, rules: Ruleset) -> float:
    """The deal value a record's findings are weighed by (in the base currency): an open deal's amount (a
    closed one's gaps no longer put pipeline at risk: it weighs as a record of no deal value, as accounts are
    weighed by their open deals only), or its account's open deals; a contact's, with the open deals that
    name it in a contact role too (`Lookups.deal_value_by_contact`)."""
    if record_type == "opportunity":
        if rules.closed_stage(entry.get("stage")):
            return 0.0
        return rules.deal_amount(entry.get("amount"), entry.get("currency"))
    if lookups is None:
        return 0.0
    if record_type == "contact" and lookups.deal_value_by_contact:
        on_deals = lookups.deal_value_by_contact.get(lookups.link(entry.get("id")) or "")
        if on_deals is not None:  # the deals it is on, its account's or not
            return on_deals
    key = lookups.link(entry.get("id") if record_type == "account" else entry.get("account_id"))
    if key is not None:
        return lookups.deal_value_by_account.get(key, 0.0)
    return 0.0


_COVERABLE: dict[tuple[str, str], frozenset[str]] = {}


def _covered_counts(record_type: str, report: dict[str, Any], rules: Ruleset) -> dict[str, int] | None:
    """Per rule a batch-scope rule covers (`rule(covers=...)`), the record's findings of it that are weighed
    (not info, not counted under another), when it has any: kept under `COVERED_COUNTS`."""
    coverable = _COVERABLE.get((rules.version, record_type))
    if coverable is None:
        coverable = _COVERABLE[(rules.version, record_type)] = frozenset(
            c for cid, _, covered in rules.covering.get(record_type, ()) if RULES[cid].scope == "batch"
            for c in covered)
    if not coverable:
        return None
    counts: dict[str, int] = {}
    for issue in report["issues"]:
        if issue["rule"] in coverable and issue["severity"] != "info" and not issue["counted_under"]:
            counts[issue["rule"]] = counts.get(issue["rule"], 0) + 1
    return counts or None


def judge_lines(lines: list[bytes | None], first: int, rules: Ruleset, setup: JudgeSetup) -> Judged:
    """One answer line per NDJSON line that holds something (None: a line over the size limit, skipped),
    numbered from `first` as in the input.

    A blank or whitespace-only line (a trailing newline, a CRLF file's empty last line, a blank line between
    pasted exports) is no line of the stream: no answer line and no count under `summary.errors.lines`, as
    NDJSON readers (jq, pandas) skip them. It keeps its number, so each answer's `line` stays the input's.
    """
    judged = Judged(BatchSummary(rules))
    out: list[bytes] = []  # each answer line written at once: a chunk's reports never all live together
    for offset, raw in enumerate(lines):
        n = first + offset
        if raw is None:
            judged.summary.add_error(None)
            out.append(error_line(n, "The line is longer than the request size limit "
                                     "(CRM_DQ_MAX_BODY_BYTES)."))
            continue
        if raw.startswith(b"\xef\xbb\xbf"):  # a byte order mark, as spreadsheet exports begin a file
            raw = raw[3:]
        if raw.isspace() or not raw:
            continue
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            judged.summary.add_error(None)
            out.append(error_line(n, f"The line is not valid JSON: {exc}."))
            continue
        record_type = record_type_named(entry.get("type")) if isinstance(entry, dict) else None
        if record_type is None:
            judged.summary.add_error(None)
            out.append(error_line(n, not_a_record_line(entry)))
            continue
        if has_duplicate_keys(raw, entry):
            judged.summary.add_error(record_type)
            repeated = ", ".join(duplicate_key_paths(raw, f"line.{n}", 10))
            out.append(error_line(n, f"A name appears twice in one object: {repeated}."))
            continue
        assert isinstance(entry, dict)
        del entry["type"]
        assert record_type is not None
        report = judge_record(record_type, n, entry, rules, setup, judged)
        judged.counts.add(report)
        # `{"line": n, "type": ..., **report}` without copying the report: its object opened after the two
        out.append(b'{"line":%d,"type":"%s",%s' % (n, record_type.encode(), orjson.dumps(
            report, option=orjson.OPT_APPEND_NEWLINE)[1:]))
    judged.out = b"".join(out)
    return judged


RECORD_LINE = "each line is a JSON object whose `type` is account, contact, opportunity or lead"


def not_a_record_line(entry: Any) -> str:
    """Why a line that is JSON is no record, as a sentence: what it is, and what a line must be."""
    if not isinstance(entry, dict):
        return f"The line is a JSON {json_kind(entry)}, not an object: {RECORD_LINE}."
    kind = entry.get("type")
    if kind is None:
        return f"The object has no `type`: {RECORD_LINE}."
    if not isinstance(kind, str):
        return f"The object's `type` is a {json_kind(kind)}, not a name: {RECORD_LINE}."
    return f"Unknown type {kind[:50]!r}: {RECORD_LINE} (singular or plural, any case)."


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "number")


def error_line(n: int, detail: str) -> bytes:
    """The answer line of an NDJSON line that is not a record."""
    return orjson.dumps({"line": n, "error": line_error(n, detail)}, option=orjson.OPT_APPEND_NEWLINE)


def line_error(n: int, detail: str) -> dict[str, Any]:
    """The problem of an NDJSON line that is not a record."""
    return {"type": "/problems/not-a-record", "title": "Not a record", "status": 422, "detail": detail[:300],
            "errors": [{"loc": f"line.{n}"}]}
