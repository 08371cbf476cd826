"""Suggestions only where the value meant is certain: amounts with their currency, dates, emails, currencies
and phone numbers written the ways CRMs receive them (the case rows in cases/*.toml hold the rest)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring import Ruleset
from app.scoring.batch import batch_lookups
from app.scoring.judge import deal_value
from app.scoring.values import amount_in_currency, read_amount


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("USD 60000", "EUR", 60_000.0),  # the currency written next to the digits, not 64,800 USD
    ("€45.000", None, 45_000 * 1.08),  # the field empty: the text's own currency
    ("€45.000", "", 45_000 * 1.08),
    ("45000", "EUR", 45_000 * 1.08),  # no currency in the text: the field's
    (45_000, "EUR", 45_000 * 1.08),
    ("$5,000", "CAD", 5_000 * 0.72),  # '$' agrees with the Canadian dollar
    ("$5,000", "EUR", 0.0),  # some dollar (or peso) on a euro deal: which is unknown, so worth nothing known
    ("$5,000", None, 5_000.0),  # no currency field: the base currency, one of the dollars, as for '5000'
    ("¥5000", "EUR", 0.0),  # yen or yuan: not 5,000 of the base currency (about 150 times too much)
    ("¥5000", None, 0.0),
    ("¥5000", "JPY", 5_000 * 0.0067),  # the field says which of the two
    ("€45000", "Euro", 45_000 * 1.08),  # a currency field written as a name or a sign is read as its code
    (45_000, "Euro", 45_000 * 1.08),
    (45_000, "€", 45_000 * 1.08),
    (45_000, " eur ", 45_000 * 1.08),
])
def test_a_deal_is_worth_its_amount_in_the_currency_written_in_it(
        rules: Ruleset, amount: object, currency: object, expected: float) -> None:
    assert rules.deal_amount(amount, currency) == pytest.approx(expected)
    deal = {"amount": amount, "currency": currency}
    assert deal_value("opportunity", deal, None, rules) == pytest.approx(expected)


def test_an_accounts_deal_value_reads_each_amount_in_its_own_currency(rules: Ruleset) -> None:
    lookups = batch_lookups({"opportunity": [
        {"id": "o1", "account_id": "a1", "stage": "Proposal", "amount": "USD 60000", "currency": "EUR"},
        {"id": "o2", "account_id": "a1", "stage": "Proposal", "amount": "€10.000"},
    ]}, rules)
    assert lookups.deal_value_by_account["a1"] == pytest.approx(60_000 + 10_000 * 1.08)


@pytest.mark.parametrize(("text", "number", "code", "codes"), [
    ("45,000.00 EUR", 45_000.0, "EUR", {"EUR"}),
    ("€ 45.000,00", 45_000.0, "EUR", {"EUR"}),
    ("£1.2m", 1_200_000.0, "GBP", None),  # sterling's sign, which the Gibraltar pound shares
    ("$100 CAD", 100.0, "CAD", {"CAD"}),
    ("¥5000", 5_000.0, None, {"JPY", "CNY"}),  # the yen's and the yuan's sign
    ("C$ 100", 100.0, None, {"CAD", "NIO"}),
    ("1,000 sek", 1_000.0, "SEK", {"SEK"}),
    ("USD 100 EUR", None, None, set()),  # contradicts itself: no number
    ("top 5000", None, None, set()),  # a word, not the paʻanga
    ("45000", 45_000.0, None, set()),
])
def test_the_currency_written_in_an_amount(text: str, number: float | None, code: str | None,
                                           codes: set[str] | None) -> None:
    read = read_amount(text)
    assert (read.number, read.code) == (number, code)
    if codes is not None:
        assert read.codes == codes


def test_sterlings_sign_agrees_with_the_pounds_pegged_to_it() -> None:
    assert {"GBP", "GIP", "FKP"} <= read_amount("£5").codes


def test_an_amount_without_text_keeps_its_currency_field() -> None:
    assert amount_in_currency(5000, "eur") == (5000.0, "eur")
    assert amount_in_currency(None, "EUR") == (None, "EUR")


@pytest.mark.parametrize(("text", "number"), [
    ("(5,000)", -5_000.0), ("($1,200.00)", -1_200.0), ("(1.2m)", -1_200_000.0), ("\u22125000", -5_000.0),
    ("1.2 million", 1_200_000.0), ("1,2 Mio", 1_200_000.0), ("3 Mrd.", 3e9), ("12 mln", 12e6),
    ("5 thousand", 5_000.0), ("12,34,567", 1_234_567.0),
    ("()", None), ("(-5)", None), ("(5,000", None), ("2 billion", None),  # 'billion' is 10^12 in German
])
def test_numbers_as_accountants_and_other_languages_write_them(text: str, number: float | None) -> None:
    from app.scoring.values import parse_number

    assert parse_number(text) == number


@pytest.mark.parametrize(("value", "expected"), [
    ("Dec 31, 2024", "2024-12-31"), ("31 December 2024", "2024-12-31"), ("31.12.2024", "2024-12-31"),
    ("2024/12/31", "2024-12-31"), ("13/01/2024", "2024-01-13"), ("Tue, 31 Dec 2024", "2024-12-31"),
    (45291, "2023-12-31"), (45291.0, "2023-12-31"), (" 45291 ", "2023-12-31"),
    ("1735603200000", "2024-12-31"), ("1735603200123", "2024-12-31T00:00:00.123Z"),
    # ambiguous or partial: nothing
    ("01/02/2024", None), ("2024/01/02", None), ("31-Dec-24", None), ("Dec 2024", None), ("2024", None),
    ("Dec 31 2024 10:00", None), ("Mon, 31 Dec 2024", None), ("Q4 2024", None), ("tomorrow", None),
    (45291.5, None), (True, None), (12345, None), ("1735603200", None), ({"d": 1}, None), ([45291], None),
    ("202412312359", None), ("20241231235959", None), ("000000000000", None), ("0001735603200000", None),
    ("-99999999999999", None), (-99999999999999, None), (-99999999999999.0, None), (10**400, None),
    ("¹²³⁴⁵", None), ("--123", None), ("٤٥٢٩١", None),
    ("63072000000", "1972-01-01"), ("6307200000", None),  # a whole day of 10 digits is one of seconds too
])
def test_a_date_written_otherwise_is_read_when_it_names_one_day(value: object, expected: str | None) -> None:
    from app.scoring.values import read_date

    assert read_date(value)[0] == expected


@pytest.mark.parametrize(("value", "day", "instant"), [
    ("1735603200000", "2024-12-31", "2024-12-31"),
    ("1735603200123", None, "2024-12-31T00:00:00.123Z"),
    (1717232400500, None, "2024-06-01T09:00:00.500Z"),
    (45291, "2023-12-31", "2023-12-31"),
])
def test_a_field_that_holds_a_day_gets_no_instant_as_suggestion(value: object, day: str | None,
                                                                 instant: str) -> None:
    from app.scoring.values import read_date

    assert read_date(value, whole_day=True)[0] == day
    assert read_date(value)[0] == instant


def test_the_fields_that_hold_a_day_are_those_documented_as_dates() -> None:
    from app.scoring.rules.validity import DAY_FIELDS

    documented = {"account": frozenset(), "contact": {"birthdate"}, "opportunity": {"close_date"},
                  "lead": frozenset()}
    assert documented == DAY_FIELDS


_DIGIT_TEXT = st.from_regex(r"\A-?[0-9]{0,30}\Z") | st.integers(1, 400).flatmap(
    lambda n: st.from_regex(rf"\A-?[0-9]{{{n}}}\Z"))
_WHOLE_NUMBERS = (st.integers() | st.integers(1, 400).flatmap(lambda n: st.integers(-(10**n), 10**n))
                  | st.floats(allow_nan=False, allow_infinity=False).map(float.__floor__).map(float))


@settings(max_examples=300, deadline=None)
@given(value=_DIGIT_TEXT | _WHOLE_NUMBERS, record_type=st.sampled_from(["account", "contact", "opportunity",
                                                                       "lead"]))
def test_digits_and_whole_numbers_of_any_length_in_every_date_field_are_findings(
        rules: Ruleset, value: object, record_type: str) -> None:
    """Digits as text and whole numbers of any length in each date field are scored without an exception,
    and a date field that holds a day is only ever offered a day, never from digits with a leading zero."""
    from app.scoring import score_record
    from app.scoring.rules.validity import DATE_FIELDS, DAY_FIELDS
    from tests.conftest import NOW

    record = dict.fromkeys(DATE_FIELDS[record_type], value)
    report = score_record(record_type, record, rules, now=NOW)
    for issue in report["issues"]:
        if issue["rule"] == f"{record_type}.dates.invalid" and issue["suggestion"] is not None:
            assert not str(value).lstrip("-").startswith("0"), issue
            if issue["field"] in DAY_FIELDS[record_type]:
                assert "T" not in issue["suggestion"], issue


def test_reading_date_text_builds_no_dateutil_parserinfo_per_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """The weekday names a date is checked against come from one parserinfo built at import, not one built
    for every new value (and dateutil is imported once, with the module)."""
    import dateutil.parser

    from app.scoring import values

    def refuse() -> None:
        raise AssertionError("a parserinfo was built for one reading")

    monkeypatch.setattr(dateutil.parser, "parserinfo", refuse)
    values._read_date_text.cache_clear()
    assert values.read_date("Tue, 31 Dec 2024") == ("2024-12-31", "")
    assert values.read_date("Mon, 31 Dec 2024")[0] is None


def test_a_north_american_number_on_a_contact_elsewhere_has_no_standard_form(rules: Ruleset) -> None:
    """'(415) 555-0123' on a German contact is valid as +494155550123 and as the San Francisco +14155550123:
    no E.164 form is given (it was the German one), while a German number written the German way keeps its."""
    from app.scoring import score_record
    from tests.conftest import NOW

    german = {"mailing_address": {"country": "Germany"}}
    report = score_record("contact", {"phone": "(415) 555-0123", **german}, rules, now=NOW)
    assert "phone" not in report["normalized"]
    report = score_record("contact", {"phone": "030 1234567", "mobile_phone": "+1 (415) 555-0123", **german},
                          rules, now=NOW)
    assert report["normalized"]["phone"] == "+49301234567"
    assert report["normalized"]["mobile_phone"] == "+14155550123"
    report = score_record("contact", {"phone": "(415) 555-0123"}, rules, now=NOW)
    assert report["normalized"]["phone"] == "+14155550123"
