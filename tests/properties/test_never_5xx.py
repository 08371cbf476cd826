"""Whatever JSON arrives, the scoring endpoints answer 200 with a bounded report or a 4xx problem: never 5xx.

Crashes found here are pinned as examples in tests/api/test_score.py (`DIRTY_VALUES`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.main import create_app
from app.models import records
from app.models.records import KNOWN_FIELDS, RECORD_MODELS
from app.models.report import Report
from tests.api.assertions import SCORE_PATHS, assert_problem, error_locs
from tests.conftest import NOW_ISO

RECORD_TYPES = list(SCORE_PATHS)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


class RawNumber(str):
    """A number literal written into the body verbatim (JSON allows what floats cannot hold: 1e400)."""


# Field names of the nested objects (address, bant, meddpicc, behavior, engagement, contact roles…).
NESTED_MODELS = (records.Address, records.Bant, records.Meddpicc, records.ContactRole, records.Behavior,
                 records.Engagement, records.AccountContext)
NESTED_FIELDS = sorted({name for model in NESTED_MODELS for name in model.model_fields})

# Values the rules parse: dates, numbers as text, emails, URLs, phones, stages, picklists, placeholders.
PLAUSIBLE = st.sampled_from([
    "2024-06-15T12:00:00Z", "2024-01-05", "2023-02-29", "1899-12-31", "2999-01-01",
    "2024-06-15T12:00:00+14:00", "9999-12-31T23:59:59", "9999-12-31", "0001-01-01",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "$10,000", "2.5M", "1bn", "-5", "0", "1e309", "NaN", "inf",
    "bob@", "bob@acme.com", "ana@gmail.com", "@", "https://acme.com", "www.acme.com/", "acme", "http://",
    "https://linkedin.com/in/bob", "ftp://x", "(415) 555-0123", "+44 20 7946 0958", "+1", "555",
    "Proposal", "closed won", "Negotiation", "Qualification", "Needs Analysis", "Prospecting", "Commit",
    "Pipeline", "economic_buyer", "champion", "Director of IT", "CEO", "VP of Sales", "Tech", "USA", "uk",
    "California", "N/A", "tbd", "unknown", "-", "", " ", "none", "yes", "no", "true", "New", "converted",
])

# Past 64 bits orjson reads an int as a float; past ±1.8e308 (int or float) it refuses the whole body.
INTS = st.integers() | st.integers(min_value=-(2**80), max_value=2**80) | st.sampled_from(
    [0, -1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -(10**30)])
FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [RawNumber(n) for n in ("-0.0", "1E+308", "1e-400", "123456789012345678901234567890.5")])
OUT_OF_RANGE = st.sampled_from([RawNumber("1e400"), RawNumber("-1e400"), 10**309, -(10**400)])
TEXT = st.text() | st.text(st.characters(codec="utf-8"), max_size=300) | PLAUSIBLE
SCALARS = st.none() | st.booleans() | INTS | FLOATS | TEXT


def json_values(keys: st.SearchStrategy[str],
                scalars: st.SearchStrategy[Any] = SCALARS) -> st.SearchStrategy[Any]:
    return st.recursive(scalars, lambda children: st.lists(children, max_size=5)
                        | st.dictionaries(keys, children, max_size=5), max_leaves=30)


ANY_KEY = st.text(max_size=20) | st.sampled_from(NESTED_FIELDS)
ANY_JSON = json_values(ANY_KEY, SCALARS | OUT_OF_RANGE)


def records_of(record_type: str) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose keys are mostly the record type's real field names (and nested ones), with
    numbers a float can hold, so that most of them are scored rather than refused."""
    keys = (st.sampled_from(sorted(KNOWN_FIELDS[record_type])) | st.sampled_from(NESTED_FIELDS)
            | st.text(max_size=20))
    return st.dictionaries(keys, json_values(keys), max_size=12)


def encode(value: Any, ensure_ascii: bool) -> bytes:
    """JSON text for `value`, with RawNumber literals written as they are."""
    if isinstance(value, RawNumber):
        return str(value).encode()
    if isinstance(value, dict):
        items = b",".join(json.dumps(k, ensure_ascii=ensure_ascii).encode() + b":" + encode(v, ensure_ascii)
                          for k, v in value.items())
        return b"{" + items + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(encode(v, ensure_ascii) for v in value) + b"]"
    return json.dumps(value, ensure_ascii=ensure_ascii).encode()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db: Path = tmp_path_factory.mktemp("store") / "crm-dq.sqlite3"
    app = create_app(Settings(database_url=f"sqlite:///{db}"))
    # A crash must come back as the 500 a real client would get, so the property can say "never 5xx".
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def check(client: TestClient, record_type: str, value: Any, ensure_ascii: bool = True,
          now: str = NOW_ISO) -> dict[str, Any] | None:
    """Post `value`; a 200 must be a bounded, repeatable report (returned), anything else a 4xx problem."""
    body = encode(value, ensure_ascii)
    path = SCORE_PATHS[record_type]
    headers = {"content-type": "application/json"}
    response = client.post(path, content=body, params={"now": now}, headers=headers)
    assert response.status_code < 500, \
        f"{response.status_code} for {body[:500]!r} at now={now!r}: {response.text[:1000]}"
    event(f"status {response.status_code}")
    if response.status_code != 200:
        return assert_problem(response)

    report = response.json()
    Report.model_validate(report)
    assert report["record_type"] == record_type
    assert 0 <= report["quality_score"] <= 100
    assert 0 <= report["completeness"]["score"] <= 1
    assert 0 <= report["accuracy"]["score"] <= 1
    assert all(math.isfinite(n) for n in (report["quality_score"], report["completeness"]["score"],
                                          report["accuracy"]["score"]))
    if record_type == "lead":
        assert 0 <= report["lead_score"]["total"] <= 100
    else:
        assert report["lead_score"] is None

    again = client.post(path, content=body, params={"now": now}, headers=headers)
    assert again.status_code == 200
    assert again.content == response.content, "same body and same ?now= gave different reports"
    return None


@pytest.mark.parametrize("record_type", RECORD_TYPES)
@PROPERTY_SETTINGS
@given(value=ANY_JSON, ensure_ascii=st.booleans())
def test_any_json_value_is_scored_or_refused(client: TestClient, record_type: str, value: Any,
                                             ensure_ascii: bool) -> None:
    check(client, record_type, value, ensure_ascii)


@pytest.mark.parametrize("record_type", RECORD_TYPES)
@PROPERTY_SETTINGS
@given(data=st.data(), ensure_ascii=st.booleans())
def test_any_record_shaped_object_is_scored_or_refused(client: TestClient, record_type: str,
                                                       data: st.DataObject, ensure_ascii: bool) -> None:
    record = data.draw(records_of(record_type), label="record")
    check(client, record_type, record, ensure_ascii)


# Instants across the whole calendar in the widest offsets, bare dates, and any text at all.
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=14))])
NOWS = (st.datetimes(timezones=OFFSETS).map(lambda d: d.isoformat())
        | st.dates().map(lambda d: d.isoformat())
        | st.text(max_size=40))


@pytest.mark.parametrize("record_type", RECORD_TYPES)
@PROPERTY_SETTINGS
@given(now=NOWS)
def test_any_now_is_scored_or_refused(client: TestClient, record_type: str, now: str) -> None:
    example = RECORD_MODELS[record_type].model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
    problem = check(client, record_type, example, now=now)
    if problem is not None:
        assert problem["status"] == 422 and error_locs(problem) == ["query.now"], problem
