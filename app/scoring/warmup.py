"""Build at start-up what scoring and matching otherwise build on the first record that needs it.

ISO 3166-2 subdivisions (pycountry, for states), the public suffix list's tries (tldextract: websites and
email domains), a region's phone metadata, the default rules file the matching keys read, the nickname
tables: each is built once per process, on first use, so the first contact, lead or account a fresh
process scored took 150-270 ms where the next took 3-10 (the first Salesforce Contact webhook with a
MailingState too).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from app.scoring.engine import Options, score_record
from app.scoring.formats import regions_valid
from app.scoring.matching.dedupe import find_duplicates
from app.scoring.matching.normalize import (
    given_names,
    legal_forms,
    nickname_initials,
    nickname_pairs,
    placeholders,
    record_keys,
)
from app.scoring.ruleset import Ruleset
from app.scoring.states import state_countries

MATCHED = ("contact", "lead", "account")


def warm_up(rules: Ruleset, options: Options) -> None:
    """Score one sample record of each type and look for duplicates among two of each matchable type, so
    every table they read is built before the first request (the answers are thrown away)."""
    options = dataclasses.replace(options, check_email_deliverability=False)  # no DNS at start-up
    for table in (placeholders, legal_forms, nickname_pairs, given_names, nickname_initials, state_countries):
        table()  # matching's word tables, some read only by pairs that reach a level ('typo': given_names), and
        #          the states of one country only, read for a state its record's country does not have
    for region in rules.file.validity.phone_regions:  # tried for a number of no country (`regions_valid`): their
        example = phonenumbers.example_number(region)  # metadata and patterns, ~170 ms at the first such number
        if example is not None:
            regions_valid(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL), (region,))
    now = datetime.now(UTC)
    for record_type, record in sample_records(options.default_region).items():
        score_record(record_type, record, rules, now=now, options=options)
        if record_type in MATCHED:  # a pair to compare: Robert for Bob, another company at one address
            record_keys(record, record_type, options.default_region, checked=True)
            other = {"first_name": "Robert"} if record_type != "account" else {"name": "Acme Holding"}
            find_duplicates(record_type, [record, {**record, "id": "warm-up-2", **other}], rules,
                            region=options.default_region)


def sample_records(region: str) -> dict[str, dict[str, Any]]:
    """One record per type with the fields whose checks build tables: an address with a state, a phone of
    the default region (its metadata is loaded per region), email, website, LinkedIn page, title, company."""
    example = phonenumbers.example_number(region) if region else None
    phone = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL) if example else ""
    address = {"street": "1 Main Street", "city": "Springfield", "state": "CA", "postal_code": "12345",
               "country": region or "US"}
    person = {"id": "warm-up-1", "first_name": "Bob", "last_name": "Smith", "email": "Bob <bob@acme.com>",
              "phone": phone, "title": "V.P. Sales", "linkedin_url": "https://www.linkedin.com/in/bob-smith",
              "birthdate": "1980-01-02", "created_at": "2024-01-02T03:04:05Z"}
    return {
        "account": {"id": "warm-up-1", "name": "Acme GmbH", "website": "https://www.acme.co.uk/about",
                    "industry": "IT Services", "employee_count": "51-200", "phone": phone,
                    "billing_address": address, "linkedin_url": "https://www.linkedin.com/company/acme"},
        "contact": {**person, "account_id": "A1", "mailing_address": address, "department": "Sales"},
        "lead": {**person, "company": "Acme GmbH", "address": address, "source": "web", "status": "new"},
        "opportunity": {"id": "warm-up-1", "name": "Acme renewal", "amount": "12000", "currency": "EUR",
                        "stage": "Prospecting", "close_date": "2030-01-31", "account_id": "A1"},
    }
