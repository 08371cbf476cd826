"""`POST /v1/batch` (JSON or NDJSON stream) and `POST /v1/audit` (summary, cleanup list, HTML report)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from app.api.audit_html import render_audit
from app.api.deps import (
    LARGE_BODY_BYTES,
    NDJSON_HINT,
    NowDep,
    OptionsDep,
    RulesDep,
    SettingsDep,
    load_json,
    off_the_loop_if,
    parse_now,
    read_body,
    repeated_names_problem,
)
from app.api.problems import BodyTooLarge, InvalidParameter, NotARecord
from app.api.routes.duplicates import STATS_DESCRIPTION, Pair
from app.api.spill import SpillQueue
from app.api.timing import note_client_closed
from app.config import Settings
from app.metrics import Metrics, Tally
from app.models.report import Report
from app.models.summary import Summary
from app.scoring import Options, Ruleset
from app.scoring.batch import PLURAL, SINGULAR, BatchRun, score_batch
from app.scoring.json_keys import has_duplicate_keys, mark_entries_with_repeated_names
from app.scoring.judge import Judged, JudgeSetup, judge_lines
from app.scoring.pool import judge_pool
from app.scoring.summary import duplicate_findings

log = logging.getLogger("crm_dq")
router = APIRouter(prefix="/v1", tags=["batch"])
NDJSON = "application/x-ndjson"
# the other names newline-delimited JSON goes by (none is registered; `text/x-ndjson` is what some HTTP
# clients and log shippers send); all are read as NDJSON, answered as application/x-ndjson. None is a type a
# browser page may send without a CORS preflight, so none opens the door `refuse_browser_posts` keeps shut.
NDJSON_TYPES = frozenset({NDJSON, "application/ndjson", "application/jsonl", "application/x-jsonlines",
                          "application/jsonlines", "text/x-ndjson"})
CHUNK_LINES = 500


class DuplexStreamingResponse(StreamingResponse):
    """Streams while the request body is still being read.

    Starlette's StreamingResponse listens for a disconnect by reading `receive`, which would swallow the
    request body the generator is reading line by line; here only the generator reads it.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)
        if self.background is not None:
            await self.background()


class BatchOptions(BaseModel):
    duplicates: bool = True
    now: str | None = Field(default=None, description="ISO-8601; overrides ?now=")


class BatchRequest(BaseModel):
    accounts: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    opportunities: list[dict[str, Any]] = []
    leads: list[dict[str, Any]] = []
    options: BatchOptions = BatchOptions()


EXAMPLE = {"accounts": [{"id": "001A", "name": "Acme", "industry": None, "owner_id": "u1"}],
           "contacts": [{"id": "003A", "account_id": "001A", "first_name": "Bob", "last_name": "Smith",
                         "email": "bob@acme.com"}, "not a record"],
           "opportunities": [{"id": "006A", "account_id": "001A", "amount": 60000, "stage": "Proposal",
                              "close_date": "2025-09-30"},
                             {"id": "006B", "account_id": "001A", "amount": 15000, "stage": "Qualification"}],
           "options": {"duplicates": True, "now": "2025-06-01T00:00:00Z"}}
BODY_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"},
                         "examples": {"mixed": {"summary": "An account with deals, a contact and a bad entry",
                                                "value": EXAMPLE}}},
    NDJSON: {"schema": {"type": "string"}, "example": '{"type": "contact", "id": "003A", "email": "bob@"}\n'
                                                      '{"type": "account", "id": "001A", "name": "Acme"}\n'}}}}


class EntryProblem(BaseModel):
    type: str = Field(examples=["/problems/not-a-record"])
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] = Field(description="`loc`: the entry (`contacts.3`) or line (`line.7`).")


class EntryError(BaseModel):
    """A batch entry that is not a record: it keeps its place and gets this instead of a report."""

    index: int = Field(description="Position of the entry in its list.")
    error: EntryProblem


class TypeDuplicates(BaseModel):
    pairs: list[Pair]
    clusters: list[list[str]]
    stats: dict[str, Any] = Field(description=STATS_DESCRIPTION)
    survivors: list[str | None] | None = Field(
        default=None, description="The audit's: each cluster's survivor, in the order of `clusters` (its pairs "
                                  "are cut to the first 200; the batch's pairs carry `cluster_survivor`).")


class CrossRecordFinding(BaseModel):
    rule: str = Field(examples=["account.contacts.single_contact_multi_deal"])
    record_type: str
    record_id: str | None
    field: str
    severity: str
    value: Any = None
    message: str


