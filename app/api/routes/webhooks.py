"""`POST /v1/webhooks/{salesforce,hubspot,generic}`: a CRM's payload in, reports out, signed if configured.

Salesforce and HubSpot payloads go through the field mappings (`app/adapters`); each finding then names the
CRM's field too (`source_field`). `?index=true` stores accounts, contacts and leads in the reference index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.adapters import Adapted, AdapterError, Mappings, adapt_payload, annotate
from app.adapters.convert import count_entries
from app.adapters.hubspot_events import EventBatch, from_hubspot_events, is_event_delivery, partial_report
from app.api.deps import (
    LARGE_BODY_BYTES,
    NOW_PARAMETER,
    flag_parameter,
    off_the_loop_if,
    parse_json,
    parse_now,
    query_flag,
    read_body,
)
from app.api.problems import BodyTooLarge, InvalidParameter, NotARecord, NotJson
from app.api.routes.batch import EntryError
from app.api.routes.score import MATCHABLE, judge_record, judge_record_blocking
from app.api.signatures import verify_body_signature, verify_hubspot
from app.api.webhook_examples import EXAMPLES
from app.config import Settings
from app.models.report import Accuracy, Completeness, Decision, Issue, Report
from app.scoring import Options, Ruleset
from app.scoring.batch import not_a_record
from app.scoring.matching import index
from app.scoring.summary import is_duplicate_record
from app.scoring.type_names import TYPE_NAMES, record_type_named
from app.scoring.values import id_text

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
log = logging.getLogger("crm_dq")


# A CRM calls these on every record save: the endpoints take only the request and read their parameters
# themselves (`read_call`), since FastAPI's resolution of eight declared parameters cost about as much as
# scoring the record (bench/load.sh). `webhook_doc` documents them as FastAPI would.
INDEX_PARAMETER = flag_parameter("index", "Also upsert accounts, contacts and leads into the reference index "
                                          "(records need an id); a record the CRM deleted or merged away is "
                                          "removed from it instead.")
TYPE_DESCRIPTION = ("Object type when the payload does not say: a Salesforce sObject (`Contact`), a HubSpot "
                    "object type (`contacts`, `companies`, `deals`) or a canonical type (`contact`).")
CRM_DQ_SIGNATURE = ("X-CRM-DQ-Signature", "`sha256=<hex HMAC-SHA256 of the raw body>` keyed with "
                                          "CRM_DQ_WEBHOOK_SECRET; required when it is set.")
HUBSPOT_SIGNATURE = ("X-HubSpot-Signature-v3", "base64 HMAC-SHA256 of method + URI + body + timestamp keyed "
                                               "with CRM_DQ_HUBSPOT_CLIENT_SECRET; required when it is set.")
HUBSPOT_TIMESTAMP = ("X-HubSpot-Request-Timestamp", "Milliseconds since the epoch, in digits; refused when "
                                                    "it is not one, or more than 5 minutes from now.")


def optional_text(where: str, name: str, description: str) -> dict[str, Any]:
    """The OpenAPI entry of an optional text header or query parameter."""
    return {"in": where, "name": name, "required": False, "description": description,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": description,
                       "title": name}}


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """What every webhook reads besides its body: the app's state and the query parameters."""

    settings: Settings
    rules: Ruleset
    options: Options
    mappings: Mappings
    now: datetime
    index_record: bool
    object_type: str | None


def read_call(request: Request) -> WebhookCall:
    """The state loaded at start-up and `?now=`, `?index=`, `?type=` (422 problems naming a bad one)."""
    state, query = request.app.state, request.query_params
    now = parse_now(query.get("now"))
    return WebhookCall(state.settings, state.rules, state.options, state.mappings, now,
                       query_flag(request, "index"), query.get("type"))


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


class RemovedRecord(BaseModel):
    """A record the CRM says it deleted or merged away: not judged (its data quality is moot) and never
    indexed; with ?index=true it leaves the reference index, so no live record is its duplicate any more."""

    record_type: Literal["account", "contact", "opportunity", "lead"]
    record_id: str | None
    source: SourceRef
    removed: Literal["deleted", "merged"] = Field(description=(
        "`deleted`: a flag of the record says so (Salesforce `IsDeleted`, HubSpot `archived` or "
        "`isDeleted`); `merged`: it was merged into another record (Salesforce `MasterRecordId`)."))
    source_field: str = Field(examples=["IsDeleted"], description="The CRM field that says so.")
    merged_into: str | None = Field(default=None, examples=["003D000000QV9n2IAD"],
                                    description="A merged record: the record that survived the merge.")
    note: str
    indexed: bool | None = Field(default=None,
                                 description="With ?index=true: false, the record is not stored.")
    unindexed: bool | None = Field(default=None, description=(
        "With ?index=true (accounts, contacts, leads): whether the record was in the reference index and was "
        "removed from it."))


