"""Bodies and parameters the scoring endpoints refuse: always a 4xx application/problem+json, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.api.assertions import SCORE_PATHS, assert_problem, error_locs
from tests.conftest import NOW_ISO

PATHS = list(SCORE_PATHS.values())
LIMIT = 64


@pytest.fixture
def small_client(settings: Settings) -> Iterator[TestClient]:
    """An app whose body limit is LIMIT bytes."""
    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": LIMIT}))) as c:
        yield c


def json_object_of_size(size: int) -> bytes:
    """A valid JSON object (one record) of exactly `size` bytes, so only its size can be refused."""
    overhead = len(b'{"name": ""}')
    body = b'{"name": "' + b"x" * (size - overhead) + b'"}'
    assert len(body) == size
    return body


def post_raw(client: TestClient, path: str, body: bytes):  # type: ignore[no-untyped-def]
    return client.post(path, content=body, headers={"content-type": "application/json"})


# ------------------------------------------------------------------------------------------ not JSON: 400

NOT_JSON = {
    "text": b"not json",
    "truncated": b'{"email": "bob@acme.com"',
    "empty": b"",
    "trailing-comma": b'{"email": "bob@acme.com",}',
    "single-quotes": b"{'email': 'bob@acme.com'}",
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("body", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_is_a_400_problem(client: TestClient, path: str, body: bytes) -> None:
    doc = assert_problem(post_raw(client, path, body), 400)
    assert doc["type"] == "/problems/invalid-json"
    assert doc["instance"] == path
    assert error_locs(doc) == ["body"]


# ---------------------------------------------------------------------------- JSON, but not an object: 422

NOT_A_RECORD = {"array": b'[{"email": "bob@acme.com"}]', "empty-array": b"[]", "string": b'"bob@acme.com"',
                "number": b"42", "float": b"-1.5e3", "true": b"true", "null": b"null"}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("body", NOT_A_RECORD.values(), ids=NOT_A_RECORD.keys())
def test_json_that_is_not_an_object_is_a_422_naming_body(client: TestClient, path: str, body: bytes) -> None:
    doc = assert_problem(post_raw(client, path, body), 422)
    assert doc["type"] == "/problems/not-a-record"
    assert error_locs(doc) == ["body"]


# ------------------------------------------------------------------------------------ body too large: 413

@pytest.mark.parametrize("path", PATHS)
def test_a_body_at_the_limit_is_scored(small_client: TestClient, path: str) -> None:
    response = post_raw(small_client, path, json_object_of_size(LIMIT))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", PATHS)
def test_a_declared_body_over_the_limit_is_a_413(small_client: TestClient, path: str) -> None:
    response = post_raw(small_client, path, json_object_of_size(LIMIT + 1))
    assert response.request.headers["content-length"] == str(LIMIT + 1)
    doc = assert_problem(response, 413)
    assert doc["type"] == "/problems/body-too-large"
    assert doc["limit"] == LIMIT
    assert error_locs(doc) == ["body"]  # the field path, as issue 2 asks of every refused body (helper-57)


def chunks(body: bytes, size: int = 16) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


@pytest.mark.parametrize("path", PATHS)
def test_a_streamed_body_over_the_limit_is_a_413(small_client: TestClient, path: str) -> None:
    response = small_client.post(path, content=chunks(json_object_of_size(LIMIT + 1)),
                                 headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    doc = assert_problem(response, 413)
    assert doc["type"] == "/problems/body-too-large"
    assert doc["limit"] == LIMIT
    assert error_locs(doc) == ["body"]


@pytest.mark.parametrize("path", PATHS)
def test_a_streamed_body_within_the_limit_is_scored(small_client: TestClient, path: str) -> None:
    response = small_client.post(path, content=chunks(json_object_of_size(LIMIT)),
                                 headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 200, response.text


def test_the_default_limit_is_one_mebibyte(client: TestClient) -> None:
    assert post_raw(client, PATHS[0], json_object_of_size(1024 * 1024)).status_code == 200
    assert_problem(post_raw(client, PATHS[0], json_object_of_size(1024 * 1024 + 1)), 413)


# ------------------------------------------------------------------------------------- invalid ?now: 422

@pytest.mark.parametrize("now", ["garbage", "", "yesterday", "2024-13-01", "2024-02-30T00:00:00Z",
                                 "1718452800"])
def test_an_invalid_now_is_a_422_naming_query_now(client: TestClient, now: str) -> None:
    response = client.post(SCORE_PATHS["contact"], params={"now": now}, json={"email": "bob@acme.com"})
    doc = assert_problem(response, 422)
    assert doc["type"] == "/problems/invalid-parameter"
    assert error_locs(doc) == ["query.now"]


def test_a_valid_now_is_accepted(client: TestClient) -> None:
    assert client.post(SCORE_PATHS["contact"], params={"now": NOW_ISO}, json={}).status_code == 200


# ------------------------------------------------------------------- bodies that break naive JSON parsers

HOSTILE = {
    "nan-literal": b'{"amount": NaN}',
    "bare-nan": b"NaN",
    "infinity-literal": b'{"amount": Infinity}',
    "out-of-range-float": b'{"amount": 1e400}',
    "invalid-utf8": b'{"name": "\xff\xfe\xfd"}',
    "invalid-utf8-key": b'{"\xc3\x28": 1}',
    "lone-surrogate-escape": b'{"name": "\\ud800"}',
    "nested-arrays-10000": b'{"tags": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "nested-objects-10000": b'{"a": ' * 10_000 + b"1" + b"}" * 10_000,
    "bare-nested-arrays-10000": b"[" * 10_000 + b"]" * 10_000,
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_bodies_are_a_4xx_problem(client: TestClient, path: str, body: bytes) -> None:
    doc = assert_problem(post_raw(client, path, body))
    assert doc["type"] == "/problems/invalid-json"
    assert error_locs(doc) == ["body"]


DEEP = b"[" * 1000 + b"]" * 1000  # as deep as JSON goes (orjson accepts 1,024 levels)


def test_a_repeated_name_beside_a_deep_value_is_a_422_everywhere(client: TestClient) -> None:
    """helper-58: the repeat went unnoticed (200) when the body held a value nested about 990 deep or more;
    in a JSON batch one such entry let every other entry's repeats through."""
    record = b'{"email": "a@b.com", "email": "c@d.com", "x": ' + DEEP + b"}"
    doc = assert_problem(post_raw(client, SCORE_PATHS["contact"], record), 422)
    assert doc["type"] == "/problems/duplicate-keys" and error_locs(doc) == ["body.email"]
    batch = b'{"contacts": [{"id": "deep", "x": ' + DEEP + b'}, {"id": "b", "email": "x", "email": "y"}]}'
    response = post_raw(client, "/v1/batch", batch)
    assert response.status_code == 200, response.text
    deep, repeated = response.json()["results"]["contacts"]
    assert deep["record_id"] == "deep"
    assert error_locs(repeated["error"]) == ["contacts.1.email"]
    line = b'{"type": "contact", "email": "a@b.com", "email": "c@d.com", "x": ' + DEEP + b"}\n"
    streamed = client.post("/v1/batch", content=line, headers={"content-type": "application/x-ndjson"})
    first = orjson.loads(streamed.content.splitlines()[0])
    assert "line.0.email" in first["error"]["detail"], first


