"""`DirectRoutes` answers the scoring routes and webhooks exactly as FastAPI's routing of them would."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.api.direct import DirectRoutes
from app.api.router import DIRECT
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
    (f"/v1/webhooks/generic?now={NOW_ISO}", {"json": {"records": [{"type": "contact", **CONTACT},
                                                                  {"type": "lead", "email": "x@"}]}}),
    ("/v1/webhooks/generic", {"json": [{"type": "widget"}]}),
    (f"/v1/webhooks/salesforce?now={NOW_ISO}", {"json": {"attributes": {"type": "Contact"}, "Id": "003A1",
                                                         "FirstName": "ada", "Email": "ada@"}}),
    ("/v1/webhooks/salesforce", {"json": {"attributes": {"type": "Widget__c"}}}),
    (f"/v1/webhooks/hubspot?now={NOW_ISO}", {"json": {"id": "51", "properties": {"email": "x@", "firstname": "A"}}}),
    ("/v1/webhooks/hubspot", {"json": [{"eventId": 1, "subscriptionType": "contact.propertyChange",
                                        "objectId": 51, "propertyName": "email", "propertyValue": "x@"}]}),
]


def routed_only(settings: Settings) -> TestClient:
    """The same app with the fast path taken out: every request goes through FastAPI's routing."""
    app = create_app(settings)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not DirectRoutes]
    return TestClient(app)


def spied(settings: Settings, answered: list[str]) -> TestClient:
    """The app, with every direct route's guard noting the path it let through DirectRoutes."""
    app = create_app(settings)
    [middleware] = [m for m in app.user_middleware if m.cls is DirectRoutes]

    def spy(path: str, guard: Any) -> Any:
        async def noted(request: Any) -> None:
            answered.append(path)
            await guard(request)
        return noted

    middleware.kwargs["routes"] = {path: (route, spy(path, guard))
                                   for path, (route, guard) in middleware.kwargs["routes"].items()}
    return TestClient(app)


@pytest.fixture
def answered() -> list[str]:
    return []


@pytest.fixture
def both(settings: Settings, answered: list[str]) -> Iterator[tuple[TestClient, TestClient]]:
    with spied(settings, answered) as fast, routed_only(settings) as routed:
        yield fast, routed


def comparable(response: Any) -> tuple[int, str, Any]:
    body = response.json()
    if isinstance(body, dict):
        body.pop("instance", None)
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize(("url", "kwargs"), REQUESTS, ids=[f"{u} {sorted(k)}" for u, k in REQUESTS])
def test_same_answer_with_and_without_the_fast_path(both: tuple[TestClient, TestClient], url: str,
                                                    kwargs: dict[str, Any], answered: list[str]) -> None:
    fast, routed = both
    assert comparable(fast.post(url, **kwargs)) == comparable(routed.post(url, **kwargs))
    assert answered == [url.split("?")[0]]  # DirectRoutes answered the first; FastAPI's routing the second


def test_the_direct_routes_are_the_scoring_routes_and_the_webhooks() -> None:
    assert set(DIRECT) == {f"/v1/{p}/score" for p in ("accounts", "contacts", "opportunities", "leads")} | {
        f"/v1/webhooks/{crm}{slash}" for crm in ("salesforce", "hubspot", "generic") for slash in ("", "/")}


def test_other_methods_and_paths_go_on_to_fastapi(client: TestClient) -> None:
    assert client.get("/v1/contacts/score").status_code == 405
    assert client.post("/v1/contacts/score/", json={}, follow_redirects=False).status_code == 307
    assert client.post("/v1/widgets/score", json={}).status_code == 404


def test_the_direct_routes_need_the_api_key_unless_signed(tmp_path: Any) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.sqlite3", api_keys="k1")
    with TestClient(create_app(settings)) as keyed:
        refused = keyed.post("/v1/contacts/score", json=CONTACT)
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        assert keyed.post("/v1/contacts/score", json=CONTACT, headers={"X-API-Key": "k1"}).status_code == 200
        assert keyed.post("/v1/webhooks/generic", json={"type": "contact"}).status_code == 401
    signed = Settings(database_url=f"sqlite:///{tmp_path}/s.sqlite3", api_keys="k1", webhook_secret="s3cret")
    with TestClient(create_app(signed)) as keyed:
        body = orjson.dumps({"type": "contact", "email": "a@b.co"})
        mac = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        answered = keyed.post("/v1/webhooks/generic", content=body,
                              headers={"X-CRM-DQ-Signature": f"sha256={mac}", "content-type": "application/json"})
        assert answered.status_code == 200 and answered.json()["results"][0]["record_type"] == "contact"
        assert keyed.post("/v1/webhooks/generic", content=body,
                          headers={"X-CRM-DQ-Signature": "sha256=00"}).status_code == 401


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


def test_overridden_dependencies_send_every_request_through_fastapi(settings: Settings,
                                                                   answered: list[str]) -> None:
    from app.api.auth import require_api_key
    from app.api.problems import Unauthorized

    async def refuse_everyone() -> None:
        raise Unauthorized("overridden")

    with spied(settings, answered) as client:
        client.app.dependency_overrides[require_api_key] = refuse_everyone  # type: ignore[attr-defined]
        assert client.post("/v1/contacts/score", json=CONTACT).status_code == 401
    assert answered == []


def test_routes_that_need_fastapi_cannot_be_answered_directly() -> None:
    from fastapi import APIRouter

    from app.api.direct import direct_routes

    router = APIRouter()

    @router.post("/with-a-parameter")
    async def with_a_parameter(request: Any, limit: int = 10) -> None:  # noqa: ARG001
        return None

    with pytest.raises(TypeError, match="cannot be answered directly"):
        direct_routes((router, lambda request: None))
