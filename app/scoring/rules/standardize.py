"""Standardisation (seed 002): one industry label, size tiers, ISO country and state codes, canonical URLs,
E.164 phones, title seniority and department, name casing. Suggestions, never rewrites."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import pycountry
from nameparser import parse as parse_name
from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.scoring.formats import (
    COUNTRY_TYPO_TEXT,
    URL_SCHEMES,
    check_phone,
    check_url,
    country_code,
    country_typo,
    nanp_lookalike,
)
from app.scoring.matching.normalize import fold
from app.scoring.registry import Hit, rule
from app.scoring.rules.consistency import company_site
from app.scoring.states import state_code, state_codes, state_countries, state_text
from app.scoring.values import iso_currencies, parse_count

ADDRESS_FIELD = {"account": "billing_address", "contact": "mailing_address", "lead": "address"}
NAME_CASE_MAX = 100  # characters: longer text in a name field is no name to recase
PHONE_FIELDS = {"account": ("phone",), "contact": ("phone", "mobile_phone"),
                "lead": ("phone", "mobile_phone")}


def standard_country(value: Any, ctx: Any) -> str | None:
    """ISO 3166 alpha-2 for a country written any common way, else None."""
    return country_code(value, ctx.rules.country_lookup)


def country_name(code: str) -> str:
    """ISO 3166's short English name of an alpha-2 code ('Germany' of DE)."""
    found = pycountry.countries.get(alpha_2=code)
    return getattr(found, "common_name", None) or found.name if found else code


def standard_state(value: Any, country: str | None, ctx: Any) -> str | None:
    """The ISO 3166-2 subdivision code (without country prefix) for a state or province, else None: as
    `states.state_code` reads it, else as the rules file's `[standardize.state_aliases]` name it."""
    code = state_code(value, country)
    if code is None and isinstance(value, str) and country:  # what addresses write that ISO 3166-2 does not
        text = state_text(value)
        aliases = ctx.rules.file.standardize.state_aliases.get(country, {})
        code = aliases.get(text) or aliases.get(text.replace(".", "").strip())
    return code


def implied_country(address: Any, ctx: Any) -> str | None:
    """The default region (`CRM_DQ_DEFAULT_REGION`) for an address that names no country but whose state is
    one of the region's ('1 Main, Austin, TX 78701'): its state and postal code are read there already, and a
    US CRM's addresses rarely write the country, so its headquarters location is known (hq_location was
    'missing' on every such account); address.nonstandard suggests storing it. None otherwise, and for a
    country written but not read ('Atlantis')."""
    if address.__class__ is not dict or ctx.filled(address.get("country")):
        return None
    region = ctx.options.default_region
    return region if standard_state(address.get("state"), region, ctx) else None


def size_tier(employees: Any, ctx: Any) -> str | None:
    """startup / SMB / mid-market / enterprise from the employee count (also when written as text, "250", or
    as a size band, "51-200" by its lower bound, as lead scoring reads it)."""
    employees = parse_count(employees)
    if employees is None or employees < 0:
        return None
    tier = None
    for band in ctx.rules.file.standardize.size_tiers:
        if employees >= band.min:
            tier = band.tier
    return tier


def _name_case(value: Any, ctx: Any) -> str | None:
    """The name as people write it when the value is all upper or all lower case, else None. Only the
    case changes: the value stripped, its spacing and punctuation as written."""
    if not isinstance(value, str) or len(value.strip()) < ctx.rules.file.standardize.name_case_min_length:
        return None
    text = value.strip()
    if len(text) > NAME_CASE_MAX:  # no name; and nameparser took 35 s over a megabyte of one
        return None
    if (text.isupper() or text.islower()) and any(c.isalpha() for c in text):
        return proper_name(text)
    return None