# ------------------------------------------------------------------------------------ other HTTP errors

def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    assert error_locs(assert_problem(client.get(SCORE_PATHS["contact"]), 405)) == ["method"]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", SCORE_PATHS["contact"], "POST"),
    ("POST", "/v1/index/contacts/c1", "DELETE, GET, HEAD, PUT"),  # three routes share the path
    ("DELETE", "/healthz", "GET, HEAD"),
    ("BREW", "/readyz", "GET, HEAD"),
])
def test_a_405_says_which_methods_are_allowed(client: TestClient, method: str, path: str, allow: str) -> None:
    """RFC 9110 §15.5.6: a 405 names the methods the resource serves (helper-58: the header was dropped)."""
    response = client.request(method, path)
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    assert error_locs(assert_problem(client.get("/v1/nothing-here"), 404)) == ["path"]


# ------------------------------------------------------------------- a form or plain text is no JSON: 415

FORM_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
              "Text/Plain; charset=utf-8"]
BODY_ROUTES = [*PATHS, "/v1/batch", "/v1/audit", "/v1/duplicates", "/v1/index/contacts/bulk", "/v1/webhooks/generic"]


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("media", FORM_TYPES)
def test_a_body_sent_as_a_form_or_plain_text_is_a_415(client: TestClient, path: str, media: str) -> None:
    """The media types a browser posts cross-site without a preflight: read as JSON, any web page could write
    to a local service's index (helper-57/58; FastAPI's CVE-2021-32677). Nothing is read or written."""
    body = b'{"id": "c9", "first_name": "Eve", "records": [], "contacts": [], "record_type": "contacts"}'
    doc = assert_problem(client.post(path, content=body, headers={"content-type": media}), 415)
    assert doc["type"] == "/problems/unsupported-media-type"
    assert error_locs(doc) == ["header.content-type"]


@pytest.mark.parametrize("path", PATHS)
def test_a_body_without_a_content_type_is_read_as_json(client: TestClient, path: str) -> None:
    response = client.post(path, content=b'{"id": "c9"}')
    assert "content-type" not in response.request.headers
    assert response.status_code == 200, response.text


CROSS_SITE = {"cross-site": {"sec-fetch-site": "cross-site"}, "same-site": {"sec-fetch-site": "same-site"},
              "file-page": {"origin": "null"}}


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("headers", CROSS_SITE.values(), ids=CROSS_SITE.keys())
def test_a_browser_post_from_another_site_is_a_403(client: TestClient, path: str, headers: dict[str, str]) -> None:
    """helper-62: a page's fetch of raw bytes has no Content-Type, needs no preflight, and was read as JSON
    (?index=true wrote the record): a browser says where it comes from, and another site is refused."""
    body = b'{"id": "c9", "first_name": "Eve", "records": [], "contacts": [], "record_type": "contacts"}'
    doc = assert_problem(client.post(path + "?index=true", content=body, headers=headers), 403)
    assert doc["type"] == "/problems/cross-site" and error_locs(doc) == [next(iter(
        f"header.{name}" for name in headers))]
    assert client.get("/v1/index/contacts/c9").status_code == 404  # nothing written


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_the_services_own_pages_may_post(client: TestClient, site: str) -> None:
    """Swagger UI's 'Try it out' on /docs is same-origin; a URL typed into the browser is 'none'."""
    response = client.post(PATHS[0], json={"id": "c9"}, headers={"sec-fetch-site": site})
    assert response.status_code == 200, response.text


def test_every_body_route_documents_its_403_and_415(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    with_body = [(p, m) for p, item in paths.items() for m, op in item.items() if "requestBody" in op]
    assert with_body and all({"403", "415"} <= set(paths[p][m]["responses"]) for p, m in with_body)
