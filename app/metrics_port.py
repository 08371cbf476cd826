"""`/metrics` on its own port (`CRM_DQ_METRICS_PORT`): a tiny HTTP listener in a thread.

With the port set the API port no longer serves `/metrics` (404) and exactly one listener answers the scrape:

- `python -m app.serve` (so `make run`, `crm-dq serve`, the image) binds the port in its own process before
  uvicorn starts any worker, and answers from the multiprocess files of every worker (one worker too: the
  directory is then always used). The workers see `SERVED_BY_ENV` and bind nothing.
- an app started any other way (`uvicorn app.main:app`) binds the port in its lifespan and answers from its
  own registry.

The listener answers `GET`/`HEAD /metrics` with the same text exposition the API route gives, 404 anything
else; it never goes through the ASGI app, so a scrape is neither timed nor counted in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.metrics import TEXT_FORMAT

log = logging.getLogger("crm_dq")
SERVED_BY_ENV = "_CRM_DQ_METRICS_SERVED_BY"  # set by app.serve: the pid whose thread serves the metrics port
PATH = "/metrics"


class MetricsListener:
    """`GET /metrics` on host:port, answered by `exposition()` in a daemon thread."""

    def __init__(self, host: str, port: int, exposition: Callable[[], bytes]) -> None:
        self.host = host
        handler = _handler(exposition)
        self.server = ThreadingHTTPServer((host, port), handler)  # binds now: a taken port raises OSError
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="crm-dq-metrics", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the kernel's pick for 0)."""
        return int(self.server.server_address[1])

    def start(self) -> MetricsListener:
        """Serve in the background."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()


def _handler(exposition: Callable[[], bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "crm-dq-metrics"
        sys_version = ""
        timeout = 10  # seconds a connection may sit idle: each one holds a thread until it closes

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(body=False)

        def _answer(self, body: bool) -> None:
            if self.path.split("?", 1)[0] != PATH:
                self._send(HTTPStatus.NOT_FOUND, b"Not Found\n", "text/plain; charset=utf-8", body)
                return
            try:
                payload = exposition()
            except Exception:  # an unreadable file must not kill the listener; the scrape fails visibly
                log.exception("metrics exposition failed")
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"exposition failed\n", "text/plain", body)
                return
            self._send(HTTPStatus.OK, payload, TEXT_FORMAT, body)

        def _send(self, status: HTTPStatus, payload: bytes, content_type: str, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # scrapes every few seconds: no line each

    return Handler
