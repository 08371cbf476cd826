"""Loads the rules TOML (defaults deep-merged with an organisation's file) and compiles it once."""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator
from rapidfuzz import fuzz, process

from app.scoring.formats import iso_countries
from app.scoring.matching.linker import build_models
from app.scoring.matching.normalize import fold
from app.scoring.registry import RECORD_TYPES, RULES, Rule, Severity
from app.scoring.values import amount_in_currency, currency_code, mailbox_name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# numbers a rules file sets, checked where they are read: a negative threshold, a NaN or a weight below zero
# was accepted and then made every record stale, a 500 or a completeness of 1.0 with a field missing
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]  # a ratio: 0.95, not 95
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class Requirement(_Strict):
    name: str
    any_of: list[str] = []
    all_of: list[str] = []
    weight: NonNegative = 1.0
    # opportunities: required only while the deal is open (a closed deal has no next step to take)
    open_only: bool = False

    def paths(self) -> tuple[list[str], str]:
        """The field paths and how they combine (`any` or `all`)."""
        if self.any_of:
            return self.any_of, "any"
        return (self.all_of or [self.name]), "all"


class RecordCompleteness(_Strict):
    required: list[Requirement]
    recommended: list[str] = []


class Completeness(_Strict):
    empty_values: list[str]
    # per top-level field: placeholders that are real values there ("Na" is a Korean and Chinese family name)
    real_values: dict[str, list[str]] = {}
    # per top-level field: more placeholders there ('Unassigned' or 0 as an owner), which elsewhere are values
    field_empty_values: dict[str, list[str]] = {}
    account: RecordCompleteness
    contact: RecordCompleteness
    opportunity: RecordCompleteness
    lead: RecordCompleteness


class Scoring(_Strict):
    completeness_weight: NonNegative
    accuracy_weight: NonNegative
    penalty: dict[Severity, NonNegative]

    @model_validator(mode="after")
    def _weights_sum(self) -> Scoring:
        if not self.completeness_weight + self.accuracy_weight > 0:  # quality_score divides by their sum
            raise ValueError("completeness_weight and accuracy_weight must not both be 0")
        return self


class Decision(_Strict):
    block_severities: list[Severity] = []
    alert_severities: list[Severity] = ["error"]
    block_rules: list[str] = []
    alert_rules: list[str] = []
    allow_rules: list[str] = []


class Kpi(_Strict):
    completeness: Share
    duplicate_rate: Share
    accuracy: Share
    response_seconds: float = Field(gt=0, allow_inf_nan=False)


class RuleOverride(_Strict):
    severity: Severity | None = None
    enabled: bool = True


class Validity(_Strict):
    amount_max: float
    # an open deal's amount at or below this is a placeholder (amount.unrealistic)
    open_amount_min: float = Field(1, allow_inf_nan=False)
    close_date_max_years: int = Field(2, ge=1)  # an open deal closing further ahead is not a forecast
    annual_revenue_max: float
    employee_count_max: int
    oldest_year: int
    future_years: int
    # what systems write for "no date", read as no date at all: days however written (Excel's and SQL Server's
    # 1900-01-01), and instants written with a time (Unix time 0; a date-only 1970-01-01 may be a birthday)
    placeholder_dates: frozenset[date] = frozenset()
    placeholder_instants: frozenset[datetime] = frozenset()
    url_schemes: list[str]
    linkedin_hosts: list[str]
    # registered domains of social networks: a company "website" there is a profile, not its site
    social_hosts: list[str] = []
    # mail domains people mistype ("gmial.com"); a domain one edit away from one of these is flagged
    common_email_domains: tuple[str, ...] = ()
    typo_domain_min_length: int = 9  # a shorter common domain is one slip from real ones (me.com, live.com)
    # addresses typed where none is known: these domains, or these parts before the @ (email.placeholder)
    placeholder_email_domains: frozenset[str] = frozenset()
    placeholder_email_locals: frozenset[str] = frozenset()
    # where a number written without its country code is tried when the record names no country and it is no
    # number of the default region (phone.no_country_code names them; without: an invalid-number error)
    phone_regions: tuple[str, ...] = ()  # a tuple: `formats.regions_valid` caches on it

    def placeholder(self, when: datetime, written: Any) -> bool:
        """Whether a parsed date is a system's "no date", read as none: one of `placeholder_dates` at
        midnight UTC however written ('1900-01-01'), or, `written` with a time, one of `placeholder_instants`
        (Unix time 0, '1970-01-01T00:00:00Z'; a date-only '1970-01-01' is a day someone may be born on)."""
        if when in self.placeholder_instants and not (isinstance(written, str) and ":" not in written):
            return True
        return not (when.hour or when.minute or when.second or when.microsecond) \
            and when.date() in self.placeholder_dates


class Stage(_Strict):
    order: int
    probability: tuple[Percent, Percent]
    forecast_categories: list[str] = Field(min_length=1)  # the first is suggested for a deal in the stage
    requires: list[str] = []
    closed: bool = False
    won: bool = False

    @model_validator(mode="after")
    def _won_is_closed(self) -> Stage:
        if self.won and not self.closed:  # read as open by every rule, won by none
            raise ValueError("a won stage is closed: set closed = true")
        return self


class Stages(_Strict):
    # an organisation's file with `replace_defaults = true` brings its whole pipeline: the default stages and
    # aliases are dropped instead of merged with its own (`load_rules`)
    replace_defaults: StrictBool = False  # 'yes' was read as true here, and not by `merge_organisation`
    # an open stage's gate includes every earlier open stage's requirements (`stage_gates`)
    cumulative_gates: StrictBool = True
    aliases: dict[str, str] = {}
    definitions: dict[str, Stage]

    @model_validator(mode="after")
    def _aliases_name_stages(self) -> Stages:
        for alias, target in self.aliases.items():
            if target not in self.definitions:
                raise ValueError(f"alias {alias!r} names unknown stage {target!r}")
        return self


class Qualification(_Strict):
    bant_fields: list[str]
    bant_stages: list[str]
    meddpicc_fields: list[str]
    meddpicc_from_stage: str
    decision_maker_roles: list[str]
    decision_maker_from_stage: str
    negative_values: list[str]
    # an answer starting with one of these says the element is missing ("No budget until FY26")
    negative_prefixes: list[str] = []
    # answers that start like a negative one but give the element ("No more than 80k", "Not the CFO - the COO")
    affirmative_prefixes: list[str] = []
    # an answer ending with one of these says the element is missing ("Budget not yet allocated", "Timeline TBD")
    negative_suffixes: list[str] = []
    # elements holding a statement, often written in the negative ("No visibility into pipeline"): a
    # negative prefix or suffix reads as a non-answer there only in fewer than `statement_words` words
    statement_fields: list[str] = []
    statement_words: int = 4
    statement_gap_words: list[str] = []  # words that make a short negative statement a non-answer
    # elements where "none" is an answer (no competitor): these values, or text starting with these prefixes
    none_is_an_answer: list[str] = []
    none_answers: list[str] = []
    none_answer_prefixes: list[str] = []
    # MEDDPICC elements a deal's contact role names (a contact in the 'Economic Buyer' role is the economic
    # buyer identified): element -> roles
    roles_for_elements: dict[str, list[str]] = {}
    # a contact with no decision_role whose title reads as one of these seniorities is one of its account's
    # decision makers (Salesforce and HubSpot have no decision-role field)
    decision_maker_seniorities: list[str] = []
    # lead statuses that claim the lead is qualified: BANT must be complete (lead.status.qualified_without_bant)
    qualified_lead_statuses: list[str] = []


