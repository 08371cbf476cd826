"""Runs the declared rules over one record and builds its report.

The engine measures first (completeness, qualification, lead score, standard forms), then runs every
enabled rule of the record type, collecting every finding (one bad field never hides another), and
finally derives the scores and the decision from what was found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from app.scoring.formats import EmailCheck, address_region, check_email
from app.scoring.rules.completeness import measure_completeness
from app.scoring.rules.lead_score import score_lead
from app.scoring.rules.qualification import measure_qualification
from app.scoring.rules.standardize import ADDRESS_FIELD, normalize_record
from app.scoring.ruleset import Ruleset
from app.scoring.values import (
    clip_value,
    id_text,
    is_filled,
    link_id,
    parse_datetime,
    realistic_range,
)

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Options:
    """Per-deployment switches the rules read (from settings, not from the rules file)."""

    default_region: str = "US"
    check_email_deliverability: bool = False
    email_dns_timeout: float = 2.0


@dataclass(slots=True)
class Lookups:
    """What a batch knows about other records; empty for a single record (batch-scope rules stay silent)."""

    accounts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    deal_value_by_account: Mapping[str, float] = field(default_factory=dict)  # open deals
    booked_value_by_account: Mapping[str, float] = field(default_factory=dict)  # open and won deals
    # contacts named in open deals' contact roles: their account's open deals and those deals, each once
    deal_value_by_contact: Mapping[str, float] = field(default_factory=dict)
    active_deal_contacts: frozenset[str] = frozenset()
    contact_ids: frozenset[str] = frozenset()  # the batch's contacts (opportunity.contact.not_in_batch)
    open_deals_by_account: Mapping[str, int] = field(default_factory=dict)
    booked_deals_by_account: Mapping[str, int] = field(default_factory=dict)  # open and won deals
    contacts_by_account: Mapping[str, int] = field(default_factory=dict)
    decision_makers_by_account: Mapping[str, int] = field(default_factory=dict)
    # lead id -> its best match among the batch's contacts (`[duplicates] match_also`): contact_id, score,
    # band, reasons
    contact_matches: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # opportunity.duplicate.in_batch: deal id -> the ids of the batch's deals with its account, name, amount
    # and close date, itself included (`cross_record.deal_key`; None: one without an id; a list per group)
    deal_twins: Mapping[str, list[str | None]] = field(default_factory=dict)
    in_batch: bool = False
    has_contacts: bool = False  # the batch holds contacts (a deals-only export says nothing of them)
    # an 18-character Salesforce id of the batch's records with its valid checksum -> its 15-character form
    # (`values.salesforce_id15`), found once as the lookups are built: the maps above are keyed by the latter
    id_aliases: Mapping[str, str] = field(default_factory=dict)

    def link(self, value: Any) -> str | None:
        """A record id or reference as the maps above are keyed: `link_id`, an 18-character Salesforce id of
        the batch as its 15-character form."""
        lid = link_id(value)
        return self.id_aliases.get(lid, lid) if self.id_aliases and lid is not None else lid


@dataclass(slots=True)
class Context:
    """Everything a rule may read besides the record and its own parameters."""

    record_type: str
    rules: Ruleset
    now: datetime
    options: Options
    lookups: Lookups
    completeness: dict[str, Any] = field(default_factory=dict)
    qualification: dict[str, Any] = field(default_factory=dict)
    normalized: dict[str, Any] = field(default_factory=dict)
    lead_score: dict[str, Any] | None = None
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    # top-level fields holding a value (`filled`), judged once per record
    present: frozenset[str] = frozenset()
    # where the record's phones are read when written without a country code (`phone_region`), and whether
    # that is a country of the record's (else the default region)
    region: str = ""
    region_known: bool = False
    # Per-record memos: several rules read the same email check and dates; nothing outlives the record.
    _emails: dict[Any, EmailCheck] = field(default_factory=dict, repr=False, compare=False)
    _dates: dict[str, datetime | None] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.region:
            self.region = self.options.default_region

    def filled(self, value: Any) -> bool:
        """Whether a value counts as present under this ruleset's placeholders."""
        if value is None:
            return False
        if value.__class__ is str:  # the common case, as `is_filled` judges it
            text = value.strip()
            return bool(text) and text.lower() not in self.rules.empty_values
        return is_filled(value, self.rules.empty_values)

    def check_email(self, value: str, deliverability: bool = False, timeout: float = 2.0) -> EmailCheck:
        """`check_email` of one address, computed once per record (the timeout only counts for DNS)."""
        key = (value, timeout) if deliverability else value
        result = self._emails.get(key)
        if result is None:
            result = self._emails[key] = check_email(value, deliverability, timeout)
        return result

    def parse_datetime(self, value: Any) -> datetime | None:
        """`parse_datetime` of a field value (parsed once per record for text), or None for a date outside the
        realistic range (`[validity] oldest_year`, `future_years`): dates.invalid reports such a date once and
        no rule reasons from it (a close date of 1899-12-31 was also a past close date and one before the
        deal's creation: three penalties for one bad value)."""
        if value is None:
            return None
        if value.__class__ is not str:
            return self._realistic(parse_datetime(value))
        dates = self._dates
        if value in dates:
            return dates[value]
        parsed = dates[value] = self._realistic(parse_datetime(value), value)
        return parsed

    def _realistic(self, parsed: datetime | None, written: Any = None) -> datetime | None:
        if parsed is None:
            return None
        cfg, year = self.rules.file.validity, self.now.year
        if cfg.oldest_year < parsed.year < year + cfg.future_years \
                and parsed.year not in self.rules.placeholder_years:  # the common case: no range to look up
            return parsed
        if cfg.placeholder(parsed, written):
            return None
        earliest, latest = realistic_range(year, cfg.oldest_year, cfg.future_years)
        return parsed if earliest <= parsed <= latest else None


