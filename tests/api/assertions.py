"""Assertions shared by the API, property and end-to-end tests."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"
SCORE_PATHS = {
    "account": "/v1/accounts/score",
    "contact": "/v1/contacts/score",
    "opportunity": "/v1/opportunities/score",
    "lead": "/v1/leads/score",
}


def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document (4xx, never 5xx); returns the document."""
    if status is None:
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
    else:
        assert response.status_code == status, (status, response.status_code, response.text)
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON, response.headers
    doc = response.json()
    assert {"type", "title", "status", "detail"} <= doc.keys(), doc
    assert doc["status"] == response.status_code
    assert isinstance(doc["type"], str) and doc["type"]
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["detail"], str) and doc["detail"]
    return doc


def error_locs(doc: dict[str, Any]) -> list[str]:
    """The `loc` of every item in a problem's `errors`."""
    return [e["loc"] for e in doc.get("errors", [])]
