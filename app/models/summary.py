"""The data health summary of a batch and an audit (built by `app.scoring.summary.BatchSummary.finish`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RecordType = Literal["account", "contact", "opportunity", "lead"]


class StandardizationUpdate(BaseModel):
    """One written variant and its standard form: an update to apply (set `field` to `to` where it is
    `from`)."""

    record_type: RecordType
    field: str = Field(examples=["industry", "billing_address.state"], description="The field's path.")
    from_: str = Field(alias="from", examples=["Tech"], description="The value as written.")
    to: str = Field(examples=["Technology"], description="Its standard form.")
    records: int = Field(description="Records that write it so.")
    ids: list[Any] = Field(description="Their ids, the first 20 (records without an id are counted, not "
                                       "listed).")
    ids_complete: bool = Field(description="Whether `ids` lists every record that writes it so.")


class StandardizationField(BaseModel):
    """A field's variants, the most common first."""

    record_type: RecordType
    field: str
    variants: int = Field(description="Distinct variants kept (at most 500 per field, the first seen).")
    records: int = Field(description="Values written another way than their standard form.")
    unlisted_records: int = Field(description="Of those, the values of variants not listed in `updates` "
                                              "(past the first 100 listed, or the 500 kept).")
    updates: list[StandardizationUpdate]


class Standardization(BaseModel):
    """Seed 002's 'variations that need standardization' and their batch update commands (plain JSON), from
    the standardisation rules' suggestions (`*.industry.nonstandard`, `account.website.nonstandard`,
    `*.address.nonstandard` states and countries, stage and currency forms, names' casing, emails)."""

    variants: int
    records: int
    fields: list[StandardizationField]


class Changes(BaseModel):
    """Records of one list added and updated lately."""

    created: int = Field(description="Records whose created_at is in the last `hours` up to now.")
    updated: int = Field(description="Records whose updated_at is in the last `hours` up to now.")


class RecentActivity(BaseModel):
    """Seed 002's morning report: records added/updated in the last 24 hours (before the batch's `now`)."""

    hours: int = Field(examples=[24])
    accounts: Changes
    contacts: Changes
    opportunities: Changes
    leads: Changes


class Share(BaseModel):
    """Records with every required field filled, of those scored."""

    complete: int
    records: int
    ratio: float | None = Field(ge=0, le=1, description="complete / records; null when no record was scored.")


class RecordsComplete(BaseModel):
    """Seed 000's 'percentage of records with all required fields', per list and overall. Not the completeness
    KPI, which is the share of required fields filled over all records (DESIGN): a record missing one of six
    fields counts 5/6 there and not at all here."""

    accounts: Share
    contacts: Share
    opportunities: Share
    leads: Share
    overall: Share


class Summary(BaseModel):
    """Totals, completeness by field, KPIs, issue counts, top findings by impact and the cleanup list."""

    model_config = ConfigDict(extra="allow")

    totals: dict[str, int] = Field(description="Records per list (accounts, contacts, opportunities, leads).")
    completeness_by_field: dict[str, dict[str, float]] = Field(
        description="Per list, the percentage of records with each required field filled.")
    kpis: dict[str, Any] = Field(description=(
        "completeness, accuracy and duplicate_rate: value, target and pass; value and pass are null when "
        "nothing was measured (no record scored; for duplicate_rate, no account, contact or lead), as each "
        "type's `duplicates.<type>.stats.duplicate_rate` is null with no records."))
    issues_by_rule: dict[str, int]
    issues_by_severity: dict[str, int]
    top_findings: list[dict[str, Any]] = Field(
        description="The 10 highest impacts, a rule once per record: its first finding there (`findings`: "
                    "how many it has on the record).")
    cleanup_tasks: list[dict[str, Any]] = Field(
        description="Rules by total impact (`findings`, on `records`), duplicate merges by priority, and the "
                    "standardisation updates last.")
    standardization: Standardization
    recent_activity: RecentActivity
    records_complete: RecordsComplete
