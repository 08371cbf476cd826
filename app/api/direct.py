"""Pure ASGI: the routes a CRM calls on every record save, answered without FastAPI's routing layers.

The scoring routes (`POST /v1/{type}/score`) and the webhooks take only the request and read their parameters
themselves. Matching them through FastAPI 0.165's included routers, resolving the router's key check as a
dependency and wrapping request, response and exceptions cost more CPU than judging a contact (bench/load.sh:
~520 → ~340 µs per contact request in-process), so this middleware, innermost of the app's own (logged and
timed like every route), calls them directly: the router's guard, then the endpoint, then its response. An
error goes to the app's exception handlers, as FastAPI would send it; every other request goes on to FastAPI,
which still routes and documents these endpoints.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

Guard = Callable[[Request], Awaitable[None]]


class DirectRoutes:
    """`POST` to a path of `routes` ({path: (route, guard)}) answered by the route's endpoint directly."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, tuple[APIRoute, Guard]]) -> None:
        self.app, self.routes = app, dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "POST" and not scope["app"].dependency_overrides:
            found = self.routes.get(get_route_path(scope))  # overridden dependencies: FastAPI applies them
        if found is None:
            await self.app(scope, receive, send)
            return
        route, guard = found
        scope["route"] = route  # the route template, for the access log and the metrics
        request = Request(scope, receive)
        try:
            await guard(request)
            response = await route.endpoint(request)
        except Exception as exc:
            handler = exception_handler(request.app, exc)
            if handler is None:
                raise
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)
        await response(scope, receive, send)


def exception_handler(app: Any, exc: Exception) -> Any:
    """The app's handler for an exception, as Starlette's route-level handling picks it: an HTTPException's
    status code first, then the exception's classes. A handler for `Exception` or 500 is not one of them:
    Starlette calls it in its outermost middleware, which also logs the error and re-raises it."""
    handlers = {key: handler for key, handler in app.exception_handlers.items()
                if key not in (500, Exception)}
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


def direct_routes(*routers: tuple[Any, Guard]) -> dict[str, tuple[APIRoute, Guard]]:
    """{path: (route, guard)} of every POST route of each (router, the guard it is included with).

    Only endpoints that take the request alone and declare no dependency of their own can be called directly;
    anything else stops start-up here rather than be answered without what FastAPI would resolve for it.
    """
    table = {}
    for router, guard in routers:
        for route in router.routes:
            if not (isinstance(route, APIRoute) and "POST" in route.methods):
                continue
            parameters = list(inspect.signature(route.endpoint).parameters)
            if route.dependant.dependencies or parameters != ["request"]:  # the route's own dependencies too
                raise TypeError(f"{route.path} cannot be answered directly: its endpoint must take only the "
                                f"request and declare no dependencies (has {parameters})")
            table[route.path] = (route, guard)
    return table
