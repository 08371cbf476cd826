"""All routes, one module each; every /v1 router is behind the API key check (a no-op without keys).

`/metrics` (`metrics_router`) is included by `create_app` unless CRM_DQ_METRICS_PORT moves it to its own port.
`DIRECT`: the routes called on every CRM save, with their router's key check, for `DirectRoutes`.
"""

from fastapi import APIRouter, Depends

from app.api.auth import require_api_key, require_key_unless_signed
from app.api.direct import direct_routes
from app.api.routes import batch, duplicates, health, index, metrics, rules, score, webhooks

# each /v1 router with the key check it is included behind; those called on every CRM save first
ON_SAVE = ((score.router, require_api_key), (webhooks.router, require_key_unless_signed))
GUARDED = (*ON_SAVE, (batch.router, require_api_key), (duplicates.router, require_api_key),
           (index.router, require_api_key), (rules.router, require_api_key))
api_router = APIRouter()
for _router, _guard in GUARDED:
    api_router.include_router(_router, dependencies=[Depends(_guard)])
api_router.include_router(health.router)
metrics_router = metrics.router
DIRECT = direct_routes(*ON_SAVE)