class _Template(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, **values: Any) -> str:
    """A rule message with its placeholders filled; unknown placeholders stay as written."""
    return template.format_map(_Template(values))


BARE_FIELD_MAX = 100  # characters of a field name whose bare message is cached (`bare_message`)


@lru_cache(maxsize=4096)
def bare_message(message: str, field: str, record_type: str) -> str:
    """A rule's message for a finding with no value, suggestion or details ('Recommended field phone is
    empty.'): it depends on the field alone, and such findings repeat on most records (`render` of each
    cost more than the rest of the finding). Only for fields of up to `BARE_FIELD_MAX` characters: an unknown
    field's name is the caller's, and 400 names of 1 MB each kept 760 MB here (helper-82)."""
    return message.format_map(_Template(field=field, value=None, suggestion=None, record_type=record_type))


def present_fields(record: dict[str, Any], empty_values: frozenset[str],
                   real_values: Mapping[str, frozenset[str]] | None = None,
                   field_empty: Mapping[str, frozenset[str]] | None = None) -> frozenset[str]:
    """The record's top-level fields that hold a value (`is_filled`), judged once so rules test membership.

    `real_values`: per field, placeholders that are real values there (a person named Na). `field_empty`: per
    field, more placeholders there, text or a number written as they are ('Unassigned', 0 as an owner).
    """
    present = []
    for key, value in record.items():
        if value is None:
            continue
        if value.__class__ is str:
            text = value.strip().lower()
            if not text or (text in empty_values and not (real_values and text in real_values.get(key, ()))):
                continue
        elif not is_filled(value, empty_values):
            continue
        present.append(key)
    if field_empty:  # a few fields: looked at only where the record fills them
        for key, placeholders in field_empty.items():
            value = record.get(key)
            if value is not None and value.__class__ is not bool and key in present \
                    and str(value).strip().lower() in placeholders:
                present.remove(key)
    return frozenset(present)


