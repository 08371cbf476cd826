"""`ScoreFastPath` answers the scoring routes exactly as the FastAPI routes it stands in front of would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.routes.score import ROUTES, ScoreFastPath
from app.config import Settings
from app.main import create_app
from tests.conftest import NOW_ISO

CONTACT = {"id": "003A1", "first_name": "ada", "last_name": "Lovelace", "email": "ada@gmial.com",
           "phone": "415 555 0123", "title": "VP Sales", "owner_id": "u1", "surprise": 1}
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    (f"/v1/contacts/score?now={NOW_ISO}", {"json": CONTACT}),
    (f"/v1/leads/score?now={NOW_ISO}", {"json": {"email": "x@", "status": "Working"}}),
    (f"/v1/accounts/score?now={NOW_ISO}", {"json": {"record": {"name": "Acme Inc"},
                                                     "candidates": [{"id": "a2", "name": "ACME, Inc."}]}}),
    (f"/v1/opportunities/score?now={NOW_ISO}", {"json": {"amount": "ten", "stage": "Closed Won"}}),
    ("/v1/contacts/score?now=yesterday", {"json": CONTACT}),
    ("/v1/contacts/score?index=maybe", {"json": CONTACT}),
    ("/v1/contacts/score", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
    ("/v1/contacts/score", {"json": [CONTACT]}),
    ("/v1/contacts/score", {"content": b'{"a": 1, "a": 2}', "headers": {"content-type": "application/json"}}),
    ("/v1/contacts/score", {"content": b"{" + b" " * 2_000_000 + b"}"}),
    ("/v1/accounts/score", {"json": {"record": {"name": "Acme"}, "candidates": [1]}}),
]


def routed_only(settings: Settings) -> TestClient:
    """The same app with the fast path taken out: every request goes through FastAPI's routing."""
    app = create_app(settings)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not ScoreFastPath]
    return TestClient(app)


@pytest.fixture
def both(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    with TestClient(create_app(settings)) as fast, routed_only(settings) as routed:
        yield fast, routed


def comparable(response: Any) -> tuple[int, str, Any]:
    body = response.json()
    if isinstance(body, dict):
        body.pop("instance", None)
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize(("url", "kwargs"), REQUESTS, ids=[f"{u} {sorted(k)}" for u, k in REQUESTS])
def test_same_answer_with_and_without_the_fast_path(both: tuple[TestClient, TestClient], url: str,
                                                    kwargs: dict[str, Any]) -> None:
    fast, routed = both
    assert comparable(fast.post(url, **kwargs)) == comparable(routed.post(url, **kwargs))


def test_the_fast_path_serves_every_scoring_route_and_only_post() -> None:
    assert {path for path in ROUTES} == {f"/v1/{p}/score" for p in ("accounts", "contacts", "opportunities",
                                                                     "leads")}
    assert {record_type for _, record_type in ROUTES.values()} == {"account", "contact", "opportunity", "lead"}


def test_other_methods_and_paths_go_on_to_fastapi(client: TestClient) -> None:
    assert client.get("/v1/contacts/score").status_code == 405
    assert client.post("/v1/contacts/score/", json={}).status_code in (200, 307, 404)
    assert client.post("/v1/widgets/score", json={}).status_code == 404


def test_the_fast_path_needs_the_api_key(tmp_path: Any) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.sqlite3", api_keys="k1")
    with TestClient(create_app(settings)) as keyed:
        refused = keyed.post("/v1/contacts/score", json=CONTACT)
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        assert keyed.post("/v1/contacts/score", json=CONTACT, headers={"X-API-Key": "k1"}).status_code == 200


def test_scored_records_are_counted_in_the_metrics(client: TestClient) -> None:
    def scored() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith('crm_dq_records_scored_total{') and 'record_type="contact"' in line \
                    and 'source="api"' in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = scored()
    client.post("/v1/contacts/score", json=CONTACT)
    assert scored() == before + 1