class WebhookResponse(BaseModel):
    """One report per record received, in the order received; an entry that is no record (an sObject type
    with no mapping, a non-object) keeps its place with its own error, as in /v1/batch; a record the CRM
    deleted or merged away gets a `RemovedRecord` instead of a report."""

    results: list[WebhookReport | RemovedRecord | EntryError]


class ChangedProperty(BaseModel):
    property: str = Field(examples=["email"], description="The HubSpot property that changed.")
    field: str | None = Field(examples=["email"], description=(
        "The canonical field it maps to; null for a property the mappings ignore (calculated hs_*)."))
    value: Any = Field(default=None, examples=["bcooper@biglytics"])


class PartialReport(BaseModel):
    """The findings about one object's changed properties (HubSpot property-change notifications)."""

    record_type: Literal["account", "contact", "opportunity", "lead"]
    record_id: str = Field(description="HubSpot's objectId.")
    partial: Literal[True] = True
    source: SourceRef
    event_ids: list[Any] = Field(description="The eventIds whose changes this record holds, oldest first.")
    changed: list[ChangedProperty]
    accuracy: Accuracy
    issues: list[SourcedIssue] = Field(description="Findings about the changed properties only.")
    counts: dict[str, int]
    normalized: dict[str, Any]
    decision: Decision
    note: str = Field(description="Why completeness and the quality score are not reported.")
    rules_version: str
    indexed: bool | None = Field(default=None, description=(
        "With ?index=true (accounts, contacts): whether the changed properties were stored in the reference "
        "index, over what it already held of the object."))


class AcknowledgedEvent(BaseModel):
    event_id: Any = None
    subscription_type: str = Field(examples=["contact.creation"])
    object: str = Field(examples=["contacts"])
    object_id: str | None = None
    status: Literal["acknowledged", "ignored", "rejected"] = Field(description=(
        "`ignored` for an object type with no mapping (tickets, products, …); `rejected` for an event that is "
        "not well formed (`loc` names what is wrong); the delivery's other events count all the same."))
    note: str
    loc: str | None = Field(default=None, examples=["body.3.objectId"],
                            description="A rejected event: the path of what is missing or wrong.")
    merged_object_ids: list[str] | None = Field(default=None, examples=[["1201"]], description=(
        "A merge: the objects it merged away (`mergedObjectIds`, never the surviving object)."))
    unindexed: bool | None = Field(default=None, description=(
        "With ?index=true, a deletion or a merge: whether the deleted (or merged-away) objects were removed "
        "from the reference index."))


class EventSummary(BaseModel):
    received: int = Field(description="Events in the delivery.")
    property_changes: int = Field(description="Property-change events scored (grouped into `results`).")
    acknowledged: list[AcknowledgedEvent]


class HubSpotEventsResponse(BaseModel):
    """The answer to a delivery of HubSpot event notifications: one partial report per changed object."""

    results: list[PartialReport]
    events: EventSummary


def webhook_doc(path: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    """The OpenAPI parameters (signature headers, index, type, now) and request examples of one webhook."""
    parameters = [*(optional_text("header", name, text) for name, text in headers), INDEX_PARAMETER,
                  optional_text("query", "type", TYPE_DESCRIPTION), NOW_PARAMETER]
    return {"parameters": parameters, "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object"}, "examples": EXAMPLES[path]}}}}


# a record to judge (type, record, provenance), or a payload entry's own error (`entry_error`)
Item = tuple[str, dict[str, Any], Adapted | None] | dict[str, Any]
# Payloads of more entries are adapted and judged in a worker thread: on the event loop 2,000 records held
# every other request (/healthz too) for 0.9 s. A record save stays on the loop, where the hop cost more than
# scoring it (bench/load.sh). So does a body over LARGE_BODY_BYTES, whatever it holds (one record of 900,000
# fields held the loop for 6-21 s; helper-58).
LOOP_MOST = 20


def check_count(entries: int, call: WebhookCall) -> None:
    """A 413 problem for a payload of more than CRM_DQ_MAX_BATCH entries, counted before any is adapted."""
    if entries > call.settings.max_batch:
        raise BodyTooLarge(f"{entries} records; the limit is {call.settings.max_batch} per call.",
                           limit=call.settings.max_batch)


