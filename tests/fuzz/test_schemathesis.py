"""`make fuzz` with a small budget: Schemathesis against a real uvicorn, every operation and phase.

Zero 5xx, every status and media type documented, every answer true to its schema. `make fuzz` runs the
same with a larger budget (FUZZ_EXAMPLES, FUZZ_SECONDS); here CI_FUZZ_EXAMPLES and CI_FUZZ_SECONDS.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("schemathesis", reason="schemathesis is a dev extra: pip install -e '.[dev]'")

from tests.fuzz.run import PHASES, fuzz  # noqa: E402

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("CI_FUZZ_EXAMPLES", "5"))
SECONDS = int(os.environ.get("CI_FUZZ_SECONDS", "25"))


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    run = fuzz(tmp_path, EXAMPLES, SECONDS)
    report = run.report
    assert report, f"schemathesis wrote no report (exit {run.returncode}):\n{run.output[-5000:]}"
    assert report["failures"] == [] and report["errors"] == [], run.output[-20000:]
    assert run.returncode == 0, run.output[-20000:]
    ops = report["operations"]
    assert ops["tested"] == ops["selected"] == ops["total"] >= 17, ops  # every operation, none skipped
    assert ops["errored"] == 0, ops
    statuses = {name: phase["status"] for name, phase in report["phases"].items()}
    assert statuses == dict.fromkeys(PHASES, "success"), statuses
    assert report["test_cases"]["generated"] > 100, report["test_cases"]
    assert "Traceback" not in run.server_log, run.server_log[-5000:]


def test_the_same_run_reports_a_planted_server_error(tmp_path: Path) -> None:
    """The harness is live: against the app plus one route that raises, the same run fails on that route."""
    run = fuzz(tmp_path, 3, 10, app="tests.fuzz.broken_app:app", extra=("--include-path", "/v1/planted-bug"))
    assert run.returncode != 0, run.output[-5000:]
    failures = run.report["failures"]
    assert failures, run.output[-5000:]
    assert "/v1/planted-bug" in str(failures) and "Server error" in run.output, run.output[-5000:]
