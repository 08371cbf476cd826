"""`POST /v1/duplicates`: deduplicate a list of records, or link them against a reference list."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.responses import Response

from app.api.deps import OptionsDep, RulesDep, SettingsDep, parse_json, read_body, record_list
from app.api.problems import BodyTooLarge, InvalidParameter, NotARecord
from app.models.records import PLURALS
from app.scoring.matching.dedupe import find_duplicates
from app.scoring.type_names import record_type_named

router = APIRouter(prefix="/v1", tags=["duplicates"])
MATCHABLE_PLURALS = ("accounts", "contacts", "leads")
# a report's own record_type is singular: both spellings name the type (helper-61: "contact" was a 422), in
# any case, as NDJSON lines and webhooks read them (helper-79: "Contact" was a 422)
MATCHABLE_TYPES = frozenset(PLURALS[p] for p in MATCHABLE_PLURALS)


class DuplicatesRequest(BaseModel):
    record_type: Literal["accounts", "contacts", "leads", "account", "contact", "lead"] = Field(
        description="Singular or plural, in any case (`Contact`, `CONTACTS`).")
    records: list[dict[str, Any]]
    reference: list[dict[str, Any]] | None = Field(
        default=None, description="Records already known: pairs then link `records` (a) to `reference` (b).")
    threshold: float | None = Field(default=None, ge=0, le=1, description="Default: the rules file's.")


class Pair(BaseModel):
    a: str
    b: str
    score: float = Field(ge=0, le=1)
    fields: dict[str, float] = Field(description="Per-field similarity 0–1.")
    reasons: list[str]
    band: Literal["review", "auto_merge"]
    survivor: str
    merge_priority: Literal["high", "medium", "low"]
    merge_plan: dict[str, Any] = Field(description=(
        "Field → {value, from}: blanks filled from the other record; with `replaces`, the survivor's "
        "email or website that fails its check, replaced by the other record's usable one."))
    cluster_survivor: str | None = None


STATS_DESCRIPTION = ("`records`, `reference`, `pairs_compared`, `threshold`, `seconds`, and "
                     "`duplicate_rate`: the share of `records` that duplicate another (matched to the reference, when one is "
                     "given); null when there are no records: nothing was measured, as the batch's KPI says "
                     "then.")


class DuplicatesResponse(BaseModel):
    pairs: list[Pair]
    clusters: list[list[str]]
    stats: dict[str, Any] = Field(description=STATS_DESCRIPTION)


EXAMPLE = {"record_type": "contacts", "records": [
    {"id": "c1", "first_name": "Robert", "last_name": "Smith", "email": "bob.smith@acme.com",
     "phone": "(415) 555-0123", "decision_role": "economic_buyer"},
    {"id": "c2", "first_name": "Bob", "last_name": "Smith", "email": "Bob.Smith@ACME.com",
     "phone": "+1 415 555 0123", "title": "CFO"},
    {"id": "c3", "first_name": "Alice", "last_name": "Jones", "email": "alice@globex.com"}]}


def matchable_type(named: Any) -> str:
    """The record type `record_type` names (accounts, contacts or leads, singular or plural, any case); a 422
    problem naming `body.record_type` and saying what is wrong otherwise."""
    record_type = record_type_named(named)
    if record_type in MATCHABLE_TYPES:
        return record_type  # type: ignore[return-value]
    if named is None:
        msg = "missing"
    elif not isinstance(named, str):
        msg = "not a string"
    elif record_type is None:
        msg = f"unknown type {named[:50]!r}"
    else:
        msg = f"{named[:50]!r} records are not matched for duplicates"
    raise InvalidParameter(f"`record_type` must be accounts, contacts or leads (singular or plural, any "
                           f"case): {msg}.", [{"loc": "body.record_type", "msg": msg}])


@router.post("/duplicates", summary="Find duplicate records", response_model=DuplicatesResponse,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/DuplicatesRequest"},
                 "examples": {"dedupe": {"summary": "Three contacts, two of them the same person",
                                         "value": EXAMPLE}}}}}},
             responses={400: {"description": "Body is not JSON"},
                        413: {"description": "Too many records or body too large"},
                        422: {"description": "Not a list of records"}})
async def post_duplicates(request: Request, settings: SettingsDep, rules: RulesDep,
                          options: OptionsDep) -> Response:
    """Explained duplicate pairs, guarded clusters with survivors, merge plans and priorities."""
    body = parse_json(await read_body(request, settings.max_batch_body_bytes))
    if not isinstance(body, dict):
        raise NotARecord("Expected a JSON object.", [{"loc": "body", "msg": "must be a JSON object"}])
    record_type = matchable_type(body.get("record_type"))
    records = record_list(body.get("records"), "body.records")
    reference = record_list(body.get("reference"), "body.reference", required=False)
    threshold = body.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)
                                  or not 0 <= threshold <= 1):
        raise InvalidParameter("`threshold` must be a number from 0 to 1.",
                               [{"loc": "body.threshold", "msg": "number from 0 to 1"}])
    total = len(records or []) + len(reference or [])
    if total > settings.max_batch:
        raise BodyTooLarge(f"{total} records; the limit is {settings.max_batch} per call.", limit=settings.max_batch)
    result = await run_in_threadpool(find_duplicates, record_type, records or [], rules, reference=reference,
                                     threshold=threshold, region=options.default_region)
    return Response(orjson.dumps(result), media_type="application/json")