async def respond(request: Request, items: list[Item], call: WebhookCall, large: bool) -> Response:
    """Score (and index) each record and count it as `webhook` (summed, written later: `record_soon`); a
    `large` body's in a worker thread."""
    check_count(len(items), call)
    if large or len(items) > LOOP_MOST:
        results = await run_in_threadpool(judge_items, request, items, call)
        content = await run_in_threadpool(orjson.dumps, {"results": results})  # megabytes for 2,000 records
        return Response(content, media_type="application/json")
    results, metrics = [], request.app.state.metrics
    for item in items:
        if isinstance(item, dict):
            results.append(item)
            continue
        record_type, record, adapted = item
        if adapted is not None and adapted.removal is not None:
            results.append(await run_in_threadpool(removed_record, request, adapted, call)
                           if call.index_record else removed_record(request, adapted, call))
            continue
        report = await judge_record(request, record_type, record, call.rules, call.options, call.now, None,
                                    call.index_record)
        if adapted is not None:
            annotate(report, adapted, call.rules)
        metrics.record_soon(report, "webhook", is_duplicate_record(report))
        results.append(report)
    return Response(orjson.dumps({"results": results}), media_type="application/json")


def judge_items(request: Request, items: list[Item], call: WebhookCall) -> list[dict[str, Any]]:
    """`respond` for a large payload, in a worker thread: each record judged as `judge_record` does, and all
    of them counted as `webhook` at once (as /v1/batch counts in its thread)."""
    results, tally = [], request.app.state.metrics.tally("webhook")
    for item in items:
        if isinstance(item, dict):
            results.append(item)
            continue
        record_type, record, adapted = item
        if adapted is not None and adapted.removal is not None:
            results.append(removed_record(request, adapted, call))
            continue
        report = judge_record_blocking(request, record_type, record, call.rules, call.options, call.now,
                                       call.index_record)
        if adapted is not None:
            annotate(report, adapted, call.rules)
        tally.add(report)
        if report["duplicates"]:
            tally.add_duplicates(record_type, 1)
        results.append(report)
    tally.flush()
    return results


REMOVED_NOTE = {"deleted": "Deleted in {system} ({field} is true)",
                "merged": "Merged into {survivor} in {system} ({field})"}


def removed_record(request: Request, adapted: Adapted, call: WebhookCall) -> dict[str, Any]:
    """The answer for a record the CRM deleted or merged away: not judged, never indexed, and with ?index=true
    removed from the reference index (blocking with ?index=true: call it off the event loop then)."""
    removal, record_type = adapted.removal, adapted.record_type
    assert removal is not None
    rid = id_text(adapted.record.get("id")) or None
    system = {"salesforce": "Salesforce", "hubspot": "HubSpot"}.get(adapted.source, adapted.source)
    note = REMOVED_NOTE[removal.kind].format(system=system, field=removal.source_field,
                                             survivor=removal.merged_into)
    entry: dict[str, Any] = {
        "record_type": record_type, "record_id": rid,
        "source": {"system": adapted.source, "object": adapted.object},
        "removed": removal.kind, "source_field": removal.source_field, "merged_into": removal.merged_into,
        "note": f"{note}: not judged, as its data quality is moot, and never indexed; with ?index=true it is "
                "removed from the reference index, so no live record is matched against it."}
    if call.index_record:
        entry["indexed"] = False
        if record_type in MATCHABLE:
            entry["unindexed"] = unindex_record(request, record_type, rid) if rid else False
    return entry


def unindex_record(request: Request, record_type: str, rid: str) -> bool:
    """Remove one record from the reference index; False when it was not there or the store failed."""
    try:
        return index.delete_record(request.app.state.engine, record_type, rid)
    except SQLAlchemyError as exc:
        log.warning("index delete failed: %s", type(exc).__name__)
        return False


def entry_error(index: int, loc: str, msg: str) -> dict[str, Any]:
    """A payload entry that is no record: it keeps its place and gets its own error, as /v1/batch's do."""
    return not_a_record(index, msg[:300], {"loc": loc, "msg": msg})


async def respond_adapted(request: Request, source: str, payload: Any, call: WebhookCall,
                          large: bool) -> Response:
    """Salesforce or HubSpot objects: counted, adapted through the mappings, then judged (a large payload
    counted and adapted in a worker thread, as it is judged)."""
    entries = await off_the_loop_if(large, count_entries, source, payload)
    check_count(entries, call)
    items = await off_the_loop_if(large or entries > LOOP_MOST, _adapt, source, payload, call)
    return await respond(request, items, call, large)


