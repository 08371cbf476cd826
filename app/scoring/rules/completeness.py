"""Completeness: required fields per record type (weighted), recommended fields, unknown fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.models.records import KNOWN_FIELDS
from app.scoring.registry import Hit, rule
from app.scoring.values import get_path


def measure_completeness(record: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Weighted share of the record type's required fields that hold a value.

    A requirement marked `open_only` (an opportunity's next step) does not apply to a closed deal: it is
    neither filled nor missing there (listed as `not_applicable`), and `required` counts the requirements
    that applied.
    """
    requirements = ctx.rules.requirements[ctx.record_type]
    filled_fn, present = ctx.filled, ctx.present

    def holds(path: str) -> bool:  # a top-level field as `present` judged it, a nested one by its value
        if "." not in path:
            return path in present
        # an address's country its state implies (standardize.implied_country) is known
        return filled_fn(get_path(record, path)) or (path.endswith(".country") and _implied_country(
            record.get(path.split(".", 1)[0]), ctx) is not None)

    total = filled_weight = 0.0
    filled, applied, missing = 0, 0, []
    closed: bool | None = None
    skipped: list[str] = []
    for name, paths, any_of, weight, open_only in requirements:
        if open_only:
            if closed is None:
                closed = ctx.rules.closed_stage(record.get("stage"))
            if closed:
                skipped.append(name)
                continue
        if len(paths) == 1:
            ok = holds(paths[0])
        elif any_of:
            ok = any(map(holds, paths))
        else:
            ok = all(map(holds, paths))
        applied += 1
        total += weight
        if ok:
            filled += 1
            filled_weight += weight
        else:
            missing.append(name)
    score = round(filled_weight / total, 4) if total else 1.0
    measured = {"score": score, "filled": filled, "required": applied, "missing": missing}
    if skipped:
        measured["not_applicable"] = skipped  # a batch's completeness by field leaves the record out of these
    return measured


def _implied_country(address: Any, ctx: Any) -> str | None:
    # imported here: importing the standardisation rules first would register them before these (the
    # catalogue's and each report's order)
    from app.scoring.rules.standardize import implied_country

    return implied_country(address, ctx)


def _missing_required(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A required field (or group of alternatives) holds no value."""
    missing = ctx.completeness["missing"]
    if not missing:
        return
    by_name = {r.name: r for r in params.required}
    for name in missing:
        paths, mode = by_name[name].paths()
        yield Hit(name, details={"alternatives": (" or " if mode == "any" else " and ").join(paths)})


def _missing_recommended(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A field the seeds ask for, but not required to save the record, is empty."""
    present = ctx.present
    for path in params.recommended:
        if path not in present and ("." not in path or not ctx.filled(get_path(record, path))):
            yield Hit(path)


def _unknown_fields(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A field the canonical model does not define: kept, but reported so mappings can be fixed."""
    known = KNOWN_FIELDS[ctx.record_type]
    for key in record:
        if key not in known:
            yield Hit(str(key), value=record[key])


for _type, _seed in (("account", "000, 002, 004"), ("contact", "000, 002, 004"),
                     ("opportunity", "000, 004"), ("lead", "003, 004")):
    rule(f"{_type}.required.missing", fields=("*",), severity="warning", category="completeness",
         seed=_seed, config=f"completeness.{_type}",
         message="Required field {field} is missing (needs {alternatives}).",
         description=f"A required {_type} field is empty (seed {_seed}: all required fields populated, "
                     "95% completeness target).")(_missing_required)
    rule(f"{_type}.recommended.missing", fields=("*",), severity="info", category="completeness",
         seed="000", config=f"completeness.{_type}",
         message="Recommended field {field} is empty.",
         description=f"A {_type} field the seed 000 data-quality standard lists is empty.")(_missing_recommended)
    rule(f"{_type}.field.unknown", fields=("*",), severity="info", category="completeness", seed="004",
         message="Field {field} is not part of the canonical {record_type} record; it was kept but not judged.",
         description="Unmapped field (seed 004 field mapping validation).")(_unknown_fields)