class BusinessHours(_Strict):
    """When the lead-response clock runs (seed 003: 'respond within 1 hour during business hours')."""
    start: float = Field(9, ge=0, lt=24)   # hour of the day it opens, in `timezone`
    end: float = Field(17, gt=0, le=24)    # hour it closes
    days: list[int] = [1, 2, 3, 4, 5]      # ISO weekdays (1 Monday … 7 Sunday)
    timezone: str = "UTC"                  # an IANA zone, as "America/New_York"

    @model_validator(mode="after")
    def _a_real_week(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if not self.days or not set(self.days) <= set(range(1, 8)):
            raise ValueError("days must be ISO weekdays 1 (Monday) to 7 (Sunday)")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not a known IANA zone") from None
        return self


class Timeliness(_Strict):
    attention_days: NonNegative
    stale_days: NonNegative
    stage_stuck_days: NonNegative
    verify_days: NonNegative
    lead_response_hours: float = Field(gt=0, allow_inf_nan=False)
    follow_up_days: list[NonNegative] = Field(min_length=1)
    inactive_lead_statuses: list[str]
    # statuses that say a lead was answered: without a response date its wait is unknown, never a breach
    contacted_lead_statuses: list[str] = []
    # of those, statuses that say the lead has not answered yet ('Attempted to Contact'): after the last
    # follow-up it is still told to go inactive
    unanswered_lead_statuses: list[str] = []
    # a lead not contacted for this many days is to be re-engaged (lead.reengagement.due), unless its status
    # is one of these (converted: it is a contact now)
    reengagement_days: NonNegative = 30
    no_reengagement_lead_statuses: list[str] = []
    # the status suggested once the last follow-up went unanswered (one of the lead_status picklist); None:
    # none named (an organisation whose own statuses have no 'recycled' and that names none)
    inactive_status: str | None = "recycled"
    # when set, lead_response_hours count business hours only (a lead in on Saturday waits for Monday)
    business_hours: BusinessHours | None = None

    @model_validator(mode="after")
    def _days_in_order(self) -> Timeliness:
        if self.attention_days > self.stale_days:
            raise ValueError(f"attention_days ({self.attention_days:g}) is after stale_days ({self.stale_days:g}): "
                             "a deal would be stale before it needs attention")
        if list(self.follow_up_days) != sorted(set(self.follow_up_days)):
            raise ValueError(f"follow_up_days must rise, each day once: {list(self.follow_up_days)}")
        return self


class Impact(_Strict):
    high_value_deal: NonNegative
    high_value_account: NonNegative
    min_contacts_high_value: int = Field(ge=0)
    recent_hours: int = Field(default=24, gt=0)  # the summary's recent_activity window ([impact])
    severity_weight: dict[Severity, NonNegative]
    record_weight: dict[str, NonNegative]


class Band(_Strict):
    field: str = ""
    min: NonNegative = 0
    points: NonNegative = 0
    keywords: list[str] = []
    tier: str = ""


class ScoreGroup(_Strict):
    model_config = ConfigDict(extra="allow", frozen=True)
    max: NonNegative

    @model_validator(mode="after")
    def _criteria_are_bands(self) -> ScoreGroup:
        """Every other key is a criterion, a list of bands: checked here, so a mistake names its key ('maxx =
        40' was a TypeError traceback, 'pionts' a message naming no section)."""
        for name, bands in (self.model_extra or {}).items():
            if not isinstance(bands, list):
                raise ValueError(f"{name}: a criterion is a list of bands ({{ min = 1, points = 10 }}), not "
                                 f"{bands!r}")
            for i, band in enumerate(bands):
                try:
                    Band.model_validate(band)
                except ValidationError as exc:
                    raise ValueError(f"{name}[{i}]: " + "; ".join(
                        f"{'.'.join(map(str, e['loc'])) or 'band'}: {e['msg']}" for e in exc.errors())) from None
        return self

    def criteria(self) -> dict[str, list[Band]]:
        """Criterion name -> bands, validated."""
        return {k: [Band.model_validate(b) for b in v] for k, v in (self.model_extra or {}).items()}


BandTable = tuple[tuple[str, tuple[tuple[str, float, float], ...]], ...]


def band_table(criteria: dict[str, list[Band]]) -> BandTable:
    """Each criterion's bands as (field read, least count, points), most points first (a stable sort: the
    first of equal bands still wins); a band worth no points never counts, so it is left out."""
    def ordered(name: str, bands: list[Band]) -> tuple[tuple[str, float, float], ...]:
        worth = [(b.field or name, max(b.min, 1e-9), b.points) for b in bands if b.points > 0]
        return tuple(sorted(worth, key=lambda band: -band[2]))
    return tuple((name, ordered(name, bands)) for name, bands in criteria.items())


class LeadScoring(_Strict):
    grades: dict[str, NonNegative] = Field(min_length=1)  # replaced whole by a file that sets it (`WHOLE_TABLES`)
    target_industries: list[str]
    known_industry_points: float
    target_industry_points: float
    title_points: dict[str, float] = {}  # by seniority label; unused when demographics has keyword bands
    demographics: ScoreGroup
    behavior: ScoreGroup
    engagement: ScoreGroup


class VagueTitles(_Strict):
    values: list[str]
    qualifiers: list[str] = []   # 'Team' in 'Team Member': a word before one of `values` that says no more


class TitlePlaceholders(_Strict):
    salutations: list[str] = []   # 'Mr.', 'Dr.' alone: no title
    values: list[str] = []        # keyboard mash and words standing for a title ('asdf', 'Job Title')


class TitleCase(_Strict):
    acronyms: list[str] = []      # kept upper case when a title is recased ('VP', 'CFO', 'IT')
    small_words: list[str] = []   # kept lower case after a title's first word ('of', 'and')


@dataclass(frozen=True)
class TitleWords:
    """The word lists job titles are judged and recased by, lowercased (`app.scoring.rules.titles`)."""

    vague: frozenset[str]
    qualifiers: frozenset[str]
    salutations: frozenset[str]
    placeholders: frozenset[str]
    acronyms: frozenset[str]
    small_words: frozenset[str]


class Standardize(_Strict):
    size_tiers: list[Band]
    strip_www: bool
    name_case_min_length: int
    industries: dict[str, list[str]]
    countries: dict[str, list[str]]
    seniority: dict[str, list[str]]
    departments: dict[str, list[str]]
    vague_titles: VagueTitles
    title_placeholders: TitlePlaceholders = TitlePlaceholders()
    title_case: TitleCase = TitleCase()
    # roles that support someone: the words after "to", "of" or "for" name whom, and are not read for the
    # title's seniority, department or lead points ("Executive Assistant to the CEO" is no CEO)
    supporting_roles: list[str] = []
    # an industry no label or variant names, within this similarity (0-100, rapidfuzz's ratio) of one only,
    # is suggested as that label ('technolgy': Technology); 0: no such suggestion
    industry_typo_similarity: float = Field(default=0.0, ge=0, le=100)
    industry_typo_min_length: int = Field(default=6, ge=1)   # shorter ones are too alike ('retail', 'rental')
    industry_typo_margin: float = Field(default=5.0, ge=0)   # a second label this close makes the slip ambiguous
    # words that name no industry of their own after one that does ('Technology Services', 'Healthcare
    # Industry'): an industry written with them, or as several joined by '&', 'and', '/' or ',' ('Media &
    # Entertainment', 'Banking/Finance'), names the one label all its parts name (`industry_parts`)
    industry_generic_words: list[str] = []
    # the same for a stage no configured stage or alias names ('Negotation': Negotiation), with the industry's
    # minimum length and margin; 0: no such suggestion
    stage_typo_similarity: float = Field(default=0.0, ge=0, le=100)
    # countries whose addresses abbreviate their states otherwise than ISO 3166-2 does: a short code there is
    # not judged as another country's state (state.country_mismatch)
    own_state_abbreviations: list[str] = []
    # deal names that name no deal, besides [duplicates] placeholder_names (opportunity.name.placeholder)
    placeholder_deal_names: list[str] = []

    # countries whose subdivision list (ISO 3166-2, the AP abbreviations) is all their addresses write: a
    # state not on it there is state.invalid
    checked_state_countries: list[str] = []
    # per country, states as addresses write them that ISO 3166-2 does not (lowercased) -> the code to store
    state_aliases: dict[str, dict[str, str]] = {}
    # words a place name writes in small letters after its first (Frankfurt am Main, Stratford-upon-Avon)
    city_lowercase_words: list[str] = []


class LevelSpec(_Strict):
    label: str
    m: float
    u: float
    min: float = 0.0
    reason: str = ""


class ComparisonSpec(_Strict):
    field: str
    kind: str
    tf: bool = False
    tf_only_weakens: bool = False
    # comparisons whose agreement already implies this one's (a street implies its city): see linker.implied
    implied_by: list[str] = []
    # numbers in the text (digits, Roman numerals) must be the same ones for any similarity ('Fund I' and
    # 'Fund II' are two funds): see comparisons._numbers_differ
    numbers_must_match: bool = False
    null_weight: float = 0.0
    levels: list[LevelSpec]


class VetoSpec(_Strict):
    # every one of these at its else level, or 'email.same_domain' at that level (both sides filled) ...
    differ: list[str] = Field(min_length=1)
    unless: list[str] = []                   # ... and none of these agreeing ('email': at a level weighing for
    #                                          a match; 'email.exact': at that level): the pair is no match,
    cap: float | None = Field(None, gt=0, lt=1)  # or at most this score (review, never auto-merge)


class LiftSpec(_Strict):
    # every one of these agreeing ('name': at a level weighing for a match; 'name.exact': at that level), on a
    # value no more than `common_value_after` records besides the pair hold where the field weighs by
    # frequency, and no comparison weighing against the pair: it scores at least `to` (linker.lift)
    agree: list[str] = Field(min_length=1)
    to: float = Field(gt=0, lt=1)


class MatchModelSpec(_Strict):
    prior_bits: float
    swap_fields: list[str] = []
    blocking: list[list[str]]
    neighbourhood: list[list[str]] = []
    # blocking when a batch's records are matched with its records of another type (`match_also`): its own
    # keys, as selective as a person's identity (a batch's leads against its contacts; empty: `blocking`)
    match_also_blocking: list[list[str]] = []
    # a shared value (`tf_only_weakens`) counts the distinct values of this compared field among its holders
    shared_counted_by: str = ""
    # a pair whose every `differ` field is at its else level (or at the level named, 'email.same_domain'; both
    # filled), with no `unless` field agreeing, is no match, or at most the veto's `cap` (linker.veto)
    veto: list[VetoSpec] = []
    # a pair whose `agree` fields agree with nothing against it scores at least `to`; a veto still caps it
    lift: list[LiftSpec] = []
    comparisons: list[ComparisonSpec]

    @model_validator(mode="after")
    def _implied_by_and_veto_name_comparisons(self) -> MatchModelSpec:
        fields = [c.field for c in self.comparisons]
        for c in self.comparisons:
            unknown = [f for f in c.implied_by if f not in fields or f == c.field]
            if unknown:
                raise ValueError(f"comparison {c.field}: implied_by names no other comparison: {unknown}")
        if self.shared_counted_by and self.shared_counted_by not in fields:
            raise ValueError(f"shared_counted_by names a field that is not compared: {self.shared_counted_by!r}")
        levels = {c.field: [lv.label for lv in c.levels] for c in self.comparisons}
        for v in self.veto:
            named = (*v.differ, *v.unless)
            unknown = [f for f in (n.partition(".")[0] for n in named) if f not in fields]
            if unknown:
                raise ValueError(f"veto names fields that are not compared: {unknown}")
            for key, names in (("differ", v.differ), ("unless", v.unless)):
                unknown = [n for n in names
                           if "." in n and n.partition(".")[2] not in levels[n.partition(".")[0]]]
                if unknown:
                    raise ValueError(f"veto {key} names levels the comparison does not have: {unknown}")
        for lift in self.lift:
            unknown = [n for n in lift.agree if n.partition(".")[0] not in fields
                       or ("." in n and n.partition(".")[2] not in levels[n.partition(".")[0]])]
            if unknown:
                raise ValueError(f"lift names fields or levels that are not compared: {unknown}")
        return self

    @model_validator(mode="after")
    def _neighbourhood_names_blocking_keys(self) -> MatchModelSpec:
        unknown = [key for key in self.neighbourhood if key not in self.blocking]
        if unknown:
            raise ValueError(f"neighbourhood names keys not in blocking: {unknown} (a file that replaces "
                             f"blocking must set neighbourhood too, [] for none)")
        return self


class Duplicates(_Strict):
    threshold: float
    auto_merge: float
    max_block_size: int
    crowded_block_window: int = Field(ge=0)
    max_candidates: int
    tf_pseudo_count: float = Field(gt=0)
    common_value_after: int = Field(ge=0)
    high_deal_value: float
    high_roles: list[str]
    # no evidence of a person in matching keys (normalize.placeholders reads the default file's)
    placeholder_names: list[str] = []
    shared_mailboxes: list[str] = []
    legal_forms: list[str] = []  # company legal forms cleanco does not strip (normalize.legal_forms)
    not_legal_forms: list[str] = []  # cleanco's forms kept in a company name (normalize.company_basename)
    # leading legal forms that are words of names too ('PT Solutions'): taken off only before two words or more
    ambiguous_leading_forms: list[str] = []
    company_mail_domains: list[str] = []  # free-mail domains a company's own (normalize.company_domain)
    # a business word's one form and its other writings in company names' keys (normalize.company_words)
    company_words: list[list[str]] = []
    # a street word's one form and its other writings in addresses' keys (normalize.street_words)
    street_words: list[list[str]] = []
    street_word_endings: list[list[str]] = []  # ... and of word endings ('Hauptstraße', 'Hauptstr.')
    # a city's one name and its other names, and a city word's one form and its others (normalize.city_key)
    city_names: list[list[str]] = []
    city_words: list[list[str]] = []
    # words after a dash that are a CRM note, not part of a company's name (normalize.without_notes)
    name_notes: list[str] = []
    # (masculine, feminine) endings of one name's two forms: two given names (comparisons.gendered_forms)
    gendered_endings: list[tuple[str, str]] = []
    nickname_sibling_similarity: float = Field(default=60, ge=0, le=100)  # (normalize.nickname_pairs)
    # a website's name shorter than this says no one organisation across its country sites (comparisons)
    organisation_min_letters: int = Field(default=4, ge=1)
    # a company name that is a domain under one of these suffixes (or a country's) is read as the domain's
    # name (normalize.domain_as_name), when that name has at least `domain_name_min_letters` letters
    domain_name_suffixes: list[str] = []
    domain_name_min_letters: int = Field(default=3, ge=1)
    # (regular expression, replacement): one given name's spellings written alike (normalize.spelling_key)
    name_spellings: list[tuple[str, str]] = []
    # a record scored against the index is also matched with these types' records (one person model)
    match_also: dict[Literal["contact", "lead"], list[Literal["contact", "lead"]]] = {}
    person: MatchModelSpec
    account: MatchModelSpec

    @model_validator(mode="after")
    def _name_spellings_compile(self) -> Duplicates:
        for pattern, _ in self.name_spellings:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"name_spellings: {pattern!r} is no regular expression ({exc})") from exc
        return self

    @model_validator(mode="after")
    def _bands_in_order(self) -> Duplicates:
        if not 0 < self.threshold <= self.auto_merge <= 1:
            raise ValueError("need 0 < threshold <= auto_merge <= 1")
        for family in ("person", "account"):
            for veto in getattr(self, family).veto:
                if veto.cap is not None and veto.cap >= self.auto_merge:
                    raise ValueError(f"{family}.veto cap {veto.cap} is not below auto_merge {self.auto_merge}: "
                                     "a capped pair would still be merged automatically")
            for lift in getattr(self, family).lift:
                if lift.to > self.auto_merge:
                    raise ValueError(f"{family}.lift to {lift.to} is above auto_merge {self.auto_merge}: "
                                     "a pair merged automatically on a few fields' agreement alone")
        return self


