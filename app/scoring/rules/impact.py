"""Business impact: gaps that cost money first (seed 002 critical data gaps)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.scoring.registry import Hit, rule
from app.scoring.values import amount_in_currency


@rule("opportunity.stage.missing_high_value", fields=("stage", "amount"), severity="error", category="impact",
      seed="002", config="impact",
      message="Deal worth {worth} (over {threshold:,.0f} {base}) has no proper stage.",
      # one stage, one penalty: no stage, an unknown one or one of the wrong type is this finding's
      covers=("opportunity.stage.unknown", "opportunity.required.missing", "opportunity.field.wrong_type"))
def _high_value_without_stage(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: deals over $10K (in the base currency, [currencies]) without proper stage assignments.

    The deal weighs what `Ruleset.deal_amount` makes of it, as an account's deal value does: 'USD 9500' on a
    EUR deal is 9,500 USD, not 9,500 EUR."""
    rules = ctx.rules
    amount, currency = record.get("amount"), record.get("currency")
    if rules.canonical_stage(record.get("stage")) is None \
            and rules.deal_amount(amount, currency) > params.high_value_deal:
        number, currency = amount_in_currency(amount, currency, rules.file.currencies.base)
        yield Hit("stage", record.get("stage"), details={
            "amount": number, "worth": rules.worth(number, currency),
            "threshold": params.high_value_deal, "base": rules.file.currencies.base})


@rule("account.industry.missing_high_value", fields=("industry",), severity="error", category="impact",
      seed="002", config="impact", scope="batch",
      message="Account with {amount:,.0f} {base} in open and won deals (over {threshold:,.0f}) has no industry.",
      covers=("account.required.missing", "account.recommended.missing"))  # one empty industry, one penalty
def _high_value_without_industry(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: companies over $50K deal value without industry classification (needs the batch's deals).

    Deal value here is the account's open and won deals (a lost one is no value of the company's): a customer
    with a $60K Closed Won deal and no industry falls out of every segment report as surely as a prospect
    (helper-57; the cross-record rules about pipeline weigh open deals only)."""
    aid = ctx.lookups.link(record.get("id"))
    amount = ctx.lookups.booked_value_by_account.get(aid, 0.0) if aid is not None else 0.0
    if amount > params.high_value_account and "industry" not in ctx.present:
        yield Hit("industry", record.get("industry"), details={"amount": amount, "threshold": params.high_value_account,
                                                               "base": ctx.rules.file.currencies.base})


@rule("contact.email.missing_on_active_deal", fields=("email",), severity="error", category="impact",
      seed="002", scope="batch", message="Contact is on an active deal but has no email address.",
      covers=("contact.required.missing", "contact.recommended.missing"))  # one empty email, one penalty
def _active_deal_without_email(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: people involved in active deals without email addresses (needs the batch's deals)."""
    contact_id = ctx.lookups.link(record.get("id"))
    if contact_id is not None and contact_id in ctx.lookups.active_deal_contacts \
            and "email" not in ctx.present:
        yield Hit("email", record.get("email"))


def _owner_missing(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: records without proper owners assigned."""
    if "owner_id" not in ctx.present:
        yield Hit("owner_id", record.get("owner_id"))


for _t in ("account", "contact", "opportunity", "lead"):
    rule(f"{_t}.owner.missing", fields=("owner_id",), severity="warning", category="impact", seed="002",
         message="No owner is assigned; nobody is accountable for this {record_type}.",
         covers=(f"{_t}.required.missing",),  # an owner the completeness rules require too: one penalty
         description="Seed 002 data health audit: records without owners.")(_owner_missing)
