"""All routes, one module each."""

from fastapi import APIRouter

from app.api.routes import batch, duplicates, health, index, metrics, rules, score, webhooks

api_router = APIRouter()
api_router.include_router(score.router)
api_router.include_router(webhooks.router)
api_router.include_router(batch.router)
api_router.include_router(duplicates.router)
api_router.include_router(index.router)
api_router.include_router(rules.router)
api_router.include_router(health.router)
api_router.include_router(metrics.router)