def _adapt(source: str, payload: Any, call: WebhookCall) -> list[Item]:
    """The payload's records with their provenance, each bad entry as its own error."""
    try:
        adapted = adapt_payload(source, payload, call.mappings, call.object_type)
    except AdapterError as exc:
        errors = [{"loc": exc.loc, "msg": exc.msg}]
        if exc.loc.startswith("query."):
            raise InvalidParameter(exc.msg, errors) from None
        raise NotARecord(f"Not a record this webhook knows: {exc.msg}", errors) from None
    return some_records([entry_error(n, a.loc, a.msg) if isinstance(a, AdapterError)
                         else (a.record_type, a.record, a) for n, a in enumerate(adapted)])


def some_records(items: list[Item]) -> list[Item]:
    """The entries, unless every one is an error: a payload with no record in it is a 422 naming each entry
    (an empty list is an empty answer: an empty query result, a page with nothing left)."""
    errors = [item for item in items if isinstance(item, dict)]
    if items and len(errors) == len(items):
        detail = errors[0]["error"]["detail"]
        raise NotARecord(f"Not a record this webhook knows: {detail}",
                         [e for entry in errors[:100] for e in entry["error"]["errors"]])
    return items


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Body is not JSON"}, 401: {"description": "Signature missing, wrong or stale"},
    413: {"description": "Body too large"},
    415: {"description": "Body is XML (a Salesforce Outbound Message's SOAP): JSON only"},
    422: {"description": "Not a record of a known object type"}}


NOT_JSON = ("This webhook takes JSON (`application/json`), not XML. Salesforce Outbound Messages (SOAP) are "
            "not supported: post the record as JSON from a Flow's HTTP callout or from Apex instead.")


def refuse_xml(request: Request) -> None:
    """A 415 problem for a body declared as XML (`text/xml`, `application/soap+xml`, …), before anything is
    read: an Outbound Message cannot carry a signature header, so it would otherwise be told only that one is
    missing."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media in ("text/xml", "application/xml") or media.endswith("+xml"):
        raise NotJson(NOT_JSON, [{"loc": "header.content-type", "msg": f"{media} is not JSON"}])


def parse_webhook_json(body: bytes) -> Any:
    """`parse_json`, with a 415 problem for an XML body sent under another content type."""
    if body.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"<":
        raise NotJson(NOT_JSON, [{"loc": "body", "msg": "is XML, not JSON"}])
    return parse_json(body)


async def read_webhook_body(request: Request, call: WebhookCall) -> bytearray:
    """The raw body, up to CRM_DQ_MAX_WEBHOOK_BODY_BYTES: a webhook carries a query result too (a 2,000-record
    Salesforce page is about 1.3 MB, over the single-record limit), but it is read before its signature is
    checked, and a signed webhook needs no API key, so not up to the batch limit (an unsigned 300 MB POST grew
    a worker by 600 MB before its 401)."""
    return await read_body(request, call.settings.max_webhook_body_bytes)


async def read_signed_payload(request: Request, call: WebhookCall) -> tuple[Any, bool]:
    """The parsed body, once its `X-CRM-DQ-Signature` is checked (whenever CRM_DQ_WEBHOOK_SECRET is set), and
    whether it is large (checked and parsed in a worker thread then)."""
    refuse_xml(request)
    secret, signature = call.settings.webhook_secret, request.headers.get(CRM_DQ_SIGNATURE[0])
    if not signature:  # refused (when signing is on) before a byte of the body is read
        verify_body_signature(secret, signature, b"")
    body = await read_webhook_body(request, call)
    large = len(body) > LARGE_BODY_BYTES
    return await off_the_loop_if(large, signed_payload, secret, signature, body), large


def signed_payload(secret: SecretStr | None, signature: str | None, body: bytes) -> Any:
    """`parse_webhook_json` of a body whose signature is checked first."""
    verify_body_signature(secret, signature, body)
    return parse_webhook_json(body)


@router.post("/salesforce", response_model=WebhookResponse, summary="Score Salesforce sObjects",
             openapi_extra=webhook_doc("salesforce", [CRM_DQ_SIGNATURE]), responses=RESPONSES)
async def webhook_salesforce(request: Request) -> Response:
    """Score sObject JSON as the REST API returns it: one record or a query result (`records`)."""
    call = read_call(request)
    payload, large = await read_signed_payload(request, call)
    return await respond_adapted(request, "salesforce", payload, call, large)


async def respond_events(request: Request, payload: Any, call: WebhookCall, large: bool) -> Response:
    """HubSpot event notifications: partial reports of the changed objects, every other event acknowledged
    (deletions also leave the reference index with ?index=true). Always 200 for well-formed events: HubSpot
    retries a delivery it did not get a 2xx for."""
    received = len(payload) if isinstance(payload, list) else 1
    check_count(received, call)
    if large or received > LOOP_MOST:
        batch, results = await run_in_threadpool(judge_events, request, payload, call)
    else:
        batch, results = read_events(payload, call), []
        metrics = request.app.state.metrics
        for change in batch.changes:
            report = partial_report(change, call.rules, call.now, call.options)
            if call.index_record and change.adapted.record_type in MATCHABLE:
                report["indexed"] = await _index_changes(request, change.adapted, call)
            metrics.record_partial(report)
            results.append(report)
    if call.index_record:
        for ack in batch.acknowledged:
            await _unindex(request, call.mappings, ack)
    summary = {"received": batch.received, "property_changes": sum(len(c.event_ids) for c in batch.changes),
               "acknowledged": batch.acknowledged}
    return Response(orjson.dumps({"results": results, "events": summary}), media_type="application/json")


def read_events(payload: Any, call: WebhookCall) -> EventBatch:
    """The delivery's events grouped per object; a 422 problem for one that is no event at all."""
    try:
        return from_hubspot_events(payload, call.mappings)
    except AdapterError as exc:
        raise NotARecord(f"Not a HubSpot event this webhook knows: {exc.msg}",
                         [{"loc": exc.loc, "msg": exc.msg}]) from None


