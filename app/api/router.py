"""All routes, one module each; every /v1 router is behind the API key check (a no-op without keys).

`/metrics` (`metrics_router`) is included by `create_app` unless CRM_DQ_METRICS_PORT moves it to its own port.
`DIRECT`: the routes called on every CRM save, with their router's key check, for `DirectRoutes`.
"""

from fastapi import APIRouter, Depends

from app.api.auth import require_api_key, require_key_unless_signed
from app.api.direct import direct_routes
from app.api.routes import batch, duplicates, health, index, metrics, rules, score, webhooks

KEYED = [Depends(require_api_key)]
api_router = APIRouter()
api_router.include_router(score.router, dependencies=KEYED)
api_router.include_router(webhooks.router, dependencies=[Depends(require_key_unless_signed)])
api_router.include_router(batch.router, dependencies=KEYED)
api_router.include_router(duplicates.router, dependencies=KEYED)
api_router.include_router(index.router, dependencies=KEYED)
api_router.include_router(rules.router, dependencies=KEYED)
api_router.include_router(health.router)
metrics_router = metrics.router
DIRECT = direct_routes((score.router, require_api_key), (webhooks.router, require_key_unless_signed))
