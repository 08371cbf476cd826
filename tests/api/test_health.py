"""Liveness and readiness probes, and the offline API docs (/docs, /redoc) with no CDN."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

# SQLAlchemy dialect suffix per importable PostgreSQL driver, in order of preference.
PG_DRIVERS = {"psycopg": "psycopg", "psycopg2": "psycopg2", "pg8000": "pg8000"}
PG_DRIVER = next((suffix for module, suffix in PG_DRIVERS.items() if importlib.util.find_spec(module)), None)
EXTERNAL_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


def test_healthz_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_rules_and_store(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "rules": True, "store": True}


def test_readyz_reports_an_in_memory_store_ready() -> None:
    with TestClient(create_app(Settings(database_url="sqlite://"))) as c:
        assert c.get("/readyz").json()["store"] is True


def assert_not_ready_but_alive(settings: Settings) -> None:
    """A store that is down does not stop start-up: the app is alive, not ready, and still scores."""
    with TestClient(create_app(settings)) as c:
        ready = c.get("/readyz")
        assert c.get("/healthz").status_code == 200
        scored = c.post("/v1/contacts/score", json={"email": "bob@"})
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "rules": True, "store": False}
    assert scored.status_code == 200, scored.text
    assert scored.json()["duplicate_check"] == "unavailable"


@pytest.mark.skipif(PG_DRIVER is None, reason="no PostgreSQL driver (psycopg, psycopg2 or pg8000) is "
                                              "installed, so an unreachable PostgreSQL cannot be configured")
def test_readyz_is_503_when_postgresql_is_unreachable(settings: Settings) -> None:
    url = f"postgresql+{PG_DRIVER}://u:p@127.0.0.1:1/x"  # port 1: nothing listens there
    assert_not_ready_but_alive(settings.model_copy(update={"database_url": url}))


def test_readyz_documents_its_503_body(settings: Settings, tmp_path: Path) -> None:
    """The 503 answer is JSON, and the OpenAPI document says which (it described no body at all)."""
    jsonschema = pytest.importorskip("jsonschema")
    blocked = tmp_path / "store.sqlite3"
    blocked.mkdir()
    with TestClient(create_app(settings.model_copy(update={"database_url": f"sqlite:///{blocked}"}))) as c:
        spec = c.get("/openapi.json").json()
        not_ready = c.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.headers["content-type"] == "application/json"
    responses = spec["paths"]["/readyz"]["get"]["responses"]
    ready = {"status": "ready", "rules": True, "store": True}
    for status, body in (("503", not_ready.json()), ("200", ready)):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Readiness"}
        jsonschema.validate(body, spec["components"]["schemas"]["Readiness"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"status": "fine"}, spec["components"]["schemas"]["Readiness"])


def test_readyz_is_503_when_the_sqlite_store_cannot_be_opened(settings: Settings, tmp_path: Path) -> None:
    blocked = tmp_path / "store.sqlite3"
    blocked.mkdir()  # a directory where the database file should be: SQLite cannot open it
    assert_not_ready_but_alive(settings.model_copy(update={"database_url": f"sqlite:///{blocked}"}))


def test_readyz_recovers_when_the_store_comes_back(settings: Settings, tmp_path: Path) -> None:
    blocked = tmp_path / "store.sqlite3"
    blocked.mkdir()
    with TestClient(create_app(settings.model_copy(update={"database_url": f"sqlite:///{blocked}"}))) as c:
        assert c.get("/readyz").status_code == 503
        blocked.rmdir()  # the store becomes reachable after start-up
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "rules": True, "store": True}
        scored = c.post("/v1/contacts/score", json={"email": "bob@acme.com"}).json()
    assert scored["duplicate_check"] == "index"


# ------------------------------------------------------------------------------------------ offline docs

class _Refs(HTMLParser):
    """Every src/href an HTML page loads, and every spec URL it points a renderer at."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "spec-url") and value:
                self.refs.append(value)


def page_refs(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    # Swagger UI is pointed at its spec from inline JavaScript: `url: '/openapi.json'`.
    return parser.refs + re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_the_internet(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert EXTERNAL_URL.findall(html) == [], f"{page} references external URLs (a CDN?)"
    refs = page_refs(html)
    assert any(r.endswith(".js") for r in refs), f"{page} loads no script: {refs}"
    assert "/openapi.json" in refs
    for ref in refs:
        assert ref.startswith("/"), f"{page} references {ref!r}, which is not served by this app"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_assets_are_served(client: TestClient, page: str) -> None:
    for ref in page_refs(client.get(page).text):
        asset = client.get(ref)
        assert asset.status_code == 200, f"{page} references {ref}, which answers {asset.status_code}"
        assert asset.content, f"{ref} is empty"
        if ref.endswith(".js"):
            assert "javascript" in asset.headers["content-type"], (ref, asset.headers["content-type"])
            assert b"cdn.redoc.ly" not in asset.content, f"{ref} loads Redocly's logo from its CDN (helper-57)"
        if ref.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css"), ref



def test_the_patched_redoc_bundle_is_revalidated_not_downloaded_again(client: TestClient) -> None:
    """helper-62: the static mount it stands in for sent an ETag; the patched bundle sent none."""
    first = client.get("/static-offline-docs/redoc.standalone.js")
    etag = first.headers["etag"]
    again = client.get("/static-offline-docs/redoc.standalone.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