class Currencies(_Strict):
    base: str = "USD"
    # what one unit of each currency is worth in `base` (ISO 4217 codes)
    rates: dict[str, float] = {}

    @model_validator(mode="before")
    @classmethod
    def _codes_in_capitals(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("base"), str):
                data["base"] = data["base"].strip().upper()
            if isinstance(data.get("rates"), dict):
                data["rates"] = {str(k).strip().upper(): v for k, v in data["rates"].items()}
        return data

    @model_validator(mode="after")
    def _rates_are_positive_and_relative_to_base(self) -> Currencies:
        bad = sorted(code for code, rate in self.rates.items() if not rate > 0)
        if bad:
            raise ValueError(f"rates must be positive: {bad}")
        if self.rates.get(self.base, 1.0) != 1.0:  # a new base with the defaults' USD rates left in place
            raise ValueError(f"rates are what one unit is worth in the base {self.base}, so {self.base} must be "
                             f"1 (it is {self.rates[self.base]}): give the whole table for another base")
        return self


class RulesFile(_Strict):
    """The whole rules TOML. Unknown keys are errors, so a typo stops start-up with its path."""

    scoring: Scoring
    decision: Decision
    kpi: Kpi
    rules: dict[str, RuleOverride] = {}
    completeness: Completeness
    validity: Validity
    picklists: dict[str, list[str]]
    picklist_aliases: dict[str, dict[str, str]] = {}
    stages: Stages
    qualification: Qualification
    timeliness: Timeliness
    impact: Impact
    lead_scoring: LeadScoring
    standardize: Standardize
    duplicates: Duplicates
    currencies: Currencies = Currencies()

    @model_validator(mode="after")
    def _overrides_name_rules(self) -> RulesFile:
        named = {"rules": set(self.rules), "decision.block_rules": set(self.decision.block_rules),
                 "decision.alert_rules": set(self.decision.alert_rules),
                 "decision.allow_rules": set(self.decision.allow_rules)}
        for where, ids in named.items():
            unknown = sorted(ids - set(RULES))
            if unknown:
                raise ValueError(f"[{where}] names unknown rule ids: {unknown}")
        both = sorted(set(self.decision.allow_rules) & (set(self.decision.block_rules) | set(self.decision.alert_rules)))
        if both:  # allow wins, silently undoing the other list
            raise ValueError(f"[decision] allow_rules and block_rules or alert_rules both name {both}")
        return self

    @model_validator(mode="after")
    def _title_points_name_seniority_levels(self) -> RulesFile:
        points = self.lead_scoring.title_points
        unknown = sorted(set(points) - set(self.standardize.seniority))
        if unknown:
            raise ValueError(f"[lead_scoring.title_points] names levels not in [standardize.seniority]: "
                             f"{unknown}")
        if not all(math.isfinite(p) and p >= 0 for p in points.values()):
            raise ValueError("[lead_scoring.title_points] points must be finite and at least 0")
        return self

    @model_validator(mode="after")
    def _names_resolve(self) -> RulesFile:
        """Names one level down that must name something: a misspelt stage in [qualification] made every
        opportunity a 500 (KeyError), a misspelt picklist or industry silently matched nothing."""
        stages = {stage_key(n) for n in self.stages.definitions} | {stage_key(a) for a in self.stages.aliases}
        q = self.qualification
        for where, name in (("meddpicc_from_stage", q.meddpicc_from_stage),
                            ("decision_maker_from_stage", q.decision_maker_from_stage),
                            *(("bant_stages", s) for s in q.bant_stages)):
            if stage_key(name) not in stages:
                raise ValueError(f"[qualification] {where} names unknown stage {name!r}")
        for name, stage in self.stages.definitions.items():
            if stage.probability[0] > stage.probability[1]:
                raise ValueError(f"[stages.definitions.{name}] probability range {list(stage.probability)} is "
                                 "reversed")
        known = default_picklist_names()
        for section, names in (("picklists", self.picklists), ("picklist_aliases", self.picklist_aliases)):
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"[{section}] names picklists no rule reads: {unknown} (known: {sorted(known)})")
        unknown = sorted(set(q.roles_for_elements) - set(q.meddpicc_fields))
        if unknown:
            raise ValueError(f"[qualification] roles_for_elements names no MEDDPICC field: {unknown}")
        # elements read as statements or where none is an answer: BANT and MEDDPICC fields, a deal's own
        from app.models.records import FIELD_KINDS, NESTED_FIELDS  # the records' documented fields

        elements = ({f"bant.{f}" for f in q.bant_fields} | {f"meddpicc.{f}" for f in q.meddpicc_fields}
                    | set(FIELD_KINDS["opportunity"]))
        for key in ("statement_fields", "none_is_an_answer"):
            unknown = sorted(set(getattr(q, key)) - elements)
            if unknown:
                raise ValueError(f"[qualification] {key} names no BANT or MEDDPICC field nor deal field: "
                                 f"{unknown}")
        if q.statement_words < 1:
            raise ValueError(f"[qualification] statement_words must be at least 1, not {q.statement_words}")
        industries = set(self.standardize.industries)
        unknown = sorted(set(self.lead_scoring.target_industries) - industries)
        if unknown:
            raise ValueError(f"[lead_scoring] target_industries not in [standardize.industries]: {unknown}")

        unknown = sorted(set(self.completeness.field_empty_values)
                         - {f for t in RECORD_TYPES for f in FIELD_KINDS[t]})
        if unknown:
            raise ValueError(f"[completeness] field_empty_values names fields no record has: {unknown}")
        for record_type in RECORD_TYPES:
            section = getattr(self.completeness, record_type)
            paths = [p for req in section.required for p in req.paths()[0]] + list(section.recommended)
            unknown = sorted({p for p in paths if not self.known_path(record_type, p)})
            if unknown:
                raise ValueError(f"[completeness.{record_type}] names fields a {record_type} does not have: "
                                 f"{unknown}")
        forecast = self.picklists.get("forecast_category")
        for name, stage in self.stages.definitions.items():
            unknown = sorted({p for p in stage.requires if not self.known_path("opportunity", p)})
            if unknown:
                raise ValueError(f"[stages.definitions.{name}] requires fields an opportunity does not have: "
                                 f"{unknown}")
            # a misspelt category ('Best Cas') was suggested to every deal in the stage
            known = {picklist_key(v) for v in forecast or ()}
            unknown = sorted(c for c in stage.forecast_categories
                             if forecast and self.value_key("forecast_category", c) not in known)
            if unknown:
                raise ValueError(f"[stages.definitions.{name}] forecast_categories not in [picklists] "
                                 f"forecast_category: {unknown}")
        for group in ("demographics", "behavior", "engagement"):
            # a band reads a lead's field (demographics) or a key of the group's object: a misspelt one
            # ('website_vists', field = "employee_cuont") scored 0 for every lead
            fields = (set(FIELD_KINDS["lead"]) if group == "demographics"
                      else set(NESTED_FIELDS["lead"].get(group, ())))
            for criterion, bands in getattr(self.lead_scoring, group).criteria().items():
                if criterion == "title" and group == "demographics":
                    continue  # keyword bands, read from the title
                # a name a slip away from a documented field is that slip; any other is a field of the
                # organisation's own ('webinars_attended', a custom 'annual_revenue' column; helper-56)
                for name in sorted({b.field or criterion for b in bands} - fields):
                    meant = process.extractOne(name, sorted(fields), scorer=fuzz.ratio, score_cutoff=85)
                    if meant is not None:
                        raise ValueError(f"[lead_scoring.{group}] {criterion} reads {name!r}, which a lead's "
                                         f"{'fields' if group == 'demographics' else group} do not include: "
                                         f"{meant[0]!r}?")
        from app.scoring.matching.normalize import record_keys  # the matching keys a record is given

        for family, record_type in (("person", "contact"), ("account", "account")):
            spec, keys = getattr(self.duplicates, family), set(record_keys({}, record_type, "US"))
            for where in ("blocking", "neighbourhood", "match_also_blocking"):
                unknown = sorted({k for recipe in getattr(spec, where) for k in recipe} - keys)
                if unknown:  # a misspelt key was a KeyError, a 500, on the first batch
                    raise ValueError(f"[duplicates.{family}] {where} names keys records do not have: {unknown} "
                                     f"(keys: {sorted(keys)})")
        unknown = sorted(set(self.qualification.decision_maker_seniorities) - set(self.standardize.seniority))
        if unknown:
            raise ValueError(f"[qualification] decision_maker_seniorities not in [standardize.seniority]: {unknown}")
        statuses = {picklist_key(s) for s in self.picklists.get("lead_status", [])}
        for where, listed in (("timeliness] contacted_lead_statuses", self.timeliness.contacted_lead_statuses),
                              ("timeliness] unanswered_lead_statuses",
                               self.timeliness.unanswered_lead_statuses),
                              ("timeliness] inactive_lead_statuses", self.timeliness.inactive_lead_statuses),
                              ("timeliness] no_reengagement_lead_statuses",
                               self.timeliness.no_reengagement_lead_statuses),
                              ("qualification] qualified_lead_statuses", self.qualification.qualified_lead_statuses)):
            unknown = sorted(s for s in listed if statuses and self.value_key("lead_status", s) not in statuses)
            if unknown:
                raise ValueError(f"[{where} not in [picklists] lead_status: {unknown}")
        inactive = self.timeliness.inactive_status
        if statuses and inactive is not None and self.value_key("lead_status", inactive) not in statuses:
            raise ValueError(f"[timeliness] inactive_status {inactive!r} is not in [picklists] lead_status")
        return self

    def alias_keys(self, picklist: str) -> dict[str, str]:
        """[picklist_aliases] of one picklist as keys: another way to write a value -> the key it stands for.
        A value of the picklist itself is that value, whatever an alias says (an organisation whose own
        statuses have an 'Inactive' keeps it, not the default alias's 'recycled')."""
        own = {picklist_key(v) for v in self.picklists.get(picklist, ())}
        return {key: picklist_key(v) for a, v in self.picklist_aliases.get(picklist, {}).items()
                if (key := picklist_key(a)) not in own}

    def value_key(self, picklist: str, value: str) -> str:
        """A configured value as the rules compare it: its key, an alias read as the value it stands for (at
        start-up; `Ruleset.picklist_value` is the compiled form the rules read)."""
        key = picklist_key(value)
        return self.alias_keys(picklist).get(key, key)

    def known_path(self, record_type: str, path: str) -> bool:
        """Whether a field path names a documented field of the record type, and inside an object one of its
        keys ('billing_address.city', 'meddpicc.economic_buyer' or a configured element): only the first
        part was checked, so 'meddpicc.economic_buyr' in a stage gate made every deal in the stage unmet."""
        from app.models.records import FIELD_KINDS, NESTED_FIELDS

        top, _, rest = path.partition(".")
        if top not in FIELD_KINDS[record_type]:
            return False
        if not rest:
            return True
        inner = rest.partition(".")[0]
        configured = {"bant": self.qualification.bant_fields, "meddpicc": self.qualification.meddpicc_fields}
        keys = set(NESTED_FIELDS[record_type].get(top, ())) | set(configured.get(top, ()))
        return not keys or inner in keys


