"""Start-up warm-up (`app.scoring.warmup`): the tables a first record of each type built, built before it."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import Options, formats, load_rules, score_record, states
from app.scoring.matching import normalize
from app.scoring.warmup import sample_records, warm_up
from tests.conftest import NOW

# built on first use, each 5-150 ms: the first contact with a state took 127 ms, the first account 117-183 ms
START_UP_TABLES = (states.state_codes, states.state_countries, formats.default_countries,
                   normalize.placeholders, normalize.legal_forms, normalize.nickname_pairs, normalize.given_names,
                   normalize.nickname_initials)


def cleared_tables() -> tuple[Any, ...]:
    """The start-up tables emptied, with the per-value caches of URL and phone checks (which build the public
    suffix tries and a region's phone metadata on their first value)."""
    for table in (*START_UP_TABLES, formats.check_url, formats.check_phone):
        table.cache_clear()
    return START_UP_TABLES


def assert_built() -> None:
    assert [t.__name__ for t in START_UP_TABLES if t.cache_info().currsize == 0] == []
    assert formats.check_url.cache_info().currsize and formats.check_phone.cache_info().currsize


def test_warm_up_builds_what_the_first_record_of_each_type_would() -> None:
    cleared_tables()
    warm_up(load_rules(), Options(default_region="DE", check_email_deliverability=True))  # no DNS: turned off
    assert_built()


@pytest.mark.parametrize("region", ["US", "DE", "JP", "BR"])
def test_the_samples_are_records_of_each_type_in_the_default_region(region: str) -> None:
    samples = sample_records(region)
    assert set(samples) == {"account", "contact", "lead", "opportunity"}
    report = score_record("contact", samples["contact"], load_rules(), now=NOW,
                          options=Options(default_region=region))
    assert report["normalized"]["phone"].startswith("+")  # the region's own example number: its metadata



def test_warm_up_asks_no_dns_whatever_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up must not wait on DNS (or fail without a network): the deliverability check is off for the
    warm-up even when the deployment turns it on for requests."""
    import app.scoring.formats as formats

    asked: list[bool] = []
    real = formats.validate_email

    def recording(*args: Any, **kwargs: Any) -> Any:
        asked.append(bool(kwargs.get("check_deliverability")))
        return real(*args, **{**kwargs, "check_deliverability": False})

    monkeypatch.setattr(formats, "validate_email", recording)
    warm_up(load_rules(), Options(default_region="US", check_email_deliverability=True))
    assert asked and not any(asked)