def run_rules(record: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
    """Every finding of every enabled rule of the record's type, most severe first."""
    record_type = ctx.record_type
    by_severity: dict[str, list[dict[str, Any]]] = {"error": [], "warning": [], "info": []}
    present = ctx.present
    for check, params, rule_id, category, severity, message, plain, gate in ctx.rules.runs[record_type]:
        if gate is not None and present.isdisjoint(gate):
            continue
        found = None
        for hit in check(record, params, ctx):
            if found is None:
                found = by_severity[severity]
            value, suggestion = clip_value(hit.value), clip_value(hit.suggestion)
            if plain:  # a message without placeholders renders as itself
                text = message
            elif value is None and suggestion is None and not hit.details and len(hit.field) <= BARE_FIELD_MAX:
                text = bare_message(message, hit.field, record_type)
            else:
                text = message.format_map(_Template(field=hit.field, value=value, suggestion=suggestion,
                                                    record_type=record_type, **hit.details))
            found.append({
                "rule": rule_id, "field": hit.field, "severity": severity, "category": category,
                "message": text, "value": value, "suggestion": suggestion, "counted_under": None,
            })
    # the rules' order within each severity, as a stable sort by severity keeps it
    issues = by_severity["error"] + by_severity["warning"] + by_severity["info"]
    covering = ctx.rules.covering.get(record_type)
    if covering:
        mark_covered(issues, covering)
    return issues


def mark_covered(issues: list[dict[str, Any]],
                 covering: tuple[tuple[str, tuple[str, ...], dict[str, tuple[str, ...]]], ...]) -> None:
    """Mark each finding another rule's finding on the same field already reports (`rule(covers=...)`) as
    `counted_under` that rule (else None): it stays in the report, but is penalised and weighed once, under
    the other (a deal in Negotiation without an economic buyer was a MEDDPICC gap and an unmet stage gate: two
    penalties and two entries in an audit's cleanup list for one empty field). Only under a finding at least
    as severe. A rule's `gap_fields` are the fields its finding is about, whatever field it names."""
    found = {issue["rule"] for issue in issues}
    for covering_id, own_gap, covered in covering:
        if covering_id not in found or found.isdisjoint(covered):  # the common case: nothing to mark
            continue
        # per field, the most severe of the covering rule's findings (rules files set severities): a
        # finding is counted under one at least as severe, never under a milder one (an error under an info
        # finding would lose its penalty)
        fields: dict[str, int] = {}
        for issue in issues:
            if issue["rule"] == covering_id:
                rank = SEVERITY_ORDER[issue["severity"]]
                for name in own_gap or (issue["field"],):
                    fields[name] = min(rank, fields.get(name, rank))
        if fields:
            for issue in issues:
                rid = issue["rule"]
                if rid in covered and issue["counted_under"] is None and SEVERITY_ORDER[issue["severity"]] >= min(
                        fields.get(name, 3) for name in covered[rid] or (issue["field"],)):
                    issue["counted_under"] = covering_id


def measure_accuracy(record: dict[str, Any], issues: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
    """Share of the format-checked fields present in the record that passed their validity rules."""
    checked = ctx.rules.validity_fields[ctx.record_type] & ctx.present
    invalid = {i["field"].split(".", 1)[0] for i in issues
               if i["category"] == "validity" and i["severity"] != "info"} & checked
    valid = len(checked) - len(invalid)
    return {"score": round(valid / len(checked), 4) if checked else 1.0,
            "checked": len(checked), "valid": valid}


def quality_score(completeness: float, accuracy: float, issues: list[dict[str, Any]], rules: Ruleset) -> float:
    """100 × (weighted completeness and accuracy) − the configured penalty per issue (once per gap: not for a
    finding `counted_under` another), clamped to 0..100."""
    cfg = rules.file.scoring
    total = cfg.completeness_weight + cfg.accuracy_weight
    base = 100.0 * (cfg.completeness_weight * completeness + cfg.accuracy_weight * accuracy) / total
    penalties = cfg.penalty
    penalty = sum(penalties.get(i["severity"], 0.0) for i in issues if i["counted_under"] is None)
    return round(min(100.0, max(0.0, base - penalty)), 1)


def decide(issues: list[dict[str, Any]], rules: Ruleset) -> dict[str, Any]:
    """allow / alert / block for a record-save webhook, with the rule ids that decided it."""
    allow_rules, block_rules, alert_rules, block_severities, alert_severities = rules.decision_sets
    block, alert = [], []
    for issue in issues:
        rid, severity = issue["rule"], issue["severity"]
        if rid in allow_rules:
            continue
        if rid in block_rules or severity in block_severities:
            block.append(rid)
        elif rid in alert_rules or severity in alert_severities:
            alert.append(rid)
    if block:
        return {"action": "block", "reasons": list(dict.fromkeys(block))}
    if alert:
        return {"action": "alert", "reasons": list(dict.fromkeys(alert))}
    return {"action": "allow", "reasons": []}


def score_record(
    record_type: str,
    record: dict[str, Any],
    rules: Ruleset,
    *,
    now: datetime,
    options: Options | None = None,
    lookups: Lookups | None = None,
    duplicates: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Judge one canonical record and return its report as a plain dict (the `Report` schema).

    Args:
        record_type: account, contact, opportunity or lead.
        record: the record's fields; wrong types and unknown fields are findings, never exceptions.
        rules: the compiled ruleset (`load_rules()`).
        now: the instant timeliness rules measure against (aware UTC).
        duplicates: candidate pairs already found for this record (index or caller's candidates).

    Example:
        >>> score_record("contact", {"email": "bob@"}, load_rules(), now=now)["decision"]["action"]
        'alert'
    """
    ctx = Context(record_type, rules, now, options or Options(), lookups or Lookups())
    ctx.duplicates = duplicates or []
    ctx.present = present_fields(record, rules.empty_values, rules.real_values, rules.field_empty_values)
    if record_type in ADDRESS_FIELD:
        region = record_region(record_type, record, ctx)
        ctx.region, ctx.region_known = region or ctx.options.default_region, region is not None
    ctx.completeness = measure_completeness(record, ctx)
    if record_type in ("opportunity", "lead"):
        ctx.qualification = measure_qualification(record, ctx)
    if record_type == "lead":
        ctx.lead_score = score_lead(record, ctx)
    ctx.normalized = normalize_record(record, ctx)
    issues = run_rules(record, ctx)
    accuracy = measure_accuracy(record, issues, ctx)
    report: dict[str, Any] = {
        "record_type": record_type,
        "record_id": _record_id(record),
        "quality_score": quality_score(ctx.completeness["score"], accuracy["score"], issues, rules),
        "completeness": ctx.completeness,
        "accuracy": accuracy,
        "issues": issues,
        "counts": count_severities(issues),
        "qualification": ctx.qualification or None,
        "lead_score": ctx.lead_score,
        "normalized": ctx.normalized,
        "duplicates": ctx.duplicates,
        "decision": decide(issues, rules),
        "rules_version": rules.version,
    }
    return report


def record_region(record_type: str, record: dict[str, Any], ctx: Context) -> str | None:
    """The country of the record's own address, else, for a contact, its account's billing address (embedded,
    or the batch's account): a German contact with no address of its own, at a German account, had '089
    636-00' read as a US number, an invalid-number error (helper-55)."""
    lookup = ctx.rules.country_lookup
    region = address_region(record.get(ADDRESS_FIELD[record_type]), lookup)
    if region is None and record_type == "contact":
        embedded = record.get("account")
        link = ctx.lookups.link
        account = embedded if isinstance(embedded, dict) and isinstance(embedded.get("billing_address"), dict) \
            else ctx.lookups.accounts.get(link(record.get("account_id")))  # type: ignore[arg-type]
        if account is not None:
            region = address_region(account.get("billing_address"), lookup)
    return region


def count_severities(issues: list[dict[str, Any]]) -> dict[str, int]:
    """Issues per severity (error, warning, info), the report's `counts`."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for issue in issues:
        counts[issue["severity"]] += 1
    return counts


ID_SHOWN = 1000  # characters of an id a report repeats: well past any CRM's ids and the index's 255


def _record_id(record: dict[str, Any]) -> str | None:
    """The id as the report names the record (`values.id_text`), whole: it had been cut to 200 characters
    without a sign, so a 300-character id was reported as another id, while the index refused it for its
    length (helper-78). Only a longer id than `ID_SHOWN` is cut, and then ends in '…'."""
    text = id_text(record.get("id"))
    return text if text is None or len(text) <= ID_SHOWN else text[:ID_SHOWN] + "…"

