"""What a person looks at, rendered in headless Chromium (Debian's `chromium`, installed by .ci/run):
the HTML audit and /docs must render with no console errors; screenshots are kept in test-artifacts/."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.server import running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium; "
                                                          ".ci/run does this)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server() as (url, _pid):
        yield url


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=90, check=False)


def console_errors(stderr: str) -> list[str]:
    """Lines Chromium logs for page console errors and failed loads (not its own start-up noise)."""
    return [line for line in stderr.splitlines()
            if ("CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)) or "net::ERR_" in line]


def render(url: str, name: str, wait_ms: int = 3000) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = chromium(f"--screenshot={ARTIFACTS / name}.png", "--window-size=1280,1800",
                    f"--virtual-time-budget={wait_ms}", url)
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000, shot.stderr[-2000:]
    dom = chromium(f"--virtual-time-budget={wait_ms}", "--dump-dom", url)
    assert console_errors(shot.stderr + dom.stderr) == []
    return dom.stdout


def test_docs_render_offline(server: str) -> None:
    dom = render(f"{server}/docs", "docs", wait_ms=6000)
    assert "swagger-ui" in dom and "/v1/contacts/score" in dom, "Swagger UI rendered the operations"


def test_redoc_renders_offline(server: str) -> None:
    """/redoc renders its operations offline (that its bundle asks nothing of cdn.redoc.ly is
    tests/api/test_health.py's: this Chromium logs no error for the failed logo load)."""
    dom = render(f"{server}/redoc", "redoc", wait_ms=6000)
    assert "/v1/contacts/score" in dom and "cdn.redoc.ly" not in dom, "Redoc rendered the operations"


def test_html_audit_renders(server: str, tmp_path: Path) -> None:
    body = {"accounts": [{"id": "a1", "name": "Acme", "website": "acme.com"},
                         {"id": "a2", "name": "ACME Inc", "website": "https://www.acme.com"}],
            "contacts": [{"id": "c1", "account_id": "a1", "first_name": "Bob", "email": "bob@"}],
            "opportunities": [{"id": "o1", "account_id": "a1", "amount": 60000, "stage": "Proposal"}]}
    html = httpx.post(f"{server}/v1/audit?format=html", json=body, timeout=30).text
    page = tmp_path / "audit.html"
    page.write_text(html)
    dom = render(page.as_uri(), "audit")
    assert "CRM data health audit" in dom and "Duplicate clusters" in dom
    assert os.path.getsize(ARTIFACTS / "audit.png") > 10_000
