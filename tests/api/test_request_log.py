"""One JSON line per request on `crm_dq.access`: request id (taken or made, returned), route, status, time."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

CONTACT = {"id": "c1", "first_name": "Zebulon", "last_name": "Quixote", "email": "zebulon@"}


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "crm_dq.access"]


def test_one_json_line_per_request_with_the_callers_request_id(client: TestClient,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="crm_dq.access")
    response = client.post("/v1/contacts/score?now=2024-06-15T12:00:00Z", json=CONTACT,
                           headers={"X-Request-ID": "crm-req.42:a"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "crm-req.42:a"
    [line] = lines(caplog)
    assert line["request_id"] == "crm-req.42:a" and line["event"] == "request" and line["level"] == "info"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/v1/contacts/score", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["ts"].endswith("Z")
    for secret_ish in ("Zebulon", "Quixote", "zebulon@", "2024-06-15"):  # record contents and the query
        assert secret_ish not in caplog.text


def test_request_id_made_when_missing_or_unsafe(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="crm_dq.access")
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and int(made, 16) >= 0
    unsafe = client.get("/healthz", headers={"X-Request-ID": "x" * 200}).headers["x-request-id"]
    assert len(unsafe) == 32
    injected = client.get("/healthz", headers={"X-Request-ID": 'a"b\\n'}).headers["x-request-id"]
    assert len(injected) == 32
    assert [line["request_id"] for line in lines(caplog)] == [made, unsafe, injected]


def test_templates_errors_and_unmatched_routes(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="crm_dq.access")
    client.get("/v1/index/contact/secret-looking-id-123")
    client.get("/nowhere/at/all")
    client.post("/v1/contacts/score", content=b"{not json")
    routes = [(line["route"], line["status"]) for line in lines(caplog)]
    assert routes == [("/v1/index/{record_type}/{record_id}", 404), ("unmatched", 404),
                      ("/v1/contacts/score", 400)]
    assert "secret-looking-id-123" not in caplog.text


def test_metrics_middleware_still_times_requests(client: TestClient) -> None:
    client.post("/v1/contacts/score", json=CONTACT)
    text = client.get("/metrics").text
    labels = 'method="POST",route="/v1/contacts/score",status="200"'
    assert f"crm_dq_http_request_duration_seconds_count{{{labels}}}" in text


def test_made_request_ids_are_distinct_and_a_forked_child_makes_its_own() -> None:
    import os

    from app.api.request_log import _new_ids

    made = [_new_ids.new() for _ in range(10_000)]
    assert len(set(made)) == len(made) and all(len(i) == 32 and int(i, 16) >= 0 for i in made)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its first id and leave without running the test session's teardown
        os.write(write, _new_ids.new().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read), os.close(write)
    assert len(child) == 32 and child[:16] != made[0][:16]


def test_the_line_written_straight_to_the_handler_is_the_line_the_logger_writes() -> None:
    """With nothing but the access handler to see it, the line skips logging's record; anything else that
    would see the record (a parent's handler, a filter, another format) gets it through the logger."""
    import io

    from app.api.request_log import AccessLogHandler, log, log_line, timestamp

    [handler] = [h for h in log.handlers if isinstance(h, AccessLogHandler)]
    stream, saved = io.StringIO(), (handler.stream, log.propagate)
    handler.setStream(stream)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    parent = logging.getLogger("crm_dq")
    try:
        log.propagate = False
        assert handler.writes_alone()
        handled: list[logging.LogRecord] = []
        log.handle = handled.append  # type: ignore[method-assign]  # a record would come through here
        log_line('{"n": 1}')
        del log.handle
        assert stream.getvalue() == '{"n": 1}\n' and seen == [] and handled == []
        log.propagate = True
        parent.addHandler(keep := Keep())  # a parent's handler must see the record
        assert not handler.writes_alone()
        log_line('{"n": 2}')
        parent.removeHandler(keep)
        log.propagate = False
        handler.addFilter(lambda record: "secret" not in record.getMessage())  # a filter must judge it
        assert not handler.writes_alone()
        log_line('{"n": "secret"}')
        handler.filters.clear()
        handler.setFormatter(logging.Formatter("access %(message)s"))  # another format must apply
        log_line('{"n": 3}')
        handler.setFormatter(handler.whole_message)
    finally:
        handler.setStream(saved[0])
        log.propagate = saved[1]
    assert [r.getMessage() for r in seen] == ['{"n": 2}']
    assert stream.getvalue() == '{"n": 1}\n{"n": 2}\naccess {"n": 3}\n'
    assert seen[0].funcName == "test_the_line_written_straight_to_the_handler_is_the_line_the_logger_writes"
    from datetime import UTC, datetime

    made = timestamp()
    assert len(made) == 24 and made.endswith("Z") and made[19] == "."
    assert abs((datetime.fromisoformat(made.replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds()) < 2