class BatchResponse(BaseModel):
    """The JSON batch answer (an NDJSON stream answers the same per line, then a summary line)."""

    results: dict[str, list[Report | EntryError]] = Field(description="Per record list, in input order.")
    duplicates: dict[str, TypeDuplicates] = Field(description="Per matched type (accounts, contacts, leads).")
    cross_record: list[CrossRecordFinding]
    summary: Summary = Field(description="Totals, completeness by field, KPIs, top findings, cleanup.")


class AuditResponse(BaseModel):
    summary: Summary
    cleanup_tasks: list[dict[str, Any]]
    cross_record: list[CrossRecordFinding]
    duplicates: dict[str, TypeDuplicates] = Field(description="Clusters, the first 200 pairs and stats.")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Body is not JSON"}, 413: {"description": "Too many records or body too large"},
    422: {"description": "Not a JSON object of record lists, or an invalid parameter"}}


async def read_batch(request: Request, settings: Settings, now: datetime,
                     duplicates: bool) -> tuple[dict[str, Any], datetime, bool]:
    """The JSON batch body, its `now` and whether duplicates are wanted; structure errors are problems."""
    raw = await read_body(request, settings.max_batch_body_bytes)
    body = await off_the_loop_if(len(raw) > LARGE_BODY_BYTES, parse_batch, raw)
    bad = [{"loc": f"body.{k}", "msg": "must be a list"} for k in PLURAL.values()
           if body.get(k) is not None and not isinstance(body.get(k), list)]
    if bad:
        raise NotARecord("Record lists must be JSON arrays.", bad)
    misnamed = _misnamed_lists(body)
    if misnamed:
        raise NotARecord("Record lists are named accounts, contacts, opportunities and leads.", misnamed)
    total = sum(len(body.get(k) or []) for k in PLURAL.values())
    if total > settings.max_batch:
        raise BodyTooLarge(f"{total} records; the limit is {settings.max_batch} per JSON batch (NDJSON has none).",
                           limit=settings.max_batch)
    now, duplicates = read_options(body, now, duplicates)
    return body, now, duplicates


def parse_batch(raw: bytes) -> dict[str, Any]:
    """The batch body parsed, an entry that repeats a name marked (it gets its own error); a body that is no
    JSON object, or repeats a name of its own, is a problem."""
    body = load_json(raw, NDJSON_HINT)
    if not isinstance(body, dict):
        raise NotARecord("Expected a JSON object with accounts/contacts/opportunities/leads lists.",
                         [{"loc": "body", "msg": "must be a JSON object"}])
    if has_duplicate_keys(raw, body):
        structural = mark_entries_with_repeated_names(body, raw, tuple(PLURAL.values()))
        if structural:
            raise repeated_names_problem(structural)
    return body


def read_options(body: dict[str, Any], now: datetime, duplicates: bool) -> tuple[datetime, bool]:
    """`options.now` and `options.duplicates`, which override `?now=` and `?duplicates=`, read strictly: a
    string "false" or a 0 had left duplicates on, and an `options` that was no object was ignored. A null
    `options` or option is not given (SDKs write explicit nulls), as `options.now` always was."""
    options = body.get("options")
    if options is None:
        return now, duplicates
    if not isinstance(options, dict):
        raise InvalidParameter("`options` must be a JSON object.",
                               [{"loc": "body.options", "msg": "not an object"}])
    if options.get("now") is not None:
        if not isinstance(options["now"], str):
            raise InvalidParameter("`options.now` must be an ISO-8601 string.", [{"loc": "body.options.now"}])
        now = parse_now(options["now"], "body.options.now")
    if options.get("duplicates") is not None:
        if not isinstance(options["duplicates"], bool):
            raise InvalidParameter("`options.duplicates` must be true or false.",
                                   [{"loc": "body.options.duplicates", "msg": "not a boolean"}])
        duplicates = options["duplicates"]
    return now, duplicates


# what CRMs call the lists: HubSpot's deals and companies, Salesforce's objects
OTHER_LIST_NAMES = {"deals": "opportunities", "deal": "opportunities", "companies": "accounts",
                    "company": "accounts", "people": "contacts", "persons": "contacts"}