def judge_events(request: Request, payload: Any,
                 call: WebhookCall) -> tuple[EventBatch, list[dict[str, Any]]]:
    """`respond_events` for a large delivery, in a worker thread: the events grouped, each changed object
    judged (and indexed with ?index=true) and counted, all at once (as `judge_items` counts its records)."""
    batch, results, tally = read_events(payload, call), [], request.app.state.metrics.tally("webhook")
    for change in batch.changes:
        report = partial_report(change, call.rules, call.now, call.options)
        if call.index_record and change.adapted.record_type in MATCHABLE:
            report["indexed"] = index_changes(request, change.adapted, call)
        tally.add_partial(report)
        results.append(report)
    tally.flush()
    return batch, results


async def _index_changes(request: Request, adapted: Adapted, call: WebhookCall) -> bool:
    """`index_changes` in a worker thread."""
    return await run_in_threadpool(index_changes, request, adapted, call)


def index_changes(request: Request, adapted: Adapted, call: WebhookCall) -> bool:
    """Store an object's changed properties over what the index holds of it (or as all it knows so far)."""
    record_type, changed = adapted.record_type, adapted.record
    rid = id_text(changed.get("id"))
    if not rid or index.id_problem(rid):
        return False
    engine, model = request.app.state.engine, call.rules.match_models[record_type]
    try:
        index.update_record(engine, record_type, rid, changed, model, call.options.default_region)
    except SQLAlchemyError as exc:
        log.warning("index update failed: %s", type(exc).__name__)
        return False
    return True


async def _unindex(request: Request, mappings: Mappings, ack: dict[str, Any]) -> None:
    """A deleted HubSpot object, or one merged into another, leaves the reference index (it must not be
    anyone's duplicate any more)."""
    action = ack["subscription_type"].rpartition(".")[2]
    mapping = mappings.object("hubspot", ack["object"]) if ack["status"] == "acknowledged" else None
    if mapping is None or mapping.record_type not in MATCHABLE:
        return
    if action in ("deletion", "privacyDeletion") and ack["object_id"] is not None:
        gone = [ack["object_id"]]
    elif action == "merge" and ack.get("merged_object_ids"):
        gone = ack["merged_object_ids"]
    else:
        return
    removed = [await run_in_threadpool(unindex_record, request, mapping.record_type, str(rid)) for rid in gone]
    ack["unindexed"] = any(removed)


@router.post("/hubspot", response_model=WebhookResponse | HubSpotEventsResponse,
             summary="Score HubSpot CRM objects or event notifications",
             openapi_extra=webhook_doc("hubspot", [HUBSPOT_SIGNATURE, HUBSPOT_TIMESTAMP]), responses=RESPONSES)
