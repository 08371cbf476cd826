"""Hostile bodies against a real uvicorn: a 4xx problem or a finding, never a 5xx; memory stays bounded.

Malformed UTF-8, JSON nested 10,000 deep, a 10 MB string, NaN and Infinity, duplicate names, a 5,000-digit
integer: sent to the single-record routes, the JSON batch, the NDJSON stream (worker processes, as deployed)
and the webhooks. A JSON document that is not JSON, or repeats a name, is refused whole with a problem naming
the path; an NDJSON line that is either gets its own error line and every other line its result; a value
that is merely dirty (a list 1,000 deep, a 10 MB phone, a 2**70 head count) is judged and reported.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.api.assertions import assert_problem, error_locs
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.e2e

NDJSON = {"content-type": "application/x-ndjson"}
JSON = {"content-type": "application/json"}
TEN_MB = 10 * 1024 * 1024
GOOD = b'{"id": "c-good", "first_name": "Ann", "last_name": "Lee", "email": "ann@acme.com"}'


def nested(depth: int, inner: bytes = b'"x"') -> bytes:
    return b"[" * depth + inner + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


# Bodies that are not JSON (RFC 8259) at all: a 400 for a document, an error line in a stream.
NOT_JSON: dict[str, bytes] = {
    "malformed_utf8": b'{"first_name": "Ren\xc3\x28e", "last_name": "\xff\xfe"}',
    "lone_surrogate": b'{"first_name": "\\ud800"}',
    "nested_arrays_10000": nested(10_000),
    "nested_objects_10000": nested_objects(10_000),
    "nested_field_10000": b'{"first_name": ' + nested(10_000) + b"}",
    "nan": b'{"employee_count": NaN, "amount": 1}',
    "infinity": b'{"amount": Infinity}',
    "minus_infinity": b'{"amount": -Infinity}',
    "integer_5000_digits": b'{"employee_count": ' + b"9" * 5000 + b"}",
    "minus_integer_5000_digits": b'{"amount": -' + b"9" * 5000 + b"}",
    "float_overflow": b'{"amount": 1e999999}',
}
# Valid JSON that repeats a name: which value would the CRM hold? Refused, naming the path.
DUPLICATE_KEYS = b'{"id": "c-dup", "email": "bob@acme.com", "mailing_address": {"city": "A", "city": "B"}, ' \
                 b'"email": "bob@"}'
# Dirty values: judged, with a finding on the field.
DIRTY: dict[str, tuple[bytes, str]] = {
    "list_1000_deep": (b'{"id": "c-deep", "first_name": ' + nested(1000) + b"}", "first_name"),
    "object_1000_deep": (b'{"id": "c-deep2", "title": ' + nested_objects(1000) + b"}", "title"),
    "integer_2_pow_70": (b'{"id": "c-int", "phone": ' + str(2**70).encode() + b"}", "phone"),
    "digits_5000_as_text": (b'{"id": "c-txt", "phone": "' + b"9" * 5000 + b'"}', "phone"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Deployed defaults: 1 MiB per record, NDJSON judged in two worker processes (records are pickled)."""
    with live_server(tmp_path_factory.mktemp("hostile"), env={"CRM_DQ_BATCH_PROCESSES": "2"}) as live:
        yield live


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    # no client-level params: httpx would replace each path's own query (?type=contact) with them
    with httpx.Client(base_url=server.url, timeout=120.0) as client:
        yield client