@lru_cache(maxsize=16384)
def proper_name(text: str) -> str:
    """O'Brien, McDonald, García-López, María del Carmen: nameparser's capitalisation, not str.title's
    O'brien; and only the capitalisation: the text letter for letter, in its order, with the punctuation and
    spacing it was written with.

    nameparser's whole name (`str(HumanName(...))`) re-orders and re-writes what it parses ('SMITH, JOHN'
    was 'John Smith', 'ROBERT "BOB"' 'Robert (Bob)', 'SMITH, JR.' 'Smith Jr.'): no casing fix. So each word
    nameparser read is recased where it stands (its token's span), and the text between the words stays as
    written; a word nameparser renders in more letters ('ß' capitalised is 'Ss') is capitalised letter by
    letter instead, each letter kept one (`_recased`).

    Particles: a particle after a name word is written in lower case, as nameparser decides it ('Hans von
    Beethoven', 'João da Silva', 'Maria dos Santos', 'Juan de la Cruz'); the field's first word begins with
    a capital whatever it is ('Von Beethoven', 'Da Silva', 'Dos Santos', 'De la Cruz', 'Van der Berg'): a
    surname field holds the surname alone, and alone it is written with a capital (as English sorting and
    address lines write it). nameparser alone gave 'Von Beethoven' but 'dos Santos', by whether it read the
    first word as a given name.

    Mac: after "Mac" nameparser capitalises every name (MacHado, MacEy, MacIas): from letters alone
    MacDonald and Machado cannot be told apart, and Macdonald is a correct spelling where MacHado is not, so
    a suggestion keeps that letter small. Mc names get their inner capital (McDonald).

    Cached: a parse costs about 0.25 ms, and the names a CRM writes in capitals repeat (first names most).
    One plain ASCII word is capitalised directly, as nameparser does it (tests/scoring compares the two),
    except Mc names, whose inner capital nameparser places.
    """
    if text.isalpha() and text.isascii() and len(text) > 1 and not text.lower().startswith("mc", 0, 2):
        return text.capitalize()
    name = parse_name(text).capitalized(force=True)
    written = name.original
    if written != text:  # spans index nameparser's own copy; one that differs (never seen) gets no fix
        return text
    out: list[str] = []
    at = 0
    for token in name.tokens:
        if token.span is None or token.span.start < at:
            continue
        start, end = token.span
        out += (_title_words(written[at:start]), _recased(written[start:end], token.text))
        at = end
    out.append(_title_words(written[at:]))
    fixed = _MAC_CAPITAL.sub(lambda m: "Mac" + m.group(1).lower(), "".join(out))
    first = next((i for i, c in enumerate(fixed) if c.isalpha()), None)
    if first is not None and fixed[first].islower() and len(fixed[first].upper()) == 1:
        fixed = fixed[:first] + fixed[first].upper() + fixed[first + 1:]  # 'de la Cruz' alone: 'De la Cruz'
    return fixed


_MAC_CAPITAL = re.compile(r"\bMac([A-Z])")
_WORD = re.compile(r"[^\W\d_]+")


def _recased(written: str, cased: str) -> str:
    """`written` in the case of nameparser's `cased` rendering of it, letter by letter; a letter whose
    other case is not one letter ('ß', 'İ') or that `cased` does not spell at its place stays as written."""
    if cased == written:
        return written
    if len(cased) == len(written) and cased.lower() == written.lower():
        return cased
    if len(cased) != len(written):  # 'ß' capitalised is 'Ss': recase the letters themselves
        return _WORD.sub(lambda m: _capitalized(m.group(0)), written)
    return "".join(c if c.upper() == w.upper() or c.lower() == w.lower() else w
                   for c, w in zip(cased, written, strict=True))


def _capitalized(word: str) -> str:
    """The word with its first letter upper case and the rest lower, each letter kept one letter."""
    out = []
    for i, c in enumerate(word):
        cased = c.upper() if i == 0 else c.lower()
        out.append(cased if len(cased) == 1 else c)
    return "".join(out)


def _title_words(text: str) -> str:
    """Text nameparser read no word in (spacing, commas, quotes); any letters in it capitalised per word."""
    return _WORD.sub(lambda m: _capitalized(m.group(0)), text) if text and not text.isspace() else text


