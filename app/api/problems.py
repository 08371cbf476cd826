"""RFC 9457 problem details: small error classes carrying a status, and one handler that renders them."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"


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


class NotARecord(Problem):
    status, type, title = 422, "/problems/not-a-record", "Request body is not a record"


class InvalidParameter(Problem):
    status, type, title = 422, "/problems/invalid-parameter", "Invalid parameter"


class Unauthorized(Problem):
    status, type, title = 401, "/problems/unauthorized", "Unauthorized"


class BodyTooLarge(Problem):
    status, type, title = 413, "/problems/body-too-large", "Request body too large"


def problem_response(problem: Problem, instance: str) -> Response:
    """Render one problem as `application/problem+json`."""
    return Response(orjson.dumps(problem.body(instance)), status_code=problem.status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the app returns is a problem document, including 404s and validation errors."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(exc, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        problem = Problem(str(exc.detail))
        problem.status, problem.title = exc.status_code, _reason(exc.status_code)
        return problem_response(problem, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return problem_response(InvalidParameter("The request has invalid parameters.", errors), request.url.path)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
