"""A record's `id` as the report, the index and matching read it (helper-78): text, or an integral number as
its decimal digits; anything else is a `field.wrong_type` finding on `id`, on every path alike."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

PERSON = '"first_name": "Ada", "last_name": "Byron", "email": "ada@analytical.example"'
JSON = {"content-type": "application/json"}
# the id as sent (raw JSON: 1e3 and 2**64 are numbers as a CRM writes them) -> record_id, or None: wrong type
IDS = [("1001", "1001"), ("1e3", "1000"), ("1000.0", "1000"), ("-7", "-7"),
       ("18446744073709551615", "18446744073709551615"),  # the largest integer the parser reads exactly
       ("18446744073709551616", None),  # read as a float: its last digits may be lost
       ("3.5", None), ("9007199254740993.0", None), ("true", None), ("[1]", None)]


def id_findings(report: dict[str, Any]) -> list[str]:
    return [i["rule"] for i in report["issues"] if i["field"] == "id" and ".duplicate." not in i["rule"]]


def contact(sent: str, kind: str = "") -> str:
    """A contact's JSON text with the id as sent (`kind`: an NDJSON line's type first)."""
    return f'{{{kind}"id": {sent}, {PERSON}}}'


@pytest.mark.parametrize(("sent", "read"), IDS)
def test_an_id_is_text_or_an_integral_number_else_a_finding(client: TestClient, sent: str,
                                                            read: str | None) -> None:
    report = client.post("/v1/contacts/score", content=contact(sent).encode(), headers=JSON).json()
    assert report["record_id"] == read
    assert id_findings(report) == ([] if read is not None else ["contact.field.wrong_type"])


def test_a_batch_and_an_ndjson_stream_read_ids_as_the_score_route(client: TestClient) -> None:
    contacts = ",".join(contact(sent) for sent, _ in IDS)
    batch = client.post("/v1/batch", content=f'{{"contacts": [{contacts}]}}'.encode(),
                        headers=JSON).json()["results"]["contacts"]
    lines = "".join(contact(sent, '"type": "contact", ') + "\n" for sent, _ in IDS)
    ndjson = {"content-type": "application/x-ndjson"}
    stream = client.post("/v1/batch", content=lines.encode(), headers=ndjson)
    streamed = [orjson.loads(line) for line in stream.text.splitlines()][:-1]
    for reports in (batch, streamed):
        assert [r["record_id"] for r in reports] == [read for _, read in IDS]
        wrong = [[] if read is not None else ["contact.field.wrong_type"] for _, read in IDS]
        assert [id_findings(r) for r in reports] == wrong


def test_an_integral_number_is_indexed_under_its_digits(client: TestClient) -> None:
    body = contact("1e3").encode()
    report = client.post("/v1/contacts/score", params={"index": "true"}, content=body, headers=JSON).json()
    assert report["indexed"] is True and client.get("/v1/index/contacts/1000").status_code == 200


@pytest.mark.parametrize(("record", "reason"), [
    ({}, "the record has no id"),
    ({"id": ""}, "the record has no id"),
    ({"id": 3.5}, "the id is neither text nor an integral number"),
    ({"id": "0" * 300}, "the id is longer than the 255 characters the reference index stores"),
])
def test_a_record_not_indexed_says_why(client: TestClient, record: dict[str, Any], reason: str) -> None:
    body = client.post("/v1/contacts/score", params={"index": "true"},
                       json={**record, "last_name": "Byron"}).json()
    assert (body["indexed"], body["not_indexed_reason"]) == (False, reason)
    if "id" in record and isinstance(record["id"], str) and record["id"]:
        assert body["record_id"] == record["id"], "the id is reported whole, never cut to another id"


def test_an_unindexed_type_and_a_stored_record_say_so(client: TestClient) -> None:
    deal = client.post("/v1/opportunities/score", params={"index": "true"}, json={"id": "006A"}).json()
    assert (deal["indexed"], deal["not_indexed_reason"]) == (
        False, "the reference index holds accounts, contacts and leads, not opportunity records")
    stored = client.post("/v1/contacts/score", params={"index": "true"}, json={"id": "0" * 255}).json()
    assert stored["indexed"] is True and "not_indexed_reason" not in stored
    assert stored["record_id"] == "0" * 255


def test_a_record_whose_id_is_no_id_is_not_taken_for_the_record_at_position_0(client: TestClient) -> None:
    """An id that reads as none (3.5, true) was named '0', its position, in the index lookup and among
    candidates: the stored record '0' was taken for the record itself and its duplicate went unreported."""
    person = {"first_name": "Ada", "last_name": "Byron", "email": "ada@analytical.example"}
    client.put("/v1/index/contacts/0", json=person)
    for sent in (3.5, True):
        report = client.post("/v1/contacts/score", json={"id": sent, **person}).json()
        assert [(d["a"], d["b"]) for d in report["duplicates"]] == [("new", "0")], sent
        given = client.post("/v1/contacts/score", json={"record": {"id": sent, **person},
                                                        "candidates": [{"id": "0", **person}]}).json()
        assert [(d["a"], d["b"]) for d in given["duplicates"]] == [("new", "0")], sent
