"""Repeated names in JSON objects are found, and nothing else is taken for one."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring.json_keys import duplicate_key_paths, has_duplicate_keys

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) \
    | st.sampled_from([":", "a:b", "10:00:00", "https://x", '"', "\\", "\u003a"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=30)


def check(raw: bytes) -> tuple[bool, list[str]]:
    return has_duplicate_keys(raw, orjson.loads(raw)), duplicate_key_paths(raw)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_a_document_without_repeats_is_never_flagged(value: Any) -> None:
    for raw in (orjson.dumps(value), orjson.dumps(value, option=orjson.OPT_INDENT_2)):
        assert check(raw) == (False, [])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(TEXT, JSON_VALUES, min_size=1, max_size=5), JSON_VALUES)
def test_a_repeated_name_is_always_flagged_with_its_path(record: dict[str, Any], again: Any) -> None:
    name = next(iter(record))
    raw = orjson.dumps({"contacts": [{}, record]})
    repeated = raw[:-3] + b"," + orjson.dumps(name) + b":" + orjson.dumps(again) + b"}]}"
    flagged, paths = check(repeated)
    assert flagged and f"body.contacts.1.{name}" in paths


def test_escaped_colons_and_deep_documents_take_the_exact_path() -> None:
    assert check(b'{"a": "\\u003a", "b": "\\u003A"}') == (False, [])
    assert check(b'{"a": "\\u003a", "a": 1}') == (True, ["body.a"])
    deep = b"[" * 600 + b'{"a": 1, "b": {"c": 1, "c": 2}}' + b"]" * 600  # deeper than orjson writes
    flagged, paths = check(deep)
    assert flagged and paths == ["body" + ".0" * 600 + ".b.c"]
    assert check(b"[" * 600 + b'{"a": 1}' + b"]" * 600) == (False, [])


def nested_lists(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


def test_a_repeat_beside_a_value_nested_as_deep_as_json_goes_is_found() -> None:
    """helper-58: the slow parse (`json.loads`) hit the recursion limit near 990 levels and found nothing,
    so the document went through; orjson accepts 1,024."""
    raw = b'{"email": "a@b.com", "email": "c@d.com", "x": ' + nested_lists(1000) + b"}"
    assert check(raw) == (True, ["body.email"])
    raw = b'{"x": ' + nested_lists(1000, b'{"a": 1, "a": 2}') + b', "y": {"b": 1, "b": 2}}'
    assert check(raw) == (True, ["body.x" + ".0" * 1000 + ".a", "body.y.b"])
    assert check(b'{"email": "a@b.com", "x": ' + nested_lists(1000, b'{"a": "1:2"}') + b"}") == (False, [])


DEEP_VALUES = [1, "a:b", {"t": "10:00:00", "u": {"v": "https://x"}}, [{"k:": '"\\:'}, {"k:": None}], {}]


@pytest.mark.parametrize("depth", [255, 600, 1000, 1018])
@pytest.mark.parametrize("value", DEEP_VALUES)
def test_deep_documents_are_judged_as_shallow_ones(value: Any, depth: int) -> None:
    """Deeper than orjson writes back (255 levels) the colons are counted by hand, deeper than `json.loads`
    went (about 990) the names are still found: no false alarm, and the repeat is named."""
    plain = b'{"a": ' + nested_lists(depth, orjson.dumps(value)) + b"}"
    assert check(plain) == (False, [])
    flagged, paths = check(plain[:-1] + b', "a": 1}')
    assert flagged and paths == ["body.a"]


def test_one_deep_entry_leaves_the_other_entries_of_a_batch_checked() -> None:
    from app.scoring.json_keys import RepeatedNames, mark_entries_with_repeated_names

    raw = (b'{"contacts": [{"id": "deep", "x": ' + nested_lists(1000) + b'}, '
           b'{"id": "b", "email": "x", "email": "y"}]}')
    batch = orjson.loads(raw)
    assert has_duplicate_keys(raw, batch)
    assert mark_entries_with_repeated_names(batch, raw, ("contacts",)) == []
    assert batch["contacts"][1] == RepeatedNames(("contacts.1.email",))
    assert batch["contacts"][0]["id"] == "deep"


def test_a_large_document_is_checked_a_piece_at_a_time() -> None:
    records = [{"id": str(i), "email": f"x{i}@acme.com", "at": "10:00"} for i in range(40_000)]
    raw = orjson.dumps({"contacts": records})
    assert len(raw) > 1 << 20
    assert check(raw) == (False, [])
    raw = raw.replace(b'"id":"39999"', b'"id":"39999","at":"11:00"')
    assert check(raw) == (True, ["body.contacts.39999.at"])


def test_batch_entries_repeating_a_name_are_marked_and_the_batch_keys_reported() -> None:
    from app.scoring.json_keys import RepeatedNames, mark_entries_with_repeated_names

    raw = (b'{"contacts": [{"id": "a"}, {"id": "b", "email": "x", "email": "y"}, "not a record"],'
           b' "leads": [{"address": {"city": "A", "city": "B"}}], "options": {"now": "1", "now": "2"}}')
    batch = orjson.loads(raw)
    structural = mark_entries_with_repeated_names(batch, raw, ("accounts", "contacts", "leads"))
    assert structural == ["body.options.now"]
    assert batch["contacts"][0] == {"id": "a"} and batch["contacts"][2] == "not a record"
    assert batch["contacts"][1] == RepeatedNames(("contacts.1.email",))
    assert batch["leads"][0] == RepeatedNames(("leads.0.address.city",))
