"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from app.api.store_ready import make_store_ready
from app.models.store import ping

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


class Readiness(BaseModel):
    """What the readiness probe found: the same body with 200 and 503."""

    status: Literal["ready", "not ready"]
    rules: bool = Field(description="The rules loaded.")
    store: bool = Field(description="The reference index reachable and its schema created.")


READY_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": Readiness, "description": "Ready"},
    503: {"model": Readiness, "description": "Not ready (a load balancer stops routing here)"},
}


@router.get("/readyz", summary="Readiness", responses=READY_RESPONSES)
async def readyz(request: Request) -> JSONResponse:
    """Rules loaded and the store reachable; 503 otherwise, so a load balancer stops routing here."""
    rules_ok = getattr(request.app.state, "rules", None) is not None
    store_ok = await run_in_threadpool(ping, request.app.state.engine)
    if store_ok and not request.app.state.schema_ready:
        store_ok = await run_in_threadpool(make_store_ready, request.app.state)
    ready = rules_ok and store_ok
    body = {"status": "ready" if ready else "not ready", "rules": rules_ok, "store": store_ok}
    return JSONResponse(body, status_code=200 if ready else 503)
