"""ASGI middleware: each HTTP request timed by route template, method and status; requests in flight."""

from __future__ import annotations

from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import METHODS, UNMATCHED_ROUTE, Metrics

# nginx's 'client closed request': the client hung up before its answer was complete (mid-body, mid-stream).
# Not a server error: Starlette's ClientDisconnect was logged and counted as a 500 with a traceback, and an
# alert fires on any 5xx (helper-58). One more value of the status label, never the client's own.
CLIENT_CLOSED = 499
_CLOSED = "client_closed"


def note_client_closed(scope: Scope) -> None:
    """Record in the request's state that its client hung up: both middlewares then say 499, also after a
    streamed answer's 200 went out."""
    scope.setdefault("state", {})[_CLOSED] = True


def client_closed(scope: Scope) -> bool:
    """Whether `note_client_closed` was called for this request."""
    state = scope.get("state")
    return bool(state) and _CLOSED in state


def route_label(scope: Scope) -> str:
    """The matched route's template (`/v1/index/{record_type}/{record_id}`), never the raw path, and without
    a trailing slash: the webhooks are also served at `/v1/webhooks/hubspot/` (a CRM does not follow a
    redirect with its POST), and each is one endpoint, so one series in the metrics and one name in the log
    (helper-79: the slash had a `route` label of its own)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path:
        return UNMATCHED_ROUTE
    return path.rstrip("/") or "/"


class RequestMetrics:
    """Pure ASGI (no BaseHTTPMiddleware), so streamed responses pass through untouched.

    A duration ends when the last body chunk has been handed to the server (a response's background tasks run
    after it); a request stays in flight until the app returns.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        ended = 0.0

        async def send_status(message: Message) -> None:
            nonlocal status, ended
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                ended = perf_counter()

        in_flight = self.metrics.in_flight
        in_flight.inc()
        started = perf_counter()
        try:
            await self.app(scope, receive, send_status)
        except Exception:
            status = 500  # also when the failure came after the status line: the response is broken
            raise
        finally:
            seconds = (ended or perf_counter()) - started
            in_flight.dec()
            if client_closed(scope):
                status = CLIENT_CLOSED
            method = scope["method"]
            self.metrics.observe_request(route_label(scope), method if method in METHODS else "OTHER",
                                         status, seconds)
