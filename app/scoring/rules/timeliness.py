"""Timeliness, measured against the request's `now`: stale deals, unverified contacts, lead response SLAs.

Dates are read by `Context.parse_datetime`: one outside the realistic range is dates.invalid, and not given here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from app.scoring.registry import Hit, rule
from app.scoring.rules.consistency import open_stage
from app.scoring.values import business_hours_between, days_between


def day_count(days: float, threshold: float) -> str:
    """Days for a message, floored so the number never contradicts the limit it was compared with: 59.5 idle
    days read '60 days' under a limit of 60 they were not at, 7.5 '8' (rounded half to even); whole days
    where they say which side of the limit the count is on, else one decimal (a limit of 7.5)."""
    whole = math.floor(days)
    if (whole >= threshold) == (days >= threshold):
        return str(whole)
    return f"{math.floor(days * 10) / 10:.1f}"


def wait_text(hours: float, threshold: float) -> str:
    """A wait for a message: minutes under two hours (or twice the limit), with seconds where whole minutes
    would read as no more than the limit ('61 min', '60 min 30 s'; 61 minutes read '1.0 h' against the
    standard of 1 h), else hours floored to one decimal."""
    if hours < max(2.0, 2 * threshold):
        seconds = math.floor(hours * 3600)
        minutes = seconds // 60
        if minutes > threshold * 60 or minutes * 60 == seconds:
            return f"{minutes} min"
        return f"{minutes} min {seconds % 60} s"
    return f"{math.floor(hours * 10) / 10:.1f} h"


def _open_deal(record: dict[str, Any], ctx: Any) -> bool:
    _, stage = open_stage(record, ctx)
    return stage is not None and not stage.closed


def _idle_days(record: dict[str, Any], ctx: Any) -> float | None:
    """Days since the deal last moved: the latest of its last activity and its last stage change (a deal
    moved to Proposal yesterday was 'stale: no activity for 106 days'), or since creation when neither is
    written. An activity logged with a date that is none is dates.invalid's and says nothing of when ('last
    week' was 189 idle days since the deal's creation): no idle days at all. `updated_at` is not read: a
    record's last edit moves with any field an integration or a mass update writes, and is no movement of
    the deal."""
    parse = ctx.parse_datetime
    activity = parse(record["last_activity_at"]) if "last_activity_at" in ctx.present else None
    if activity is None and "last_activity_at" in ctx.present:
        return None
    changed = parse(record["stage_changed_at"]) if "stage_changed_at" in ctx.present else None
    when = max(activity, changed) if activity is not None and changed is not None else activity or changed
    if when is None:
        when = parse(record.get("created_at"))
    return days_between(when, ctx.now) if when else None


@rule("opportunity.activity.attention", fields=("last_activity_at", "stage_changed_at"), severity="info",
      category="timeliness", seed="000", config="timeliness",
      message="No activity or stage change for {days} days (attention after {threshold:g}); schedule the "
              "next step.")
def _attention(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000 weekly pipeline health check: identify deals needing immediate attention; seed 001: deals not
    updated in over a week, by their last activity date. Idle since the latest of the last activity and the
    last stage change (a stage change is movement), else since creation; not `updated_at`, which any edit
    or sync moves."""
    idle = _idle_days(record, ctx)
    if _open_deal(record, ctx) and idle is not None and params.attention_days <= idle < params.stale_days:
        yield Hit("last_activity_at", record.get("last_activity_at"),
                  details={"days": day_count(idle, params.attention_days),
                           "threshold": params.attention_days})


@rule("opportunity.activity.stale", fields=("last_activity_at", "stage_changed_at"), severity="warning",
      category="timeliness", seed="002", config="timeliness",
      message="Stale deal: no activity or stage change for {days} days (limit {threshold:g}).")
