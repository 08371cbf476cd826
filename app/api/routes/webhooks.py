"""`POST /v1/webhooks/{salesforce,hubspot,generic}`: a CRM's payload in, reports out, signed if configured.

Salesforce and HubSpot payloads go through the field mappings (`app/adapters`); each finding then names the
CRM's field too (`source_field`). `?index=true` stores accounts, contacts and leads in the reference index.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field
from starlette.background import BackgroundTasks
from starlette.responses import Response

from app.adapters import Adapted, AdapterError, Mappings, annotate, from_hubspot, from_salesforce
from app.api.deps import NowDep, OptionsDep, RulesDep, SettingsDep, parse_json, read_body
from app.api.problems import NotARecord
from app.api.routes.score import judge_record
from app.api.signatures import verify_body_signature, verify_hubspot
from app.api.webhook_examples import EXAMPLES
from app.models.records import PLURALS, RECORD_MODELS
from app.models.report import Completeness, Issue, Report

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


async def get_mappings(request: Request) -> Mappings:
    """The field mappings loaded at start-up."""
    return request.app.state.mappings  # type: ignore[no-any-return]


MappingsDep = Annotated[Mappings, Depends(get_mappings)]
IndexQuery = Annotated[bool, Query(alias="index", description="Also upsert accounts, contacts and leads into "
                                                              "the reference index (records need an id).")]
TypeQuery = Annotated[str | None, Query(alias="type", description=(
    "Object type when the payload does not say: a Salesforce sObject (`Contact`), a HubSpot object type "
    "(`contacts`, `companies`, `deals`) or a canonical type (`contact`)."))]
CrmDqSignature = Annotated[str | None, Header(alias="X-CRM-DQ-Signature", description=(
    "`sha256=<hex HMAC-SHA256 of the raw body>` keyed with CRM_DQ_WEBHOOK_SECRET; required when it is set."))]


class SourcedIssue(Issue):
    source_field: str | None = Field(default=None, examples=["Email"],
                                     description="The CRM's field (or fields) behind `field`, when known.")


class SourcedCompleteness(Completeness):
    missing_source_fields: dict[str, str | None] = Field(default={}, examples=[{
        "title": "Title", "full_name": "FirstName, LastName", "phone": "Phone or MobilePhone",
        "decision_role": None}], description=(
        "Each missing requirement → the CRM field(s) to fill (all of them joined by `, `, either by ` or `); "
        "null when no CRM field is mapped to it (map one in CRM_DQ_MAPPINGS_FILE)."))


class SourceRef(BaseModel):
    system: str = Field(examples=["salesforce"])
    object: str = Field(examples=["Contact"])


class WebhookReport(Report):
    completeness: SourcedCompleteness
    issues: list[SourcedIssue]  # type: ignore[assignment]
    source: SourceRef | None = Field(default=None, description="The CRM object the record came from.")


class WebhookResponse(BaseModel):
    """One report per record received, in the order received."""

    results: list[WebhookReport]


def _example(path: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object"}, "examples": EXAMPLES[path]}}}}


async def respond(request: Request, items: list[tuple[str, dict[str, Any], Adapted | None]], rules: Any,
                  options: Any, now: Any, index_record: bool) -> Response:
    """Score (and index) each record; count them as `webhook` after the response is sent."""
    results, tasks = [], BackgroundTasks()
    metrics = request.app.state.metrics
    for record_type, record, adapted in items:
        report = await judge_record(request, record_type, record, rules, options, now, None, index_record)
        if adapted is not None:
            annotate(report, adapted, rules)
        tasks.add_task(metrics.record_later, report, "webhook", bool(report["duplicates"]))
        results.append(report)
    return Response(orjson.dumps({"results": results}), media_type="application/json", background=tasks)


def adapted_items(adapted: list[Adapted]) -> list[tuple[str, dict[str, Any], Adapted | None]]:
    """The adapters' records as (type, record, provenance)."""
    return [(a.record_type, a.record, a) for a in adapted]


