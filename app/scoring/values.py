"""Reading dirty field values leniently: paths, emptiness, dates and numbers."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser
from price_parser.parser import parse_number as _separated_number

_MISSING = object()
# currency signs and codes, spaces and Swiss apostrophes between thousands; commas and dots are separators
_NUMBER_NOISE = re.compile(r"[\s$€£¥_%'’]|usd|eur|gbp|chf", re.IGNORECASE)
_SEPARATED = re.compile(r"[0-9]*[.,][0-9.,]*")
# one dot before exactly three digits, after 1-3 digits that are not a lone 0: '€45.000', '1.200' employees
_DOT_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}\.[0-9]{3}")
# scale words after a number, longest first: 'k', '2.5M', '1.2 million', German '1,2 Mio' and '3 Mrd'
# (Milliarde, 10^9), 'mln'. Not 'billion': in German and French it is 10^12, in English 10^9.
_SUFFIXES = {"millions": 1e6, "million": 1e6, "thousand": 1e3, "mio.": 1e6, "mrd.": 1e9, "tsd.": 1e3,
             "mio": 1e6, "mln": 1e6, "mrd": 1e9, "tsd": 1e3, "mm": 1e6, "bn": 1e9, "k": 1e3, "m": 1e6,
             "b": 1e9}


def get_path(record: Any, path: str) -> Any:
    """`record["a"]["b"]` for `"a.b"`; None where any step is missing or not an object."""
    if "." not in path:
        return record.get(path) if isinstance(record, dict) else None
    value = record
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def is_filled(value: Any, empty_values: frozenset[str] = frozenset()) -> bool:
    """A value counts as present unless it is null, blank, an empty container or a placeholder like 'N/A'."""
    if value is None:
        return False
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and text.lower() not in empty_values
    if isinstance(value, list | dict | tuple):
        return len(value) > 0
    if isinstance(value, float) and math.isnan(value):
        return False
    return True


CLOCK_SKEW = timedelta(days=1)  # time zones and clocks between a CRM and us: a day ahead is not yet future
EARLIEST_YEAR, LATEST_YEAR = 2, 9990  # dates beyond these leave no room for date arithmetic


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string (date or date-time), else None.

    Dates outside years 2–9990 count as unparseable, so no rule's date arithmetic can overflow.
    """
    if isinstance(value, str):  # the common case first; a str subclass is read as its text
        if not 8 <= len(value) <= 40:
            return None
        try:
            parsed = datetime.fromisoformat(str.strip(value))
        except ValueError:
            return None
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        return None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return None
    zone = parsed.tzinfo
    if zone is UTC:  # "...Z" and "+00:00" parse to this very object
        return parsed
    if zone is None:
        if parsed.__class__ is datetime:  # the constructor: `replace(tzinfo=UTC)` costs three times as much
            return datetime(parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second,
                            parsed.microsecond, UTC, fold=parsed.fold)
        return parsed.replace(tzinfo=UTC)  # a datetime subclass keeps its class
    return parsed.astimezone(UTC)


# ---------------------------------------------------------------- dates written otherwise
_EXCEL_DAY_ZERO = date(1899, 12, 30)  # day 0 of Excel's 1900 system (which counts a 29 February 1900)
_EXCEL_SERIALS = range(20_000, 80_001)  # 1954-10-03 .. 2119-01-10: a day number no count of anything else
_DIGITS = re.compile(r"-?[0-9]+")  # ASCII digits: str.isdigit also takes '¹²³', which int() refuses
_EPOCH_MS = re.compile(r"-?[1-9][0-9]{8,13}")  # 9-14 digits, no leading zero (HubSpot writes str(int))
_DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# years a date written as yyyymmdd and a time, without separators, is read in ('202412312359'); wider, today's
# milliseconds would be refused too: 1701010100000 (2023-11-26) begins 1701-01-01
_COMPACT_YEARS = range(1900, 2100)
_YEAR = re.compile(r"(?<![0-9])[0-9]{4}(?![0-9])")
_WORD = re.compile(r"[^\W\d_]+")
# two fallbacks differing in every part: a part that differs between the two readings was not written
_FALLBACKS = (datetime(2000, 1, 1, 0, 0, 0), datetime(2004, 2, 2, 1, 1, 1))
_WEEKDAYS = date_parser.parserinfo()  # the weekday names dateutil knows, built once


