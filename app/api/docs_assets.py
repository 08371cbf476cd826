"""The offline API docs' Redoc bundle, patched so /redoc asks nothing of the internet.

fastapi-offline serves Redoc's own bundle, whose sidebar footer shows Redocly's logo from
https://cdn.redoc.ly: offline that request fails, a console error on every page view (helper-57). The
bundle is served here with the logo's address replaced by an inline image; the rest of it is as shipped.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

REDOC_PATH = "/static-offline-docs/redoc.standalone.js"  # where fastapi-offline's /redoc page loads it
REMOTE_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
INLINE_LOGO = b"data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%221%22 height=%221%22/%3E"


@cache
def redoc_bundle() -> bytes:
    """The packaged bundle with the remote logo inlined (read once, on the first request for it)."""
    shipped = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
    return shipped.read_bytes().replace(REMOTE_LOGO, INLINE_LOGO)


@cache
def redoc_etag() -> str:
    """The bundle's validator, so a browser's next /redoc view revalidates instead of downloading 1 MB again
    (the static mount this route stands in for sent one; helper-62)."""
    return '"' + hashlib.sha256(redoc_bundle()).hexdigest()[:32] + '"'


async def _redoc(request: Request) -> Response:
    headers = {"ETag": redoc_etag(), "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(redoc_bundle(), media_type="text/javascript; charset=utf-8", headers=headers)


def serve_patched_redoc(app: FastAPI) -> None:
    """Answer the bundle's path before fastapi-offline's static mount does (routes match in order)."""
    app.router.routes.insert(0, Route(REDOC_PATH, _redoc, methods=["GET", "HEAD"], include_in_schema=False))
