"""RFC 9457 problem details: small error classes carrying a status, and one handler that renders them."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match

from app.api.timing import CLIENT_CLOSED, note_client_closed
from app.metrics import METHODS
from app.scoring.summary import PLURAL
from app.scoring.type_names import record_type_named

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class Problem(Exception):
    """An error the client can fix; `errors` name the offending field paths."""

    status = 400
    type = "about:blank"
    title = "Bad Request"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        """The problem document."""
        doc = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail,
               "instance": instance}
        if self.errors:
            doc["errors"] = self.errors
        return doc | self.extra


class InvalidBody(Problem):
    status, type, title = 400, "/problems/invalid-json", "Request body is not valid JSON"


class NotJson(Problem):
    status, type, title = 415, "/problems/unsupported-media-type", "Unsupported Media Type"


class NotARecord(Problem):
    status, type, title = 422, "/problems/not-a-record", "Request body is not a record"


class DuplicateKeys(Problem):
    status, type, title = 422, "/problems/duplicate-keys", "A JSON object repeats a name"


class InvalidParameter(Problem):
    status, type, title = 422, "/problems/invalid-parameter", "Invalid parameter"


class Unauthorized(Problem):
    status, type, title = 401, "/problems/unauthorized", "Unauthorized"


class CrossSite(Problem):
    status, type, title = 403, "/problems/cross-site", "Cross-site request refused"


class BodyTooLarge(Problem):
    status, type, title = 413, "/problems/body-too-large", "Request body too large"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(detail, errors or [{"loc": "body", "msg": detail}], **extra)


class StoreUnavailable(Problem):
    status, type, title = 503, "/problems/store-unavailable", "Reference index unavailable"


# Driver errors that mean "the store cannot be reached or is busy right now", not "this code is wrong":
# a refused or dropped connection, a full pool, SQLite's `database is locked`. A ProgrammingError or an
# IntegrityError stays a 500, because retrying would not help.
STORE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


class ProblemError(BaseModel):
    """One offending part of the request."""

    model_config = ConfigDict(extra="allow")
    loc: str = Field(description="Dotted path: `body`, `body.records.3`, `query.now`.",
                     examples=["query.now"])
    msg: str = Field(default="", description="What is wrong with it.")


class ProblemDocument(BaseModel):
    """RFC 9457 problem details: every error the service returns has this shape."""

    model_config = ConfigDict(title="Problem", extra="allow")
    type: str = Field(examples=["/problems/not-a-record"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(description="The request path.")
    errors: list[ProblemError] = Field(default=[],
                                       description="The field paths at fault, when there are any.")


def problem_response(problem: Problem, instance: str) -> Response:
    """Render one problem as `application/problem+json`."""
    return Response(orjson.dumps(problem.body(instance)), status_code=problem.status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the app returns is a problem document, including 404s and validation errors."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(exc, request.url.path)

    async def _store_down(request: Request, exc: Exception) -> Response:
        """The index routes need the store: while it is down they answer 503 with Retry-After, not 500."""
        problem = StoreUnavailable(f"The reference index store is not reachable ({type(exc).__name__}); "
                                   "retry shortly. Scoring keeps answering without duplicate checks.")
        response = problem_response(problem, request.url.path)
        response.headers["Retry-After"] = "1"
        return response

    for error in STORE_DOWN:
        app.add_exception_handler(error, _store_down)

    @app.exception_handler(ClientDisconnect)
    async def _client_closed(request: Request, exc: ClientDisconnect) -> Response:
        """The client hung up while its body was being read: no error, nobody to answer (uvicorn drops what
        is sent after a hang-up); logged and counted as 499, not as a 500 with a traceback (helper-58)."""
        note_client_closed(request.scope)
        return Response(status_code=CLIENT_CLOSED)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        problem = _routing_problem(request, exc.status_code) or Problem(str(exc.detail))
        problem.status, problem.title = exc.status_code, _reason(exc.status_code)
        response = problem_response(problem, request.url.path)
        response.headers.update(exc.headers or {})  # a 405's Allow (helper-58: it was dropped)
        if exc.status_code == 405:
            response.headers["Allow"] = allowed_methods(request)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return problem_response(InvalidParameter("The request has invalid parameters.", errors), request.url.path)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Every documented 4xx of every operation is a `Problem` in `application/problem+json`, as served.

    FastAPI documents its own 422 as `HTTPValidationError` in `application/json`, and statuses declared
    with only a description carry no body at all, so a client generated from the document (or Schemathesis)
    expected bodies the service never sends. Operations behind the API keys also document their 401.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    doc = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(doc.pop("$defs", {}))
    components["Problem"] = doc
    for item in schema.get("paths", {}).values():
        for op in item.values():
            responses = op.setdefault("responses", {})
            if "requestBody" in op:  # deps.refuse_browser_posts
                responses.setdefault("403", {"description": "A browser page of another site posted it"})
                responses.setdefault("415", {"description": "Body sent as a form or plain text: JSON only"})
            if op.get("security"):
                responses.setdefault("401", {"description": "An API key is required (only when the server "
                                                            "sets CRM_DQ_API_KEYS)"})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in components and f'"#/components/schemas/{unused}"' not in _dumps(schema["paths"]):
            components.pop(unused)
    return schema


SCORED_TYPES = ("accounts", "contacts", "opportunities", "leads")


def _routing_problem(request: Request, status: int) -> Problem | None:
    """A 404 or 405 naming what in the request's path or method is at fault: `POST /v1/widgets/score` names
    `path.record_type` and the record types there are (helper-57: it was a bare 'Not Found')."""
    path = request.url.path
    if status == 404:
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "v1" and parts[2] == "score":
            kind = parts[1][:100]
            meant = record_type_named(kind)
            if meant is not None:  # `Contacts`, `contact`: a route path is fixed, so it names the one meant
                plural = PLURAL[meant]
                return Problem(f"No route {path[:200]!r}; {kind!r} is scored at POST /v1/{plural}/score "
                               f"(route paths are lower-case plurals).",
                               [{"loc": "path.record_type", "msg": f"did you mean {plural!r}?",
                                 "input": kind}])
            return Problem(f"No record type {kind!r}; the record types are {', '.join(SCORED_TYPES)}.",
                           [{"loc": "path.record_type", "msg": "not a record type", "input": kind}])
        return Problem(f"Nothing is served at {path[:200]!r}.", [{"loc": "path", "msg": "no such route"}])
    if status == 405:
        return Problem(f"{request.method} is not served at {path[:200]!r}.",
                       [{"loc": "method", "msg": "method not allowed", "input": request.method}])
    return None


def allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path (RFC 9110 §15.5.6: a 405 carries `Allow`).

    Starlette's 405 names the methods of the first route whose path matched only, and several routes share a
    path (`/v1/index/{record_type}/{record_id}` is a PUT, a GET and a DELETE route): helper-58. Each method
    is tried on a scope of its own (FastAPI's included routers keep their state in the scope). HEAD goes with
    GET (`head.HeadAsGet`).
    """
    scope = request.scope
    served = {method for method in METHODS
              if any(route.matches({"type": "http", "method": method, "path": scope["path"],
                                    "root_path": scope.get("root_path", "")})[0] is Match.FULL
                     for route in request.app.router.routes)}
    return ", ".join(sorted(served | {"HEAD"} if "GET" in served else served))


def _dumps(node: Any) -> str:
    return orjson.dumps(node).decode()


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
