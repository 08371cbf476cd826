"""The reference index: records already known, so one saved record can be matched against them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.responses import JSONResponse, Response

from app.api.deps import (
    LARGE_BODY_BYTES,
    OptionsDep,
    RulesDep,
    SettingsDep,
    off_the_loop_if,
    parse_json,
    read_body,
    read_record,
)
from app.api.problems import PROBLEM_JSON, PROBLEM_REF, BodyTooLarge, InvalidParameter, NotARecord, Problem
from app.api.store_ready import make_store_ready
from app.scoring.matching import index
from app.scoring.summary import PLURAL
from app.scoring.type_names import record_type_named
from app.scoring.values import id_text

router = APIRouter(prefix="/v1/index", tags=["index"])
MATCHABLE = {"accounts": "account", "contacts": "contact", "leads": "lead"}


class NotFound(Problem):
    status, type, title = 404, "/problems/not-found", "Not found"


class IndexBulkRequest(BaseModel):
    records: list[dict[str, Any]]


class Indexed(BaseModel):
    record_type: str = Field(examples=["contacts"])
    id: str = Field(examples=["003A1"])
    indexed: bool


class BulkError(BaseModel):
    index: int = Field(description="Position of the entry in `records`.")
    loc: str = Field(examples=["body.records.3"])
    msg: str


class BulkIndexed(BaseModel):
    record_type: str = Field(examples=["contacts"])
    indexed: int = Field(ge=0, description="Distinct ids written (the last of repeated ids wins).")
    errors: list[BulkError] = Field(description="Entries that are not a record with an id.")


async def store_engine(request: Request) -> Engine:
    """The store engine, its schema created first if the store was down when the app started.

    Without this, a store that came back after start-up served index writes a 500 (no such table) until
    something happened to call /readyz; now the first index call that finds it reachable creates the schema.
    """
    state = request.app.state
    if not state.schema_ready:
        await run_in_threadpool(make_store_ready, state)  # (and re-keying started)
    return state.engine  # type: ignore[no-any-return]


EngineDep = Annotated[Engine, Depends(store_engine)]
RecordType = Annotated[str, Path(description="The indexed types, in any case (`Contacts`, `contact` too); "
                                             "any other is a 404.",
                                 json_schema_extra={"enum": sorted(MATCHABLE)})]
RecordId = Annotated[str, Path(description="The record's id in the CRM.", examples=["003A1"])]
PROBLEM = {"content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}
STORE_DOWN = {503: {"description": "The store is not reachable (Retry-After: 1)"} | PROBLEM}
NOT_FOUND = {404: {"description": "Not an indexed type, or no record with this id"}}
BODY_ERRORS = {400: {"description": "Body is not JSON"}, 413: {"description": "Body too large"},
               422: {"description": "Body is not a JSON object"}}
# Stateful tests (Schemathesis) and clients follow these from a write to the reads of the same record.
SAME_RECORD = {"record_type": "$request.path.record_type", "record_id": "$request.path.record_id"}
LINKS = {"GetIndexedRecord": {"operationId": "get_record", "parameters": SAME_RECORD,
                              "description": "Read back the record just written."},
         "DeleteIndexedRecord": {"operationId": "delete_record", "parameters": SAME_RECORD,
                                 "description": "Remove the record just written."}}


def storable_id(record_id: str) -> str:
    """The path's id, or a 422 problem naming `path.record_id` when the index cannot store it (a NUL, over
    255 characters: a 500 from PostgreSQL; helper-58)."""
    problem = index.id_problem(record_id)
    if problem is not None:
        raise InvalidParameter(f"{problem}.", [{"loc": "path.record_id", "msg": problem,
                                                "input": record_id[:100]}])
    return record_id


def record_type_of(plural: str) -> str:
    """accounts/contacts/leads → singular, in any case and singular too (`Contacts`, `contact`), as every
    other place a type is named reads it; anything else is a 404 (only those are matched)."""
    singular = record_type_named(plural)
    if singular not in MATCHABLE.values():
        raise NotFound(f"No index for {plural[:100]!r}; indexed types are {sorted(MATCHABLE)}.")
    return singular  # type: ignore[return-value]


@router.put("/{record_type}/{record_id}", summary="Index one record", response_model=Indexed,
            responses={200: {"links": LINKS}} | BODY_ERRORS | NOT_FOUND | STORE_DOWN,
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Contact"},
                "example": {"first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"}}}}})
async def put_record(record_type: RecordType, record_id: RecordId, request: Request, settings: SettingsDep,
                     rules: RulesDep, options: OptionsDep, engine: EngineDep) -> dict[str, Any]:
    """Insert or replace the record with this id (the last write wins)."""
    singular = record_type_of(record_type)
    record_type = PLURAL[singular]  # answered as the index names it, whatever the path's spelling
    storable_id(record_id)
    record = await read_record(request, settings)
    record["id"] = record_id
    await run_in_threadpool(index.upsert_records, engine, singular, [(record_id, record)],
                            rules.match_models[singular], options.default_region)
    return {"record_type": record_type, "id": record_id, "indexed": True}


@router.get("/{record_type}/{record_id}", summary="Read one indexed record", responses=NOT_FOUND | STORE_DOWN)
async def get_record(record_type: RecordType, record_id: RecordId, engine: EngineDep) -> dict[str, Any]:
    """The record as last indexed."""
    singular = record_type_of(record_type)
    record_type = PLURAL[singular]  # answered as the index names it, whatever the path's spelling
    record = await run_in_threadpool(index.get_record, engine, singular, storable_id(record_id))
    if record is None:
        raise NotFound(f"{record_type}/{record_id} is not indexed.")
    return record


@router.delete("/{record_type}/{record_id}", summary="Remove one record from the index", status_code=204,
               responses=NOT_FOUND | STORE_DOWN)
async def delete_record(record_type: RecordType, record_id: RecordId, engine: EngineDep) -> Response:
    """Forget the record (for example when the CRM deletes or merges it)."""
    singular = record_type_of(record_type)
    record_type = PLURAL[singular]  # answered as the index names it, whatever the path's spelling
    if not await run_in_threadpool(index.delete_record, engine, singular, storable_id(record_id)):
        raise NotFound(f"{record_type}/{record_id} is not indexed.")
    return Response(status_code=204)


@router.post("/{record_type}/bulk", summary="Index many records", response_model=BulkIndexed,
             responses=BODY_ERRORS | {413: {"description": "Too many records or body too large"},
                                      422: {"description": "Not a list of records"}} | NOT_FOUND | STORE_DOWN,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/IndexBulkRequest"},
                 "example": {"records": [{"id": "003A1", "first_name": "Bob", "last_name": "Smith"}]}}}}})
async def bulk_upsert(record_type: RecordType, request: Request, settings: SettingsDep, rules: RulesDep,
                      options: OptionsDep, engine: EngineDep) -> JSONResponse:
    """Upsert many records by id; entries without an id are reported, the rest are indexed."""
    singular = record_type_of(record_type)
    record_type = PLURAL[singular]  # answered as the index names it, whatever the path's spelling
    raw = await read_body(request, settings.max_batch_body_bytes)
    # parsed in a worker thread when large, as a JSON batch is (helper-58)
    body = await off_the_loop_if(len(raw) > LARGE_BODY_BYTES, parse_json, raw)
    records = body.get("records") if isinstance(body, dict) else body
    if not isinstance(records, list):
        raise NotARecord("Expected {\"records\": [...]} or a JSON array.", [{"loc": "body.records", "msg": "list"}])
    if len(records) > settings.max_batch:
        raise BodyTooLarge(f"{len(records)} records; the limit is {settings.max_batch}.", limit=settings.max_batch)
    items, errors = [], []
    for i, r in enumerate(records):
        rid = id_text(r.get("id")) if isinstance(r, dict) else None
        if not rid:
            errors.append({"index": i, "loc": f"body.records.{i}", "msg": "a record object with an id"})
        elif problem := index.id_problem(rid):  # helper-58: a 500 from PostgreSQL for the whole bulk
            errors.append({"index": i, "loc": f"body.records.{i}.id", "msg": problem})
        else:
            items.append((rid, r | {"id": rid}))
    written = await run_in_threadpool(index.upsert_records, engine, singular, items,
                                      rules.match_models[singular], options.default_region)
    return JSONResponse({"record_type": record_type, "indexed": written, "errors": errors})