def read_date(value: Any, whole_day: bool = False) -> tuple[str | None, str]:
    """(the ISO-8601 date a non-ISO date value certainly names, or None; what it was read as) for date fields;
    `whole_day` for a field that holds a day (a close date, a birthdate), whose value is never an instant.

    - a spreadsheet's day number (Excel serial, 1900 system: 45291 is 2023-12-31), as a JSON number or as
      five digits of text, within `_EXCEL_SERIALS` (a workbook in the old Mac 1904 system would be 4 years
      off: rare since Excel 2011);
    - milliseconds since 1970 of 11-14 digits (`epoch_ms_text`; fewer are epoch seconds as well): a whole
      day as a date, else the UTC instant, none in a `whole_day` field (HubSpot's date properties are
      midnight UTC). Digits that begin with a yyyymmdd date ('202412312359': a date and a time written
      without separators, or 1976-05-31 17:38:32 UTC?) name none;
    - text python-dateutil reads as the same whole date (day, month and a four-digit year, no time: a time is
      in an unknown zone) whichever way round it takes day and month and whether the year comes first:
      'Dec 31, 2024', '31.12.2024' (31 can only be a day), '2024/12/31'. '01/02/2024' (2 January or 1
      February) and '31-Dec-24' (whose century, and which part is the year, is a guess) name none.
    """
    if is_number(value):
        # more than 14 digits are no date (and str() of an int of thousands of digits raises)
        if not -10**14 < value < 10**14 or (isinstance(value, float) and not value.is_integer()):
            return None, ""
        return _read_digits(str(int(value)), whole_day)
    if value.__class__ is not str:
        return None, ""
    text = value.strip()
    return _read_digits(text, whole_day) if _DIGITS.fullmatch(text) else _read_date_text(text)


def _read_digits(text: str, whole_day: bool) -> tuple[str | None, str]:
    if len(text) == 5 and int(text) in _EXCEL_SERIALS:
        return (_EXCEL_DAY_ZERO + timedelta(days=int(text))).isoformat(), "a spreadsheet's day number"
    # 9-10 digits that are a whole day of milliseconds are a whole day of seconds too (1973-2286, and as far
    # before 1970): only a HubSpot payload (app.adapters) says which
    if len(text.lstrip("-")) < 11 or not epoch_ms_text(text):
        return None, ""
    day = _compact_day(text)
    if day is not None:
        return None, f"it may be {day} and a time written without separators, or milliseconds since 1970"
    moment = epoch_ms_iso(text)
    if moment is None:  # before year 1
        return None, ""
    if whole_day and "T" in moment:
        return None, f"as milliseconds since 1970 it is {moment}, no whole day"
    return moment, "milliseconds since 1970"


def _compact_day(text: str) -> date | None:
    """The day digits begin with when read as yyyymmdd in `_COMPACT_YEARS`, else None."""
    if int(text[:4]) not in _COMPACT_YEARS:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def epoch_ms_text(text: str) -> bool:
    """Whether date digits are milliseconds since 1970 as HubSpot writes them (ASCII digits, no leading zero,
    negative before 1970): 12-14 digits (1973-2286, and as far before 1970), or 9-11 that are a whole day
    (midnight UTC, as HubSpot's date properties always are: a birthdate in 1966-1973). Epoch *seconds*
    ('1735603200', 2024-12-31), which HubSpot never writes, are a whole day of milliseconds one day in a
    thousand; 8 digits or fewer never are read, so a yyyymmdd date is never read as milliseconds."""
    return _EPOCH_MS.fullmatch(text) is not None and (len(text) - text.startswith("-") >= 12
                                                       or int(text) % _DAY_MS == 0)


