"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from app.models.store import ensure_schema, ping

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", responses={503: {"description": "Not ready"}})
async def readyz(request: Request) -> JSONResponse:
    """Rules loaded and the store reachable; 503 otherwise, so a load balancer stops routing here."""
    rules_ok = getattr(request.app.state, "rules", None) is not None
    store_ok = await run_in_threadpool(ping, request.app.state.engine)
    if store_ok and not request.app.state.schema_ready:
        request.app.state.schema_ready = await run_in_threadpool(ensure_schema, request.app.state.engine)
        store_ok = request.app.state.schema_ready
    ready = rules_ok and store_ok
    body = {"status": "ready" if ready else "not ready", "rules": rules_ok, "store": store_ok}
    return JSONResponse(body, status_code=200 if ready else 503)
