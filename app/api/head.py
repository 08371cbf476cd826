"""HEAD wherever GET is answered (RFC 9110 §9.3.2: HEAD is GET without the body).

FastAPI routes answer only the methods they declare, so `HEAD /v1/rules` or `HEAD /docs` was a 405 while
`/healthz`, `/readyz` and `/metrics` each registered a HEAD twin of their own (helper-58, helper-79; helper-75
found /v1/rules): uptime checkers, load balancers and link checkers send HEAD to any page. Inside the access
log and the request metrics (which still see HEAD), the app is asked for GET, and the body it answers is not
sent; the status and headers, Content-Length included, are the GET's.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Answer an HTTP HEAD request as the app answers GET, without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        inner = {**scope, "method": "GET"}  # a copy: the server's own scope must keep HEAD (it sends no body)

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.start":
                _matched_route(inner, scope)
            elif message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # only the last (empty) body message is sent
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        try:
            await self.app(inner, receive, without_body)
        finally:
            _matched_route(inner, scope)


def _matched_route(inner: Scope, outer: Scope) -> None:
    """The route the router matched, where the access log and the metrics read their `route` label."""
    if "route" in inner:
        outer["route"] = inner["route"]