def epoch_ms_iso(text: str) -> str | None:
    """The ISO-8601 form of milliseconds since 1970 (`epoch_ms_text`): the day of a whole day, else the UTC
    instant to the millisecond; None before year 1 (-62135596800000)."""
    try:  # integer arithmetic: a float division rounds 99999999999999 ms to .998 s
        moment = _EPOCH + timedelta(milliseconds=int(text))
    except OverflowError:
        return None
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.date().isoformat()
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@lru_cache(maxsize=4096)
def _read_date_text(text: str) -> tuple[str | None, str]:
    """`read_date` of text that is not digits alone. Cached: dateutil costs tens of µs a reading (six here),
    and this runs only on values that are already findings."""
    if len(text) > 40 or len(years := _YEAR.findall(text)) != 1:
        return None, ""
    readings = set()
    for dayfirst, yearfirst in ((False, False), (True, False), (False, True)):
        try:
            first, second = (date_parser.parse(text, default=fallback, dayfirst=dayfirst, yearfirst=yearfirst)
                             for fallback in _FALLBACKS)
        except (ValueError, OverflowError):
            return None, ""
        if (first.date() != second.date() or first.tzinfo is not None or first.year != int(years[0])
                or first.time() != _FALLBACKS[0].time() or second.time() != _FALLBACKS[1].time()):
            return None, ""  # a part not written, a time, a zone, or the four digits were no year
        readings.add(first.date())
    if len(readings) > 1:
        return None, "day and month could be either way round"
    day = readings.pop()
    # dateutil reads past a weekday: 'Mon, 31 Dec 2024' contradicts itself
    if {_WEEKDAYS.weekday(word) for word in _WORD.findall(text)} - {None, day.weekday()}:
        return None, f"{day.day} {day:%B %Y} was a {day:%A}"
    return day.isoformat(), ""


@lru_cache(maxsize=64)
def realistic_range(year: int, oldest_year: int, future_years: int) -> tuple[datetime, datetime]:
    """The first and last instants a date may name in a year `year` (`[validity] oldest_year`, `future_years`):
    from the start of 1 January `oldest_year` to the end of 31 December `future_years` later, in UTC."""
    return (datetime(oldest_year, 1, 1, tzinfo=UTC),
            datetime(min(year + future_years, 9999), 12, 31, 23, 59, 59, 999999, tzinfo=UTC))


def is_number(value: Any) -> bool:
    """A JSON number (not a boolean, not NaN or infinite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


def parse_number(value: Any) -> float | None:
    """A number from a JSON number or from text such as '$10,000' or '2.5M'; None when it is not one."""
    if is_number(value):
        return float(value)
    if not isinstance(value, str) or len(value) > 40:
        return None
    return _parse_number_text(value)


@lru_cache(maxsize=16384)
def _parse_number_text(value: str) -> float | None:
    """`parse_number` of text, cached: several rules read one count or amount ('250', '1,200 employees',
    '51-200'), and a CRM's such values repeat."""
    # U+2212, the minus sign word processors and spreadsheets write, is a minus ('−5000')
    text = _NUMBER_NOISE.sub("", value.strip().lower().replace("\u2212", "-"))
    if text[:1] == "(" and text[-1:] == ")" and text[1:2] not in ("+", "-", ""):
        text = "-" + text[1:-1]  # accounting's negative: '(5,000)', '($1,200.00)'
    scale = 1.0
    for suffix, factor in _SUFFIXES.items():
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], factor
            break
    sign = -1.0 if text.startswith("-") else 1.0
    digits = text.lstrip("+-") if text[:1] in ("+", "-") and text[1:2] not in ("+", "-") else text
    if "," in digits or digits.count(".") > 1:
        # which of comma and dot separates the decimals ('€45.000,00', '10,5', '$1,234.56'); deleting every
        # comma read '€45.000,00' as 45.0. With both, the last one does ('1,250.500' is 1250.5: three
        # decimals are common in some currencies); after a lone 0 a comma does ('0,125'); else price-parser
        # guesses from the places ('10,5' and '45,000')
        if not _SEPARATED.fullmatch(digits):
            return None
        if "," in digits and "." in digits:
            decimal: str | None = "," if digits.rfind(",") > digits.rfind(".") else "."
        else:
            decimal = "," if digits.startswith("0,") and digits.count(",") == 1 else None
        separated = _separated_number(digits, decimal_separator=decimal)
        number = sign * float(separated) * scale if separated is not None else math.nan
    elif scale == 1.0 and _DOT_THOUSANDS.fullmatch(digits):
        # a dot grouping thousands, as German, Dutch, Spanish and Brazilian write them: '€45.000' read as 45.0
        # was a thousandth of the deal, and '1.200' employees made a startup (a count is never 1.2; an amount
        # with three decimals is one of a few currencies' fils, never a deal)
        number = sign * float(digits.replace(".", ""))
    else:
        try:
            number = float(text) * scale
        except ValueError:
            return None
    return number if math.isfinite(number) else None