def normalize_record(record: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """The record's standard forms where they can be derived (reported under `normalized`)."""
    out: dict[str, Any] = {}
    region = ctx.region  # the record's own country, else the default region
    for field in PHONE_FIELDS.get(ctx.record_type, ()):
        value = record.get(field)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            phone = check_phone(str(value), region)
            # a '(415) 555-0123' valid in the US and in the contact's non-+1 country has no one standard form
            if phone.ok and (phone.has_country_code or not nanp_lookalike(str(value), region)):
                out[field] = phone.e164
                if phone.extension:
                    out[f"{field}_extension"] = phone.extension
    email = record.get("email")
    if isinstance(email, str) and email.strip():
        result = ctx.check_email(email)
        if result.ok:
            out["email"] = result.normalized.lower() if result.normalized else None
    for field in ("website", "linkedin_url"):
        value = record.get(field)
        if isinstance(value, str) and value.strip():
            url = check_url(value, ctx.rules.file.standardize.strip_www, URL_SCHEMES)
            if field == "linkedin_url" and url.ok:
                out[field] = url.canonical
            # a social profile is no website (website.invalid): no standard form nor domain
            elif field == "website" and (site := company_site(url, ctx.rules.social_hosts)) is not None:
                out[field] = url.canonical
                out["website_domain"] = site
    industry = record.get("industry")
    label = ctx.rules.industry(industry)
    if label is not None:
        out["industry"] = label
    tier = size_tier(record.get("employee_count"), ctx)
    if tier:
        out["size_tier"] = tier
    address = record.get(ADDRESS_FIELD.get(ctx.record_type, ""))
    if isinstance(address, dict):
        country = standard_country(address.get("country"), ctx)
        if country:
            out["country"] = country
        state = standard_state(address.get("state"), country or ctx.options.default_region, ctx)
        if not state and country in ctx.rules.file.standardize.checked_state_countries:
            state = _state_meant(address.get("state"), country)
        if state:
            out["state"] = state
            if not country and (implied := implied_country(address, ctx)):
                out["country"] = implied
    title = record.get("title")
    if ctx.record_type in ("contact", "lead") and isinstance(title, str):
        seniority, department = ctx.rules.title_labels(title)
        if seniority:
            out["seniority"] = seniority
        # the record's own department where it has one with a standard label (helper-55: 'Senior Manager,
        # Revenue Accounting' in Finance was reported as Sales); else the title's ('EMEA' names none)
        written = record.get("department")
        if "department" in ctx.present and isinstance(written, str):
            department = ctx.rules.title_labels(written)[1] or department
        if department:
            out["department"] = department
    if ctx.record_type == "opportunity":
        stage = ctx.rules.canonical_stage(record.get("stage"))
        if stage:
            out["stage"] = stage
        currency = record.get("currency")
        if isinstance(currency, str) and (code := currency.strip().upper()) in ISO_CURRENCIES:
            out["currency"] = code
    return out


ISO_CURRENCIES = frozenset(iso_currencies())


def _industry(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: normalise industry variations such as 'Tech' and 'IT Services' to one label."""
    value = record.get("industry")
    if "industry" not in ctx.present or not isinstance(value, str):
        return
    label = ctx.normalized.get("industry")
    if label is None:
        slip = ctx.rules.industry_typo(value)  # a suggestion only: the standard form stays unknown
        yield Hit("industry", value, suggestion=slip, details={"reason": "not a configured industry or synonym" + (
            f"; perhaps a typing slip of {slip!r}" if slip else "")})
    elif label != value:
        yield Hit("industry", value, suggestion=label, details={"reason": f"standard label is {label!r}"})


for _t in ("account", "lead"):
    rule(f"{_t}.industry.nonstandard", fields=("industry",), severity="info", category="standardization",
         when_present=True,
         seed="002", config="standardize.industries",
         message="Industry {value!r}: {reason}.")(_industry)


@rule("account.website.nonstandard", fields=("website",), severity="info", category="standardization",
      when_present=True,
      seed="002", message="Website {value!r} is better stored as {suggestion}.")
def _website_form(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: website URL formatting (https, no www, no trailing slash)."""
    canonical = ctx.normalized.get("website")
    if canonical and canonical != record.get("website"):
        yield Hit("website", record.get("website"), suggestion=canonical)


def _address(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: location formatting (city, state, country consistency) as ISO codes."""
    name = ADDRESS_FIELD[ctx.record_type]
    address = record.get(name)
    if not isinstance(address, dict):
        return
    raw_country = address.get("country")
    country = ctx.normalized.get("country")
    if country and not ctx.filled(raw_country):  # implied by the state (`implied_country`)
        yield Hit(f"{name}.country", raw_country, suggestion=country,
                  details={"shown": " is blank", "reason": f"its state is one of {country_name(country)}'s"})
    elif ctx.filled(raw_country):
        if country is None:
            # a typing slip of one country's name ('Untied States'): suggested, and its phones read there
            meant = country_typo(raw_country) if isinstance(raw_country, str) and \
                len(raw_country) <= COUNTRY_TYPO_TEXT else None
            slip = f"; perhaps a typing slip of {country_name(meant)} ({meant})" if meant else ""
            yield Hit(f"{name}.country", raw_country, suggestion=meant,
                      details={"shown": f" {raw_country!r}", "reason": f"not a recognised country{slip}"})
        elif country != raw_country:
            yield Hit(f"{name}.country", raw_country, suggestion=country,
                      details={"shown": f" {raw_country!r}", "reason": f"ISO 3166 code is {country}"})
    raw_state, state = address.get("state"), ctx.normalized.get("state")
    if ctx.filled(raw_state) and state and state != raw_state:
        yield Hit(f"{name}.state", raw_state, suggestion=state,
                  details={"shown": f" {raw_state!r}", "reason": f"ISO 3166-2 code is {state}"})
    city = address.get("city")
    if isinstance(city, str) and ctx.filled(city):
        known = country or (None if ctx.filled(raw_country) else ctx.options.default_region)  # not 'Atlantis'
        if (split := city_with_state(city, known, ctx, country_named=country is not None)) is not None:
            own, written_state = split
            own = city_case(own, ctx.rules.file.standardize.city_lowercase_words) or own  # 'austin, tx
            other = f" (which says {raw_state!r})" if ctx.filled(raw_state) and written_state != state else ""
            yield Hit(f"{name}.city", city, suggestion=own,
                      details={"shown": f" {city!r}", "reason": f"it holds the state {written_state} too, "
                                                                 f"which belongs in {name}.state{other}"})
            return
        cased = city_case(city, ctx.rules.file.standardize.city_lowercase_words)
        if cased and cased != city:
            yield Hit(f"{name}.city", city, suggestion=cased,
                      details={"shown": f" {city!r}", "reason": "a place name's capitals"})


# what may follow the state in a city field: a postal code ('Austin, TX 78701', 'Toronto, ON M5V 2T6')
_TRAILING_POSTAL = re.compile(r"\s+[A-Za-z]?\d[\dA-Za-z -]{1,9}$")


def city_with_state(city: str, country: str | None, ctx: Any,
                    country_named: bool = True) -> tuple[str, str] | None:
    """(the city, the state's code) of a city field written as an address line writes it, 'Austin, TX' or
    'Toronto, Ontario M5V 2T6', 'Washington, D.C.': what follows its last comma (a postal code after it
    aside) is a state of the address's country, or of the default region when none is named ('Munich,
    Bavaria' in Germany is not: ISO 3166-2 writes Bayern). None for any other city. A CRM that stores the
    whole line in the city field leaves the state field blank or repeats it; the suggestion is the city
    alone (seed 002: city, state and country consistency). A country after the state is read past ('Miami,
    FL, USA'); with no country named, a state that is a country's name or code too is none ('Toronto, CA'
    is in Canada, not California)."""
    if "," not in city or len(city) > CITY_CASE_MAX or not country:
        return None
    head, _, tail = city.rpartition(",")
    if "," in head and standard_country(tail, ctx):  # 'Miami, FL, USA'
        head, _, tail = head.rpartition(",")
    own, tail = head.strip(" ,"), _TRAILING_POSTAL.sub("", tail.strip())
    if not own or any(c.isdigit() for c in own) or (not country_named and standard_country(tail, ctx)):
        return None
    code = standard_state(tail, country, ctx)
    return (own, code) if code else None


_APOSTROPHE_S = re.compile(r"['\u2019][A-Z](?![^\W\d_])")
CITY_CASE_MAX = 60  # characters: longer text in a city field is no city to recase


@lru_cache(maxsize=4096)
def _city_case(text: str, lowercase: frozenset[str]) -> str:
    cased = _APOSTROPHE_S.sub(lambda m: m.group(0).lower(), proper_name(text))  # St. John's, not John'S
    words = []
    for n, word in enumerate(cased.split(" ")):
        parts = word.split("-")
        for k, part in enumerate(parts):
            if n + k == 0:
                continue
            low = part.lower()
            if low in lowercase:
                parts[k] = low
            elif low.startswith("d'") and len(low) > 2:  # Coeur d'Alene, Val-d'Or
                parts[k] = "d'" + part[2:]
        words.append("-".join(parts))
    return " ".join(words)


def city_case(city: str, lowercase_words: list[str]) -> str | None:
    """A city written all in small letters or all in capitals ('austin', 'NEW YORK'; seed 002 location
    formatting), or with spaces around or doubled, as a place name is written: each word capitalised as
    `proper_name` does it (St. Louis, McAllen, Winston-Salem, O'Fallon), the joining words after the first
    in small letters (`[standardize] city_lowercase_words`: Frankfurt am Main, Stratford-upon-Avon, Rio de
    Janeiro); None when it is written with capitals already, or is too short to tell from initials ('NYC',
    'SF')."""
    text = " ".join(city.split())
    if not text or len(text) > CITY_CASE_MAX:
        return None
    if text.islower() or (text.isupper() and sum(c.isalpha() for c in text) > 4):
        return _city_case(text, frozenset(lowercase_words))
    return text if text != city else None


# the countries most CRM addresses are in, in this order, named first among several
_FIRST_NAMED = {c: n for n, c in enumerate(("US", "CA", "GB", "AU", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "MX",
                                              "JP", "CN"))}


def _state_vs_country(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002 location formatting: city, state, country consistency. A state that is no subdivision of the
    address's country but is one of another ('ON' in the USA, 'NSW' in Canada, 'CA' in Germany). A state
    known nowhere ('Bavaria', written in English where ISO writes 'Bayern') says nothing either way."""
    name = ADDRESS_FIELD[ctx.record_type]
    address = record.get(name)
    country = ctx.normalized.get("country")
    if country is None or "state" in ctx.normalized or not isinstance(address, dict):
        return
    raw_state = address.get("state")
    if not isinstance(raw_state, str) or not ctx.filled(raw_state) or len(raw_state) > 100:
        return
    text = " ".join(raw_state.strip().lower().split())
    if country in params.own_state_abbreviations and len(text.replace(".", "").replace(" ", "")) <= 4:
        return  # 'NL' is Nuevo León in a Mexican address, whatever ISO 3166-2 codes Canada's provinces
    elsewhere = state_countries().get(text) or state_countries().get(text.replace(". ", "."))
    if elsewhere and country not in elsewhere:
        # the countries most addresses are in first: 'CA' is California before it is a province of Burundi
        where = [country_name(c) for c in sorted(elsewhere, key=lambda c: (_FIRST_NAMED.get(c, 99), country_name(c)))]
        yield Hit(f"{name}.state", raw_state, details={
            "country": country_name(country),
            "where": ", ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")})


for _t in ADDRESS_FIELD:
    rule(f"{_t}.state.country_mismatch", fields=(ADDRESS_FIELD[_t],), severity="warning", category="consistency",
         when_present=True, seed="002", config="standardize",
         message="{field} {value!r} is a state or province of {where}, not of {country}.")(_state_vs_country)


@lru_cache(maxsize=32)
def _state_names(country: str) -> dict[str, str]:
    """A country's subdivision names (lowercased, five letters or more) -> their code (`state_codes`)."""
    return {text: code for (where, text), code in state_codes().items()
            if where == country and len(text) >= 5}


def state_slip(text: str, country: str) -> str | None:
    """The subdivision of `country` a state written wrong most likely means: its name with ' State' after it
    ('New York State'), the start of one name only ('Tex', 'Penn'), or a typing slip of one name ('Californa':
    one slip for names of up to ten letters, two for longer); None when nothing, or more than one, is that
    close."""
    names = _state_names(country)
    for suffix in (" state", " province"):
        if text.endswith(suffix) and text[: -len(suffix)] in names:
            return names[text[: -len(suffix)]]
    bare = text.rstrip(".")
    if len(bare) >= 3 and bare.isalpha():
        starting = {code for name, code in names.items() if name.startswith(bare)}
        if len(starting) == 1:
            return starting.pop()
    if len(text) < 5:
        return None
    slips = 1 if len(text) <= 10 else 2
    found = process.extract(text, list(names), scorer=OSA.distance, score_cutoff=slips, limit=3)
    codes = {names[name] for name, _, _ in found}
    return codes.pop() if len(codes) == 1 else None


def _state_meant(value: Any, country: str) -> str | None:
    """The state of a checked country a state written another way most likely means (`state_slip`), when it
    is no state of any country as written: its standard form, suggested as address.nonstandard (info: 'Ont.',
    'Californa', 'New York State' name one state each)."""
    text = _no_known_state(value)
    return state_slip(text, country) if text else None


def _no_known_state(value: Any) -> str | None:
    """A state as written (folded), when it is text no country's subdivision list holds, else None."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    text = state_text(value)
    if not text or state_countries().get(text) or state_countries().get(text.replace(". ", ".")):
        return None
    return text


def _state_unknown(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002 location formatting: a state that is no subdivision of the address's country, where the
    country's list is the whole of what its addresses write (`[standardize] checked_state_countries`: 'XX'
    in the USA passed silently), nor one written another way (`_state_meant`: 'Californa', 'Tex.' are
    address.nonstandard with the state they mean). Another country's state is `state.country_mismatch`'s."""
    name = ADDRESS_FIELD[ctx.record_type]
    address = record.get(name)
    country = ctx.normalized.get("country")
    if country not in params.checked_state_countries or "state" in ctx.normalized \
            or not isinstance(address, dict):
        return
    raw_state = address.get("state")
    if ctx.filled(raw_state) and _no_known_state(raw_state):
        yield Hit(f"{name}.state", raw_state, details={"country": country_name(country)})


for _t in ADDRESS_FIELD:
    rule(f"{_t}.state.invalid", fields=(ADDRESS_FIELD[_t],), severity="warning", category="validity",
         when_present=True, seed="002", config="standardize",
         message="{field} {value!r} is no state or territory of {country}.")(_state_unknown)


for _t in ADDRESS_FIELD:
    rule(f"{_t}.address.nonstandard", fields=(ADDRESS_FIELD[_t],), severity="info", category="standardization",
         when_present=True,
         seed="002", config="standardize.countries", message="{field}{shown}: {reason}.")(_address)


def _name_casing(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002 naming conventions: names in ALL CAPS or all lower case, or with spaces around them."""
    for field in ("first_name", "last_name"):
        value = record.get(field)
        # a placeholder ('N/A', 'asdf') is no name to recase: name.placeholder's
        if field not in ctx.present or not isinstance(value, str) or placeholder_name(value, ctx):
            continue
        # spaces around it too (helper-63: 'Maria ' passed, while an email's were reported)
        fix = _name_case(value, ctx) or value.strip()
        if fix != value:
            yield Hit(field, value, suggestion=fix)


def placeholder_name(value: str, ctx: Any) -> bool:
    """Whether a name field's text is one of `[duplicates] placeholder_names` ('Test', 'asdf', 'Unknown')."""
    return len(value) <= 40 and fold(value) in ctx.rules.placeholder_names


def _name_placeholder(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: contact data must be accurate; a name that is a placeholder ('Test Test', 'asdf') names no
    one, though it fills the field completeness counts.

    helper-63: 'Test Test' passed, and 'asdf asdf' was only told to write itself 'Asdf'."""
    for field in ("first_name", "last_name"):
        value = record.get(field)
        if field in ctx.present and isinstance(value, str) and placeholder_name(value, ctx):
            yield Hit(field, value)


for _t in ("contact", "lead"):
    rule(f"{_t}.name.casing", fields=("first_name", "last_name"), severity="info", category="standardization",
         when_present=True,
         seed="002", message="{field} {value!r} is better written {suggestion!r}.")(_name_casing)
    # completeness's: a name field filled with no name (as validity, every person's names would count in the
    # accuracy KPI's checked fields)
    rule(f"{_t}.name.placeholder", fields=("first_name", "last_name"), severity="warning",
         category="completeness", when_present=True, seed="000", config="duplicates.placeholder_names",
         message="{field} {value!r} is a placeholder, not a person's name.")(_name_placeholder)


@rule("contact.department.inferable", fields=("department", "title"), severity="info",
      category="standardization", when_present=True, seed="002",
      message="Department is empty; the title suggests {suggestion!r}.")
def _department_from_title(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: standardise job titles, and fill the department they imply."""
    if "department" not in ctx.present and ctx.normalized.get("department"):
        yield Hit("department", record.get("department"), suggestion=ctx.normalized["department"])


@rule("opportunity.name.placeholder", fields=("name",), severity="warning", category="completeness",
      when_present=True, seed="002", config="standardize.placeholder_deal_names",
      message="Deal name {value!r} is a placeholder; name the deal by its account and what it sells.")
def _deal_name_placeholder(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: standardize deal naming conventions (seed 000: naming conventions must be followed
    consistently). A deal named 'New Opportunity', 'Untitled', 'test' or 'asdf' ([standardize]
    placeholder_deal_names and the person rules' [duplicates] placeholder_names) names no deal, though it
    fills the field; an empty name is opportunity.recommended.missing's."""
    name = record.get("name")
    if "name" in ctx.present and isinstance(name, str) and len(name) <= 60 \
            and fold(name) in ctx.rules.placeholder_deal_names:
        yield Hit("name", name)


@rule("opportunity.stage.nonstandard", fields=("stage",), severity="info", category="standardization",
      when_present=True,
      seed="003", message="Stage {value!r} is better stored as {suggestion!r}.")
def _stage_form(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003 stage names, written one way."""
    stage = ctx.normalized.get("stage")
    if stage and stage != record.get("stage"):
        yield Hit("stage", record.get("stage"), suggestion=stage)


@rule("opportunity.currency.nonstandard", fields=("currency",), severity="info", category="standardization",
      when_present=True,
      seed="004", message="Currency {value!r} is better stored as {suggestion!r}.")
def _currency_form(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 004 data cleansing: an ISO 4217 code written in another case or with spaces ('usd', ' EUR') is
    the code, written one way.

    helper-63: 'usd' was an invalid currency, an error that alerted."""
    code = ctx.normalized.get("currency")
    if code and code != record.get("currency"):
        yield Hit("currency", record.get("currency"), suggestion=code)


def _email_form(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: fix email address formatting issues (case, spaces)."""
    normalized = ctx.normalized.get("email")
    if normalized and normalized != record.get("email"):
        yield Hit("email", record.get("email"), suggestion=normalized)


for _t in ("contact", "lead"):
    rule(f"{_t}.email.nonstandard", fields=("email",), severity="info", category="standardization", seed="002",
         when_present=True,
         message="Email {value!r} is better stored as {suggestion!r}.")(_email_form)