def _misnamed_lists(body: dict[str, Any]) -> list[dict[str, str]]:
    """Top-level names that look like a record list under another spelling ('contact', 'Opportunities'),
    and, when no list is named right, every other name: such a batch would be answered as empty and its
    audit as all KPIs met. Other names beside the right ones are left alone."""
    known = set(PLURAL.values()) | {"options"}
    unknown = [k for k in body if k not in known]
    meant = {}
    for key in unknown:
        word = key.strip().lower()
        target = word if word in PLURAL.values() else PLURAL.get(word) or OTHER_LIST_NAMES.get(word)
        if target is not None:
            meant[key] = target
    if not any(k in body for k in PLURAL.values()):
        return [{"loc": f"body.{k}", "msg": f"not a record list; did you mean {meant[k]!r}?" if k in meant
                 else "not a record list (accounts, contacts, opportunities, leads or options)"} for k in unknown]
    return [{"loc": f"body.{k}", "msg": f"not a record list; did you mean {v!r}?"} for k, v in meant.items()]


DUPLICATES_DESCRIPTION = ("Find duplicates per type (pairs, clusters, the duplicate-rate KPI); false skips "
                          "them. A JSON body's `options.duplicates` overrides it.")
DuplicatesQuery = Annotated[bool, Query(description=DUPLICATES_DESCRIPTION)]


@router.post("/batch", summary="Score a batch (JSON or NDJSON)", openapi_extra=BODY_DOC, response_model=BatchResponse,
             responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}} | ERRORS)
async def post_batch(request: Request, settings: SettingsDep, rules: RulesDep, options: OptionsDep,
                     now: NowDep, duplicates: DuplicatesQuery = True) -> Response:
    """Every record scored in input order (a bad entry gets its own error), duplicates per type, cross-record
    findings and the summary. With `Content-Type: application/x-ndjson`, one `{"type": ..., ...}` per line
    in and one result line per non-blank input line out (a blank or whitespace-only line gets none and is not
    counted; each result's `line` is its input line's number, from 0), then a summary line; memory stays
    flat. NDJSON is also read under `application/ndjson`, `application/jsonl` and `text/x-ndjson`."""
    if is_ndjson(request):
        return DuplexStreamingResponse(stream_ndjson(request, rules, options, now, duplicates), media_type=NDJSON)
    body, now, duplicates = await read_batch(request, settings, now, duplicates)
    result = await run_in_threadpool(score_and_count, body, rules, now, options, duplicates,
                                     request.app.state.metrics)
    return Response(orjson.dumps(result), media_type="application/json")


def is_ndjson(request: Request) -> bool:
    """Whether the body is newline-delimited JSON (by any of its names)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() in NDJSON_TYPES


@router.post("/audit", summary="Data health audit", openapi_extra=BODY_DOC, response_model=AuditResponse,
             responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}} | ERRORS)
async def post_audit(request: Request, settings: SettingsDep, rules: RulesDep, options: OptionsDep, now: NowDep,
                     format: str | None = Query(default=None, pattern="^(json|html)$"),
                     duplicates: DuplicatesQuery = True) -> Response:
    """Seed 002's data health audit: the batch summary plus a prioritised cleanup list; `?format=html` (or
    `Accept: text/html`) returns a self-contained HTML report. The body is a JSON batch or, as /v1/batch
    takes it, NDJSON (read and judged as a stream is, its per-line answers left out)."""
    if is_ndjson(request):  # helper-58: answered 400 'unexpected content after document'
        result = await summarise_ndjson(request, rules, options, now, duplicates)
    else:
        body, now, duplicates = await read_batch(request, settings, now, duplicates)
        result = await run_in_threadpool(score_and_count, body, rules, now, options, duplicates,
                                         request.app.state.metrics)
    audit = {"summary": result["summary"], "cleanup_tasks": result["summary"]["cleanup_tasks"],
             "cross_record": result["cross_record"],
             "duplicates": {t: {"clusters": d["clusters"], "pairs": d["pairs"][:200], "stats": d["stats"],
                                "survivors": cluster_survivors(d)}
                            for t, d in result["duplicates"].items()}}
    wants_html = format == "html" or (format is None and prefers_html(request.headers.get("accept", "")))
    if wants_html:
        return HTMLResponse(render_audit(audit, rules.version))
    return Response(orjson.dumps(audit), media_type="application/json")


def cluster_survivors(duplicates: dict[str, Any]) -> list[str | None]:
    """Each cluster's survivor, read from all its pairs before the audit cuts them to 200 (the HTML named a
    21-member cluster's first member, not its survivor)."""
    survivor_of = {}
    for pair in duplicates["pairs"]:
        if pair.get("cluster_survivor"):
            survivor_of[pair["a"]] = survivor_of[pair["b"]] = pair["cluster_survivor"]
    return [next((survivor_of[m] for m in cluster if m in survivor_of), None) for cluster in duplicates["clusters"]]


