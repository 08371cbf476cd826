"""Qualification: BANT (seed 003), MEDDPICC (seed 000), stage gates and the decision maker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.scoring.registry import Hit, rule
from app.scoring.rules.consistency import open_stage, stage_named
from app.scoring.rules.timeliness import lead_status_in
from app.scoring.values import get_path


def is_qualified(value: Any, ctx: Any, path: str = "") -> bool:
    """A framework element (at `path`: 'bant.budget', 'problem_statement') counts when it holds something other
    than a placeholder, 'no', false or 0, or an answer that says it is missing ("No budget", "Not identified",
    "Unclear", "Maybe", "Budget not yet allocated", "Timeline TBD"; not "No more than 80k").

    A statement (`[qualification] statement_fields`: a pain, a need, requirements) is often written in the
    negative ("No visibility into renewal pipeline"): there a negative start reads as a non-answer only in a
    few words ("No clear need"); a negative end ("… to be determined") still does. Where none is an answer
    (`none_is_an_answer`: "None - sole source" for the competition), it is one ("none yet" is not).
    """
    if value is False:
        return False
    rules = ctx.rules
    text = " ".join(value.lower().split()).rstrip(".!") if value.__class__ is str else ""  # "None." as "none"
    if text and path in rules.none_is_an_answer and (text in rules.none_answers or (
            text.startswith(rules.none_answer_prefixes) and text not in rules.negative_values
            and not text.endswith(rules.negative_suffixes))):
        return True
    if not ctx.filled(value):
        return False
    if not isinstance(value, str):
        return not (value.__class__ in (int, float) and value == 0)  # as the text "0" is
    if text in rules.negative_values or text.endswith(rules.negative_suffixes):
        return False
    negative = text.startswith(rules.negative_prefixes) and not text.startswith(rules.affirmative_prefixes)
    if negative and path in rules.statement_fields:
        # a statement in the negative ('No forecast visibility') is one, unless it is short and names what is
        # missing ('No clear need', 'No pain identified') or says it was not given ('Not discussed', 'None
        # given': a participle; helper-56)
        words = _WORD.findall(text)
        return len(words) >= rules.statement_words or (rules.statement_gaps[path].isdisjoint(words)
                                                       and not _PARTICIPLE.fullmatch(words[-1]))
    return not negative


_WORD = re.compile(r"[^\W\d_]+")
_PARTICIPLE = re.compile(r"[a-z]*[a-df-z]ed|given|known|shown|seen|done|written|taken|told|heard|set|begun")


def framework(record: dict[str, Any], key: str, elements: list[str], ctx: Any) -> dict[str, Any]:
    """Score (share of elements present) and gaps of one framework object on the record (MEDDPICC's also
    from the deal's contact roles, `roles_for_elements`)."""
    block = record.get(key)
    block = block if isinstance(block, dict) else {}
    gaps = [e for e in elements if not is_qualified(block.get(e), ctx, f"{key}.{e}")
            and not (key == "meddpicc" and in_contact_roles(record, e, ctx))]
    return {"score": round(1 - len(gaps) / len(elements), 4) if elements else 1.0, "gaps": gaps}


def in_contact_roles(record: dict[str, Any], element: str, ctx: Any) -> bool:
    """A contact role on the deal names the MEDDPICC element (a contact in the 'Economic Buyer' role; a role
    with no contact names nobody)."""
    wanted = ctx.rules.element_roles.get(element)
    entries = record.get("contact_roles")
    if not wanted or not isinstance(entries, list) or not entries:
        return False
    return any(isinstance(e, dict) and isinstance(e.get("role"), str) and ctx.filled(e.get("contact_id"))
               and ctx.rules.picklist_value("decision_role", e["role"]) in wanted for e in entries)


def stage_at_least(record: dict[str, Any], threshold: str, ctx: Any) -> bool:
    """The deal is open and has reached the `threshold` stage."""
    _, stage = open_stage(record, ctx)
    limit = ctx.rules.stage(ctx.rules.canonical_stage(threshold) or threshold)
    return stage is not None and not stage.closed and stage.order >= limit.order


def measure_qualification(record: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """BANT for leads and BANT-stage deals (or any deal that carries BANT); MEDDPICC for every deal."""
    cfg = ctx.rules.file.qualification
    result: dict[str, Any] = {}
    if ctx.record_type == "lead":
        result["bant"] = framework(record, "bant", cfg.bant_fields, ctx)
        return result
    name, _ = open_stage(record, ctx)
    if name in ctx.rules.bant_stages or isinstance(record.get("bant"), dict):
        result["bant"] = framework(record, "bant", cfg.bant_fields, ctx)
    result["meddpicc"] = framework(record, "meddpicc", cfg.meddpicc_fields, ctx)
    return result


@rule("lead.bant.gaps", fields=("bant",), severity="info", category="qualification", seed="003",
      message="BANT element {field} is not known yet.")
def _lead_bant(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003: leads are qualified with BANT (Budget, Authority, Need, Timeline)."""
    for gap in ctx.qualification["bant"]["gaps"]:
        yield Hit(f"bant.{gap}", get_path(record, f"bant.{gap}"))


@rule("lead.status.qualified_without_bant", fields=("status", "bant"), severity="warning",
      category="qualification", seed="003", config="qualification",
      message="Lead is marked {value!r} but BANT is incomplete (missing {gaps}).")
def _qualified_without_bant(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003: qualification means the BANT assessment was done."""
    gaps = ctx.qualification["bant"]["gaps"]
    if gaps and lead_status_in(record, ctx.rules.qualified_lead_statuses, ctx):
        yield Hit("status", record["status"], details={"gaps": ", ".join(gaps)})


@rule("opportunity.bant.gaps", fields=("bant",), severity="warning", category="qualification", seed="003",
      config="qualification", message="Deal in a BANT stage is missing BANT element {field}.")
def _opportunity_bant(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003: the Qualification stage is the BANT criteria assessment."""
    name, _ = open_stage(record, ctx)
    if name in ctx.rules.bant_stages:
        for gap in ctx.qualification["bant"]["gaps"]:
            yield Hit(f"bant.{gap}", get_path(record, f"bant.{gap}"))


@rule("opportunity.meddpicc.gaps", fields=("meddpicc",), severity="warning", category="qualification",
      seed="000", config="qualification", message="MEDDPICC element {field} is missing for a deal in {stage}.")
def _meddpicc(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: complete MEDDPICC qualification on opportunities past early discovery."""
    if not stage_at_least(record, params.meddpicc_from_stage, ctx):
        return
    for gap in ctx.qualification["meddpicc"]["gaps"]:
        yield Hit(f"meddpicc.{gap}", get_path(record, f"meddpicc.{gap}"), details={"stage": record.get("stage")})


@rule("opportunity.stage_gate.unmet", fields=("stage",), severity="warning", category="qualification",
      seed="000", message="Stage {stage} requires {field}{since} before a deal may sit in it.",
      # one gap, one penalty: the gate's finding is the one that says what to do before the deal may stay
      covers=("opportunity.meddpicc.gaps", "opportunity.bant.gaps", "opportunity.required.missing",
              "opportunity.recommended.missing", "opportunity.decision_maker.missing"))
def _stage_gate(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: stage criteria must be met before advancement (review exit criteria completion). An open
    stage's gate holds every earlier open stage's criteria too ([stages] cumulative_gates, on by default: a
    deal in Proposal with no BANT had never met the Needs Analysis gate), each reported once, naming the stage
    that first requires it; a closed deal is held to its own stage's only."""
    name, stage = open_stage(record, ctx)
    if stage is None:
        return
    for path, origin in ctx.rules.stage_gates[name]:
        if not is_qualified(get_path(record, path), ctx, path) and not (
                path.startswith("meddpicc.") and in_contact_roles(record, path.split(".", 1)[1], ctx)):
            since = "" if origin == name else f" (from {origin} on)"
            yield Hit(path, get_path(record, path),
                      details={"stage": stage_named(record, name), "since": since})


@rule("opportunity.decision_maker.missing", fields=("contact_roles", "meddpicc.economic_buyer"),
      severity="warning", category="qualification", seed="000", config="qualification",
      message="No decision maker identified for a deal in {stage}: add a contact role or the economic buyer.",
      # one gap: the deal's missing economic buyer is this finding's (a gate that asks for it covers it)
      gap_fields=("contact_roles", "meddpicc.economic_buyer"), covers=("opportunity.meddpicc.gaps",))
def _decision_maker(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: decision maker contacts must be identified; confirm economic buyer identification."""
    if not stage_at_least(record, params.decision_maker_from_stage, ctx):
        return
    roles, value = ctx.rules.decision_maker_roles, ctx.rules.picklist_value
    entries = record.get("contact_roles") if isinstance(record.get("contact_roles"), list) else []
    # a role with no contact names nobody (as for the MEDDPICC elements a role identifies)
    has_role = any(isinstance(e, dict) and isinstance(e.get("role"), str) and ctx.filled(e.get("contact_id"))
                   and value("decision_role", e["role"]) in roles for e in entries)
    if not has_role and not is_qualified(get_path(record, "meddpicc.economic_buyer"), ctx, "meddpicc.economic_buyer"):
        yield Hit("contact_roles", record.get("contact_roles"), details={"stage": record.get("stage")})
