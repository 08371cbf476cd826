"""`POST /v1/{accounts|contacts|opportunities|leads}/score`: one record in, one report out.

Accounts, contacts and leads are also matched against the reference index (or against `candidates`
the caller fetched from its own CRM), and `?index=true` stores the record afterwards: the record-save
webhook flow.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from app.api.deps import (
    NOW_PARAMETER,
    flag_parameter,
    parse_now,
    query_flag,
    query_value,
    read_record,
    record_list,
)
from app.models.records import PLURALS, RECORD_MODELS
from app.models.report import Report
from app.scoring import Options, Ruleset, score_record
from app.scoring.matching import index
from app.scoring.matching.dedupe import link_record
from app.scoring.matching.linker import own_id, prepare, record_id
from app.scoring.summary import is_duplicate_record
from app.scoring.values import id_forms, id_text

log = logging.getLogger("crm_dq")
router = APIRouter(prefix="/v1", tags=["scoring"])
MATCHABLE = ("account", "contact", "lead")
INDEX_PARAMETER = flag_parameter("index", "Also upsert the record into the reference index "
                                          "(accounts, contacts and leads; needs an `id`).")


def request_body_doc(record_type: str) -> dict[str, Any]:
    """OpenAPI request body for a record type: its schema and examples to try."""
    model = RECORD_MODELS[record_type]
    example = model.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    examples = {"dirty": {"summary": f"A {record_type} with typical problems", "value": example},
                "empty": {"summary": "An empty record (every required field missing)", "value": {}}}
    schema: dict[str, Any] = ref
    if record_type in MATCHABLE:
        schema = {"anyOf": [ref, {"type": "object", "required": ["record"], "properties": {
            "record": ref, "candidates": {"type": "array", "items": ref,
                                          "description": "Records to match against instead of the index."}}}]}
        examples["with_candidates"] = {"summary": "Match against candidates from your own CRM search",
                                       "value": {"record": example, "candidates": [example | {"id": "other-1"}]}}
    body = {"required": True, "content": {"application/json": {"schema": schema, "examples": examples}}}
    return {"parameters": [INDEX_PARAMETER, NOW_PARAMETER], "requestBody": body}


def split_body(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """`{"record": {...}, "candidates": [...]}` or a bare record."""
    if isinstance(body.get("record"), dict) and set(body) <= {"record", "candidates"}:
        return body["record"], record_list(body.get("candidates"), "body.candidates", required=False)
    return body, None


def find_in_index(request: Request, record_type: str, record: dict[str, Any], rules: Ruleset,
                  options: Options) -> list[dict[str, Any]]:
    """Best candidates for the record from the reference index (runs in a worker thread): of its own type,
    and of the types `[duplicates] match_also` names (a new lead that is already a contact)."""
    engine = request.app.state.engine
    cfg = rules.file.duplicates
    model = rules.match_models[record_type]
    own = own_id(record)  # None for an id that reads as none (3.5): not position '0', another record's id
    types = (record_type, *cfg.match_also.get(record_type, ()))
    if not index.holds_any(engine, types):  # an empty index: no keys to make, nothing to ask
        return []
    probe = as_stored(record)
    prepared = prepare([probe], record_type, options.default_region, [own or "new"])
    found: list[tuple[int, dict[str, Any]]] = []
    for rank, other in enumerate(types):
        # the record itself, under either form of a Salesforce id (…QqQqQ is …QqQqQAAV), is no candidate
        itself = id_forms(own) if own is not None and other == record_type else ()
        candidates, tf = index.find_candidates(engine, other, prepared, model, cfg.max_block_size,
                                               cfg.tf_pseudo_count, exclude_ids=itself,
                                               common_value_after=cfg.common_value_after)
        found += [(rank, pair) for pair in link_record(record_type, probe, candidates, rules,
                                                       region=options.default_region, tf=tf, candidate_type=other)]
    # best first; among equal scores (4 places) the record's own type, then by id: the store returns candidates
    # in no fixed order, and which of them made the max_candidates cut varied between calls (helper-62)
    found.sort(key=lambda item: (-item[1]["score"], item[0], str(item[1]["b"])))
    return [pair for _, pair in found[: cfg.max_candidates]]


def as_stored(record: dict[str, Any]) -> dict[str, Any]:
    """The record matched as the index would store it (`index.storable`: no NUL, nothing nested too deep),
    under its own id: a NUL in a name or an email had made keys and comparisons of its own, and a key with a
    NUL failed PostgreSQL's lookup (helper-58)."""
    stored = index.storable(record)[0]
    if stored is not record and "id" in record:
        stored["id"] = record["id"]
    return stored


def make_score_endpoint(record_type: str) -> Any:
    """One endpoint per record type, so each has its own schema, examples and operation id.

    The endpoint takes only the request and reads `now`, `index` and the app's state itself: it is called on
    every CRM save, and FastAPI's dependency resolution for five parameters cost more than scoring a contact
    (bench/load.sh). `request_body_doc` documents the parameters as FastAPI would.
    """

    async def score(request: Request) -> Response:
        report = await answer(request, record_type)
        # summed, written later
        request.app.state.metrics.record_soon(report, "api", is_duplicate_record(report))
        return Response(orjson.dumps(report), media_type="application/json")

    score.__name__ = f"score_{record_type}"
    score.__doc__ = (f"Judge one {record_type}: completeness, validity, consistency, qualification, timeliness, "
                     f"business impact, standard forms, duplicate candidates and a save decision. Dirty values "
                     f"are findings, never errors; only a body that is not a JSON object is refused.")
    return score


