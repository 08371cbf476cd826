"""Lead scoring (seed 003): demographics 25, behaviour 50, engagement 25 points; total 0–100 and a grade."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.scoring.registry import Hit, rule
from app.scoring.rules.timeliness import active_lead, answered_when_unknown, first_response
from app.scoring.ruleset import BandTable
from app.scoring.values import get_path, is_yes, parse_count, parse_datetime, parse_number

_GROUP_SOURCE = {"demographics": None, "behavior": "behavior", "engagement": "engagement"}


def _count(value: Any, checked_counts: bool = True) -> float:
    """Counts from numbers, numeric text ('12', '12 visits') or, where `checked_counts`, booleans (a requested
    demo counts as 1, as does 'Yes'); a lead's own fields are no boxes to check (an employee_count of true
    earned the smallest size band)."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0 if checked_counts else 0.0
    if value.__class__ is int:  # the common case, as parse_number reads it
        return float(value) if value > 0 else 0.0
    number = parse_count(value)  # a size band ('51-200') by its lower bound
    if number is None and checked_counts:
        number = _activity_count(value)
    if number is None:  # a checked box, or the date it was done (HubSpot and Marketo export a demo request so)
        return 1.0 if checked_counts and (is_yes(value) or parse_datetime(value) is not None) else 0.0
    return number if number > 0 else 0.0


# a count with the word of what was counted after it: '12 visits', '3 downloads', '5 opens', '2x'
_COUNTED = re.compile(r"\s*([0-9][0-9,.]*)\s*(?:x|[^\W\d_]+\.?)\s*")


def _activity_count(value: Any) -> float | None:
    """The number of an activity count written with its noun ('12 visits' earned nothing, and was 'not a
    count'); None for other text."""
    matched = _COUNTED.fullmatch(value) if isinstance(value, str) and len(value) <= 40 else None
    return parse_number(matched.group(1)) if matched else None


def _earned(values: dict[str, Any], criteria: BandTable, checked_counts: bool = True) -> list[tuple[str, float, Any]]:
    """(criterion, points, value) of each criterion's highest band the values reach (`band_table` lists the
    bands most points first); each field is read and counted once, however many bands read it."""
    earned: list[tuple[str, float, Any]] = []
    counted: dict[str, tuple[Any, float]] = {}
    for criterion, bands in criteria:
        for field, least, points in bands:
            found = counted.get(field)
            if found is None:
                value = get_path(values, field)
                found = counted[field] = (value, _count(value, checked_counts))
            if found[1] >= least:
                earned.append((criterion, points, found[0]))
                break
    return earned


def _demographic_fit(record: dict[str, Any], ctx: Any) -> list[tuple[str, float, Any]]:
    """Industry fit against the ICP's target industries, and title relevance: by the title's seniority
    (`title_points`), or by keyword bands when the rules file lists them."""
    cfg = ctx.rules.file.lead_scoring
    scored: list[tuple[str, float, Any]] = []
    industry = record.get("industry")
    label = ctx.rules.industry(industry)
    if label:
        points = cfg.target_industry_points if label in cfg.target_industries else cfg.known_industry_points
        scored.append(("industry_fit", points, industry))
    title = record.get("title")
    if isinstance(title, str):
        if ctx.rules.title_bands is not None:  # the first band (most points) whose keyword is in the title
            lowered = ctx.rules.read_title(title)
            band = next((p for p, pattern in ctx.rules.title_bands if pattern.search(lowered)), None)
            if band is not None:
                scored.append(("title_relevance", band, title))
        else:
            points = cfg.title_points.get(ctx.rules.title_labels(title)[0], 0.0)
            if points:
                scored.append(("title_relevance", points, title))
    return scored


def score_lead(record: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """The lead's score with a per-criterion breakdown, so a rep can see why it is hot or cold."""
    result: dict[str, Any] = {"total": 0.0, "grade": "D", "breakdown": []}
    for group, (cap, criteria) in ctx.rules.score_groups.items():
        # the group's values: top-level fields (demographics) or inside the group's object
        values = record if _GROUP_SOURCE[group] is None else record.get(_GROUP_SOURCE[group])
        earned = _earned(values, criteria, group != "demographics") if isinstance(values, dict) else []
        if group == "demographics":
            earned.extend(_demographic_fit(record, ctx))
        earned_points = sum(p for _, p, _ in earned)
        subtotal = min(cap, earned_points)
        result[group] = subtotal
        result["total"] += subtotal
        result["breakdown"].extend({"group": group, "criterion": c, "points": p, "value": v} for c, p, v in earned)
        if earned_points > cap:  # so the breakdown adds up to the totals: what the group's cap took off
            result["breakdown"].append({"group": group, "criterion": f"{group}_cap", "points": cap - earned_points,
                                        "value": cap})
    for grade, floor in ctx.rules.lead_grades:
        if result["total"] >= floor:
            result["grade"] = grade
            break
    return result


@rule("lead.score.hot_not_contacted", fields=("first_response_at",), severity="warning", category="lead_scoring",
      seed="003", message="Grade {grade} lead (score {total:g}) has had no response yet; route it to a rep now.")
def _hot_lead_waiting(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003: route qualified, high-scoring leads to a sales rep quickly (an open lead nobody answered or
    contacted yet; a converted or disqualified one is routed already)."""
    score = ctx.lead_score
    best_grade = ctx.rules.lead_grades[0][0] if ctx.rules.lead_grades else None
    if score["grade"] == best_grade and first_response(record, ctx) is None and active_lead(record, ctx) \
            and "first_response_at" not in ctx.present and not answered_when_unknown(record, ctx):
        yield Hit("first_response_at", None, details={"grade": score["grade"], "total": score["total"]})


@rule("lead.activity.invalid", fields=("behavior", "engagement"), severity="warning", category="validity",
      seed="003", when_present=True, message="{field} {value!r} is not a count (or a yes/no, or the date it happened); it earned no "
                          "lead-scoring points.")
def _activity_invalid(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003 scores behaviour and engagement by counts: a value that is none ('lots', -2, 'n/a' where a
    number goes) scored 0 without a word, and a real demo request written oddly lost a grade."""
    for group, (_, criteria) in ctx.rules.score_groups.items():
        source = _GROUP_SOURCE[group]
        values = record.get(source) if source is not None else None
        if not isinstance(values, dict):
            continue
        for field in dict.fromkeys(f for _, bands in criteria for f, _, _ in bands):
            value = get_path(values, field)
            if value is None or value.__class__ is bool or (value.__class__ is int and value >= 0) \
                    or not ctx.filled(value):  # the common cases first
                continue
            number = parse_count(value)
            if number is None:
                number = _activity_count(value)
            if (number is not None and number < 0) or (number is None and not is_yes(value)
                                                       and not _is_no(value) and parse_datetime(value) is None):
                yield Hit(f"{source}.{field}", value)


def _is_no(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in {"false", "no", "n", "0"}
