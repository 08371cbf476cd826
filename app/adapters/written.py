"""Dates and amounts as a report export writes them in its user's locale, read as canonical records hold them.

A Salesforce report exported as CSV (or a spreadsheet saved by hand) writes dates as its user reads them,
'1/15/2027' or '15.01.2027 14:30', and amounts with their currency and grouping, '$75,000.00': every row would
be an invalid date and an amount that is no number (findings the API rightly gives a caller that sends such
text, but which say nothing of the CRM's data here). An export writes all its dates one way, so the order of
day and month is learned from the whole file: a day above 12 in either place tells it ('1/15/2027': month
first), and a file whose dates never tell, or tell both ways, leaves the ambiguous ones as written (judged,
with a suggestion where the date is certain). Times carry no zone in an export; they are read as UTC. Years of
two digits ('1/15/27') are left as written: their century is a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.scoring.rules.validity import DATE_FIELDS, DAY_FIELDS
from app.scoring.values import currency_code, parse_datetime, read_amount, read_date

# day and month either way round, a four-digit year, optionally a time with or without AM/PM
_NUMERIC_DATE = re.compile(
    r"\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?\s*")
_YEAR_FIRST = re.compile(r"\s*(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})\s*")
AMOUNT_FIELDS = ("amount", "annual_revenue")
COUNT_FIELDS = ("employee_count",)  # whole numbers a report writes grouped: '1,000', '12.500'
_PERCENT = re.compile(r"\s*([+-]?\d+(?:[.,]\d+)?)\s*%\s*")  # '10%', '12,5 %'
_GROUPED = re.compile(r"\s*(\d{1,3}(?:([,.'\u00a0\u202f ])\d{3})(?:\2\d{3})*)\s*")
SAMPLE_ROWS = 20_000  # rows read to learn the order: an export writes every date one way


@dataclass(frozen=True)
class ExportFormats:
    """How one export writes its dates: day first (15/01/2027), month first (1/15/2027), or unknown (None);
    `undecided`: it holds dates either way round (1/2/2027) that stay as written, since the order is unknown
    (no date tells it, or dates tell both ways round)."""

    day_first: bool | None = None
    undecided: bool = False

    def describe(self) -> str | None:
        """The note on stderr, or None when there is nothing to tell."""
        if self.day_first is None:
            return ("dates with day and month either way round (1/2/2027) are left as written: the export's "
                    "dates do not tell which comes first") if self.undecided else None
        order = ("day first (15/01/2027 is 2027-01-15)" if self.day_first
                 else "month first (1/15/2027 is 2027-01-15)")
        return f"dates read {order}, times as UTC; amounts such as '$75,000.00' read as numbers"


def learn_formats(records: Iterable[tuple[str, dict[str, Any]]], sample: int = SAMPLE_ROWS) -> ExportFormats:
    """The order of day and month the numeric dates in the date fields of an export's canonical records
    ((record type, record), the first `sample`) show: a first part above 12 says day first, a second part
    above 12 month first; both or neither: unknown. Other columns say nothing (a next step of '13.01.2027')."""
    day_first = month_first = either = False
    for n, (record_type, record) in enumerate(records):
        if n >= sample:
            break
        for field in DATE_FIELDS.get(record_type, ()):
            value = record.get(field)
            if isinstance(value, str) and (found := _NUMERIC_DATE.fullmatch(value)):
                first, second = int(found.group(1)), int(found.group(3))
                day_first |= first > 12 >= second
                month_first |= second > 12 >= first
                either |= first <= 12 and second <= 12 and first != second
    if day_first != month_first:
        return ExportFormats(day_first)
    return ExportFormats(None, undecided=either)


def read_written(record_type: str, record: dict[str, Any], formats: ExportFormats) -> dict[str, Any]:
    """The record with its dates in ISO-8601 and its amounts as numbers where the export's way of writing them
    is certain; anything else stays as written, for the rules to judge."""
    for field in DATE_FIELDS.get(record_type, ()):
        value = record.get(field)
        if isinstance(value, str) and value.strip() and parse_datetime(value) is None:
            iso = export_date(value, formats.day_first, whole_day=field in DAY_FIELDS.get(record_type, ()))
            if iso is not None:
                record[field] = iso
    currency = record.get("currency")
    currency = currency if isinstance(currency, str) and currency.strip() else None
    if currency is not None and len(currency.strip()) != 3 and (code := currency_code(currency)):
        record["currency"] = currency = code  # 'US Dollar' (Dynamics 365 writes the currency's name)
    probability = record.get("probability")
    if isinstance(probability, str) and (percent := _PERCENT.fullmatch(probability)) is not None:
        record["probability"] = float(percent.group(1).replace(",", "."))  # a report's '10%'
    for field in COUNT_FIELDS:
        value = record.get(field)
        if isinstance(value, str) and (grouped := _GROUPED.fullmatch(value)) is not None:
            record[field] = int(re.sub(r"\D", "", grouped.group(1)))  # '1,000' employees
    for field in AMOUNT_FIELDS:
        value = record.get(field)
        if not isinstance(value, str) or not value.strip():
            continue
        read = read_amount(value)  # a negative one too: amount.negative judges the number
        if read.number is None:
            continue
        if read.codes and field == "amount" and currency is not None and currency_code(currency) not in read.codes:
            continue  # 'USD 75,000.00' on a EUR deal: which is right is unknown (amount.currency_mismatch)
        record[field] = read.number
        if read.code is not None and currency is None and field == "amount":
            record["currency"] = read.code  # '75.000,00 €': the currency only the amount's text held
    return record


def export_date(text: str, day_first: bool | None, whole_day: bool = False) -> str | None:
    """ISO-8601 of a date an export wrote: numeric in the export's order (a time, if any, as UTC; none kept in
    a field that holds a day), else a date `read_date` finds certain ('Jan 15, 2027'); None otherwise."""
    found = _NUMERIC_DATE.fullmatch(text)
    if found is None:
        if (year_first := _YEAR_FIRST.fullmatch(text)) is not None:  # 2027-1-5, 2027/01/05: always y-m-d
            try:
                return date(*map(int, year_first.group(1, 3, 4))).isoformat()
            except ValueError:
                return None
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
        if hour is not None:  # checked in a field that holds a day too: '1/15/2027 25:00' is no date
            hours = int(hour)
            if half is not None:
                if not 1 <= hours <= 12:
                    return None
                hours = hours % 12 + (12 if half[0] in "pP" else 0)
            when = when.replace(hour=hours, minute=int(minute), second=int(second_of_minute or 0))
    except ValueError:  # 2/30/2027, 25:00
        return None
    return when.date().isoformat() if hour is None or whole_day else when.isoformat() + "Z"
