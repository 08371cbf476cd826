"""The FastAPI application: `create_app(settings)` builds it; `app` is what uvicorn serves."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from app import __doc__ as app_doc
from app.adapters import load_mappings
from app.api.auth import document_security
from app.api.direct import DirectRoutes
from app.api.docs_assets import serve_patched_redoc
from app.api.head import HeadAsGet
from app.api.problems import document_problems, install_problem_handlers
from app.api.request_log import RequestLog, install_access_log
from app.api.router import DIRECT, api_router, metrics_router
from app.api.routes.batch import BatchRequest
from app.api.routes.duplicates import DuplicatesRequest
from app.api.routes.index import IndexBulkRequest
from app.api.store_ready import make_store_ready, stop_rekeying
from app.api.timing import RequestMetrics
from app.config import Settings, get_settings
from app.metrics import Metrics, make_metrics
from app.metrics_port import SERVED_BY_ENV, MetricsListener
from app.models.records import RECORD_MODELS
from app.models.store import make_engine
from app.scoring import Options, load_rules
from app.scoring.pool import shutdown_pools
from app.scoring.warmup import warm_up

log = logging.getLogger("crm_dq")
VERSION = "0.1.0"
# FastAPI's OpenTelemetry hooks, off: crm-dq exports Prometheus metrics and its own access log, and the hooks
# looked for a configured provider on every request (~10 µs of a scoring request's CPU)
NO_OPENTELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def operation_id(route: APIRoute) -> str:
    """Stable operation ids: the endpoint function's name."""
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; rules and the store are loaded in the lifespan, once per process."""
    settings = settings or get_settings()
    metrics = make_metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.rules = load_rules(settings.rules_file)  # a bad rules file stops start-up here
        app.state.mappings = load_mappings(settings.mappings_file)  # so does a bad mappings file
        warm_up(app.state.rules, app.state.options)  # tables the first records would build, built now
        app.state.engine = make_engine(settings.database_url)
        app.state.rekey_stop, app.state.rekey_thread = threading.Event(), None
        app.state.schema_ready = False
        make_store_ready(app.state)  # a store that is down does not stop start-up (`/readyz` retries)
        metrics.bind(app.state.rules)
        listener = start_metrics_listener(settings, metrics)
        log.info("rules %s loaded, store %s", app.state.rules.version, app.state.engine.url.drivername)
        yield
        if listener is not None:
            listener.stop()
        shutdown_pools()  # NDJSON scoring workers, if a stream started them
        stop_rekeying(app.state)
        app.state.engine.dispose()
        metrics.close()

    app = FastAPIOffline(
        title="crm-dq", version=VERSION, description=(app_doc or "").strip(),
        lifespan=lifespan, generate_unique_id_function=operation_id, telemetry=NO_OPENTELEMETRY,
    )
    serve_patched_redoc(app)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.options = Options(settings.default_region, settings.check_email_deliverability,
                                settings.email_dns_timeout)
    install_problem_handlers(app)
    app.add_middleware(DirectRoutes, routes=DIRECT)  # innermost of our own: logged and timed like every route
    app.add_middleware(HeadAsGet)  # HEAD wherever GET is answered; the log and metrics still see HEAD
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(RequestLog)  # outermost: its duration includes the metrics middleware
    install_access_log()
    app.include_router(api_router)
    if settings.metrics_port is None:
        app.include_router(metrics_router)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app


def start_metrics_listener(settings: Settings, metrics: Metrics) -> MetricsListener | None:
    """With CRM_DQ_METRICS_PORT set and no `app.serve` serving it already, this process answers the port.

    A port another process holds (plain `uvicorn --workers N`, whose workers each try) is logged, not fatal:
    one worker answers and the others keep serving the API.
    """
    if settings.metrics_port is None or os.environ.get(SERVED_BY_ENV):
        return None
    host = settings.metrics_host or "127.0.0.1"
    try:
        listener = MetricsListener(host, settings.metrics_port, metrics.exposition).start()
    except OSError as exc:
        log.warning("metrics port %s:%s not bound by this process: %s", host, settings.metrics_port, exc)
        return None
    log.info("/metrics on http://%s:%s/metrics", host, listener.port)
    return listener


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the record schemas the lenient request bodies refer to."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    document_security(schema, app.state.settings)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (*RECORD_MODELS.values(), DuplicatesRequest, IndexBulkRequest, BatchRequest):
        doc = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(doc.pop("$defs", {}))
        components[model.__name__] = doc
    app.openapi_schema = document_problems(schema)
    return schema


app = create_app()
