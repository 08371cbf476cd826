"""The reference index: records already known, so one saved record can be matched against them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from app.api.deps import EngineDep, OptionsDep, RulesDep, SettingsDep, parse_json, read_body, read_record
from app.api.problems import BodyTooLarge, NotARecord, Problem
from app.scoring.matching import index

router = APIRouter(prefix="/v1/index", tags=["index"])
MATCHABLE = {"accounts": "account", "contacts": "contact", "leads": "lead"}


class NotFound(Problem):
    status, type, title = 404, "/problems/not-found", "Not found"


class IndexBulkRequest(BaseModel):
    records: list[dict[str, Any]]


def record_type_of(plural: str) -> str:
    """accounts/contacts/leads → singular; anything else is a 404 (only those are matched)."""
    if plural not in MATCHABLE:
        raise NotFound(f"No index for {plural!r}; indexed types are {sorted(MATCHABLE)}.")
    return MATCHABLE[plural]


@router.put("/{record_type}/{record_id}", summary="Index one record",
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Contact"},
                "example": {"first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"}}}}})
async def put_record(record_type: str, record_id: str, request: Request, settings: SettingsDep,
                     rules: RulesDep, options: OptionsDep, engine: EngineDep) -> dict[str, Any]:
    """Insert or replace the record with this id (the last write wins)."""
    singular = record_type_of(record_type)
    record = await read_record(request, settings)
    record["id"] = record_id
    await run_in_threadpool(index.upsert_records, engine, singular, [(record_id, record)],
                            rules.match_models[singular], options.default_region)
    return {"record_type": record_type, "id": record_id, "indexed": True}


@router.get("/{record_type}/{record_id}", summary="Read one indexed record")
def get_record(record_type: str, record_id: str, engine: EngineDep) -> dict[str, Any]:
    """The record as last indexed."""
    record = index.get_record(engine, record_type_of(record_type), record_id)
    if record is None:
        raise NotFound(f"{record_type}/{record_id} is not indexed.")
    return record


@router.delete("/{record_type}/{record_id}", summary="Remove one record from the index", status_code=204)
def delete_record(record_type: str, record_id: str, engine: EngineDep) -> Response:
    """Forget the record (for example when the CRM deletes or merges it)."""
    if not index.delete_record(engine, record_type_of(record_type), record_id):
        raise NotFound(f"{record_type}/{record_id} is not indexed.")
    return Response(status_code=204)


@router.post("/{record_type}/bulk", summary="Index many records",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/IndexBulkRequest"},
                 "example": {"records": [{"id": "003A1", "first_name": "Bob", "last_name": "Smith"}]}}}}})
async def bulk_upsert(record_type: str, request: Request, settings: SettingsDep, rules: RulesDep,
                      options: OptionsDep, engine: EngineDep) -> JSONResponse:
    """Upsert many records by id; entries without an id are reported, the rest are indexed."""
    singular = record_type_of(record_type)
    body = parse_json(await read_body(request, settings.max_batch_body_bytes))
    records = body.get("records") if isinstance(body, dict) else body
    if not isinstance(records, list):
        raise NotARecord("Expected {\"records\": [...]} or a JSON array.", [{"loc": "body.records", "msg": "list"}])
    if len(records) > settings.max_batch:
        raise BodyTooLarge(f"{len(records)} records; the limit is {settings.max_batch}.", limit=settings.max_batch)
    items, errors = [], []
    for i, r in enumerate(records):
        rid = r.get("id") if isinstance(r, dict) else None
        if isinstance(rid, str | int) and not isinstance(rid, bool) and str(rid):
            items.append((str(rid), r | {"id": str(rid)}))
        else:
            errors.append({"index": i, "loc": f"body.records.{i}", "msg": "a record object with an id"})
    written = await run_in_threadpool(index.upsert_records, engine, singular, items,
                                      rules.match_models[singular], options.default_region)
    return JSONResponse({"record_type": record_type, "indexed": written, "errors": errors})



