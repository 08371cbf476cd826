"""Property tests of what the CLI reads from an export's cells and a HubSpot object's associations: any text
or JSON is read or left as written, never an exception; what is read is ISO-8601 or a number."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.adapters import from_hubspot, load_mappings
from app.adapters.convert import read_associations
from app.adapters.written import ExportFormats, export_date, learn_formats, read_written
from app.scoring.values import parse_datetime

# cells like an export's: numeric dates with separators, times, AM/PM, currency signs, grouping, and noise
_PIECES = st.sampled_from(["1", "12", "13", "31", "2027", "0", "/", ".", "-", " ", ":", "45", "AM", "PM",
                           "$", "€", "USD", ",", "(", ")", "e", "T", "Z", "½", "٣"])
CELLS = st.lists(_PIECES, max_size=12).map("".join) | st.text(max_size=40)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=6), day_first=st.sampled_from([None, True, False]))
def test_any_cell_is_read_as_iso_or_a_number_or_left_as_written(cells: list[str],
                                                                day_first: bool | None) -> None:
    dates = ("close_date", "created_at", "updated_at", "stage_changed_at")
    fields = ["close_date", "created_at", "amount", "updated_at", "currency", "stage_changed_at"]
    record = dict(zip(fields, cells, strict=False))
    formats = learn_formats([("opportunity", record)])
    assert formats.day_first in (None, True, False)
    read = read_written("opportunity", dict(record), ExportFormats(day_first))
    for field, value in read.items():
        if field in dates and value != record.get(field):
            assert parse_datetime(value) is not None, (record, read)
        if field == "amount" and value != record.get(field):
            assert isinstance(value, float), (record, read)
    for cell in cells:
        iso = export_date(cell, day_first)
        assert iso is None or parse_datetime(iso) is not None


@settings(max_examples=400, deadline=None)
@given(associations=JSON | st.fixed_dictionaries({"companies": JSON, "contacts": JSON}))
def test_any_associations_are_read_or_ignored(associations: Any) -> None:
    for record_type in ("opportunity", "contact", "account"):
        found = {path: read for path, (read, _) in read_associations({"associations": associations},
                                                                     record_type).items()}
        assert set(found) <= {"account_id", "contact_roles"}
        assert isinstance(found.get("account_id", ""), str)
    deal = {"id": "1", "properties": {"dealname": "x", "dealstage": "closedwon"},
            "associations": associations}
    [adapted] = from_hubspot(deal, load_mappings())
    assert adapted.record["name"] == "x"
