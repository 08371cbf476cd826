"""`GET /metrics`: the Prometheus text exposition (left out of the OpenAPI document: it is Prometheus').

Not routed when `CRM_DQ_METRICS_PORT` moves it to a port of its own (`app/metrics_port.py`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.metrics import TEXT_FORMAT

router = APIRouter(tags=["monitoring"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Every crm_dq_* family, summed over this instance's workers (a plain `def`: it reads files)."""
    return Response(request.app.state.metrics.exposition(), media_type=TEXT_FORMAT)

