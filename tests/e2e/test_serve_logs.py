"""What `python -m app.serve` (`make run`, `crm-dq serve`, the image) writes: no path, query or record value.

README promises that paths, query strings, headers and record contents are never logged; uvicorn's own access
log printed `GET /v1/index/contacts/jane.doe@example.com`.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from app.serve import without_access_log
from tests.e2e.test_uvicorn import free_port
from tests.metrics.support import serve

pytestmark = pytest.mark.e2e
EMAIL = "jane.doe@example.com"


@pytest.mark.parametrize("metrics_port", [False, True], ids=["exec", "metrics-port"])
def test_no_email_from_a_path_or_query_reaches_the_server_output(tmp_path: Path, metrics_port: bool) -> None:
    """One worker, as `make run` starts it; with a metrics port uvicorn runs inside the launcher instead."""
    extra = {"CRM_DQ_METRICS_PORT": str(free_port())} if metrics_port else {}
    with serve(tmp_path, workers=1, extra_env=extra) as served:
        assert httpx.get(f"{served.url}/v1/index/contacts/{EMAIL}").status_code == 404
        scored = httpx.post(f"{served.url}/v1/contacts/score", params={"now": "2024-06-15", "x": EMAIL},
                            headers={"X-Forwarded-For": EMAIL}, json={"id": EMAIL, "email": EMAIL})
        assert scored.status_code == 200
    output = served.log.read_text(errors="replace")
    assert EMAIL not in output and "jane.doe" not in output
    lines = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    routes = {(line["method"], line["route"], line["status"]) for line in lines}
    assert {("GET", "/v1/index/{record_type}/{record_id}", 404),
            ("POST", "/v1/contacts/score", 200)} <= routes  # the app's own access line stays


def test_an_explicit_access_log_choice_is_kept() -> None:
    assert without_access_log(["--port", "8000"]) == ["--port", "8000", "--no-access-log"]
    assert without_access_log(["--access-log"]) == ["--access-log"]
    assert without_access_log(["--no-access-log"]) == ["--no-access-log"]
