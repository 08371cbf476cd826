"""What an NDJSON stream answers for lines that hold no record: blank lines are skipped (no answer, not
counted), every other line that is no record gets one error whose detail is a whole sentence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.api.assertions import assert_problem, error_locs
from tests.conftest import NOW_ISO

NDJSON = {"content-type": "application/x-ndjson"}
CONTACT = b'{"type": "contact", "id": "c1", "first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com"}'
LEAD = b'{"type": "lead", "id": "l1", "last_name": "Jones", "company": "Globex"}'


@pytest.fixture
def threaded(tmp_path: Path) -> Iterator[TestClient]:
    """Chunks judged in a thread (as in the worker processes: the same `judge_lines`), without starting a
    pool of workers per test."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/crm-dq.sqlite3", batch_processes=0)
    with TestClient(create_app(settings)) as c:
        yield c


def stream(client: TestClient, body: bytes) -> list[dict]:
    r = client.post(f"/v1/batch?now={NOW_ISO}&duplicates=false", content=body, headers=NDJSON)
    assert r.status_code == 200, r.text
    return [orjson.loads(line) for line in r.text.splitlines()]


@pytest.mark.parametrize("body", [
    CONTACT + b"\n\n" + LEAD + b"\n",
    CONTACT + b"\n   \n\t\n" + LEAD + b"\n   \n",  # whitespace-only lines, the last one too
    CONTACT + b"\r\n\r\n" + LEAD + b"\r\n\r\n",  # a CRLF file with an empty last line
    CONTACT + b"\n\n" + LEAD + b"\n  ",  # a whitespace-only last line with no newline
    b"\n\n" + CONTACT + b"\n" + LEAD,
])
def test_blank_lines_get_no_answer_and_are_not_counted(threaded: TestClient, body: bytes) -> None:
    out = stream(threaded, body)
    records, summary = out[:-1], out[-1]
    assert [o["record_type"] for o in records] == ["contact", "lead"]
    assert not any("error" in o for o in records)
    assert summary["summary"]["errors"] == {}
    # each answer keeps its input line's number
    numbers = [n for n, line in enumerate(body.split(b"\n")) if line.strip()]
    assert [o["line"] for o in records] == numbers[:2]


def test_a_stream_of_blank_lines_is_an_empty_stream(threaded: TestClient) -> None:
    out = stream(threaded, b"\n \n\r\n")
    assert [o["type"] for o in out] == ["summary"]
    assert out[0]["summary"]["errors"] == {}


def test_blank_lines_are_not_counted_across_chunks(client: TestClient) -> None:
    """In the worker processes too, across chunks."""
    body = b"\n".join([CONTACT, b""] * 600)  # 1,200 lines: three chunks of 500
    out = stream(client, body)
    assert len(out) == 601 and out[-1]["summary"]["errors"] == {}
    assert [o["line"] for o in out[:3]] == [0, 2, 4] and out[-2]["line"] == 1198


@pytest.mark.parametrize(("line", "detail"), [
    (b"[1, 2]", "The line is a JSON array, not an object: each line is a JSON object whose `type` is account, "
                "contact, opportunity or lead."),
    (b'"contact"', "The line is a JSON string, not an object: each line is a JSON object whose `type` is "
                   "account, contact, opportunity or lead."),
    (b'{"id": "1"}', "The object has no `type`: each line is a JSON object whose `type` is account, contact, "
                     "opportunity or lead."),
    (b'{"type": 3}', "The object's `type` is a number, not a name: each line is a JSON object whose `type` is "
                     "account, contact, opportunity or lead."),
    (b'{"type": "widget"}', "Unknown type 'widget': each line is a JSON object whose `type` is account, "
                            "contact, opportunity or lead (singular or plural, any case)."),
])
def test_a_line_that_is_no_record_is_told_so_in_a_sentence(threaded: TestClient, line: bytes,
                                                          detail: str) -> None:
    out = stream(threaded, CONTACT + b"\n" + line + b"\n")
    error = out[1]["error"]
    assert out[1]["line"] == 1 and error["errors"] == [{"loc": "line.1"}]
    assert error["detail"] == detail
    assert out[-1]["summary"]["errors"] == {"lines": 1}


def test_a_line_that_is_not_json_is_told_so_in_a_sentence(threaded: TestClient) -> None:
    detail = stream(threaded, b"not json\n")[0]["error"]["detail"]
    assert detail.startswith("The line is not valid JSON: ") and detail.endswith(".")


def test_ndjson_sent_as_json_is_told_which_content_type_to_use(client: TestClient) -> None:
    body = CONTACT + b"\n" + LEAD + b"\n"
    for path in ("/v1/batch", "/v1/audit"):
        for headers in ({"content-type": "application/json"}, {}):
            doc = assert_problem(client.post(path, content=body, headers=headers), 400)
            assert "unexpected content after document" in doc["detail"]
            assert doc["detail"].endswith("send it with `Content-Type: application/x-ndjson`."), doc["detail"]
            assert error_locs(doc) == ["body"]


def test_ndjson_sent_to_a_single_record_route_is_pointed_at_the_batch(client: TestClient) -> None:
    body = CONTACT + b"\n" + LEAD + b"\n"
    for path in ("/v1/contacts/score", "/v1/webhooks/generic", "/v1/duplicates"):
        doc = assert_problem(client.post(path, content=body, headers={"content-type": "application/json"}), 400)
        assert "post it to /v1/batch with `Content-Type: application/x-ndjson`" in doc["detail"], doc["detail"]


def test_json_that_is_broken_otherwise_gets_no_ndjson_hint(client: TestClient) -> None:
    doc = assert_problem(client.post("/v1/batch", content=b'{"contacts": [', headers={}), 400)
    assert "x-ndjson" not in doc["detail"]


@pytest.mark.parametrize("content_type", ["text/x-ndjson", "application/jsonl", "Text/X-NDJSON; charset=utf-8"])
def test_ndjson_is_read_under_its_other_names(threaded: TestClient, content_type: str) -> None:
    r = threaded.post(f"/v1/batch?now={NOW_ISO}&duplicates=false", content=CONTACT + b"\n" + LEAD + b"\n",
                      headers={"content-type": content_type})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    assert [orjson.loads(line).get("record_type") for line in r.text.splitlines()] == ["contact", "lead", None]