def prefers_html(accept: str) -> bool:
    """Whether Accept ranks text/html strictly above application/json: JSON on a tie, with no header, or for
    `application/json, text/html;q=0.5` (answered HTML while any "text/html" in the header meant HTML)."""
    return accept_quality(accept, "text/html") > accept_quality(accept, "application/json")


def accept_quality(accept: str, media_type: str) -> float:
    """The q the Accept header gives `media_type`: that of its most specific matching range (type/subtype,
    then type/*, then */*; RFC 9110 §12.5.1), 0 when none matches. A q that is no number in 0..1 counts 0."""
    kind = media_type.split("/")[0]
    specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}
    best, quality = -1, 0.0
    for media_range in accept.lower().split(","):
        name, *params = (part.strip() for part in media_range.split(";"))
        rank = specificity.get(name, -1)
        if rank <= best:
            continue
        best, quality = rank, 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                quality = _q_value(value.strip())
    return quality


def _q_value(text: str) -> float:
    try:
        q = float(text)
    except ValueError:
        return 0.0
    return q if 0.0 <= q <= 1.0 else 0.0


def score_and_count(body: dict[str, Any], rules: Ruleset, now: datetime, options: Options, duplicates: bool,
                    metrics: Metrics) -> dict[str, Any]:
    """`score_batch`, then each scored record and duplicate counted, source=batch (in the worker thread)."""
    result = score_batch(body, rules, now, options, duplicates)
    tally = metrics.tally("batch")
    for entries in result["results"].values():
        for entry in entries:
            if "record_type" in entry:  # not an entry's own error
                tally.add(entry)
    count_duplicates(tally, result["duplicates"])  # the reports hold every finding, their duplicates' too
    tally.flush()
    return result


def count_duplicates(tally: Tally, duplicates: dict[str, dict[str, Any]]) -> None:
    """Non-survivor members of each duplicate cluster (the batch summary's `duplicate_records`)."""
    for plural, found in duplicates.items():
        tally.add_duplicates(SINGULAR[plural], sum(len(cluster) - 1 for cluster in found["clusters"]))


async def stream_ndjson(request: Request, rules: Ruleset, options: Options, now: datetime,
                        duplicates: bool) -> AsyncIterator[bytes]:
    """Answer line for line while the body is still arriving, then the summary.

    A producer task reads and scores; the response sends what it queued (see `app.api.spill` for why the
    producer must never wait for the client). If the client goes away, the producer is cancelled.
    """
    queue = SpillQueue()
    producer = asyncio.create_task(produce_ndjson(request, queue, rules, options, now, duplicates))
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
    except ClientDisconnect:  # hung up mid-body: nobody to answer, and no error of ours (helper-58)
        note_client_closed(request.scope)
    finally:
        producer.cancel()
        queue.discard()


async def summarise_ndjson(request: Request, rules: Ruleset, options: Options, now: datetime,
                           duplicates: bool) -> dict[str, Any]:
    """An NDJSON body judged as /v1/batch streams it (the same reader, chunks and worker processes), and its
    summary line, parsed: the audit reads it as it reads a JSON batch's result. Only that line is queued."""
    queue = SpillQueue()
    producer = asyncio.create_task(produce_ndjson(request, queue, rules, options, now, duplicates,
                                                  answer_lines=False))
    parts = []
    try:
        while (chunk := await queue.get()) is not None:
            parts.append(chunk)
    finally:
        producer.cancel()
        queue.discard()
    return await run_in_threadpool(orjson.loads, b"".join(parts))  # every duplicate pair: megabytes, maybe


