"""The report the scoring endpoints return (built by `app.scoring.engine.score_record`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Issue(BaseModel):
    """One finding, shaped like a pydantic error item: rule/field/message/value plus severity and a fix."""

    rule: str = Field(examples=["contact.email.invalid"])
    field: str = Field(examples=["email"])
    severity: Literal["error", "warning", "info"]
    category: str = Field(examples=["validity"])
    message: str
    value: Any = None
    suggestion: Any = None
    counted_under: str | None = Field(
        default=None, examples=["opportunity.stage_gate.unmet"],
        description="The rule whose finding on the same field already reports this gap (a stage gate's unmet "
                    "economic buyer is also a MEDDPICC gap), else null: such a finding is penalised in "
                    "quality_score and weighed in a batch's impact once, under that rule.")


class Completeness(BaseModel):
    score: float = Field(ge=0, le=1, description="Weighted share of required fields filled.")
    filled: int
    required: int
    missing: list[str]
    not_applicable: list[str] = Field(default=[], description="Requirements that do not apply to this record "
                                      "(an open deal's next step on a closed one); present only when some do not.")


class Accuracy(BaseModel):
    score: float = Field(ge=0, le=1, description="Share of format-checked fields that are valid.")
    checked: int
    valid: int


class Framework(BaseModel):
    score: float = Field(ge=0, le=1)
    gaps: list[str]


class Qualification(BaseModel):
    bant: Framework | None = None
    meddpicc: Framework | None = None


class ScoreItem(BaseModel):
    group: str
    criterion: str
    points: float
    value: Any = None


class LeadScore(BaseModel):
    total: float = Field(ge=0, le=100)
    grade: str
    demographics: float
    behavior: float
    engagement: float
    breakdown: list[ScoreItem]


class Decision(BaseModel):
    action: Literal["allow", "alert", "block"]
    reasons: list[str] = Field(description="Rule ids that decided the action.")


class Report(BaseModel):
    """Everything crm-dq found about one record."""

    record_type: Literal["account", "contact", "opportunity", "lead"]
    record_id: str | None
    quality_score: float = Field(ge=0, le=100, description=(
        "100 × (weighted completeness and accuracy) − a penalty per issue by severity (none for an issue "
        "`counted_under` another), clamped to 0–100."))
    completeness: Completeness
    accuracy: Accuracy
    issues: list[Issue]
    counts: dict[str, int] = Field(description="Issues by severity.")
    qualification: Qualification | None = None
    lead_score: LeadScore | None = None
    normalized: dict[str, Any] = Field(description="Standard forms: E.164 phone, canonical website, industry…")
    duplicates: list[dict[str, Any]] = Field(default=[], description="Candidate pairs, best first.")
    duplicate_check: Literal["index", "candidates", "unavailable", "not_applicable"] = Field(
        default="not_applicable", description="Where duplicates were looked for; `unavailable` when the store "
                                              "could not be reached (scoring still answers).")
    indexed: bool | None = Field(default=None, description="With ?index=true: whether the record was stored.")
    not_indexed_reason: str | None = Field(
        default=None, examples=["the id is longer than the 255 characters the reference index stores"],
        description="With ?index=true and `indexed` false: why not (a type the index does not hold, no id, "
                    "an id it cannot store, which is never cut to fit, or the store unreachable).")
    decision: Decision
    rules_version: str