# a size band as enrichment and LinkedIn exports write employee counts: '51-200', '1,001-5,000', '10,001+',
# '201 to 500', '10k+', '~250', with or without 'employees' after it
_COUNT_RANGE = re.compile(r"([0-9][0-9.,]*k?)\s*(?:-|–|—|to|bis|a|à)\s*([0-9][0-9.,]*k?)|([0-9][0-9.,]*k?)\s*\+")
_COUNT_NOUN = re.compile(r"\s*(?:employees|employee|staff|people|mitarbeiter|mitarbeitende|empleados|"
                         r"funcionários|funcionarios|salariés|emp)\.?$")


def counted_number(value: Any) -> float | None:
    """The number of a count written with its noun ('200 employees', '1,200 Mitarbeiter'): an exact count to
    store, where a band ('51-200') or an estimate ('~250') is none; None for anything else."""
    if not isinstance(value, str) or len(value) > 60:
        return None
    lowered = value.strip().lower()
    text = _COUNT_NOUN.sub("", lowered).strip()
    return parse_number(text) if text and text != lowered else None


def parse_count(value: Any) -> float | None:
    """`parse_number`, or the lower bound of a size band ('51-200' is at least 51, '10,001+ employees' 10,001,
    '~250' about 250): what a size tier or a lead score can read of a band."""
    number = parse_number(value)
    if number is not None or not isinstance(value, str) or len(value) > 60:
        return number
    text = _COUNT_NOUN.sub("", value.strip().lower()).lstrip("~≈ ").strip()
    number = parse_number(text)
    if number is not None:
        return number
    band = _COUNT_RANGE.fullmatch(text)
    if band is None:
        return None
    low = parse_number(band.group(1) or band.group(3))
    high = parse_number(band.group(2)) if band.group(2) else None
    return low if low is not None and (high is None or high >= low) else None


# ---------------------------------------------------------------- currencies written in amounts
# The signs amounts are written with: sign -> (the ISO 4217 code it certainly means, or None; the codes of
# currency names (pycountry) it may stand for, or extra codes). Written out, not taken from price-parser's
# symbol table, whose data reads '¥' as the yen only (it is the yuan's sign too), 'C$' as the córdoba only
# (Canadians write it) and has no '₽' or '₺'. '£' is sterling's: the other pounds written '£' alone
# (Gibraltar, Falklands, St Helena: pegged to it) stay compatible. Letters are a sign only apart from others.
_SIGNS: dict[str, tuple[str | None, str]] = {
    "€": ("EUR", ""), "euro": ("EUR", ""), "euros": ("EUR", ""),
    "£": ("GBP", "Pound"), "$": (None, "Dollar Peso +MOP +NIO +TOP +BRL +CVE"),
    "US$": ("USD", ""), "U$S": ("USD", ""), "A$": ("AUD", ""), "AU$": ("AUD", ""), "CA$": ("CAD", ""),
    "C$": (None, "+CAD +NIO"), "NZ$": ("NZD", ""), "HK$": ("HKD", ""), "S$": ("SGD", ""), "SG$": ("SGD", ""),
    "MX$": ("MXN", ""), "R$": ("BRL", ""), "NT$": ("TWD", ""),
    "¥": (None, "+JPY +CNY"), "￥": (None, "+JPY +CNY"), "JP¥": ("JPY", ""), "CN¥": ("CNY", ""),
    "RMB": ("CNY", ""),
    "₹": ("INR", ""), "Rs": (None, "Rupee"), "Rs.": (None, "Rupee"), "₨": (None, "Rupee"),
    "₩": ("KRW", "+KPW"), "₽": ("RUB", ""), "₺": ("TRY", ""), "₪": ("ILS", ""), "₫": ("VND", ""),
    "₱": ("PHP", "+CUP"), "฿": ("THB", ""), "₦": ("NGN", ""), "₴": ("UAH", ""), "zł": ("PLN", ""),
    "Kč": ("CZK", ""), "kr": (None, "Krona Krone"), "Rp": ("IDR", ""), "RM": ("MYR", ""), "lei": ("RON", ""),
}
_SIGN_OF = {sign.lower(): sign for sign in _SIGNS}  # the pattern matches them in any case ('EURO', 'Kr')
# ISO codes read in any case (else in capitals only: 'all', 'top' and 'try' are words before they are the lek,
# the paʻanga and the lira)
_ANY_CASE_CODES = frozenset(("usd", "eur", "gbp", "chf", "cad", "aud", "nzd", "jpy", "cny", "inr", "brl",
                             "mxn", "sek", "nok", "dkk", "pln", "czk", "huf", "zar", "sgd", "hkd", "krw"))