def _stale(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: update stale deals that haven't moved in 60+ days. Idle since the latest of the last
    activity and the last stage change (a stage change is movement), else since creation; not `updated_at`,
    which any edit or sync moves."""
    idle = _idle_days(record, ctx)
    if _open_deal(record, ctx) and idle is not None and idle >= params.stale_days:
        yield Hit("last_activity_at", record.get("last_activity_at"),
                  details={"days": day_count(idle, params.stale_days), "threshold": params.stale_days})


@rule("opportunity.stage.stuck", fields=("stage_changed_at",), severity="warning", category="timeliness",
      seed="002", config="timeliness",
      message="Deal has sat in {stage} for {days} days (limit {threshold:g}).")
def _stuck(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: deals that haven't moved stage in 60+ days; seed 003: update stages within 24 h of changes."""
    changed = ctx.parse_datetime(record.get("stage_changed_at"))
    if changed is None or not _open_deal(record, ctx):
        return
    days = days_between(changed, ctx.now)
    if days >= params.stage_stuck_days:
        yield Hit("stage_changed_at", record.get("stage_changed_at"),
                  details={"days": day_count(days, params.stage_stuck_days),
                           "threshold": params.stage_stuck_days, "stage": record.get("stage")})


@rule("contact.verification.overdue", fields=("last_verified_at",), severity="warning", category="timeliness",
      seed="003", config="timeliness",
      message="Contact details {since} {days} days ago (re-verify every {threshold:g} days).")
def _verification(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003: verify and update contact information quarterly; seed 000: flag outdated contacts.

    A contact never verified counts from its creation, and the message says so.
    """
    verified = ctx.parse_datetime(record.get("last_verified_at"))
    when = verified or ctx.parse_datetime(record.get("created_at"))
    if when is None:
        return
    days = days_between(when, ctx.now)
    if days >= params.verify_days:
        since = "last verified" if verified is not None else "never verified; the contact was created"
        yield Hit("last_verified_at", record.get("last_verified_at"),
                  details={"days": day_count(days, params.verify_days), "threshold": params.verify_days,
                           "since": since})


def lead_status_in(record: dict[str, Any], statuses: frozenset[str], ctx: Any) -> bool:
    """The lead's status is one of `statuses` (picklist keys: 'Working - Contacted' is working_contacted; an
    alias in [picklist_aliases] lead_status as the status it stands for)."""
    status = record.get("status")
    return isinstance(status, str) and ctx.rules.picklist_value("lead_status", status) in statuses


def active_lead(record: dict[str, Any], ctx: Any) -> bool:
    """Not in one of timeliness.inactive_lead_statuses (compiled into the ruleset)."""
    return not lead_status_in(record, ctx.rules.inactive_lead_statuses, ctx)


def status_says_contacted(record: dict[str, Any], ctx: Any) -> bool:
    """The lead's status is one of `[timeliness] contacted_lead_statuses` ('Working - Contacted')."""
    return lead_status_in(record, ctx.rules.contacted_lead_statuses, ctx)


def status_says_engaged(record: dict[str, Any], ctx: Any) -> bool:
    """The lead's status says it answered and is being worked ('Connected', 'Working - Contacted',
    'Qualified'): one of `contacted_lead_statuses` that is none of `unanswered_lead_statuses` ('Attempted to
    Contact' says nobody answered yet)."""
    unanswered = ctx.rules.unanswered_lead_statuses
    return status_says_contacted(record, ctx) and not lead_status_in(record, unanswered, ctx)


def answered_when_unknown(record: dict[str, Any], ctx: Any) -> bool:
    """The lead was answered but no date says when: its status says so ('Working - Contacted'), or an
    activity was logged after it came in (Salesforce's LastActivityDate is a rep's call, email or task)."""
    if status_says_contacted(record, ctx):
        return True
    created = ctx.parse_datetime(record.get("created_at"))
    activity = ctx.parse_datetime(record.get("last_activity_at"))
    if created is None or activity is None:
        return False
    written = record.get("last_activity_at")
    if isinstance(written, str) and len(written.strip()) == 10:  # a date ('2024-06-15': Salesforce's
        return activity.date() >= created.date()                  # LastActivityDate) names a day, not midnight
    return activity > created


def first_response(record: dict[str, Any], ctx: Any) -> Any:
    """When the lead was first answered: `first_response_at`, else its last contact while its status does not
    say it is being worked (Salesforce has no first-response field; a lead contacted once was answered then),
    else None. A 'Working - Contacted' lead's last contact is no first response: it was answered at or before
    then, but when is unknown (one created on 1 November and last called on 4 December had waited '793 h').
    Nor is an inactive lead's ('Recycled', 'Inactive'): it went through the follow-up schedule before it was
    closed (one recycled and last called on Day 39 had waited '936 h')."""
    answered = ctx.parse_datetime(record.get("first_response_at"))
    if answered is None and not status_says_contacted(record, ctx) and active_lead(record, ctx):
        answered = ctx.parse_datetime(record.get("last_contacted_at"))
    return answered


@rule("lead.response.sla_breached", fields=("first_response_at", "created_at"), severity="warning",
      category="timeliness", seed="003", config="timeliness",
      message="Lead waited {waited}{during} for a first response; the standard is {threshold:g} h{during}.")
def _response_sla(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003: respond to new leads within 1 hour."""
    created = ctx.parse_datetime(record.get("created_at"))
    if created is None:
        return
    answered = first_response(record, ctx)
    if answered is None and (not active_lead(record, ctx) or answered_when_unknown(record, ctx)):
        return
    hours_open = params.business_hours
    if hours_open is None:
        hours = ((answered or ctx.now) - created).total_seconds() / 3600
    else:  # seed 003: within 1 hour during business hours (a lead in on Saturday is answered on Monday)
        hours = business_hours_between(created, answered or ctx.now, hours_open.start, hours_open.end,
                                       hours_open.days, hours_open.timezone)
    if hours > params.lead_response_hours:
        yield Hit("first_response_at", record.get("first_response_at"),
                  details={"hours": hours, "waited": wait_text(hours, params.lead_response_hours),
                           "threshold": params.lead_response_hours,
                           "during": "" if hours_open is None else " of business hours"})


@rule("lead.follow_up.due", fields=("last_contacted_at",), severity="info", category="timeliness",
      seed="003", config="timeliness", message="Day {day:g} of the follow-up schedule: {action}.")
def _follow_up(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003 follow-up schedule: Day 1, 3, 7 and 14, then mark inactive.

    The schedule is for a lead that has not answered ("Day 3: Follow-up if no response"): a lead whose status
    says it engaged (`status_says_engaged`: 'Connected', 'Working - Contacted', 'Qualified') is out of it,
    whatever its dates say; one 'Attempted to Contact' is still in it."""
    hit = follow_up_step(record, params, ctx)
    if hit is not None:
        yield hit


def follow_up_step(record: dict[str, Any], params: Any, ctx: Any) -> Hit | None:
    """The lead.follow_up.due finding of the lead's step of the schedule, else None."""
    created = ctx.parse_datetime(record.get("created_at"))
    if created is None or not active_lead(record, ctx) or status_says_engaged(record, ctx):
        return None
    reached = [d for d in sorted(params.follow_up_days) if created + timedelta(days=d) <= ctx.now]
    if not reached:
        return None
    step = reached[-1]
    # a follow-up counts from its own day on; the first step's initial response from the lead's arrival (one
    # made in its first hour satisfies Day 1)
    since = 0 if step == min(params.follow_up_days) else step
    # the latest contact known: the last one, or the first response when no later one is written (a lead
    # answered in ten minutes had 'the initial response due' on Day 1)
    contacted = max(filter(None, (ctx.parse_datetime(record.get("last_contacted_at")),
                                  ctx.parse_datetime(record.get("first_response_at")))), default=None)
    if contacted is None and answered_when_unknown(record, ctx):
        return None  # answered, but when is unknown: no step can be judged
    if contacted is not None and contacted >= created + timedelta(days=since):
        # (a lead its status says is being worked never gets here; one 'Attempted to Contact' is told too)
        if step == max(params.follow_up_days):
            named = f"{params.inactive_status!r} (inactive)" if params.inactive_status else "inactive"
            return Hit("status", record.get("status"), suggestion=params.inactive_status,
                       details={"day": step, "action": f"the final follow-up is done: mark the lead {named}"})
        return None
    action = ("the initial response and qualification are due" if step == min(params.follow_up_days)
              else "a follow-up is due")
    return Hit("last_contacted_at", record.get("last_contacted_at"), details={"day": step, "action": action})


@rule("lead.reengagement.due", fields=("last_contacted_at",), severity="info", category="timeliness",
      seed="003", config="timeliness",
      message="Lead not contacted for {days} days (re-engage after {threshold:g}): {action}.")
def _reengagement(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003 "Monthly: Re-engagement campaigns for inactive leads"; seed 001 "prospects ... who haven't
    been contacted in 30+ days": a lead last contacted `reengagement_days` ago or more, open or inactive, not
    converted.

    The last contact is the latest of last_contacted_at, first_response_at and last_activity_at, else the
    lead's creation; a lead answered at a time no date gives is not judged. An open lead still in the
    follow-up schedule (lead.follow_up.due reports its Day 14 follow-up or tells it to go inactive) is that
    rule's: the schedule ends at Day 14 and names the next step, so it is not told twice."""
    if lead_status_in(record, ctx.rules.no_reengagement_lead_statuses, ctx):
        return
    contacted = max(filter(None, (ctx.parse_datetime(record.get("last_contacted_at")),
                                  ctx.parse_datetime(record.get("first_response_at")),
                                  ctx.parse_datetime(record.get("last_activity_at")))), default=None)
    if contacted is None:
        if answered_when_unknown(record, ctx):
            return
        contacted = ctx.parse_datetime(record.get("created_at"))
        if contacted is None:
            return
    days = days_between(contacted, ctx.now)
    if days < params.reengagement_days:
        return
    active = active_lead(record, ctx)
    if active and "lead.follow_up.due" in ctx.rules.enabled and follow_up_step(record, params, ctx):
        return  # the follow-up schedule's
    action = "contact it again" if active else "add it to the monthly re-engagement campaign"
    yield Hit("last_contacted_at", record.get("last_contacted_at"),
              details={"days": day_count(days, params.reengagement_days),
                       "threshold": params.reengagement_days, "action": action})