async def answer(request: Request, record_type: str) -> dict[str, Any]:
    """The report for one scoring request: `now` and `index` from the query, the record from the body."""
    state = request.app.state
    now, index_record = parse_now(query_value(request, "now")), query_flag(request, "index")
    record, candidates = split_body(await read_record(request, state.settings))
    return await judge_record(request, record_type, record, state.rules, state.options, now, candidates,
                              index_record)


async def judge_record(request: Request, record_type: str, record: dict[str, Any], rules: Ruleset,
                       options: Options, now: datetime, candidates: list[dict[str, Any]] | None = None,
                       index_record: bool = False) -> dict[str, Any]:
    """Score one canonical record with its duplicate check (candidates, else the index); index it if asked."""
    duplicates: list[dict[str, Any]] = []
    check = "not_applicable"
    if record_type in MATCHABLE:
        if candidates is not None:
            pairs = [(record_id(c, n), c) for n, c in enumerate(candidates)]
            duplicates, check = link_record(record_type, record, pairs, rules,
                                            region=options.default_region), "candidates"
        else:
            try:
                duplicates = await lookup_in_index(request, record_type, record, rules, options)
                check = "index"
            except SQLAlchemyError as exc:
                log.warning("duplicate check unavailable: %s", type(exc).__name__)
                check = "unavailable"
    report = score_record(record_type, record, rules, now=now, options=options, duplicates=duplicates)
    report["duplicate_check"] = check
    if index_record:
        answer_indexed(report, await _index(request, record_type, record, rules, options))
    return report


async def lookup_in_index(request: Request, record_type: str, record: dict[str, Any], rules: Ruleset,
                          options: Options) -> list[dict[str, Any]]:
    """`find_in_index`, inline for SQLite while this process writes nothing to the index, else in the pool.

    A SQLite lookup is a few covering-index reads of a local file; the thread-pool hop around it cost about
    0.35 ms of CPU per request (bench/load.sh's profile), more than the lookup. But while index writes run
    (`?index=true` saves) a read can wait on SQLite's locks, and inline that wait stalls every request: with
    24 concurrent saves, /healthz p50 was 75-162 ms inline against ~20 ms with the hop. A PostgreSQL round trip
    would stall the event loop too, so it always hops.
    """
    if request.app.state.engine.dialect.name == "sqlite" and not index.writes_in_flight():
        return find_in_index(request, record_type, record, rules, options)
    return await run_in_threadpool(find_in_index, request, record_type, record, rules, options)


async def _index(request: Request, record_type: str, record: dict[str, Any], rules: Ruleset,
                 options: Options) -> str | None:
    """`upsert_one` in the thread pool."""
    return await run_in_threadpool(upsert_one, request, record_type, record, rules, options)


def answer_indexed(report: dict[str, Any], not_indexed: str | None) -> None:
    """`indexed`, and when false `not_indexed_reason`: a bare false had left the caller to guess whether the
    id, the type or the store was at fault (helper-78)."""
    report["indexed"] = not_indexed is None
    if not_indexed is not None:
        report["not_indexed_reason"] = not_indexed


def upsert_one(request: Request, record_type: str, record: dict[str, Any], rules: Ruleset,
               options: Options) -> str | None:
    """Upsert after scoring; None when stored, else why not: the type is not indexed, the record has no id
    the index can store (none, not text or an integral number, a NUL, over 255 characters: helper-58, never
    cut to fit, which would store it as another record) or the store is down."""
    if record_type not in MATCHABLE:
        return f"the reference index holds accounts, contacts and leads, not {record_type} records"
    sent = record.get("id")
    rid = id_text(sent)
    if not rid:
        return "the record has no id" if sent in (None, "") else \
            "the id is neither text nor an integral number"
    problem = index.id_problem(rid)
    if problem is not None:
        return problem
    try:
        index.upsert_records(request.app.state.engine, record_type, [(rid, record)],
                             rules.match_models[record_type], options.default_region)
    except SQLAlchemyError as exc:
        log.warning("index upsert failed: %s", type(exc).__name__)
        return "the reference index could not be reached"
    return None


def judge_record_blocking(request: Request, record_type: str, record: dict[str, Any], rules: Ruleset,
                          options: Options, now: datetime, index_record: bool = False) -> dict[str, Any]:
    """`judge_record` against the index for a caller already off the event loop (a webhook's large payload,
    in a worker thread): lookup, report and upsert inline, so each record is indexed before the next is
    looked up and a payload's own duplicates are found too."""
    duplicates: list[dict[str, Any]] = []
    check = "not_applicable"
    if record_type in MATCHABLE:
        try:
            duplicates, check = find_in_index(request, record_type, record, rules, options), "index"
        except SQLAlchemyError as exc:
            log.warning("duplicate check unavailable: %s", type(exc).__name__)
            check = "unavailable"
    report = score_record(record_type, record, rules, now=now, options=options, duplicates=duplicates)
    report["duplicate_check"] = check
    if index_record:
        answer_indexed(report, upsert_one(request, record_type, record, rules, options))
    return report


for _plural, _type in PLURALS.items():
    router.add_api_route(
        f"/{_plural}/score", make_score_endpoint(_type), methods=["POST"], response_model=Report,
        summary=f"Score one {_type}", openapi_extra=request_body_doc(_type),
        responses={400: {"description": "Body is not JSON"}, 413: {"description": "Body too large"},
                   422: {"description": "Body is not a JSON object"}},
    )