_CURRENCY_WRITTEN = re.compile(
    r"(?<![^\W\d_])(?:" + "|".join(re.escape(s) for s in sorted(_SIGNS, key=len, reverse=True))
    + r"|[A-Za-z]{3})(?![^\W\d_])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AmountText:
    """What an amount written as text says: its number, and the currency written with it, if any."""

    number: float | None
    written: str = ""  # the currency as written ('€', 'EUR'), '' when none is
    codes: frozenset[str] = frozenset()  # the ISO 4217 codes it may stand for
    code: str | None = None  # the one it certainly stands for


@cache
def iso_currencies() -> dict[str, str]:
    """ISO 4217 alpha-3 code -> its name (pycountry)."""
    import pycountry

    return {c.alpha_3: c.name for c in pycountry.currencies}


@cache
def _sign_codes(sign: str) -> tuple[str | None, frozenset[str]]:
    certain, names = _SIGNS[sign]
    words = names.split()
    codes = {w[1:] for w in words if w.startswith("+")} | ({certain} if certain else set())
    codes |= {code for code, name in iso_currencies().items()
              if any(w in name.split() for w in words if not w.startswith("+"))}
    return certain, frozenset(codes)


def _currency_of(token: str) -> tuple[str | None, frozenset[str]] | None:
    """(certain code, possible codes) of one currency sign or code as written, or None when it is neither."""
    sign = _SIGN_OF.get(token.lower())
    if sign is not None:
        return _sign_codes(sign)
    code = token.upper()
    if code in iso_currencies() and (token.isupper() or token.lower() in _ANY_CASE_CODES):
        return code, frozenset((code,))
    return None


@lru_cache(maxsize=8192)
def read_amount(text: str) -> AmountText:
    """An amount written as text: its number and the currency written with it ('45,000.00 EUR', '€ 45.000,00',
    '£1.2m', 'USD 60000'); the number as `parse_number` reads it with the currency taken out.

    A sign several currencies write ('$'; '¥', the yen's and the yuan's) leaves `code` None unless a code
    beside it decides ('$45 USD'); two that contradict each other ('USD 100 EUR') leave the number unread.
    Cached: it runs on amounts that are already findings (text), and price-parser's guess costs some µs.
    """
    if len(text) > 60:
        return AmountText(None)
    found = []
    for match in _CURRENCY_WRITTEN.finditer(text):
        currency = _currency_of(match.group(0))
        if currency is not None:
            found.append((match, currency))
    if not found:
        return AmountText(parse_number(text))
    codes = frozenset.intersection(*(codes for _, (_, codes) in found))
    written = " ".join(dict.fromkeys(match.group(0) for match, _ in found))
    if not codes:
        return AmountText(None, written)
    certain = {c for _, (c, _) in found if c is not None}
    code = next(iter(codes)) if len(codes) == 1 else (next(iter(certain)) if len(certain) == 1 else None)
    rest = text
    for match, _ in reversed(found):
        rest = rest[:match.start()] + " " + rest[match.end():]
    return AmountText(parse_number(rest), written, codes, code if code in codes else None)


def currency_code(value: Any) -> str | None:
    """The ISO 4217 code a currency field names: its code in any case (' usd '), its name as ISO 4217 gives it
    ('Euro', 'US Dollars', 'Pound Sterling'; pycountry) or a sign only one currency writes ('€', '£', 'R$');
    else None, '$' and '¥' among them (the US, Canadian or Australian dollar, the yen or the yuan?)."""
    return _currency_code_text(value) if isinstance(value, str) else None


@lru_cache(maxsize=1024)  # a currency field holds a few values: codes, a name or a sign now and then
def _currency_code_text(value: str) -> str | None:
    text = value.strip()
    code = text.upper()
    if code in iso_currencies():
        return code
    if len(text) > 60:
        return None
    key = " ".join(text.lower().split())
    names = _currency_names()
    named = names.get(key) or (names.get(key[:-1]) if key.endswith("s") else None)  # 'Euros', 'US Dollars'
    if named is not None:
        return named
    sign = _SIGN_OF.get(key)
    return _sign_codes(sign)[0] if sign is not None else None


@cache
def _currency_names() -> dict[str, str]:
    """Lowercased ISO 4217 currency name -> code, names two currencies share left out."""
    names: dict[str, str | None] = {}
    for code, name in iso_currencies().items():
        key = name.lower()
        names[key] = code if key not in names else None
    return {name: code for name, code in names.items() if code is not None}


def amount_in_currency(amount: Any, currency: Any, base: str | None = None) -> tuple[float | None, Any]:
    """(the number, the currency it is in) of a deal's amount and currency field, for its value; `base` the
    currency thresholds are written in ([currencies] base).

    A currency written in the amount's text counts where the field is empty ('€45.000'); where the two
    disagree ('USD 60000' on a EUR deal: opportunity.amount.currency_mismatch), the one written next to the
    digits does: the field is often a default the CRM filled in, and the digits were typed in the text's
    currency. A sign several currencies write ('$', '¥') is the field's currency where that is one of them
    ('$5,000' on a CAD deal) and, where the field names none, the base currency where that is one (as a bare
    number is read in it: '$5,000' with base USD). Else the number is unknown (None, worth nothing): '¥5000'
    on a EUR deal is yen or yuan, and read in the base currency it was worth about 150 times too much.
    """
    if not isinstance(amount, str):
        return parse_number(amount), currency
    read = read_amount(amount)
    if not read.codes:
        return read.number, currency
    field = currency_code(currency)
    if field in read.codes:
        return read.number, field
    if read.code is not None:
        return read.number, read.code
    if field is None and base in read.codes:
        return read.number, base
    return None, currency


def mailbox_name(local: str) -> str:
    """The part before an @ as mailbox lists compare it: lowercased, without a +tag or dots
    ('Customer.Service+eu' is 'customerservice'; [duplicates] shared_mailboxes and [validity]
    placeholder_email_locals are read the same way)."""
    return local.strip().lower().split("+", 1)[0].replace(".", "")


def link_id(value: Any) -> str | None:
    """A record id as records link to it (`account_id`, `contact_id`): `id_text`, None for an empty one."""
    return id_text(value) or None


EXACT_FLOAT = 2 ** 53  # a JSON number read as a float holds its integer exactly only below this


def id_text(value: Any) -> str | None:
    """A record id as text: text as it is, an integral number as its decimal digits (CSV and some CRMs send
    1001 where others send "1001"; 1e3 and 1000.0 are 1000), else None: a fraction (3.5), a number too
    large to have been read exactly (the JSON parser reads an integer of 2**64 or more as a float, its
    last digits lost), a boolean, an object or a list. One reading for the report's `record_id`, the
    index key, matching and linking; a value it refuses is `*.field.wrong_type` on `id`."""
    if value.__class__ is str:
        return value  # type: ignore[no-any-return]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT:
        return str(int(value))
    return None


_SF_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id15(value: str) -> str | None:
    """The 15-character form of an 18-character Salesforce id whose last three characters are its case
    checksum (per five-character chunk, a bit for each capital letter, read in 'A'..'Z0'..'5'), else None:
    '0015g00000ABCDEAA2' is '0015g00000ABCDE'; another 18-character id is left as it is."""
    if len(value) != 18 or not value.isascii() or not value.isalnum():
        return None
    return value[:15] if _checksum(value[:15]) == value[15:] else None


def _checksum(base: str) -> str:
    """The three characters Salesforce appends to a 15-character id: per five characters, a bit for each
    capital letter, read in 'A'..'Z0'..'5'."""
    return "".join(_SF_CHECKSUM[sum(1 << i for i, c in enumerate(base[n:n + 5]) if "A" <= c <= "Z")]
                   for n in (0, 5, 10))


def id_forms(record_id: str) -> tuple[str, ...]:
    """The ways one record's id may be written: the id, and for a Salesforce id its other form (the
    15-character id and the 18-character one with its checksum). Ids arrive in either form (a report
    export writes 15, the API and webhooks 18), so a check for "the record itself" or a look-up by id
    tries each; an 18-character id whose suffix is not the checksum of its first 15 is another record."""
    if len(record_id) == 15 and record_id.isascii() and record_id.isalnum():
        return record_id, record_id + _checksum(record_id)
    short = salesforce_id15(record_id)
    return (record_id,) if short is None else (record_id, short)


def same_record_id(a: str, b: str) -> bool:
    """Whether two ids name one record: equal, or one Salesforce id in its 15- and 18-character forms
    (`id_forms`; the 15-character form is case-sensitive)."""
    if a == b:
        return True
    if {len(a), len(b)} != {15, 18}:
        return False
    return salesforce_id15(a if len(a) == 18 else b) == (b if len(a) == 18 else a)


YES = frozenset({"true", "yes", "y", "1"})  # how CRMs and spreadsheets write a checked box as text


def is_yes(value: Any) -> bool:
    """A checked box: JSON true, the integer 1 (a CRM export or a database's bit column writes checkboxes as
    1 and 0), or text such as 'true', 'Yes', 'Y' or '1'."""
    return value is True or (value.__class__ is int and value == 1) \
        or (isinstance(value, str) and value.strip().lower() in YES)


def days_between(earlier: datetime, later: datetime) -> float:
    """Days from `earlier` to `later` (negative when `later` comes first)."""
    return (later - earlier).total_seconds() / 86400.0


def _repr_fits(value: dict[Any, Any] | list[Any], limit: int) -> bool:
    """Whether `str(value)` is at most `limit` characters, without building it for a large or deep value.

    `len(str(value))` of a value nested about 1,000 deep (a JSON body may nest 1,024) raised RecursionError,
    a 500; and it built the whole text of a large one. Every element adds at least one character, so a
    value of more than `limit` elements cannot fit; one of fewer is at most `limit` deep, safe to print.
    """
    stack: list[Any] = [value]
    elements = 0
    while stack:
        node = stack.pop()
        elements += 1
        if elements > limit:
            return False
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return len(str(value)) <= limit


def clip_value(value: Any, limit: int = 200) -> Any:
    """A value small enough to echo back in a report: long strings cut, containers summarised."""
    cls = value.__class__
    if cls is str:
        return value[:limit] + "…" if len(value) > limit else value
    if value is None or cls is int or cls is bool:
        return value
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    if isinstance(value, dict | list) and not _repr_fits(value, limit):
        return f"<{type(value).__name__} of {len(value)} items>"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def business_hours_between(start: datetime, end: datetime, open_hour: float, close_hour: float,
                           days: Iterable[int], zone: str) -> float:
    """Hours from `start` to `end` that fall on the given ISO weekdays between the opening and closing hour,
    in the time zone `zone`: the first and last days as far as they go, whole days between counted by
    arithmetic (a lead waiting for years costs no more than one waiting for a day)."""
    if end <= start:
        return 0.0
    tz = ZoneInfo(zone)
    first, last = start.astimezone(tz), end.astimezone(tz)
    weekdays = frozenset(days)

    def on(day: date) -> float:  # the day's opening hours within [first, last]
        if day.isoweekday() not in weekdays:
            return 0.0
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        opens, closes = midnight + timedelta(hours=open_hour), midnight + timedelta(hours=close_hour)
        return max(0.0, (min(closes, last) - max(opens, first)).total_seconds() / 3600)

    first_day, last_day = first.date(), last.date()
    if first_day == last_day:
        return on(first_day)
    total = on(first_day) + on(last_day)
    weeks, rest = divmod((last_day - first_day).days - 1, 7)  # the whole days between them
    total += weeks * len(weekdays) * (close_hour - open_hour)
    tail = first_day + timedelta(days=1 + 7 * weeks)
    total += sum(close_hour - open_hour for n in range(rest)
                 if (tail + timedelta(days=n)).isoweekday() in weekdays)
    return total


def probability_as_text(value: Any) -> tuple[float, str] | None:
    """(the percentage, a hint) that text holding a number from 0 to 100 stands for, else None.

    A fraction of 1 ('0.5', as HubSpot stores it) is its percentage (50): storing 0.5 would have stored half a
    percent.
    """
    if not isinstance(value, str):
        return None
    number = parse_number(value)
    if number is None or not 0 <= number <= 100:
        return None
    if 0 < number < 1 and "%" not in value:
        return round(number * 100, 2), ", a fraction of 1 as a percentage"
    return number, ""
