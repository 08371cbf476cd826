"""States and provinces as ISO 3166-2 names them, read from how addresses write them.

Shared by the standard forms (`rules.standardize`: 'California' suggested as CA) and the matching keys
(`matching.normalize.address_keys`: a contact in 'CA' and its twin in 'California' agree on the state).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pycountry
import us
from anyascii import anyascii


@lru_cache(maxsize=1)
def state_codes() -> dict[tuple[str, str], str]:
    """(country alpha-2, lowercased subdivision name or code) -> subdivision code (its name where the code
    is a number), from ISO 3166-2, names also without their accents; and the AP style abbreviations US
    addresses are often written in ("Calif.", "Mass.", "N.Y."; from `us`), with and without their final
    period."""
    table: dict[tuple[str, str], str] = {}
    for sub in pycountry.subdivisions:
        short = sub.code.split("-", 1)[1]
        # where the code is a number (JP-13 Tokyo, IT-25 Lombardia), the name is how addresses write it
        standard = sub.name if short.isdigit() else short
        table[(sub.country_code, sub.name.lower())] = standard
        table[(sub.country_code, short.lower())] = standard
        if not sub.name.isascii():  # 'Karnātaka', 'Québec', 'São Paulo', 'Baden-Württemberg' as typed without
            name = sub.name.lower()
            umlauts = name.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
            for plain in (anyascii(name), anyascii(umlauts)):
                table.setdefault((sub.country_code, plain), standard)
    for state in us.states.STATES_AND_TERRITORIES:
        if state.ap_abbr and ("US", state.abbr.lower()) in table:
            for written in (state.ap_abbr.lower(), state.ap_abbr.lower().rstrip(".")):
                table.setdefault(("US", written), state.abbr)
    return table


def state_text(value: str) -> str:
    """A state as the tables key it: lowercased, its spaces collapsed."""
    return " ".join(value.strip().lower().split())


# 'N. Carolina', 'No. Dakota', 'S. Carolina', 'So. Dakota': the compass word of a state's name abbreviated
_COMPASS_ABBREVIATIONS = {"n. ": "north", "no.": "north", "s. ": "south", "so.": "south"}


def state_code(value: Any, country: str | None) -> str | None:
    """The ISO 3166-2 subdivision code (without country prefix) of a state or province written in one of the
    ways addresses write it, in `country`; else None."""
    if not isinstance(value, str) or not country:
        return None
    table = state_codes()
    text = state_text(value)
    code = table.get((country, text))
    if code is None and ". " in text:  # "N. Y.", "W. Va.": abbreviations written with spaces
        code = table.get((country, text.replace(". ", ".")))
    if code is None and not text.isascii() and len(text) <= 100:  # 'Québec' where ISO writes 'Quebec'
        code = table.get((country, anyascii(text).lower()))
    if code is None and "." in text:  # 'B.C.', 'N.S.W.', 'CA.', 'T.X.': a code written with dots
        code = table.get((country, text.replace(".", "").replace(" ", "")))
    if code is None and text[:3] in _COMPASS_ABBREVIATIONS and text[3:].strip():  # 'N. Carolina'
        code = table.get((country, f"{_COMPASS_ABBREVIATIONS[text[:3]]} {text[3:].strip()}"))
    return code


@lru_cache(maxsize=1)
def state_countries() -> dict[str, frozenset[str]]:
    """Lowercased subdivision name or code -> the countries that have one so written (`state_codes`)."""
    found: dict[str, set[str]] = {}
    for country, text in state_codes():
        found.setdefault(text, set()).add(country)
    return {text: frozenset(countries) for text, countries in found.items()}


def state_anywhere(value: Any, country: str | None) -> str | None:
    """`state_code` in `country`, else in the one country whose subdivision the text names, if only one has
    it: 'Ontario' written with no country (or a misspelt one) in a US deployment is Canada's ON, as it is on
    a record that names Canada."""
    code = state_code(value, country)
    if code is None and isinstance(value, str) and len(value) <= 100:
        countries = state_countries().get(state_text(value), ())
        code = state_code(value, next(iter(countries))) if len(countries) == 1 else None
    return code
