"""Dates and amounts as a report export writes them in its user's locale, read as canonical records hold them.

A Salesforce report exported as CSV (or a spreadsheet saved by hand) writes dates as its user reads them,
'1/15/2027' or '15.01.2027 14:30', and amounts with their currency and grouping, '$75,000.00': every row would
be an invalid date and an amount that is no number (findings the API rightly gives a caller that sends such
text, but which say nothing of the CRM's data here). An export writes all its dates one way, so the order of
day and month is learned from the whole file: a day above 12 in either place tells it ('1/15/2027': month
first), and a file whose dates never tell, or tell both ways, leaves the ambiguous ones as written (judged,
with a suggestion where the date is certain). Times carry no zone in an export; they are read as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.scoring.rules.validity import DATE_FIELDS, DAY_FIELDS
from app.scoring.values import parse_datetime, read_amount, read_date

# day and month either way round, a four-digit year, optionally a time with or without AM/PM
_NUMERIC_DATE = re.compile(
    r"\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?\s*")
AMOUNT_FIELDS = ("amount", "annual_revenue")
SAMPLE_ROWS = 20_000  # rows read to learn the order: an export writes every date one way


@dataclass(frozen=True)
class ExportFormats:
    """How one export writes its dates: day first (15/01/2027), month first (1/15/2027), or unknown (None)."""

    day_first: bool | None = None

    def describe(self) -> str:
        """For the note on stderr."""
        if self.day_first is None:
            return "dates with day and month either way round are left as written (the export never tells)"
        order = ("day first (15/01/2027 is 2027-01-15)" if self.day_first
                 else "month first (1/15/2027 is 2027-01-15)")
        return f"dates read {order}, times as UTC; amounts such as '$75,000.00' read as numbers"


def learn_formats(rows: Iterable[dict[str, Any]], sample: int = SAMPLE_ROWS) -> ExportFormats:
    """The order of day and month the export's numeric dates show (over its first `sample` rows): a first part
    above 12 says day first, a second part above 12 month first; both or neither: unknown."""
    day_first = month_first = False
    for n, row in enumerate(rows):
        if n >= sample:
            break
        for value in row.values():
            if isinstance(value, str) and (found := _NUMERIC_DATE.fullmatch(value)):
                first, second = int(found.group(1)), int(found.group(3))
                day_first |= first > 12 >= second
                month_first |= second > 12 >= first
    return ExportFormats(day_first if day_first != month_first else None)


def read_written(record_type: str, record: dict[str, Any], formats: ExportFormats) -> dict[str, Any]:
    """The record with its dates in ISO-8601 and its amounts as numbers where the export's way of writing them
    is certain; anything else stays as written, for the rules to judge."""
    for field in DATE_FIELDS.get(record_type, ()):
        value = record.get(field)
        if isinstance(value, str) and value.strip() and parse_datetime(value) is None:
            iso = export_date(value, formats.day_first, whole_day=field in DAY_FIELDS.get(record_type, ()))
            if iso is not None:
                record[field] = iso
    for field in AMOUNT_FIELDS:
        value = record.get(field)
        if isinstance(value, str) and value.strip():
            read = read_amount(value)
            if read.number is not None and read.number >= 0:
                record[field] = read.number
                if read.code is not None and not record.get("currency") and field == "amount":
                    record["currency"] = read.code  # '€75.000,00': the currency only the amount's text held
    return record


def export_date(text: str, day_first: bool | None, whole_day: bool = False) -> str | None:
    """ISO-8601 of a date an export wrote: numeric in the export's order (a time, if any, as UTC; none kept in
    a field that holds a day), else a date `read_date` finds certain ('Jan 15, 2027'); None otherwise."""
    found = _NUMERIC_DATE.fullmatch(text)
    if found is None:
        return read_date(text, whole_day)[0]
    first, _, second, year, hour, minute, second_of_minute, half = found.groups()
    a, b = int(first), int(second)
    if day_first is None:
        if a <= 12 and b <= 12 and a != b:
            return None  # 1/2/2027: either way round, and the export never said which
        day_first = a > 12
    day, month = (a, b) if day_first else (b, a)
    try:
        when = datetime(int(year), month, day)
        if hour is not None and not whole_day:
            hours = int(hour)
            if half is not None:
                if not 1 <= hours <= 12:
                    return None
                hours = hours % 12 + (12 if half[0] in "pP" else 0)
            when = when.replace(hour=hours, minute=int(minute), second=int(second_of_minute or 0))
            return when.isoformat() + "Z"
    except ValueError:  # 2/30/2027, 25:00
        return None
    return when.date().isoformat()