class RulesError(ValueError):
    """The rules file is not valid; the message names the offending key path."""


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (lists included) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@lru_cache(maxsize=1)
def default_picklist_names() -> frozenset[str]:
    """The picklists the default rules file names, which the rules read (read once, not per load_rules)."""
    return frozenset(packaged_defaults()["picklists"])


def read_default_rules() -> dict[str, Any]:
    """The packaged defaults as a plain dict (a fresh one: `load_rules` merges an organisation's file into it)."""
    text = resources.files("app.scoring").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


@lru_cache(maxsize=1)
def packaged_defaults() -> dict[str, Any]:
    """The packaged defaults parsed once, for the readers that have no ruleset at hand (matching's word lists,
    `formats.default_countries`): each parsed the file itself, ~12 ms apiece at every process's start. Read
    it, never change it."""
    return read_default_rules()


def load_rules(path: Path | str | None = None, override: dict[str, Any] | None = None) -> Ruleset:
    """Defaults, deep-merged with the TOML at `path` and then `override`, validated and compiled."""
    import app.scoring.rules  # noqa: F401  (registers every rule before overrides are checked)

    data = read_default_rules()
    if path is not None:
        try:
            data = merge_organisation(data, tomllib.loads(Path(path).read_text("utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RulesError(f"rules file {path}: {exc}") from exc
    if override:
        data = merge_organisation(data, override)
    try:
        model = RulesFile.model_validate(data)
    except ValidationError as exc:
        lines = [": ".join(filter(None, (".".join(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, "))))
                 for e in exc.errors()]
        raise RulesError("invalid rules file: " + "; ".join(lines)) from exc
    return compile_rules(model, data)


# tables an organisation's file replaces whole when it sets them: a grade scale is one ('Hot = 70' merged with
# the default A = 75 graded a 72-point lead B, and 'hot' leads were never routed)
WHOLE_TABLES = (("lead_scoring", "grades"),)

# lists naming lead statuses, kept to the organisation's own statuses when its file replaces the picklist and
# not these lists: the defaults name statuses its CRM does not have, and were refused ("contacted_lead_statuses
# not in [picklists] lead_status") though the file itself named none
_LEAD_STATUS_LISTS = (("timeliness", "contacted_lead_statuses"), ("timeliness", "inactive_lead_statuses"),
                      ("timeliness", "unanswered_lead_statuses"),
                      ("timeliness", "no_reengagement_lead_statuses"),
                      ("qualification", "qualified_lead_statuses"))


def merge_organisation(data: dict[str, Any], org: dict[str, Any]) -> dict[str, Any]:
    """`deep_merge` of an organisation's rules over `data`, except where merging would mix two wholes: stages
    with `replace_defaults = true` replace the default pipeline (its stages and aliases), rates for another
    `[currencies] base` replace the default rates (they are worth something else), `WHOLE_TABLES` are
    replaced, and an organisation's own lead statuses keep the default status lists to those it has."""
    stages, currencies = org.get("stages"), org.get("currencies")
    if isinstance(stages, dict) and stages.get("replace_defaults") is True:
        data = {**data, "stages": {}}
    if isinstance(currencies, dict) and isinstance(currencies.get("base"), str):
        base = data.get("currencies", {}).get("base", "USD")
        if currencies["base"].strip().upper() != str(base).strip().upper():
            data = {**data, "currencies": {}}
    for section, key in WHOLE_TABLES:
        if isinstance(org.get(section), dict) and isinstance(org[section].get(key), dict) \
                and isinstance(data.get(section), dict):
            data = {**data, section: {**data[section], key: {}}}
    merged = deep_merge(data, org)
    statuses = (org.get("picklists") or {}).get("lead_status") if isinstance(org.get("picklists"), dict) else None
    if isinstance(statuses, list) and all(isinstance(s, str) for s in statuses):
        _keep_own_statuses(merged, org, statuses)
    return merged


def _keep_own_statuses(merged: dict[str, Any], org: dict[str, Any], statuses: list[str]) -> None:
    """The default lead-status lists an organisation's file leaves alone, kept to the statuses of its own
    picklist (aliases read); the default `inactive_status` dropped when it has no such status."""
    raw_aliases = (merged.get("picklist_aliases") or {}).get("lead_status") or {}
    own = {picklist_key(s) for s in statuses}
    aliases = {picklist_key(a): picklist_key(v) for a, v in raw_aliases.items() if isinstance(a, str)
               and isinstance(v, str) and picklist_key(a) not in own}  # as `RulesFile.alias_keys` reads them

    def has(value: Any) -> bool:
        return isinstance(value, str) and aliases.get(picklist_key(value), picklist_key(value)) in own

    for section, key in _LEAD_STATUS_LISTS:
        if key in (org.get(section) or {}) or not isinstance(merged.get(section), dict):
            continue  # the organisation's own list: validated as written
        listed = merged[section].get(key)
        if isinstance(listed, list):
            kept = [s for s in listed if has(s)]
            if listed and not kept and key == "inactive_lead_statuses":
                # no status would end a lead's clock: a 'Closed Lost' lead was an SLA breach (helper-56)
                raise RulesError(f"[picklists] lead_status replaces the lead statuses and none of the default "
                                 f"[{section}] {key} is among them: set {key} to your closed statuses")
            merged[section] = {**merged[section], key: kept}
    timeliness = merged.get("timeliness")
    if isinstance(timeliness, dict) and "inactive_status" not in (org.get("timeliness") or {}) \
            and not has(timeliness.get("inactive_status")):
        merged["timeliness"] = {**timeliness, "inactive_status": None}


# dashes of any width ('Working – Contacted' as word processors write it), spaces and slashes
_PICKLIST_SEPARATORS = re.compile(r"[\s\-/\u2010-\u2015\u2212]+")


_STAGE_SEPARATORS = re.compile(r"[\s_/\-\u2010-\u2015\u2212]+")


# A stage or picklist value is a short label: longer text is keyed by its first LABEL_CHARS characters, which
# match no configured label either, so a cache entry stays small (helper-62: 30 MB stages stayed cached in the
# server process, which no stream trims)
LABEL_CHARS = 256


def stage_key(value: str) -> str:
    """How stage names compare: case-insensitive, with spaces, underscores, slashes and hyphens alike
    ("Closed/Won", "closed-won" and "CLOSED_WON" are one stage).

    Cached: a deal's stage is read by some fifteen rules, and a CRM's stages are a few values (helper-59: a
    900 KB stage took a second to score, its key made anew by each)."""
    return _stage_key(value[:LABEL_CHARS])


@lru_cache(maxsize=8192)
def _stage_key(value: str) -> str:
    return " ".join(_STAGE_SEPARATORS.sub(" ", value.lower()).split())


def picklist_key(value: str) -> str:
    """How picklist values compare: case-insensitive, spaces and hyphens as underscores, '&' as 'and'
    (HubSpot's label 'Legal & Compliance' is its legal_and_compliance; cached and cut as `stage_key` is:
    picklist values repeat, and several rules read each)."""
    return _picklist_key(value[:LABEL_CHARS])


@lru_cache(maxsize=8192)
def _picklist_key(value: str) -> str:
    text = value.strip().lower()
    if "&" in text:
        text = text.replace("&", " and ").strip()
    return _PICKLIST_SEPARATORS.sub("_", text)


def keyword_pattern(words: list[str]) -> re.Pattern[str]:
    """One compiled, word-bounded alternation (longest words first)."""
    alts = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alts})(?![a-z0-9])")


LabelTable = list[tuple[str, re.Pattern[str]]]


TITLE_CHARS = 256  # a job title is short; longer text is cut before it is searched or becomes a cache key


# initials written with dots ('C.E.O.', 'V.P.', 'S.V.P'), and dashes between words ('Vice-President')
_DOTTED_INITIALS = re.compile(r"(?<![a-z0-9])[a-z](?:\.[a-z])+\.?(?![a-z0-9])")
_TITLE_DASHES = re.compile(r"[\-\u2010-\u2015\u2212]")


def title_key(text: str) -> str:
    """A title or title keyword as they are compared: lowercased, initials without their dots ('C.E.O.' is
    'ceo', 'V.P. Sales' 'vp sales': no keyword matched them) and dashes as spaces, so 'Vice-President' is the
    two words 'vice president' and outranks 'president' (it was an executive)."""
    return _TITLE_DASHES.sub(" ", _DOTTED_INITIALS.sub(lambda m: m.group().replace(".", ""), text.lower()))


def title_pattern(words: list[str]) -> re.Pattern[str]:
    """`keyword_pattern` of title keywords read as titles are (`title_key`)."""
    return keyword_pattern([title_key(w) for w in words])


def supported_person(roles: list[str]) -> re.Pattern[str] | None:
    """The clause naming whom a supporting role supports ("… assistant| to the CEO", "… asst.| to the VP"), to
    cut from a title (read by `title_key`)."""
    if not roles:
        return None
    alts = "|".join(re.escape(title_key(r)) for r in sorted(roles, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])((?:{alts}))\.?\s+(?:to|of|for)(?![a-z0-9]).*$", re.DOTALL)


def title_reader(cut: re.Pattern[str] | None) -> Callable[[str], str]:
    """A title as the keyword tables read it: its first TITLE_CHARS characters by `title_key`, without the
    clause naming whom a supporting role supports."""
    def read(title: str) -> str:
        lowered = title_key(title[:TITLE_CHARS])
        return cut.sub(r"\1", lowered) if cut is not None else lowered

    return read


def title_classifier(seniority: LabelTable, departments: LabelTable,
                     read: Callable[[str], str] | None = None) -> Callable[[str], tuple[str | None, ...]]:
    """(seniority, department) of a job title: for each, the label of its most specific keyword.

    The keyword of most words wins, then the table's order: "Vice President of Sales" is a VP although
    "president" is an executive's keyword, and "Product Owner" (a keyword of individual contributors) no owner
    of the company. Cached per ruleset, since a CRM's titles repeat ('VP Sales', 'CEO') and each lookup is a
    dozen searches; only the first TITLE_CHARS characters are read, so a cache entry stays small whatever the
    caller sends.
    """
    def most_specific(table: LabelTable, lowered: str) -> str | None:
        found, words = None, 0
        for label, pattern in table:
            most = max((match.group().count(" ") + 1 for match in pattern.finditer(lowered)), default=0)
            if most > words:
                found, words = label, most
        return found

    reader = read or title_reader(None)

    @lru_cache(maxsize=16384)
    def labels(head: str) -> tuple[str | None, ...]:
        lowered = reader(head)  # reads the first TITLE_CHARS characters too
        return most_specific(seniority, lowered), most_specific(departments, lowered)

    def classify(title: str) -> tuple[str | None, ...]:
        return labels(title[:TITLE_CHARS])  # cached as written: a hit costs no lowercasing or regex

    classify.cache_clear = labels.cache_clear  # type: ignore[attr-defined]
    classify.cache_info = labels.cache_info  # type: ignore[attr-defined]
    return classify


@dataclass(frozen=True)
class Ruleset:
    """The compiled, immutable form the engine reads on every request."""

    file: RulesFile
    version: str
    severity: dict[str, Severity]
    enabled: frozenset[str]
    empty_values: frozenset[str]
    picklists: dict[str, frozenset[str]]
    stage_lookup: dict[str, str]
    industry_lookup: dict[str, str]
    industry_typo: Callable[[str], str | None]  # the label an unknown industry is one slip from (label_typos)
    industry_parts: Callable[[str], str | None]  # the label an industry's parts all name (industry_parts)
    stage_typo: Callable[[str], str | None]  # the stage an unknown stage is one slip from (label_typos)
    title_labels: Callable[[str], tuple[str | None, ...]]  # (seniority, department), see title_classifier
    read_title: Callable[[str], str]  # a title as keywords are searched in it, see title_reader
    title_bands: list[tuple[float, re.Pattern[str]]] | None  # None: points by seniority (title_points)
    vague_titles: frozenset[str]
    title_words: TitleWords
    negative_values: frozenset[str]
    negative_prefixes: tuple[str, ...]
    affirmative_prefixes: tuple[str, ...]
    negative_suffixes: tuple[str, ...]
    statement_fields: frozenset[str]
    statement_words: int  # a statement of this many words or more is read as given
    # per statement field: the words that make a short negative statement a non-answer (its own name's words
    # and `statement_gap_words`: 'No clear need', not 'No forecast visibility')
    statement_gaps: dict[str, frozenset[str]]
    none_is_an_answer: frozenset[str]
    none_answers: frozenset[str]
    none_answer_prefixes: tuple[str, ...]
    # per group: its cap, and per criterion its bands as (field, least count, points), most points first
    score_groups: dict[str, tuple[float, BandTable]]
    lead_grades: tuple[tuple[str, float], ...]  # (grade, floor), highest floor first
    country_lookup: dict[str, str]
    real_values: dict[str, frozenset[str]]
    field_empty_values: dict[str, frozenset[str]]  # [completeness] field_empty_values, lowercased
    plans: dict[str, list[tuple[Rule, Any, Severity]]]
    match_models: dict[str, Any]
    validity_fields: dict[str, frozenset[str]]
    # Derived once for the engine's hot path (see `compile_rules`).
    runs: dict[str, list[tuple[Any, Any, str, str, Severity, str, bool, frozenset[str] | None]]]
    requirements: dict[str, list[tuple[str, list[str], bool, float, bool]]]
    decision_sets: tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str], frozenset[str]]
    sorted_picklists: dict[str, list[str]]
    picklist_aliases: dict[str, dict[str, str]]  # per picklist, another way to write a value -> its key
    inactive_lead_statuses: frozenset[str]
    contacted_lead_statuses: frozenset[str] = frozenset()
    unanswered_lead_statuses: frozenset[str] = frozenset()
    no_reengagement_lead_statuses: frozenset[str] = frozenset()
    placeholder_years: frozenset[int] = frozenset()  # the years of validity.placeholder_* (a quick test)
    # [duplicates] placeholder_names, folded: a person's name field holding one is no name (name.placeholder)
    placeholder_names: frozenset[str] = frozenset()
    # those and [standardize] placeholder_deal_names, folded: a deal named so is unnamed (name.placeholder)
    placeholder_deal_names: frozenset[str] = frozenset()
    qualified_lead_statuses: frozenset[str] = frozenset()  # qualification.qualified_lead_statuses, as keys
    decision_maker_roles: frozenset[str] = frozenset()  # qualification.decision_maker_roles, as keys
    # the stages qualification.bant_stages names, as canonical stage names (written in any case, or an alias)
    bant_stages: frozenset[str] = frozenset()
    element_roles: dict[str, frozenset[str]] = field(default_factory=dict)  # qualification.roles_for_elements
    social_hosts: frozenset[str] = frozenset()  # validity.social_hosts, lowercased: looked up per website
    # [duplicates] shared_mailboxes, lowercased without dots: the part before an @ a company shares (info@)
    shared_mailboxes: frozenset[str] = frozenset()
    # per record type, each enabled rule that `covers` others: (its id, its `gap_fields`, {covered id: that
    # rule's `gap_fields`}); empty gap fields: the finding's own field
    covering: dict[str, tuple[tuple[str, tuple[str, ...], dict[str, tuple[str, ...]]], ...]] = field(
        default_factory=dict)
    # per stage, its gate: (field path, the stage that first requires it), see `stage_gates`
    stage_gates: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def stage(self, name: str) -> Stage:
        """The definition of a canonical stage name."""
        return self.file.stages.definitions[name]

    def industry(self, value: Any) -> str | None:
        """The configured industry label a raw value names (`industry_key`), or None."""
        if not isinstance(value, str):
            return None
        return self.industry_lookup.get(industry_key(value)) or self.industry_parts(value)

    def picklist_value(self, picklist: str, value: str) -> str:
        """A value's picklist key, an alias read as the value it stands for ('BestCase' is best_case)."""
        key = picklist_key(value)
        return self.picklist_aliases.get(picklist, {}).get(key, key)

    def in_base(self, amount: float, currency: Any) -> float:
        """An amount in the base currency ([currencies]): thresholds are written in it. The currency as
        `currency_code` reads it ('EUR', ' eur', 'Euro', '€'); an amount without a currency, or in one the
        rates do not list, is read as written."""
        rate = self.file.currencies.rates.get(_rate_code(currency) or "")  # the base's is 1 where listed
        return amount * rate if rate is not None else amount

    def deal_amount(self, amount: Any, currency: Any) -> float:
        """What a deal adds to an account's value and weighs findings by, in the base currency: 0 for none, a
        negative one, or one above `validity.amount_max` (a typo such as 1,500,000,000,000, which the
        amount.unrealistic rule reports, would otherwise outrank every real deal). `amount` as the record
        holds it: text is read in the currency written in it where the field is empty or disagrees
        (`amount_in_currency`: 'USD 60000' on a EUR deal was 64,800 USD; '¥5000' on a EUR deal, yen or yuan,
        is worth nothing known)."""
        amount, currency = amount_in_currency(amount, currency, self.file.currencies.base)
        if amount is None or amount <= 0:
            return 0.0
        value = self.in_base(amount, currency)
        return value if value <= self.file.validity.amount_max else 0.0

    def worth(self, amount: float, currency: Any) -> str:
        """An amount as a message shows it: '12,000 USD', or '1,500,000 JPY (10,050 USD)'."""
        base = self.file.currencies.base
        code = _rate_code(currency) or base
        if code == base or code not in self.file.currencies.rates:
            return f"{amount:,.0f} {code}"
        return f"{amount:,.0f} {code} ({self.in_base(amount, code):,.0f} {base})"

    def canonical_stage(self, value: Any) -> str | None:
        """The configured stage a raw value names, or None."""
        if not isinstance(value, str):
            return None
        return self.stage_lookup.get(stage_key(value))

    def closed_stage(self, value: Any) -> bool:
        """Whether a raw stage value names a configured closed stage (Closed Won, Closed Lost)."""
        name = self.canonical_stage(value)
        return name is not None and self.stage(name).closed


def _rate_code(currency: Any) -> str | None:
    """The code a currency field is looked up by in the rates: `currency_code`'s, else the text in capitals
    (a code of a rates table that ISO 4217 does not list), None when empty."""
    if not isinstance(currency, str):
        return None
    return currency_code(currency) or currency.strip().upper() or None


_INDUSTRY_PUNCTUATION = re.compile(r"[\W_]+")  # Unicode-aware: 'Santé' and 'Финансы' keep their letters


def industry_key(text: str) -> str:
    """An industry as compared: case, '&' and 'and' (dropped, as HubSpot's HOSPITAL_HEALTH_CARE drops them),
    underscores, hyphens and slashes aside (HubSpot's COMPUTER_SOFTWARE and E_LEARNING, LinkedIn's
    'Information Technology & Services', 'e-learning' and 'Transportation/Trucking/Railroad' name configured
    variants)."""
    return " ".join(w for w in _INDUSTRY_PUNCTUATION.sub(" ", text.lower().replace(".", "")).split()
                    if w != "and")  # dots dropped first: 'I.T. Services' is 'IT Services'


_INDUSTRY_JOINS = re.compile(r"\s*(?:&|\+|/|,|;|\band\b)\s*", re.IGNORECASE)


def industry_parts(lookup: dict[str, str], generic: frozenset[str]) -> Callable[[str], str | None]:
    """The label an industry no label or variant names names through its parts: written as several joined by
    '&', 'and', '/' or ',' ('Media & Entertainment', 'Banking & Finance', 'Transportation/Logistics') or with
    generic words after one ('Technology Services', 'Healthcare Industry'; `[standardize]
    industry_generic_words`), when every part names one and the same label; else None ('Software &
    Services' is Technology: a part of generic words only names nothing). Each of these was nonstandard with
    no suggestion, and a lead lost its industry-fit points. Cached per value: it runs only for values no
    label names."""

    @lru_cache(maxsize=4096)
    def label(value: str) -> str | None:
        labels = set()
        parts = [industry_key(part).split() for part in _INDUSTRY_JOINS.split(value[:100])]
        for words in parts:
            if len(parts) > 1 and all(w in generic for w in words):
                continue  # '& Services' after a named industry names nothing more
            found = lookup.get(" ".join(words))
            while found is None and words and words[-1] in generic:
                words.pop()
                found = lookup.get(" ".join(words))
            if found is not None:
                labels.add(found)
            elif words:  # a part that names nothing, and is not only generic words
                return None
        return labels.pop() if len(labels) == 1 else None

    return label


def label_typos(lookup: dict[str, str], similarity: float, min_length: int, margin: float,
                key_of: Callable[[str], str]) -> Callable[[str], str | None]:
    """The configured label an unknown value is a typing slip of (an industry 'technolgy', a stage
    'Negotation'): the one label whose name or variant is at least `similarity` alike (rapidfuzz ratio) with
    no other label within `margin`, for text of `min_length` characters or more (`[standardize]
    industry_typo_*`, `stage_typo_similarity`); else None. `lookup` maps keys made by `key_of` (industry_key,
    stage_key) to labels. Cached per value: it runs only for values no label names, and a CRM's slips
    repeat."""
    keys = list(lookup)

    @lru_cache(maxsize=4096)
    def typo(value: str) -> str | None:
        key = key_of(value[:100])
        if not similarity or len(key) < min_length or key in lookup:
            return None
        best: dict[str, float] = {}
        for candidate, score, _ in process.extract(key, keys, scorer=fuzz.ratio, limit=5,
                                                   score_cutoff=similarity - margin):
            label = lookup[candidate]
            best[label] = max(best.get(label, 0.0), score)
        ranked = sorted(best.items(), key=lambda item: -item[1])
        if not ranked or ranked[0][1] < similarity:
            return None
        if len(ranked) > 1 and ranked[1][1] > ranked[0][1] - margin:
            return None
        return ranked[0][0]

    return typo


def country_lookup(extra: dict[str, list[str]]) -> dict[str, str]:
    """Lowercased ISO 3166 names, official and common names, alpha-2/3 codes and configured spellings -> alpha-2."""
    lookup = dict(iso_countries())
    for code, spellings in extra.items():
        lookup.update({s.lower(): code for s in spellings})
    return lookup


def rule_params(model: RulesFile, rule: Rule) -> Any:
    """The slice of the rules file a rule reads: the section its `config` names (dotted), or None."""
    section: Any = model
    for part in (rule.config or "").split(".") if rule.config else []:
        section = getattr(section, part)
    return section if rule.config else None


def compile_rules(model: RulesFile, data: dict[str, Any]) -> Ruleset:
    """Turn the validated file into lookups: sets, lowercased synonyms, compiled patterns, a version hash."""
    version = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]
    severity = {rid: (model.rules[rid].severity if rid in model.rules and model.rules[rid].severity
                      else r.severity) for rid, r in RULES.items()}
    enabled = frozenset(rid for rid in RULES if model.rules.get(rid, RuleOverride()).enabled)
    # a stage the file defines is itself, whatever an alias says: an organisation's own 'Discovery' stage was
    # judged as the default pipeline's Needs Analysis, which the default alias 'discovery' names
    stage_lookup = {stage_key(alias): target for alias, target in model.stages.aliases.items()}
    stage_lookup.update({stage_key(name): name for name in model.stages.definitions})
    industry_lookup: dict[str, str] = {}
    for label, variants in model.standardize.industries.items():
        industry_lookup.update({key: label for key in map(industry_key, (label, *variants)) if key})
    demo = model.lead_scoring.demographics.criteria()
    plans = {t: [(r, rule_params(model, r), severity[r.id]) for r in RULES.values()
                 if r.record_type == t and r.id in enabled] for t in RECORD_TYPES}
    picklists = {k: frozenset(picklist_key(v) for v in vals) for k, vals in model.picklists.items()}
    decision = model.decision
    # keyword bands only when the rules file lists them (an empty list: no title points at all)
    title_bands = ([(b.points, title_pattern(b.keywords)) for b in demo.pop("title")]
                   if "title" in demo else None)
    seniority = [(k, title_pattern(v)) for k, v in model.standardize.seniority.items()]
    departments = [(k, title_pattern(v)) for k, v in model.standardize.departments.items()]
    read_title = title_reader(supported_person(model.standardize.supporting_roles))
    return Ruleset(
        file=model,
        version=version,
        severity=severity,
        enabled=enabled,
        empty_values=frozenset(v.lower() for v in model.completeness.empty_values),
        real_values={f: frozenset(v.lower() for v in vals) for f, vals in model.completeness.real_values.items()},
        field_empty_values={f: frozenset(v.strip().lower() for v in vals)
                            for f, vals in model.completeness.field_empty_values.items() if vals},
        picklists=picklists,
        stage_lookup=stage_lookup,
        industry_lookup=industry_lookup,
        industry_parts=industry_parts(industry_lookup,
                                      frozenset(map(industry_key, model.standardize.industry_generic_words))),
        industry_typo=label_typos(industry_lookup, model.standardize.industry_typo_similarity,
                                  model.standardize.industry_typo_min_length,
                                  model.standardize.industry_typo_margin, industry_key),
        placeholder_years=frozenset(d.year for d in (*model.validity.placeholder_dates,
                                                     *model.validity.placeholder_instants)),
        placeholder_names=frozenset(fold(n) for n in model.duplicates.placeholder_names) - {""},
        placeholder_deal_names=frozenset(fold(n) for n in (*model.duplicates.placeholder_names,
                                                           *model.standardize.placeholder_deal_names)) - {""},
        stage_typo=label_typos(stage_lookup, model.standardize.stage_typo_similarity,
                               model.standardize.industry_typo_min_length,
                               model.standardize.industry_typo_margin, stage_key),
        title_labels=title_classifier(seniority, departments, read_title),
        read_title=read_title,
        title_bands=None if title_bands is None else sorted(title_bands, key=lambda b: -b[0]),
        vague_titles=frozenset(v.lower() for v in model.standardize.vague_titles.values),
        title_words=title_words(model.standardize),
        negative_values=frozenset(v.lower() for v in model.qualification.negative_values),
        negative_prefixes=tuple(v.lower() for v in model.qualification.negative_prefixes),
        affirmative_prefixes=tuple(v.lower() for v in model.qualification.affirmative_prefixes),
        negative_suffixes=tuple(v.lower() for v in model.qualification.negative_suffixes),
        statement_fields=frozenset(model.qualification.statement_fields),
        statement_gaps={path: frozenset(w.lower() for w in model.qualification.statement_gap_words)
                        | frozenset(path.rpartition(".")[2].split("_"))
                        for path in model.qualification.statement_fields},
        statement_words=model.qualification.statement_words,
        none_is_an_answer=frozenset(model.qualification.none_is_an_answer),
        none_answers=frozenset(v.lower() for v in model.qualification.none_answers),
        none_answer_prefixes=tuple(v.lower() for v in model.qualification.none_answer_prefixes),
        lead_grades=tuple(sorted(model.lead_scoring.grades.items(), key=lambda g: -g[1])),
        score_groups={
            "demographics": (model.lead_scoring.demographics.max, band_table(demo)),
            "behavior": (model.lead_scoring.behavior.max, band_table(model.lead_scoring.behavior.criteria())),
            "engagement": (model.lead_scoring.engagement.max,
                           band_table(model.lead_scoring.engagement.criteria())),
        },
        country_lookup=country_lookup(model.standardize.countries),
        match_models=build_models(model.duplicates),
        plans=plans,
        validity_fields={t: frozenset(f.split(".", 1)[0] for r in RULES.values()
                                      if r.record_type == t and r.category == "validity" for f in r.fields)
                         for t in RECORD_TYPES},
        # per rule: check, params, id, category, severity, message, whether the message has no placeholders,
        # and the top-level fields of which one must hold a value for the rule to run (None: always runs)
        runs={t: [(r.check, params, r.id, r.category, sev, r.message, "{" not in r.message, rule_gate(r))
                  for r, params, sev in plan] for t, plan in plans.items()},
        # per required field: name, paths, whether any path suffices (else all), weight, open deals only
        requirements={t: [(req.name, *_paths(req), req.weight, req.open_only)
                          for req in getattr(model.completeness, t).required] for t in RECORD_TYPES},
        decision_sets=(frozenset(decision.allow_rules), frozenset(decision.block_rules),
                       frozenset(decision.alert_rules), frozenset(decision.block_severities),
                       frozenset(decision.alert_severities)),
        sorted_picklists={k: sorted(v) for k, v in picklists.items()},
        picklist_aliases={name: model.alias_keys(name) for name in model.picklist_aliases},
        inactive_lead_statuses=picklist_set(model, "lead_status", model.timeliness.inactive_lead_statuses),
        contacted_lead_statuses=picklist_set(model, "lead_status", model.timeliness.contacted_lead_statuses),
        unanswered_lead_statuses=picklist_set(model, "lead_status",
                                              model.timeliness.unanswered_lead_statuses),
        no_reengagement_lead_statuses=picklist_set(model, "lead_status",
                                                   model.timeliness.no_reengagement_lead_statuses),
        qualified_lead_statuses=picklist_set(model, "lead_status", model.qualification.qualified_lead_statuses),
        decision_maker_roles=picklist_set(model, "decision_role", model.qualification.decision_maker_roles),
        element_roles={element: picklist_set(model, "decision_role", roles)
                       for element, roles in model.qualification.roles_for_elements.items()},
        bant_stages=frozenset(stage_lookup[stage_key(s)] for s in model.qualification.bant_stages),
        social_hosts=frozenset(h.strip().lower() for h in model.validity.social_hosts),
        shared_mailboxes=frozenset(map(mailbox_name, model.duplicates.shared_mailboxes)),
        covering={t: tuple((r.id, r.gap_fields, {c: RULES[c].gap_fields for c in r.covers if c in RULES})
                           for r, _, _ in plan if r.covers) for t, plan in plans.items()},
        stage_gates=stage_gates(model.stages),
    )


def stage_gates(stages: Stages) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each stage's gate as (field path, the stage that first requires it), each path once. With
    `cumulative_gates` an open stage's gate carries every open stage's requirements of a lower `order`, in
    stage order (seed 000 "stage criteria must be met before advancement": a deal in Proposal with no BANT
    had passed the Needs Analysis gate it never met); a closed stage keeps its own. Stages of one order are
    alternatives, not steps: neither carries the other's."""
    gates: dict[str, tuple[tuple[str, str], ...]] = {}
    for name, stage in stages.definitions.items():
        gate = {path: name for path in stage.requires}
        if stages.cumulative_gates and not stage.closed:
            earlier = sorted(((other.order, n, other) for n, other in stages.definitions.items()
                              if not other.closed and other.order < stage.order), key=lambda e: e[0])
            carried: dict[str, str] = {}
            for _, n, other in earlier:
                for path in other.requires:
                    carried.setdefault(path, n)
            gate = {**carried, **{p: name for p in stage.requires if p not in carried}}
        gates[name] = tuple(gate.items())
    return gates


def title_words(model: Standardize) -> TitleWords:
    """[standardize] vague_titles, title_placeholders and title_case as the title rules compare them:
    lowercased, salutations and placeholders without their dots ('Dr.' is 'dr')."""
    def lowered(words: list[str], dots: bool = True) -> frozenset[str]:
        return frozenset(" ".join((w if dots else w.replace(".", " ")).lower().split()) for w in words) - {""}

    vague, placeholders, case = model.vague_titles, model.title_placeholders, model.title_case
    return TitleWords(vague=lowered(vague.values), qualifiers=lowered(vague.qualifiers),
                      salutations=lowered(placeholders.salutations, dots=False),
                      placeholders=lowered(placeholders.values, dots=False),
                      acronyms=lowered(case.acronyms), small_words=lowered(case.small_words))


def picklist_set(model: RulesFile, picklist: str, values: list[str]) -> frozenset[str]:
    """Configured values of a picklist as the rules compare them: keys, an alias read as the value it stands
    for (a lead status aliased 'Sales Qualified Lead' -> sql is sql wherever statuses are listed)."""
    return frozenset(model.value_key(picklist, v) for v in values)


def rule_gate(r: Rule) -> frozenset[str] | None:
    """The top-level fields a `when_present` rule needs one of, else None."""
    return frozenset(f.split(".", 1)[0] for f in r.fields) if r.when_present else None


def _paths(req: Requirement) -> tuple[list[str], bool]:
    paths, mode = req.paths()
    return paths, mode == "any"
