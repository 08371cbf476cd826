"""The per-value caches of scoring and matching, in one list, so a process can bound them all at once.

Each cache keeps the answer for one field value (an email, a phone, a URL, a name) and is bounded, but over
a long stream a worker's caches grow by tens of MB, mostly values seen once (a person's own phone).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.scoring import engine, formats, values
from app.scoring.matching import comparisons, normalize
from app.scoring.rules import standardize, titles, validity
from app.scoring import ruleset
from app.scoring.ruleset import Ruleset


def value_caches() -> tuple[Any, ...]:
    """Every module-level `lru_cache` keyed on field values (not the start-up tables, which are cached for
    good; each ruleset's job-title cache is its own, see `trim_values`)."""
    return (formats._check_domain, formats._check_simple_email, formats.check_phone,
            formats.registered_domain, formats.check_url, standardize.proper_name, standardize._city_case,
            validity.mistyped_domain, titles._standard_title, titles.title_verdict,
            formats.country_typo, formats.regions_valid,
            normalize.fold, normalize._clean_name, normalize.sound_key, normalize.company_key,
            normalize.street_key, normalize.city_key, normalize._phone_key, normalize._real_number,
            normalize.private_site, normalize.first_address, formats.ascii_domain,
            comparisons._numbers, comparisons._sound, values.read_amount,
            values._read_date_text, values._parse_number_text, ruleset._stage_key, ruleset._picklist_key,
            engine.bare_message)


def trim_values(limit: int, rulesets: Iterable[Ruleset] = ()) -> None:
    """Empty each per-value cache holding more than `limit` answers. A stream's worker calls this after each
    chunk: over a long stream most entries are values seen once (a person's own email and phone), and
    unbounded by this they would grow the worker by ~35 MB per 50,000 records; values that do repeat (company
    domains, common names) are back in their cache within a few records. Each of `rulesets` has its own
    cache of job titles, trimmed the same way."""
    for cached in (*value_caches(), *(rules.title_labels for rules in rulesets)):
        if cached.cache_info().currsize > limit:  # type: ignore[attr-defined]
            cached.cache_clear()  # type: ignore[attr-defined]
