"""Dependencies as `Annotated` aliases, and the lenient body reader the scoring routes share.

The dependencies are `async def` although they never await: FastAPI runs a plain `def` dependency in the
thread pool, and those hops cost more than scoring a record (about 1 ms per request for five of them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from app.api.problems import (
    BodyTooLarge,
    CrossSite,
    DuplicateKeys,
    InvalidBody,
    InvalidParameter,
    NotARecord,
    NotJson,
)
from app.config import Settings
from app.scoring import Options, Ruleset
from app.scoring.json_keys import duplicate_key_paths, has_duplicate_keys
from app.scoring.values import parse_datetime


async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_rules(request: Request) -> Ruleset:
    """The compiled ruleset loaded at start-up."""
    return request.app.state.rules  # type: ignore[no-any-return]


async def get_options(request: Request) -> Options:
    """Scoring switches derived from settings once at start-up."""
    return request.app.state.options  # type: ignore[no-any-return]


NOW_DESCRIPTION = "ISO-8601 instant timeliness is measured against; default: the request time."


def parse_now(now: str | None, loc: str = "query.now") -> datetime:
    """`?now=` (or the body's `options.now`, `loc`) as an aware datetime, or the current time; a 422 problem
    naming `loc` otherwise."""
    if now is None:
        return datetime.now(UTC)
    parsed = parse_datetime(now)
    if parsed is None or not 1970 <= parsed.year <= 9000:
        raise InvalidParameter("`now` is not an ISO-8601 date-time between 1970 and 9000.",
                               [{"loc": loc, "msg": "not an ISO-8601 date-time", "input": now[:100]}])
    return parsed


async def get_now(
    now: Annotated[str | None, Query(description=NOW_DESCRIPTION, examples=["2024-06-15T12:00:00Z"])] = None,
) -> datetime:
    """`?now=` as an aware datetime, or the current time."""
    return parse_now(now)


def query_value(request: Request, name: str) -> str | None:
    """A query parameter, without parsing the query string when there is none (most scoring requests)."""
    return request.query_params.get(name) if request.scope.get("query_string") else None


# The words pydantic reads as booleans, so a flag read by hand answers as a declared `bool` query would.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter (false when absent); a 422 problem naming `query.<name>` otherwise."""
    raw = query_value(request, name)
    if raw is None:
        return False
    word = raw.lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    error = {"loc": f"query.{name}", "msg": "Input should be a valid boolean", "input": raw[:100]}
    raise InvalidParameter(f"`{name}` is not a boolean.", [error])


# OpenAPI parameters of the routes that read `now` and `index` by hand (the single-record hot path):
# the same schema FastAPI writes for the declared `NowDep` and a `bool` query.
NOW_PARAMETER: dict[str, Any] = {
    "in": "query", "name": "now", "required": False, "description": NOW_DESCRIPTION,
    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": NOW_DESCRIPTION,
               "examples": ["2024-06-15T12:00:00Z"], "title": "Now"},
}


def flag_parameter(name: str, description: str) -> dict[str, Any]:
    """The OpenAPI entry of a boolean query flag read with `query_flag`."""
    return {"in": "query", "name": name, "required": False, "description": description,
            "schema": {"default": False, "title": name.capitalize(), "type": "boolean",
                       "description": description}}


async def get_engine(request: Request) -> Engine:
    """The store engine created at start-up."""
    return request.app.state.engine  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RulesDep = Annotated[Ruleset, Depends(get_rules)]
OptionsDep = Annotated[Options, Depends(get_options)]
NowDep = Annotated[datetime, Depends(get_now)]


# A web page a user opens can post to a crm-dq on their machine or intranet without asking it first (a CORS
# "simple" request: a form, plain text, or bytes with no Content-Type) and write to its index when no API keys
# are set, as `make run` serves (helper-57/58; FastAPI stopped reading JSON under form types for the same
# reason, CVE-2021-32677). Browsers say where a request comes from (Sec-Fetch-Site; Origin 'null' from a file
# or a sandbox): CRMs, scripts and SDKs send neither, and no page of another origin can use this API anyway
# (it answers no CORS preflight). So form and plain-text bodies are a 415, and browser requests from another
# site a 403 (helper-62: a page's fetch of raw bytes, which has no Content-Type, still wrote to the index).
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
OWN_SITE = frozenset({"same-origin", "none"})  # Sec-Fetch-Site of the service's own pages and typed URLs


def refuse_browser_posts(request: Request) -> None:
    """A 415 problem naming the Content-Type header for a body declared as a form or plain text; a 403 naming
    Sec-Fetch-Site or Origin for a browser's request from another site."""
    headers = request.headers
    declared = headers.get("content-type")
    if declared is not None and declared.partition(";")[0].strip().lower() in FORM_TYPES:
        raise NotJson("This route takes JSON: send the body with `Content-Type: application/json` (a form or "
                      "plain text is refused: a web page could send one from a browser without asking).",
                      [{"loc": "header.content-type", "msg": "not JSON", "input": declared[:100]}])
    site = headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in OWN_SITE:
        raise CrossSite("A browser page of another site cannot post to this service.",
                        [{"loc": "header.sec-fetch-site", "msg": "another site", "input": site[:100]}])
    if headers.get("origin", "").strip().lower() == "null":
        raise CrossSite("A browser page with no origin (a file or a sandbox) cannot post to this service.",
                        [{"loc": "header.origin", "msg": "no origin", "input": "null"}])


