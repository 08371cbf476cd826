"""ASGI middleware: one JSON line per request on the `crm_dq.access` logger, and the X-Request-ID header.

The line holds the request id (the caller's `X-Request-ID` when it is a sane token, else a new one; returned
in the response either way), method, route template (never the raw path or query), status and duration. No
record contents, header values or query parameters are logged.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
from datetime import UTC, datetime
from time import perf_counter

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.timing import route_label
from app.metrics import METHODS

log = logging.getLogger("crm_dq.access")
REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


def install_access_log(level: int = logging.INFO) -> None:
    """Give the access logger a plain stderr handler (the JSON line is the whole message), once."""
    if not any(getattr(h, "_crm_dq_access", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._crm_dq_access = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(level)


class _RequestIds:
    """New request ids: 32 hex digits, a random per-process half and a counter half.

    Unique without a `uuid4()` (an os.urandom read, ~7 µs here) per request; ids only correlate log lines,
    they grant nothing. A forked child starts its own random half.
    """

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix, self.counter = os.urandom(8).hex(), itertools.count()

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


_new_ids = _RequestIds()


def request_id(scope: Scope) -> str:
    """The caller's X-Request-ID if it is a short token of safe characters, else a new id."""
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER and _SANE_ID.fullmatch(value):
            return bytes(value).decode("ascii")
    return _new_ids.new()


class RequestLog:
    """Pure ASGI like `RequestMetrics`, so streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER, rid.encode("ascii"))]}
            await send(message)

        started = perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            raise
        finally:
            if log.isEnabledFor(logging.INFO):
                method = scope["method"]
                log_line(orjson.dumps({
                    "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "level": "info", "event": "request", "request_id": rid,
                    "method": method if method in METHODS else "OTHER", "route": route_label(scope),
                    "status": status, "duration_ms": round((perf_counter() - started) * 1000, 3),
                }).decode())


def log_line(message: str) -> None:
    """`log.info(message)` with the caller's file, line and function read from its frame.

    `Logger._log` walks the stack for them on every call (`findCaller`); the record otherwise goes through the
    logger's filters and handlers as `log.info` sends it.
    """
    caller = sys._getframe(1)
    code = caller.f_code
    log.handle(log.makeRecord(log.name, logging.INFO, code.co_filename, caller.f_lineno, message, None, None,
                              func=code.co_name))
