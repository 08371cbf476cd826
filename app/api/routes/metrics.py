"""`GET /metrics`: the Prometheus text exposition (left out of the OpenAPI document: it is Prometheus')."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

router = APIRouter(tags=["monitoring"])
# the classic text format every Prometheus 2.x parses (our names need none of 1.0.0's UTF-8 escaping)
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Every crm_dq_* family, summed over this instance's workers (a plain `def`: it reads files)."""
    return Response(request.app.state.metrics.exposition(), media_type=TEXT_FORMAT)