def not_5xx(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, (response.status_code, response.text[:2000])
    return response


def post(http: httpx.Client, path: str, body: bytes, headers: dict[str, str] = JSON) -> httpx.Response:
    return not_5xx(http.post(path, content=body, headers=headers))


def stream(http: httpx.Client, *lines: bytes) -> list[dict[str, Any]]:
    """An NDJSON batch; every line answered in order, then the summary line."""
    response = post(http, "/v1/batch", b"\n".join(lines) + b"\n", NDJSON)
    assert response.status_code == 200, response.text[:2000]
    out = [orjson.loads(line) for line in response.content.splitlines()]
    assert [o.get("line") for o in out[:-1]] == list(range(len(lines))), out
    assert "summary" in out[-1], out[-1]
    return out


def typed(body: bytes, record_type: str = "contact") -> bytes:
    """An NDJSON line: the record with its type (bodies that are not an object are sent as they are)."""
    return b'{"type": "%s", ' % record_type.encode() + body[1:] if body.startswith(b"{") else body


def finding_on(report: dict[str, Any], field: str) -> list[dict[str, Any]]:
    return [issue for issue in report["issues"] if issue["field"] == field]


@pytest.mark.parametrize("name", list(NOT_JSON))
def test_a_body_that_is_not_json_is_a_400_problem_everywhere(http: httpx.Client, name: str) -> None:
    body = NOT_JSON[name]
    for path in ("/v1/contacts/score", "/v1/accounts/score", "/v1/opportunities/score", "/v1/leads/score",
                 "/v1/webhooks/generic?type=contact", "/v1/webhooks/salesforce?type=Contact",
                 "/v1/webhooks/hubspot?type=contacts"):
        doc = assert_problem(post(http, path, body), 400)
        assert error_locs(doc) == ["body"], (path, doc)
    batch = b'{"contacts": [' + GOOD + b", " + body + b"]}"
    assert error_locs(assert_problem(post(http, "/v1/batch", batch), 400)) == ["body"]
    records = b'{"record_type": "contacts", "records": [' + body + b"]}"
    assert_problem(post(http, "/v1/duplicates", records), 400)
    assert_problem(post(http, "/v1/index/contacts/bulk", b'{"records": [' + body + b"]}"), 400)


@pytest.mark.parametrize("name", list(NOT_JSON))
def test_an_ndjson_line_that_is_not_json_gets_its_own_error_and_the_others_their_results(
        http: httpx.Client, name: str) -> None:
    first, bad, last = stream(http, typed(GOOD), typed(NOT_JSON[name]), typed(GOOD))[:3]
    assert first["record_id"] == last["record_id"] == "c-good"
    assert bad["error"]["status"] == 422 and bad["error"]["errors"] == [{"loc": "line.1"}], bad
    assert "not valid JSON" in bad["error"]["detail"]


def test_a_repeated_name_is_a_422_problem_naming_each_path(http: httpx.Client) -> None:
    for path in ("/v1/contacts/score", "/v1/webhooks/generic?type=contact", "/v1/index/contacts/c-dup"):
        method = "PUT" if path.startswith("/v1/index") else "POST"
        response = not_5xx(http.request(method, path, content=DUPLICATE_KEYS, headers=JSON))
        doc = assert_problem(response, 422)
        assert doc["type"] == "/problems/duplicate-keys"
        assert sorted(error_locs(doc)) == ["body.email", "body.mailing_address.city"], doc
    assert http.get("/v1/index/contacts/c-dup").status_code == 404  # nothing was stored
    twice = b'{"contacts": [], "contacts": [' + GOOD + b"]}"
    assert error_locs(assert_problem(post(http, "/v1/batch", twice), 422)) == ["body.contacts"]


def test_a_json_batch_entry_with_a_repeated_name_gets_its_own_error_and_the_others_their_results(
        http: httpx.Client) -> None:
    batch = b'{"contacts": [' + GOOD + b", " + DUPLICATE_KEYS + b", " + GOOD + b"]}"
    response = not_5xx(post(http, "/v1/batch", batch))
    assert response.status_code == 200, response.text
    first, bad, last = response.json()["results"]["contacts"]
    assert first["record_id"] == last["record_id"] == "c-good"
    assert bad["index"] == 1 and bad["error"]["type"] == "/problems/duplicate-keys"
    assert sorted(error_locs(bad["error"])) == ["contacts.1.email", "contacts.1.mailing_address.city"]
    assert response.json()["summary"]["totals"]["contacts"] == 3  # entries with errors count, as "not a record" does


def test_an_ndjson_line_with_a_repeated_name_gets_its_own_error(http: httpx.Client) -> None:
    first, bad, last = stream(http, typed(GOOD), typed(DUPLICATE_KEYS), typed(GOOD))[:3]
    assert first["record_id"] == last["record_id"] == "c-good"
    assert bad["error"]["errors"] == [{"loc": "line.1"}]
    detail = bad["error"]["detail"]
    assert "line.1.email" in detail and "line.1.mailing_address.city" in detail, detail


def test_names_that_only_look_repeated_are_judged(http: httpx.Client) -> None:
    """Colons and escaped colons inside strings, the same name in different objects: no false alarm."""
    body = (b'{"id": "c-colon", "email": "a:b@acme.com", "title": "VP: Sales \\u003a ops", '
            b'"mailing_address": {"street": "1:2", "city": "x"}, "bant": {"budget": "y", "need": "z"}, '
            b'"created_at": "2024-01-01T10:00:00Z", "x": [{"city": 1}, {"city": 2}]}')
    assert post(http, "/v1/contacts/score", body).json()["record_id"] == "c-colon"
    assert stream(http, typed(body))[0]["record_id"] == "c-colon"


@pytest.mark.parametrize("name", list(DIRTY))
def test_a_dirty_value_is_judged_with_a_finding(http: httpx.Client, name: str) -> None:
    body, field = DIRTY[name]
    report = post(http, "/v1/contacts/score", body).json()
    assert finding_on(report, field), report["issues"]
    batch = post(http, "/v1/batch", b'{"contacts": [' + GOOD + b", " + body + b"]}").json()
    assert [r["record_id"] for r in batch["results"]["contacts"]] == ["c-good", report["record_id"]]
    assert finding_on(batch["results"]["contacts"][1], field)
    good, dirty, summary = stream(http, typed(GOOD), typed(body))
    assert good["record_id"] == "c-good" and finding_on(dirty, field), dirty
    assert summary["summary"]["totals"]["contacts"] == 2
    hook = post(http, "/v1/webhooks/generic?type=contact", body).json()
    assert finding_on(hook["results"][0], field)


def test_a_10_mb_string(http: httpx.Client) -> None:
    """Over the 1 MiB record limit: 413 on the record routes, its own error line in a stream; a JSON batch
    and a webhook (16 MiB limit: a webhook carries query pages) judge it, and the report echoes a clipped
    value, not 10 MB. Over the webhook limit, a webhook is a 413."""
    phone = b'"' + b"5" * TEN_MB + b'"'
    body = b'{"id": "c-big", "first_name": "Big", "phone": ' + phone + b"}"
    for path in ("/v1/contacts/score", "/v1/index/contacts/c-big"):
        method = "PUT" if path.startswith("/v1/index") else "POST"
        assert_problem(not_5xx(http.request(method, path, content=body, headers=JSON)), 413)
    response = post(http, "/v1/webhooks/generic?type=contact", body)
    assert response.status_code == 200 and len(response.content) < 200_000, len(response.content)
    [hooked] = response.json()["results"]
    assert [len(str(i["value"])) <= 201 for i in finding_on(hooked, "phone")] == [True], hooked["issues"]
    over = body.replace(phone, b'"' + b"5" * (16 * 1024 * 1024) + b'"')
    assert_problem(post(http, "/v1/webhooks/generic?type=contact", over), 413)
    response = post(http, "/v1/batch", b'{"contacts": [' + GOOD + b", " + body + b"]}")
    assert response.status_code == 200 and len(response.content) < 200_000, len(response.content)
    big = response.json()["results"]["contacts"][1]
    assert big["record_id"] == "c-big"
    assert [len(str(i["value"])) <= 201 for i in finding_on(big, "phone")] == [True], big["issues"]
    good, error, last = stream(http, typed(GOOD), typed(body), typed(GOOD))[:3]
    assert "longer than the request size limit" in error["error"]["detail"]
    assert good["record_id"] == last["record_id"] == "c-good"


def test_memory_stays_bounded(server: LiveServer, http: httpx.Client) -> None:
    """Every hostile body again, ten times after a warm-up round: the server's RSS does not keep growing.

    A leak of what these requests carry (a 10 MB string each round at least) would add 100 MB or more.
    """
    big_batch = b'{"contacts": [{"id": "c-big", "phone": "' + b"5" * TEN_MB + b'"}]}'

    def one_round() -> None:
        for body in NOT_JSON.values():
            post(http, "/v1/contacts/score", body)
            stream(http, typed(GOOD), typed(body))
        for body, _ in DIRTY.values():
            post(http, "/v1/contacts/score", body)
            post(http, "/v1/batch", b'{"contacts": [' + body + b"]}")
        post(http, "/v1/contacts/score", DUPLICATE_KEYS)
        post(http, "/v1/batch", big_batch)

    one_round()
    before = server.rss()
    started = time.monotonic()
    for _ in range(10):
        one_round()
    after = server.rss()
    growth = after - before
    print(f"server RSS {before / 2**20:.0f} MB -> {after / 2**20:.0f} MB after 10 rounds "
          f"({time.monotonic() - started:.1f} s)")
    assert growth < 60 * 2**20, f"RSS grew {growth / 2**20:.0f} MB over 10 rounds"
    assert after < 600 * 2**20, f"RSS {after / 2**20:.0f} MB"
    assert http.get("/readyz").status_code == 200
    assert "Traceback" not in server.output()


def test_a_name_of_a_million_characters_is_matched_in_bounded_time(http: httpx.Client) -> None:
    """Matching reads at most 256 characters of a field: a 1 MB name once took nameparser about 100 s per
    record (and made one blocking key per word), on the single-record route as soon as the index held a
    record, and in every batch with duplicate detection on."""
    assert http.put("/v1/index/contacts/c-ann", content=GOOD, headers=JSON).status_code == 200
    name = b"a, " * 340_000  # just under the 1 MiB record limit
    body = b'{"id": "c-long", "first_name": "' + name + b'", "email": "ann@acme.com"}'
    started = time.monotonic()
    report = post(http, "/v1/contacts/score", body).json()
    assert report["duplicate_check"] == "index" and time.monotonic() - started < 10
    started = time.monotonic()
    other = body.replace(b"c-long", b"c-long2")
    twice = b'{"record_type": "contacts", "records": [' + body + b", " + other + b"]}"
    assert post(http, "/v1/duplicates", twice).status_code == 200
    assert time.monotonic() - started < 10
