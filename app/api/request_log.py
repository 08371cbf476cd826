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
import time
from time import perf_counter
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.timing import CLIENT_CLOSED, client_closed, route_label
from app.metrics import METHODS

log = logging.getLogger("crm_dq.access")
REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


class AccessLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The access logger's own stderr handler: the JSON line is the whole message."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.whole_message = logging.Formatter("%(message)s")
        self.setFormatter(self.whole_message)

    def writes_alone(self) -> bool:
        """Whether an INFO record of the access logger would reach this handler and nothing else, formatted as
        its bare message: then `log_line` may write the line as this handler would, without the record."""
        if self.formatter is not self.whole_message or self.filters or self.level > logging.INFO:
            return False
        logger: logging.Logger | None = log
        if len(log.handlers) != 1 or log.handlers[0] is not self or log.filters:
            return False
        while logger is not None and logger.propagate:  # a parent's handler (caplog, a config) sees it
            logger = logger.parent
            if logger is not None and logger.handlers:
                return False
        return True

    def write_line(self, message: str) -> None:
        """`emit` of a record whose message is `message`."""
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(message + self.terminator)
                self.flush()
            except Exception:  # as `emit`: a broken stderr never fails a request
                self.handleError(logging.makeLogRecord({"msg": message}))


def install_access_log(level: int = logging.INFO) -> None:
    """Give the access logger its stderr handler, once."""
    if not any(isinstance(h, AccessLogHandler) for h in log.handlers):
        log.addHandler(AccessLogHandler())
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
            if client_closed(scope):
                status = CLIENT_CLOSED
            if log.isEnabledFor(logging.INFO):
                method = scope["method"]
                log_line(orjson.dumps({
                    "ts": timestamp(),
                    "level": "info", "event": "request", "request_id": rid,
                    "method": method if method in METHODS else "OTHER", "route": route_label(scope),
                    "status": status, "duration_ms": round((perf_counter() - started) * 1000, 3),
                }).decode())


_second: list[Any] = [None, ""]  # the last whole second `timestamp` wrote, and its text


def timestamp() -> str:
    """Now as ISO-8601 UTC with milliseconds ('2026-12-06T22:00:00.123Z'), the seconds' text made once a
    second (`datetime.now(UTC).isoformat` cost about as much as the rest of the line)."""
    now = time.time()
    second = int(now)
    if second != _second[0]:
        _second[:] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{int((now - second) * 1000):03d}Z"


def log_line(message: str) -> None:
    """`log.info(message)`: written straight to the access handler when it alone would see the record.

    A record built and sent through the logger's handlers cost about 30 µs of a ~350 µs scoring request
    (bench/load.sh's profile) and the handler prints only the message. When anything else would see it
    (a parent logger's handler, a filter, another formatter), the record goes through the logger as `log.info`
    sends it, with the caller's file, line and function read from its frame (`Logger._log` walks the stack
    for them on every call).
    """
    handler = log.handlers[0] if log.handlers else None
    if isinstance(handler, AccessLogHandler) and handler.writes_alone():
        handler.write_line(message)
        return
    caller = sys._getframe(1)
    code = caller.f_code
    log.handle(log.makeRecord(log.name, logging.INFO, code.co_filename, caller.f_lineno, message, None, None,
                              func=code.co_name))
