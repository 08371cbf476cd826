"""The rows of a CSV export as CRMs and spreadsheets write it: its encoding, its delimiter, its footer."""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}  # the first wins a tie
_QUOTED = re.compile(r'"[^"]*"')
_SEP_LINE = re.compile(r"sep=(.)\r?\n?", re.IGNORECASE)  # Excel's first line naming the delimiter

Say = Callable[[str], None]


def csv_encoding(path: Path, say: Say | None = None) -> str:
    """UTF-8 (with or without a byte order mark), else Windows-1252, as Excel on Windows saves a CSV."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with path.open("rb") as f:
        try:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            if say is not None:
                say(f"{path} is not UTF-8; read as Windows-1252")
            return "cp1252"
    return "utf-8-sig"


def sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV's header line: the one of comma, semicolon, tab and pipe it holds most outside
    quotes (Excel in a European locale writes ';'); a comma on a tie or when it holds none."""
    bare = _QUOTED.sub("", header)
    counts = {d: bare.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def delimiter_of(option: str | None) -> str | None:
    """--delimiter's value as a character: ',', ';', '|', a tab ('tab', '\\t') or the delimiter's name."""
    if option is None:
        return None
    named = {name: d for d, name in DELIMITERS.items()} | {"tab": "\t", "\\t": "\t"}
    found = named.get(option.strip().lower(), option)
    if len(found) != 1:
        raise ValueError(f"--delimiter {option!r}: one character (, ; |) or tab")
    return found


def read_csv_rows(path: Path, delimiter: str | None = None,
                  say: Say | None = None) -> Iterator[dict[str, Any]]:
    """Rows of a CSV: blank cells are missing values, rows of nothing but blanks are skipped, cells past the
    header's columns kept as `extra_cells` (an unquoted delimiter shifted the row). The delimiter is
    `delimiter`, else the one Excel's `sep=` first line names, else the header's (`sniff_delimiter`).

    A report's footer is no record: a Salesforce report export ends with a blank line and lines filling only
    the first column ("Confidential Information - Do Not Distribute", "Copyright (c) 2000-2024
    salesforce.com, inc. …"). Rows after a blank row that fill only the first column of a header of two or
    more, up to the end of the file, are skipped and `say` is told; any row filling more after them makes
    them records after all."""
    with path.open(newline="", encoding=csv_encoding(path, say)) as f:
        first, given = f.readline(), delimiter
        if (sep := _SEP_LINE.fullmatch(first)) is not None:
            first, how, found = f.readline(), "as its sep= line says", sep.group(1)
        else:
            how, found = "the header's", sniff_delimiter(first)
        delimiter = given or found
        if given is None and delimiter != "," and say is not None:
            say(f"columns separated by {DELIMITERS.get(delimiter, repr(delimiter))} ({how}; "
                f"--delimiter to choose another)")
        reader = csv.reader(itertools.chain([first], f), delimiter=delimiter)
        header = next(reader, None) or []
        after_blank, held = False, []
        for row in reader:
            if not any(cell.strip() for cell in row):
                after_blank = True
                continue
            if after_blank and len(header) > 1 and not any(cell.strip() for cell in row[1:]):
                held.append(row)
                continue
            for kept in [*held, row]:
                yield _record(header, kept)
            after_blank, held = False, []
        if held and say is not None:
            say(f"skipped {len(held)} line(s) after the last record that fill only the first column, a "
                f"report's footer: {held[0][0].strip()[:60]!r}")


def _record(header: list[str], row: list[str]) -> dict[str, Any]:
    """One row by column name (a later column of a repeated name wins, as csv.DictReader has it)."""
    record: dict[str, Any] = {}
    for name, value in zip(header, row, strict=False):
        if name:
            record[name] = value if value != "" else None
    for name in header[len(row):]:
        if name:
            record[name] = None
    extra = [v for v in row[len(header):] if v != ""]
    if extra:
        record["extra_cells"] = extra
    return record
