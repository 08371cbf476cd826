"""The rule registry: one decorator declares a rule's metadata next to the function that checks it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Category = Literal[
    "completeness", "validity", "consistency", "qualification",
    "timeliness", "impact", "standardization", "lead_scoring", "duplicates", "cross_record",
]
Scope = Literal["record", "batch"]
RECORD_TYPES = ("account", "contact", "opportunity", "lead")
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(slots=True)
class Hit:
    """What a rule function yields: the field it is about, the offending value, an optional fix.

    Not frozen: a frozen dataclass sets each field through object.__setattr__, and rules make millions.
    """

    field: str
    value: Any = None
    suggestion: Any = None
    details: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[dict[str, Any], dict[str, Any], Any], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A declared rule: metadata plus the function that yields its hits."""

    id: str
    record_type: str
    fields: tuple[str, ...]
    severity: Severity
    category: Category
    seed: str
    message: str
    config: str | None
    check: CheckFn
    description: str
    scope: Scope = "record"
    when_present: bool = False
    covers: tuple[str, ...] = ()
    gap_fields: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The rule as `GET /v1/rules` lists it."""
        return {
            "id": self.id, "record_type": self.record_type, "fields": list(self.fields),
            "severity": self.severity, "category": self.category, "seed": self.seed,
            "message": self.message, "config": self.config, "description": self.description,
            "scope": self.scope, "covers": list(self.covers), "gap_fields": list(self.gap_fields),
        }


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    fields: Iterable[str],
    severity: Severity,
    category: Category,
    seed: str,
    message: str,
    config: str | None = None,
    description: str = "",
    scope: Scope = "record",
    when_present: bool = False,
    covers: Iterable[str] = (),
    gap_fields: Iterable[str] = (),
) -> Callable[[CheckFn], CheckFn]:
    """Register `fn` under `id`; stack the decorator to reuse one function for several record types.

    `scope="batch"` marks a rule that needs other records of the batch (through `ctx.lookups`); it stays
    silent for a single record and its findings are also listed as the batch's cross-record findings.
    `when_present=True` declares that the rule can only fire when one of its fields holds a value, so the
    engine skips it for records without any of them (tests/scoring checks the claim on every case record).
    `covers` names rules whose finding on the same field this rule's finding already reports (a stage gate's
    unmet economic buyer is also a MEDDPICC gap): such a finding stays in the report, marked `counted_under`
    this rule, and is not penalised or weighed a second time.
    `gap_fields`: for `covers`, the fields this rule's finding is about whatever field it is reported on, when
    filling any of them closes it (no decision maker: the contact roles or the economic buyer); a finding on
    any of them covers, or is covered, as one on its own field would be.
    """
    record_type = id.split(".", 1)[0]
    if record_type not in RECORD_TYPES:
        raise ValueError(f"rule {id!r}: record type must be one of {RECORD_TYPES}")
    if severity not in SEVERITIES:
        raise ValueError(f"rule {id!r}: unknown severity {severity!r}")

    def register(fn: CheckFn) -> CheckFn:
        if id in RULES:
            raise ValueError(f"rule {id!r} is registered twice")
        doc = description or first_paragraph(fn.__doc__ or "")
        RULES[id] = Rule(id, record_type, tuple(fields), severity, category, seed, message,
                         config, fn, doc, scope, when_present, tuple(covers), tuple(gap_fields))
        return fn

    return register


def first_paragraph(docstring: str) -> str:
    """A docstring's first paragraph on one line: a rule's description (its first line alone cut sentences
    that wrap, "… a number written as text, as an")."""
    paragraph = docstring.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def rules_for(record_type: str) -> Iterator[Rule]:
    """Registered rules of one record type, in registration order."""
    return (r for r in RULES.values() if r.record_type == record_type)