async def produce_ndjson(request: Request, queue: SpillQueue, rules: Ruleset, options: Options, now: datetime,
                         duplicates: bool, answer_lines: bool = True) -> None:
    """Read lines as they arrive, have them judged in chunks and absorb the chunks in order into `queue`.

    A reader task cuts the body into chunks of `CHUNK_LINES` and submits them (to the worker processes, or
    to a thread); this task takes the results in input order, counts them and queues their lines (unless
    not `answer_lines`: the audit wants the summary line only). A few chunks stay in flight, so every worker
    is busy while the body is read and the results absorbed.
    """
    reader: asyncio.Task[None] | None = None
    futures: asyncio.Queue[asyncio.Future[Judged] | None] = asyncio.Queue()
    try:
        settings: Settings = request.app.state.settings
        run = BatchRun(rules, now, options, duplicates)
        tally = request.app.state.metrics.tally("batch")
        judge, window = chunk_judge(settings.batch_processes, rules, run.setup)
        slots = asyncio.Semaphore(window)  # chunks submitted and not yet absorbed
        reader = asyncio.create_task(read_chunks(request, judge, futures, slots, settings.max_body_bytes))
        while (future := await futures.get()) is not None:
            judged = await future
            run.absorb(judged)
            tally.merge(judged.counts)
            tally.flush()
            if answer_lines:
                queue.put(judged.out)
            slots.release()
        await reader  # its error, if reading failed
        for part in await run_in_threadpool(finish_stream, run, tally):
            queue.put(part)
        queue.close()
    except BaseException as exc:  # noqa: BLE001 - the consumer re-raises it after the lines before it
        queue.fail(exc)
        if isinstance(exc, asyncio.CancelledError):
            raise
    finally:
        if reader is not None:
            reader.cancel()
        while not futures.empty():
            left = futures.get_nowait()
            if left is not None:
                left.cancel()


Judge = Callable[[list[bytes | None], int], "asyncio.Future[Judged]"]


def chunk_judge(processes: int, rules: Ruleset, setup: JudgeSetup) -> tuple[Judge, int]:
    """Where chunks are judged, and how many may be in flight: the worker processes (two chunks per worker,
    so none idles while its last result is absorbed), or with 0 or 1 process a thread, one chunk at a time."""
    if processes > 1:
        pool = judge_pool(processes, rules)
        broken = False

        async def in_worker(lines: list[bytes | None], first: int) -> Judged:
            """A worker that dies (killed, out of memory, code changed on disk under a running server) loses
            its chunk, and the stream was cut off without an error line: the chunk, and the rest of the
            stream, are judged in a thread instead (judging is pure; the next stream gets a new pool)."""
            nonlocal broken
            if not broken:
                try:
                    return await asyncio.wrap_future(pool.submit(rules, lines, first, setup))
                except BrokenProcessPool as exc:
                    if not broken:
                        log.warning("NDJSON scoring workers failed (%s); this stream goes on in a thread", exc)
                    broken = True
            return await run_in_threadpool(judge_lines, lines, first, rules, setup)

        return (lambda lines, first: asyncio.ensure_future(in_worker(lines, first))), 2 * processes
    return (lambda lines, first: asyncio.ensure_future(
        run_in_threadpool(judge_lines, lines, first, rules, setup))), 1


async def read_chunks(request: Request, judge: Judge, futures: asyncio.Queue[asyncio.Future[Judged] | None],
                      slots: asyncio.Semaphore, max_line: int) -> None:
    """Cut the body into chunks of `CHUNK_LINES` lines and submit each; a line over `max_line` bytes is
    skipped up to its newline and stands as None, so it keeps its place and gets its own error line."""
    try:
        pending: list[bytes | None] = []
        line_no = 0
        rest, oversized = b"", False
        async for piece in request.stream():
            complete = (rest + piece).split(b"\n")
            rest = complete.pop()
            lines: list[bytes | None] = [None if len(line) > max_line else line for line in complete]
            if oversized and lines:  # the oversized line ends here
                lines[0], oversized = None, False
            pending.extend(lines)
            if len(rest) > max_line:
                rest, oversized = b"", True
            if len(pending) >= CHUNK_LINES:
                full = len(pending) - len(pending) % CHUNK_LINES
                for start in range(0, full, CHUNK_LINES):
                    await slots.acquire()
                    futures.put_nowait(judge(pending[start:start + CHUNK_LINES], line_no))
                    line_no += CHUNK_LINES
                pending = pending[full:]
        if oversized:
            pending.append(None)
        elif rest.strip():
            pending.append(rest)
        if pending:
            await slots.acquire()
            futures.put_nowait(judge(pending, line_no))
    finally:
        futures.put_nowait(None)  # the queue is unbounded: `slots` is what holds the reader back


def finish_stream(run: BatchRun, tally: Tally) -> list[bytes]:
    """The stream's summary line (duplicates, cross-record findings, summary); its duplicates, their
    findings and the cross-record findings counted (a JSON batch counts the findings in each record's
    report, a stream only at the end)."""
    parts, tail = run.finish_line()
    count_duplicates(tally, tail["duplicates"])
    for record_type, rule, findings in duplicate_findings(tail["duplicates"], run.rules):
        tally.add_finding(record_type, rule, run.rules.severity[rule], findings)
    for finding in tail["cross_record"]:
        tally.add_finding(finding["record_type"], finding["rule"], finding["severity"])
    tally.flush()
    return parts
