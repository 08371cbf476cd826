"""`make fuzz`: Schemathesis against a real uvicorn's /openapi.json, every operation, every phase.

    .venv/bin/python -m tests.fuzz.run                     # FUZZ_EXAMPLES=50 FUZZ_SECONDS=300 by default
    FUZZ_EXAMPLES=200 FUZZ_SECONDS=1200 make fuzz           # a longer run

The server is `uvicorn app.main:app` on 127.0.0.1 and a free port, with its SQLite index in a temporary
directory. Schemathesis runs its examples, coverage, fuzzing and stateful phases (the stateful one follows
the OpenAPI links, e.g. an index upsert then a read and a delete of the same record) with these checks:

- not_a_server_error: no 5xx, ever;
- status_code_conformance: every status the service answers is documented for the operation;
- content_type_conformance: answers come in a documented media type (problems in application/problem+json);
- response_schema_conformance: every answer matches its documented schema.

Budget: FUZZ_EXAMPLES (examples per operation and phase), FUZZ_SECONDS (the whole run; fuzzing and stateful
testing repeat until it is spent), FUZZ_SEED (to reproduce a run), FUZZ_WORKERS (Schemathesis workers).
The exit status is Schemathesis's: 0 when no check failed. Its JSON and JUnit reports are written to
FUZZ_REPORT_DIR (default: the temporary directory, printed at the end).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.live import ROOT, live_server

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")
PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass
class FuzzRun:
    returncode: int
    output: str
    report: dict[str, Any] = field(default_factory=dict)
    server_log: str = ""


def schemathesis_command(openapi_url: str, examples: int, seconds: int, report_dir: Path,
                         seed: int | None = None, workers: str = "1",
                         extra: tuple[str, ...] = ()) -> list[str]:
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", openapi_url,
           "--checks", ",".join(CHECKS), "--phases", ",".join(PHASES),
           "--max-examples", str(examples), "--max-time", str(seconds), "--workers", workers,
           "--request-timeout", "30", "--generation-database", "none", "--no-color",
           "--report", "json,junit", "--report-dir", str(report_dir),
           "--report-json-path", str(report_dir / "schemathesis.json"),
           "--report-junit-path", str(report_dir / "junit.xml")]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    return cmd + list(extra)


def fuzz(workdir: Path, examples: int, seconds: int, seed: int | None = None, workers: str = "1",
         report_dir: Path | None = None, echo: bool = False, app: str = "app.main:app",
         extra: tuple[str, ...] = ()) -> FuzzRun:
    """Start the server under `workdir`, run Schemathesis against it, return its status, output and report."""
    report_dir = report_dir or workdir / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = os.environ | {"SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": path}
    with live_server(workdir / "server", app=app) as server:
        cmd = schemathesis_command(f"{server.url}/openapi.json", examples, seconds, report_dir, seed, workers,
                                   extra)
        # cwd: Schemathesis leaves nothing in the working tree
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if echo:
                print(line, end="", flush=True)
        returncode = proc.wait()
        server_log = server.output()
    report_file = report_dir / "schemathesis.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return FuzzRun(returncode, "".join(lines), report, server_log)


def main() -> int:
    examples = int(os.environ.get("FUZZ_EXAMPLES", "50"))
    seconds = int(os.environ.get("FUZZ_SECONDS", "300"))
    seed = int(os.environ["FUZZ_SEED"]) if os.environ.get("FUZZ_SEED") else None
    workers = os.environ.get("FUZZ_WORKERS", "1")
    workdir = Path(tempfile.mkdtemp(prefix="crm-dq-fuzz-"))
    report_dir = Path(os.environ["FUZZ_REPORT_DIR"]) if os.environ.get("FUZZ_REPORT_DIR") else None
    print(f"fuzz: {examples} examples per operation, at most {seconds} s, server and reports in {workdir}",
          flush=True)
    run = fuzz(workdir, examples, seconds, seed, workers, report_dir, echo=True)
    errors = [line for line in run.server_log.splitlines() if "Traceback" in line]
    if errors:
        print(f"fuzz: the server logged {len(errors)} traceback(s); see {workdir}/server/uvicorn.log")
    print(f"fuzz: schemathesis exited {run.returncode}; reports in {report_dir or workdir / 'report'}")
    return run.returncode or (1 if errors else 0)


if __name__ == "__main__":
    sys.exit(main())