async def webhook_hubspot(request: Request) -> Response:
    """Score CRM v3 companies, contacts and deals (one object, `{"results": […]}` or `{"inputs": […]}`), or an
    app's event notifications (a JSON array of `contact.propertyChange`, `deal.creation`, … events): the
    changed properties of each object are judged as a partial record, other events acknowledged."""
    call = read_call(request)
    refuse_xml(request)
    secret, headers = call.settings.hubspot_client_secret, request.headers
    signature, timestamp = headers.get(HUBSPOT_SIGNATURE[0]), headers.get(HUBSPOT_TIMESTAMP[0])
    if not signature or not timestamp:  # refused (when signing is on) before a byte of the body is read
        verify_hubspot(secret, signature, timestamp, request.method, str(request.url), b"")
    body = await read_webhook_body(request, call)
    large = len(body) > LARGE_BODY_BYTES
    signed = (secret, signature, timestamp, request.method, str(request.url), body)
    payload, events = await off_the_loop_if(large, hubspot_payload, *signed)
    if events:
        return await respond_events(request, payload, call, large)
    return await respond_adapted(request, "hubspot", payload, call, large)


def hubspot_payload(secret: SecretStr | None, signature: str | None, timestamp: str | None, method: str,
                    uri: str, body: bytes) -> tuple[Any, bool]:
    """`parse_webhook_json` of a body whose HubSpot signature is checked first, and whether it is a delivery
    of event notifications."""
    verify_hubspot(secret, signature, timestamp, method, uri, body)
    payload = parse_webhook_json(body)
    return payload, is_event_delivery(payload)


@router.post("/generic", response_model=WebhookResponse, summary="Score canonical records from any CRM",
             openapi_extra=webhook_doc("generic", [CRM_DQ_SIGNATURE]), responses=RESPONSES)
async def webhook_generic(request: Request) -> Response:
    """Score canonical records: `{"type": "contact", …fields}`, a list of them, or `{"records": […]}`."""
    call = read_call(request)
    payload, large = await read_signed_payload(request, call)
    items = await off_the_loop_if(large, generic_items, payload, call)
    return await respond(request, items, call, large)


def generic_items(payload: Any, call: WebhookCall) -> list[Item]:
    """The canonical records of a generic payload, each entry that is none as its own error."""
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        entries, where = payload["records"], "body.records."
    elif isinstance(payload, list):
        entries, where = payload, "body."
    else:
        entries, where = [payload], ""
    check_count(len(entries), call)
    hinted = query_type(call.object_type)
    items: list[Item] = []
    for i, entry in enumerate(entries):
        loc = f"{where}{i}" if where else "body"
        if not isinstance(entry, dict):
            items.append(entry_error(i, loc, "must be a JSON object"))
            continue
        record = dict(entry)
        kind = record.pop("type", None)
        record_type = hinted if kind is None or kind == "" else record_type_named(kind)
        if record_type is None:
            items.append(entry_error(i, f"{loc}.type", entry_type_problem(kind)))
            continue
        items.append((record_type, record, None))
    return some_records(items)


def query_type(named: str | None) -> str | None:
    """The record type `?type=` names for entries without their own `type`, or None; a 422 problem naming
    `query.type` for a name that is no type (the entries' own types may be fine: the query is still wrong)."""
    if named is None:
        return None
    record_type = record_type_named(named)
    if record_type is None:
        raise InvalidParameter(f"Unknown type {named[:50]!r} in ?type=; the types are {TYPE_NAMES}.",
                               [{"loc": "query.type", "msg": f"unknown type {named[:50]!r}"}])
    return record_type


def entry_type_problem(kind: Any) -> str:
    """Why an entry's own `type` (or the lack of one, with no ?type=) names no record type."""
    if kind is None or kind == "":
        return f"needs a `type` ({TYPE_NAMES}) or ?type="
    if not isinstance(kind, str):
        return f"`type` must be a string: {TYPE_NAMES}"
    return f"unknown type {kind[:50]!r}; the types are {TYPE_NAMES}"


# The same endpoints with a trailing slash (`/v1/webhooks/hubspot/`), undocumented: the app answered them with
# a 307 redirect, which a CRM does not follow with its POST, so the call was lost. A HubSpot signature covers
# the URI HubSpot called, slash included.
for _path, _endpoint in (("/salesforce/", webhook_salesforce), ("/hubspot/", webhook_hubspot),
                         ("/generic/", webhook_generic)):
    router.add_api_route(_path, _endpoint, methods=["POST"], include_in_schema=False,
                         name=f"{_endpoint.__name__}_slash")
