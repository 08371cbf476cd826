"""`POST /v1/audit` answers HTML only when Accept prefers it strictly (q-values, wildcards), else JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.routes.batch import accept_quality

BODY = {"contacts": [{"id": "c1", "first_name": "Ana"}]}
HTML = [
    "text/html",
    "text/*",
    "text/html, application/json;q=0.9",
    "application/json;q=0.5, text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # a browser's
    "TEXT/HTML; q=1",
]
JSON = [
    "",
    "*/*",
    "application/json",
    "application/json, text/html;q=0.5",  # was HTML: any "text/html" in the header meant HTML
    "text/html;q=0.5, application/json",
    "text/html, application/json",  # a tie: JSON
    "text/html;q=0",
    "text/html;q=0, */*",
    "text/*;q=0.3, application/*;q=0.4",
    "text/html;q=bogus, application/json;q=0.1",
    "text/html;q=2, */*;q=0.1",
]


@pytest.mark.parametrize("accept", HTML)
def test_html_when_it_is_strictly_preferred(client: TestClient, accept: str) -> None:
    r = client.post("/v1/audit", json=BODY, headers={"accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), accept


@pytest.mark.parametrize("accept", JSON)
def test_json_otherwise(client: TestClient, accept: str) -> None:
    r = client.post("/v1/audit", json=BODY, headers={"accept": accept})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", accept
    assert "cleanup_tasks" in r.json()


def test_format_wins_over_accept(client: TestClient) -> None:
    r = client.post("/v1/audit?format=json", json=BODY, headers={"accept": "text/html"})
    assert r.headers["content-type"] == "application/json"
    r = client.post("/v1/audit?format=html", json=BODY, headers={"accept": "application/json"})
    assert r.headers["content-type"].startswith("text/html")


def test_the_most_specific_range_gives_the_quality() -> None:
    accept = "*/*;q=0.1, text/*;q=0.5, text/html;q=0.7"
    assert accept_quality(accept, "text/html") == 0.7
    assert accept_quality(accept, "text/plain") == 0.5
    assert accept_quality(accept, "application/json") == 0.1
    assert accept_quality("image/png", "application/json") == 0.0