def _adapt(convert: Any, payload: Any, mappings: Mappings, hint: str | None) -> list[Adapted]:
    try:
        adapted: list[Adapted] = convert(payload, mappings, hint)
    except AdapterError as exc:
        errors = [{"loc": exc.loc, "msg": exc.msg}]
        raise NotARecord(f"Not a record this webhook knows: {exc.msg}", errors) from None
    if not adapted:
        raise NotARecord("The payload holds no records.", [{"loc": "body", "msg": "no records"}])
    return adapted


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Body is not JSON"}, 401: {"description": "Signature missing, wrong or stale"},
    413: {"description": "Body too large"}, 422: {"description": "Not a record of a known object type"}}


@router.post("/salesforce", response_model=WebhookResponse, summary="Score Salesforce sObjects",
             openapi_extra=_example("salesforce"), responses=RESPONSES)
async def webhook_salesforce(request: Request, settings: SettingsDep, rules: RulesDep, options: OptionsDep,
                             now: NowDep, mappings: MappingsDep, signature: CrmDqSignature = None,
                             index_record: IndexQuery = False, object_type: TypeQuery = None) -> Response:
    """Score sObject JSON as the REST API returns it: one record or a query result (`records`)."""
    body = await read_body(request, settings.max_body_bytes)
    verify_body_signature(settings.webhook_secret, signature, body)
    adapted = _adapt(from_salesforce, parse_json(body), mappings, object_type)
    return await respond(request, adapted_items(adapted), rules, options, now, index_record)


@router.post("/hubspot", response_model=WebhookResponse, summary="Score HubSpot CRM objects",
             openapi_extra=_example("hubspot"), responses=RESPONSES)
async def webhook_hubspot(
    request: Request, settings: SettingsDep, rules: RulesDep, options: OptionsDep, now: NowDep,
    mappings: MappingsDep,
    signature: Annotated[str | None, Header(alias="X-HubSpot-Signature-v3", description=(
        "base64 HMAC-SHA256 of method + URI + body + timestamp keyed with CRM_DQ_HUBSPOT_CLIENT_SECRET; "
        "required when it is set."))] = None,
    timestamp: Annotated[str | None, Header(alias="X-HubSpot-Request-Timestamp", description=(
        "Milliseconds since the epoch; refused when more than 5 minutes from now."))] = None,
    index_record: IndexQuery = False, object_type: TypeQuery = None,
) -> Response:
    """Score CRM v3 companies, contacts and deals: one object, `{"results": […]}` or `{"inputs": […]}`."""
    body = await read_body(request, settings.max_body_bytes)
    verify_hubspot(settings.hubspot_client_secret, signature, timestamp, request.method, str(request.url),
                   body)
    adapted = _adapt(from_hubspot, parse_json(body), mappings, object_type)
    return await respond(request, adapted_items(adapted), rules, options, now, index_record)


@router.post("/generic", response_model=WebhookResponse, summary="Score canonical records from any CRM",
             openapi_extra=_example("generic"), responses=RESPONSES)
async def webhook_generic(request: Request, settings: SettingsDep, rules: RulesDep, options: OptionsDep,
                          now: NowDep, signature: CrmDqSignature = None, index_record: IndexQuery = False,
                          object_type: TypeQuery = None) -> Response:
    """Score canonical records: `{"type": "contact", …fields}`, a list of them, or `{"records": […]}`."""
    body = await read_body(request, settings.max_body_bytes)
    verify_body_signature(settings.webhook_secret, signature, body)
    payload = parse_json(body)
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        entries, where = payload["records"], "body.records."
    elif isinstance(payload, list):
        entries, where = payload, "body."
    else:
        entries, where = [payload], ""
    items: list[tuple[str, dict[str, Any], Adapted | None]] = []
    for i, entry in enumerate(entries):
        loc = f"{where}{i}" if where else "body"
        if not isinstance(entry, dict):
            raise NotARecord("Every entry must be a JSON object.", [{"loc": loc, "msg": "must be an object"}])
        record = dict(entry)
        kind = record.pop("type", None) or object_type
        record_type = PLURALS.get(str(kind).lower(), str(kind).lower()) if kind else None
        if record_type not in RECORD_MODELS:
            raise NotARecord("Each record needs a `type` (account, contact, opportunity, lead) or ?type=.",
                             [{"loc": f"{loc}.type", "msg": "must be account, contact, opportunity or lead"}])
        items.append((record_type, record, None))
    if not items:
        raise NotARecord("The payload holds no records.", [{"loc": "body", "msg": "no records"}])
    return await respond(request, items, rules, options, now, index_record)