async def read_body(request: Request, limit: int) -> bytearray:
    """The raw body, refused with 413 as soon as it passes `limit` bytes (declared or streamed).

    One growing buffer: a list of chunks joined at the end held the body twice at its peak.
    """
    refuse_browser_posts(request)
    declared = request.headers.get("content-length")
    # ASCII digits only, as `int` reads them in any length (helper-58: `isdigit` passes '²')
    if declared and declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyTooLarge(f"The body is {declared} bytes; the limit is {limit}.", limit=limit)
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise BodyTooLarge(f"The body exceeds the limit of {limit} bytes.", limit=limit)
        body += chunk
    return body


# A body over this many bytes is parsed, checked and judged in a worker thread, as is all a large batch or
# webhook payload does before its answer: on the event loop a 15 MB webhook record held every other request
# (/healthz too) for 6-21 s, a 16 MB Salesforce list 16 s before its 413 (helper-58). A record save is a few
# KB and stays on the loop, where the thread hop costs more than the work (bench/load.sh). What still holds
# the loop is a single C call that keeps the GIL (orjson reading a 300 MB body: about 0.8 s).
LARGE_BODY_BYTES = 256 * 1024


T = TypeVar("T")


async def off_the_loop_if(large: bool, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`: in a worker thread when `large` (a body over LARGE_BODY_BYTES, a payload of many records),
    on the event loop otherwise, where the thread hop costs more than the work."""
    return await run_in_threadpool(fn, *args) if large else fn(*args)


# What Windows tools (PowerShell 5's `Out-File`/`Set-Content -Encoding UTF8`, Notepad) put before UTF-8 text.
# RFC 8259 §8.1 lets a parser ignore it; orjson refuses it ('BOM is not supported'), and a body a CRM admin
# saved from PowerShell was a 400. NDJSON lines already skip it (`app.scoring.judge`).
UTF8_BOM = b"\xef\xbb\xbf"


def without_bom(body: bytes) -> bytes | memoryview:
    """`body` without a leading UTF-8 byte order mark (a view: a large body is not copied). Only what is
    parsed loses it: a webhook's signature is checked over the bytes as sent, before this."""
    return memoryview(body)[len(UTF8_BOM):] if body.startswith(UTF8_BOM) else body


# orjson's words for a body that goes on after its first document: mostly NDJSON sent as application/json
SECOND_DOCUMENT = "unexpected content after document"
NDJSON_HINT = ("If it is newline-delimited JSON (one record per line), send it with "
               "`Content-Type: application/x-ndjson`.")
NDJSON_ELSEWHERE = ("This route takes one JSON document; to send newline-delimited JSON (one record per "
                    "line), post it to /v1/batch with `Content-Type: application/x-ndjson`.")


def load_json(body: bytes, ndjson_hint: str = NDJSON_ELSEWHERE) -> Any:
    """orjson's parse, turned into a 400 problem for bodies that are not JSON (NaN, bad UTF-8, too deep…); a
    leading byte order mark is skipped. (The duplicate-name scan reads `body` as sent: a BOM holds no name.)

    A body with more than one document (NDJSON posted as application/json, or with no Content-Type) was told
    only 'unexpected content after document': the problem adds `ndjson_hint`, where to send it instead.
    """
    try:
        return orjson.loads(without_bom(body))
    except orjson.JSONDecodeError as exc:
        detail = f"The body is not valid JSON: {exc}."
        if str(exc).startswith(SECOND_DOCUMENT):
            detail = f"{detail} {ndjson_hint}"
        raise InvalidBody(detail, [{"loc": "body", "msg": str(exc)[:200]}]) from None


def repeated_names_problem(paths: list[str]) -> DuplicateKeys:
    """The 422 naming each path of a name repeated in one object (which value would the CRM hold?)."""
    return DuplicateKeys(f"{len(paths)} name(s) appear twice in one JSON object; send each field once.",
                         [{"loc": path[:300], "msg": "repeated name"} for path in paths[:50]])


def parse_json(body: bytes) -> Any:
    """`load_json`, and a 422 problem when a name is repeated in one object."""
    data = load_json(body)
    if has_duplicate_keys(body, data):
        raise repeated_names_problem(duplicate_key_paths(body))
    return data


async def read_record(request: Request, settings: Settings) -> dict[str, Any]:
    """The body as one JSON object; anything else is a problem naming `body`."""
    data = parse_json(await read_body(request, settings.max_body_bytes))
    if not isinstance(data, dict):
        raise NotARecord(f"Expected a JSON object (one record), got {type(data).__name__}.",
                         [{"loc": "body", "msg": "must be a JSON object"}])
    return data


def record_list(value: Any, loc: str, required: bool = True) -> list[dict[str, Any]] | None:
    """A list of JSON objects at `loc`, or a problem naming the first entry that is not one."""
    if value is None and not required:
        return None
    if not isinstance(value, list):
        raise NotARecord(f"`{loc}` must be a list of records.", [{"loc": loc, "msg": "must be a list"}])
    bad = [{"loc": f"{loc}.{i}", "msg": "must be a JSON object"} for i, r in enumerate(value)
           if not isinstance(r, dict)]
    if bad:
        raise NotARecord(f"{len(bad)} entries of `{loc}` are not records.", bad[:50])
    return value
