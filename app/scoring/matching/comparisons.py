"""A small library of field comparisons in Splink's shape: ordered levels, first match wins.

Each level has a label and Fellegi–Sunter m and u probabilities (how often the level is seen among true
matches and among non-matches); its match weight is log2(m/u). A blank on either side is its own level
with weight 0 unless the rules file says otherwise. Comparisons run vectorised over all candidate pairs
(rapidfuzz `cpdist`), so a batch of thousands of records costs milliseconds, not seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import jellyfish
import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Indel, JaroWinkler
from rapidfuzz.process import cpdist

from app.scoring.formats import organisation_name, registered_domain
from app.scoring.matching.normalize import company_domain, given_names, nickname_pairs

NULL, ELSE = -1, -2

Scorer = Callable[..., float]
# (rapidfuzz scorer, divisor to bring it to 0–1): native scorers only, so cpdist stays in C++
SIMILARITY: dict[str, tuple[Scorer, float]] = {
    "name": (JaroWinkler.normalized_similarity, 1.0),
    "string": (JaroWinkler.normalized_similarity, 1.0),
    "text": (fuzz.token_set_ratio, 100.0),
    # a company's name: word order aside, but every word counts ('Microsoft' and 'Microsoft Research' are 0.67
    # here, 1.0 by token_set_ratio, which scores a name within a longer one as the same name)
    "company": (fuzz.token_sort_ratio, 100.0),
    "code": (OSA.normalized_similarity, 1.0),
    "email": (Indel.normalized_similarity, 1.0),
    "phone": (Indel.normalized_similarity, 1.0),
    "exact": (Indel.normalized_similarity, 1.0),
    "domain": (Indel.normalized_similarity, 1.0),
}
LEVELS_BY_KIND = {
    "name": {"exact", "nickname", "similar", "initial", "token", "typo", "other_script", "else"},
    "string": {"exact", "similar", "else"},
    "text": {"exact", "similar", "else"},
    "company": {"exact", "acronym", "token", "abbreviation", "similar", "other_script", "else"},
    "code": {"exact", "typo", "else"},
    "email": {"exact", "same_local_part", "similar", "same_domain", "else"},
    "phone": {"exact", "same_number", "same_last_digits", "else"},
    "exact": {"exact", "else"},
    "domain": {"exact", "same_organisation", "else"},
}
# Levels no pair of values decides (`Comparison.evaluate` and `across_scripts` set them): 'one_blank', any
# kind's, one side filled and the other blank (a generational suffix on one side only: 'Hans Weber' and
# 'Hans Weber Jr.'), otherwise no level at all (a blank weighs `null_weight`); 'other_script' (kinds name
# and company), names in two scripts whose transliterations agree at no level before it ('Hiroshi Tanaka'
# and '浩 田中': anyascii reads 田中 'tianzhong'), weighed as its m and u say (m = u: no evidence either way)
# instead of as a disagreement.
RECORD_LEVELS = frozenset({"one_blank", "other_script"})
SCRIPT_SUFFIX = "_script"  # a field's script column (normalize.script_of): '' for Latin, else the script
# Kinds that read German umlauts written out as the umlaut (`_umlauts_written_out`): 'Müller' folds to
# 'muller' (anyascii), where a German keyboard-less 'Mueller' was only 0.917 similar; the two are exact. Only
# equality counts: the better of the two similarities made 'michael' (as 'michal') 0.87 similar to 'mia'.
UMLAUT_KINDS = frozenset({"name", "string", "text", "company"})


@dataclass(frozen=True)
class Level:
    label: str
    m: float
    u: float
    min: float = 0.0
    reason: str = ""

    @property
    def weight(self) -> float:
        """Fellegi–Sunter match weight in bits."""
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class Comparison:
    """One field's ordered levels. Validated when built, so a bad rules file fails at start-up."""

    field: str
    kind: str
    levels: tuple[Level, ...]
    tf: bool = False
    null_weight: float = 0.0
    tf_only_weakens: bool = False  # see linker._weights
    implied_by: tuple[str, ...] = ()  # see linker.implied
    numbers_must_match: bool = False  # see _numbers_differ

    def __post_init__(self) -> None:
        if self.kind not in LEVELS_BY_KIND:
            raise ValueError(f"comparison {self.field}: unknown kind {self.kind!r}")
        if self.tf_only_weakens and not (self.tf and self.levels and self.levels[0].label == "exact"):
            raise ValueError(f"comparison {self.field}: tf_only_weakens needs tf = true and 'exact' first")
        labels = [lv.label for lv in self.levels]
        unknown = set(labels) - LEVELS_BY_KIND[self.kind] - {"one_blank"}
        if unknown:
            raise ValueError(f"comparison {self.field}: levels {sorted(unknown)} do not exist for {self.kind}")
        if not labels or labels[-1] != "else":
            raise ValueError(f"comparison {self.field}: the last level must be 'else'")
        for lv in self.levels:
            if not (0 < lv.m <= 1 and 0 < lv.u <= 1):
                raise ValueError(f"comparison {self.field}.{lv.label}: m and u must be in (0, 1]")
        sims = [lv.min for lv in self.levels if lv.label == "similar"]
        if sims != sorted(sims, reverse=True):
            raise ValueError(f"comparison {self.field}: 'similar' thresholds must go from high to low")

    @cached_property
    def one_blank(self) -> int:
        """The position of the 'one_blank' level, -1 when there is none."""
        return next((n for n, lv in enumerate(self.levels) if lv.label == "one_blank"), -1)

    @cached_property
    def other_script(self) -> int:
        """The position of the 'other_script' level, -1 when there is none."""
        return next((n for n, lv in enumerate(self.levels) if lv.label == "other_script"), -1)

    def evaluate(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Level index per pair (NULL for a blank side, or 'one_blank' for one) and the similarity 0–1 behind
        it."""
        n = len(a)
        level = np.full(n, NULL, dtype=np.int16)
        sim = np.zeros(n, dtype=np.float64)
        filled_a, filled_b = a != "", b != ""
        idx = np.flatnonzero(filled_a & filled_b)
        if idx.size:
            level[idx], sim[idx] = self._judge(a[idx], b[idx])
        if self.one_blank >= 0:
            level[filled_a != filled_b] = self.one_blank
        return level, sim

    def evaluate_codes(self, a: np.ndarray, b: np.ndarray, values: np.ndarray,
                       derive: Derive | None = None) -> tuple[np.ndarray, np.ndarray]:
        """`evaluate` for values given as codes into `values` (code 0 is blank): each distinct pair of
        values is judged once, however many candidate pairs share it. `derive(name, fn)` gives `fn` of every
        value (computed once per column), which lets some levels compare codes instead of strings."""
        n = len(a)
        level = np.full(n, NULL, dtype=np.int16)
        sim = np.zeros(n, dtype=np.float64)
        filled_a, filled_b = a != 0, b != 0
        idx = np.flatnonzero(filled_a & filled_b)
        if idx.size:
            width = len(values)
            distinct, inverse = np.unique(a[idx] * width + b[idx], return_inverse=True)
            da, db = distinct // width, distinct % width
            d_level, d_sim = self._judge(values[da], values[db], (da, db, derive) if derive else None)
            level[idx], sim[idx] = d_level[inverse.ravel()], d_sim[inverse.ravel()]
        if self.one_blank >= 0:
            level[filled_a != filled_b] = self.one_blank
        return level, sim

    def across_scripts(self, level: np.ndarray, script_a: np.ndarray, script_b: np.ndarray) -> None:
        """Put at the 'other_script' level (in place) the pairs past it (no earlier level agreed) whose names
        are written in two scripts (`script_a`, `script_b`: the records' `normalize.script_of`, by pair):
        transliterations that do not agree ('hiroshi' and 'hao' for 浩) are no evidence against a match."""
        if self.other_script < 0:
            return
        rows = np.flatnonzero(level > self.other_script)
        if rows.size:
            rows = rows[script_a[rows] != script_b[rows]]
            level[rows] = self.other_script

    def _judge(self, pa: np.ndarray, pb: np.ndarray,
               coded: tuple[np.ndarray, np.ndarray, Derive] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Levels and similarities of pairs whose sides are both filled."""
        exact = pa == pb
        sub_sim = np.ones(pa.size)
        fuzzy = np.flatnonzero(~exact)
        if fuzzy.size:
            scorer, divisor = SIMILARITY[self.kind]
            sub_sim[fuzzy] = cpdist(list(pa[fuzzy]), list(pb[fuzzy]), scorer=scorer, workers=1) / divisor
            if self.kind in UMLAUT_KINDS:
                if coded is not None:
                    written_out = coded[2]("umlauts", _umlauts_written_out)
                    ua, ub = written_out[coded[0][fuzzy]], written_out[coded[1][fuzzy]]
                else:  # each distinct value once
                    found = {v: _umlauts_written_out(v) for v in {*pa[fuzzy].tolist(), *pb[fuzzy].tolist()}}
                    ua = np.array([found[v] for v in pa[fuzzy].tolist()], dtype=object)
                    ub = np.array([found[v] for v in pb[fuzzy].tolist()], dtype=object)
                some = np.flatnonzero((ua != "") | (ub != ""))
                if some.size:  # 'mueller' and 'muller' (from 'Müller') are one name: the exact level
                    rows = fuzzy[some]
                    alt_a = np.where(ua[some] != "", ua[some], pa[rows])
                    same = np.asarray(alt_a == np.where(ub[some] != "", ub[some], pb[rows]), dtype=bool)
                    if self.kind == "name":  # two known given names (Michael, Michal) are no one name
                        known, hits = given_names(), np.flatnonzero(same)
                        same[hits] = [not (x in known and y in known)
                                      for x, y in zip(pa[rows[hits]], pb[rows[hits]], strict=True)]
                    exact[rows[same]] = True
                    sub_sim[rows[same]] = 1.0
            # 'delta air lines' and 'delta airlines', 'al sayed' (Al-Sayed) and 'alsayed', 'mc donald' and
            # 'mcdonald': one name, its words split or joined (a surname was only 'similar', 0.967)
            if self.kind in ("company", "name"):
                joined = fuzzy[np.fromiter((x.replace(" ", "") == y.replace(" ", "") for x, y in
                                            zip(pa[fuzzy], pb[fuzzy], strict=True)), bool, fuzzy.size)]
                exact[joined] = True
                sub_sim[joined] = 1.0
            if self.numbers_must_match:
                close = fuzzy[sub_sim[fuzzy] > 0]
                sub_sim[close[np.fromiter((_numbers_differ(x, y) for x, y in zip(pa[close], pb[close], strict=True)),
                                          bool, close.size)]] = 0.0
        sub_level = np.full(pa.size, ELSE, dtype=np.int16)
        rows = np.arange(pa.size)  # pairs no level has taken yet: each level is judged on these only
        for i, lv in enumerate(self.levels):
            if lv.label == "else":
                sub_level[rows] = i
                break
            if lv.label in RECORD_LEVELS:  # set from the records, not the values (`evaluate`,
                continue                     # `across_scripts`)
            if coded is not None and lv.label in _BY_VALUE:
                hit = _BY_VALUE[lv.label](coded[0][rows], coded[1][rows], coded[2])
            else:
                hit = self._predicate(lv, pa[rows], pb[rows], exact[rows], sub_sim[rows], self.kind)
            sub_level[rows[hit]] = i
            rows = rows[~hit]
            if rows.size == 0:
                break
        return sub_level, sub_sim

    @staticmethod
    def _predicate(lv: Level, a: np.ndarray, b: np.ndarray, exact: np.ndarray, sim: np.ndarray,
                   kind: str = "") -> np.ndarray:
        if lv.label == "exact":
            return exact
        if lv.label == "similar":
            close = sim >= lv.min
            if kind == "name":  # Mark and Mary, Sarah and Sandra: two given names that sound different
                rows = np.flatnonzero(close)
                close[rows] = [not _two_given_names(x, y) for x, y in zip(a[rows], b[rows], strict=True)]
            return close  # type: ignore[no-any-return]
        if lv.label == "else":
            return np.ones(len(a), dtype=bool)
        if lv.label == "nickname":
            pairs = nickname_pairs()
            return np.fromiter(((x, y) in pairs for x, y in zip(a, b, strict=True)), bool, len(a))
        if lv.label == "initial":
            return np.fromiter(((len(x) == 1 or len(y) == 1) and x[0] == y[0] for x, y in zip(a, b, strict=True)),
                               bool, len(a))
        if lv.label == "typo":  # OSA distance at most 1 (distances past the cutoff come back as cutoff + 1)
            if not len(a):
                return np.zeros(0, dtype=bool)
            distance = cpdist(list(a), list(b), scorer=OSA.distance, score_cutoff=1, workers=1)
            typo = distance <= 1
            if kind == "name":  # Tom and Tim, Dan and Don are two given names, not one mistyped; so are
                known, rows = given_names(), np.flatnonzero(typo)  # Mario and Maria (gendered_forms)
                typo[rows] = [not ((x in known and y in known) or gendered_forms(x, y))
                              for x, y in zip(a[rows], b[rows], strict=True)]
            return typo  # type: ignore[no-any-return]
        if lv.label == "acronym":  # 'ibm' and 'international business machines'
            return np.fromiter((_acronym_of(x, y) for x, y in zip(a, b, strict=True)), bool, len(a))
        if lv.label == "token":  # 'Jose Luis' and 'Luis', 'Smith-Jones' and 'Jones', 'van der Berg' and 'Berg'
            found = np.zeros(len(a), dtype=bool)
            rows = [n for n, (x, y) in enumerate(zip(a, b, strict=True)) if " " in x or " " in y]
            found[rows] = [_one_within(a[n], b[n]) for n in rows]
            return found
        if lv.label == "abbreviation":
            return np.fromiter((_abbreviates(x, y) for x, y in zip(a, b, strict=True)), bool, len(a))
        if lv.label == "same_local_part":
            return np.fromiter((_local_part(x) == _local_part(y) and _one_own_address(x, y)
                                for x, y in zip(a, b, strict=True)), bool, len(a))
        if lv.label == "same_number":
            return np.fromiter((_number(x) == _number(y) for x, y in zip(a, b, strict=True)), bool, len(a))
        if lv.label == "same_last_digits":
            return np.fromiter((_last_seven(x) != "" and _last_seven(x) == _last_seven(y) and _one_local(x, y)
                                for x, y in zip(a, b, strict=True)), bool, len(a))
        if lv.label == "same_domain":
            return np.fromiter((_company_domain(x) != "" and _company_domain(x) == _company_domain(y)
                                for x, y in zip(a, b, strict=True)), bool, len(a))
        if lv.label == "same_organisation":
            return np.fromiter((_organisation(x) == _organisation(y) for x, y in zip(a, b, strict=True)),
                               bool, len(a))
        raise ValueError(lv.label)


Derive = Callable[[str, Callable[[str], Any]], np.ndarray]


_WRITTEN_OUT = re.compile(r"(?<![aeiouy])([aou])e(?=[a-df-z])")


def _umlauts_written_out(value: str) -> str:
    """A folded value with ae, oe and ue read as the umlaut they write out, as its key folds the umlaut
    ('mueller' -> 'muller', as 'Müller' folds; 'joerg schaefer' -> 'jorg schafer'), '' when it has none.
    Only before another consonant and not after a vowel: no German word ends in an umlaut or has one after a
    vowel or before an e, where Joe, Zoe, Mae and Hue, Bauer and Baur, Saeed and Saed are names of their own.
    ß needs nothing: anyascii writes it 'ss', as Germans do."""
    if not ("ae" in value or "oe" in value or "ue" in value):  # most values: three scans in C, no regex
        return ""
    found = _WRITTEN_OUT.sub(r"\1", value)
    return found if found != value else ""


_MINOR_WORDS = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "y", "und"})


def _initials(name: str) -> str:
    """The first letters of a name's words, minor words aside ('international business machines' -> 'ibm');
    '' for a name of fewer than two such words."""
    words = [w for w in name.split() if w not in _MINOR_WORDS]
    return "".join(w[0] for w in words) if len(words) > 1 else ""


def _two_given_names(a: str, b: str) -> bool:
    """Two known given names that sound different (metaphone): Mark and Mary, Sarah and Sandra, Ivan and Ian
    are two people, as close as the letters are; Catherine and Katherine, Jon and John, Steven and Stephen
    are one name spelt two ways. Colleagues named so at one office were auto-merged (the 'similar' levels are
    not the vetoes' 'else'). So are a masculine and a feminine form of one name (`gendered_forms`), which
    sound alike: Daniel and Danielle Sullivan on one household phone were auto-merged (0.9999)."""
    known = given_names()
    return (a in known and b in known and _sound(a) != _sound(b)) or gendered_forms(a, b)


def gendered_forms(a: str, b: str) -> bool:
    """Two names that differ only in their endings, as `[duplicates] gendered_endings` pairs masculine and
    feminine forms ('daniel'/'danielle', 'carlos'/'carla', 'mario'/'maria'). An ending added to a whole name
    ('paul'/'paula') counts when the shorter one is a given name the nicknames package knows: a letter lost
    off the end ('joshua'/'joshu') is a typo far more often, and the English lists know Daniel, Michael and
    Gabriel but not Daniela, Michaela and Gabriela (helper-56: those pairs on one phone were auto-merged); an
    ending replaced needs one of them known."""
    if a == b or " " in a or " " in b:
        return False
    stem = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        stem += 1
    if stem < _MIN_STEM or (a[stem:], b[stem:]) not in gendered_endings():
        return False
    known = given_names()
    if a[stem:] and b[stem:]:
        return a in known or b in known
    return min(a, b, key=len) in known


_MIN_STEM = 3  # letters two forms of one name share at least ('al'/'ala' is no name and its feminine)


@lru_cache(maxsize=1)
def gendered_endings() -> frozenset[tuple[str, str]]:
    """`[duplicates] gendered_endings` of the default rules file, as (ending, ending) pairs in both orders."""
    from app.scoring.ruleset import packaged_defaults

    pairs = packaged_defaults()["duplicates"].get("gendered_endings", ())
    return frozenset(p for m, f in pairs for p in ((m.lower(), f.lower()), (f.lower(), m.lower())))


@lru_cache(maxsize=65536)
def _sound(name: str) -> str:
    return jellyfish.metaphone(name)


def _acronym_of(a: str, b: str) -> bool:
    """One name is one word, the other's initials (IBM, International Business Machines)."""
    return (" " not in a and len(a) > 1 and a == _initials(b)) or (" " not in b and len(b) > 1 and b == _initials(a))


def _acronym(a: np.ndarray, b: np.ndarray, derive: Derive) -> np.ndarray:
    word = derive("one_word", lambda v: v if " " not in v and len(v) > 1 else "\x00")
    initials = derive("initials", lambda v: _initials(v) or "\x01")
    return (word[a] == initials[b]) | (word[b] == initials[a])  # type: ignore[no-any-return]


def _one_within(a: str, b: str) -> bool:
    """Every word of one name is a word of the other (a double name written half, a married double surname)."""
    wa, wb = set(a.split()), set(b.split())
    return bool(wa) and bool(wb) and (wa <= wb or wb <= wa)


def _abbreviates(a: str, b: str) -> bool:
    """One company name is the other with words cut short: its first word whole, then each word a word of the
    other or the start of one (3 letters at least), in order ('Arts Deli' and 'Arts Delicatessen', 'Acme
    Constr' and 'Acme Construction Group'). Company words a rules file lists are folded before this
    (`[duplicates] company_words`: 'Intl'); this reads the abbreviations nobody listed. Two words at least in
    the shorter name: 'Micro' is no 'Microsoft'."""
    wa, wb = a.split(), b.split()
    return _cut_short(wa, wb) or _cut_short(wb, wa)


def _cut_short(short: list[str], long: list[str]) -> bool:
    if len(short) < 2 or len(short) > len(long) or short[0] != long[0]:
        return False
    at = 1
    for word in short[1:]:
        while at < len(long) and not (long[at] == word or (len(word) >= 3 and long[at].startswith(word))):
            at += 1
        if at == len(long):
            return False
        at += 1
    return True


_ROMAN = frozenset({"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"})


@lru_cache(maxsize=65536)
def _numbers(text: str) -> frozenset[str]:
    return frozenset(w for w in text.split() if w.isdigit() or w in _ROMAN)


def _numbers_differ(a: str, b: str) -> bool:
    """Both texts hold numbers (digits or Roman numerals) and not the same ones: 'Acme Fund I' and 'Acme Fund
    II', 'Sequoia Capital Fund 15' and '16', '100 Main St' and '10 Main St' are two entities or places, however
    alike the rest of the text is, so they are no 'similar' pair."""
    na, nb = _numbers(a), _numbers(b)
    return bool(na) and bool(nb) and na != nb


def _initial(a: np.ndarray, b: np.ndarray, derive: Derive) -> np.ndarray:
    one, first = derive("one_char", lambda v: len(v) == 1), derive("first_char", lambda v: v[:1])
    return (one[a] | one[b]) & (first[a] == first[b])  # type: ignore[no-any-return]


def _local_part(email: str) -> str:
    """Before the @, without dots (Gmail's addresses come dotless, `email_key`)."""
    return email.partition("@")[0].replace(".", "")


def _one_own_address(x: str, y: str) -> bool:
    """One side is a free-mail address, the person's own: john.smith@gmail.com may be john.smith@acme.com's
    own address, where john.smith@acme.com and john.smith@globex.com are a common name at two employers, and
    jan.de.vries@philips.com and jan.devries@philips.com two mailboxes of one company (only Gmail ignores the
    dots; both were 'the same address before the @' and auto-merged)."""
    return not _company_domain(x) or not _company_domain(y)


def _same_local_part(a: np.ndarray, b: np.ndarray, derive: Derive) -> np.ndarray:
    local, domain = derive("local_part", _local_part), derive("company_domain", _company_domain)
    return (local[a] == local[b]) & ((domain[a] == "") | (domain[b] == ""))  # type: ignore[no-any-return]


def _number(phone: str) -> str:
    """A phone key without its extension ('+14155550100;ext=201' -> '+14155550100')."""
    return phone.partition(";")[0]


def _last_seven(phone: str) -> str:
    number = _number(phone)
    return number[-7:] if len(number) >= 7 else ""


LOCAL_DIGITS = 9  # a number written without its area code: 7 or 8 digits, with a country code at most 9


def _digit_count(phone: str) -> int:
    return len(_number(phone).lstrip("+"))


def _one_local(a: str, b: str) -> bool:
    """One side was written without its area code (a local '555 0147' against '+1 212 555 0147'): two whole
    numbers that end alike (+1 212 555 0147 and +1 718 555 0147, or +44 20 7555 0147) are two numbers."""
    shorter, longer = sorted((_digit_count(a), _digit_count(b)))
    return shorter <= LOCAL_DIGITS < longer


def _same_number(a: np.ndarray, b: np.ndarray, derive: Derive) -> np.ndarray:
    number = derive("number", _number)
    return number[a] == number[b]  # type: ignore[no-any-return]


def _same_last_digits(a: np.ndarray, b: np.ndarray, derive: Derive) -> np.ndarray:
    last, local = derive("last_seven", _last_seven), derive("local", lambda v: _digit_count(v) <= LOCAL_DIGITS)
    return (last[a] != "") & (last[a] == last[b]) & (local[a] != local[b])  # type: ignore[no-any-return]


def _company_domain(email: str) -> str:
    return company_domain(email.rpartition("@")[2])


def _organisation(site: str) -> str:
    """A website key's name without its public suffix ('siemens' of siemens.de and siemens.com), or the whole
    key when it is no registered domain of its own (a page on a platform, 'facebook.com/joespizzaatx', or a
    shop under a hosting suffix, 'candleco.myshopify.com': two such pages were 'facebook' both, helper-80) or
    its name is shorter than `[duplicates] organisation_min_letters` (abc.com and abc.de say too little)."""
    if "/" in site or registered_domain(site) != site:
        return site
    name = organisation_name(site)
    return name if len(name) >= _organisation_min_letters() else site


@lru_cache(maxsize=1)
def _organisation_min_letters() -> int:
    from app.scoring.ruleset import packaged_defaults

    return int(packaged_defaults()["duplicates"].get("organisation_min_letters", 4))


def _same_domain(a: np.ndarray, b: np.ndarray, derive: Derive) -> np.ndarray:
    domain = derive("company_domain", _company_domain)
    return (domain[a] != "") & (domain[a] == domain[b])  # type: ignore[no-any-return]


def _token(a: np.ndarray, b: np.ndarray, derive: Derive) -> np.ndarray:
    multi, words = derive("several_words", lambda v: " " in v), derive("words", lambda v: frozenset(v.split()))
    found = np.zeros(len(a), dtype=bool)
    rows = np.flatnonzero(multi[a] | multi[b])
    found[rows] = [x <= y or y <= x for x, y in zip(words[a[rows]], words[b[rows]], strict=True)]
    return found


# levels judged from something of each value (codes of distinct values in, one bool per pair out), the same
# as `Comparison._predicate` on the values themselves
_BY_VALUE: dict[str, Callable[[np.ndarray, np.ndarray, Derive], np.ndarray]] = {
    "initial": _initial, "same_local_part": _same_local_part, "same_last_digits": _same_last_digits, "same_number": _same_number, "token": _token,
    "acronym": _acronym,
    "same_domain": _same_domain}


def build_comparison(spec: Any) -> Comparison:
    """A Comparison from its rules-file entry."""
    levels = tuple(Level(lv.label, lv.m, lv.u, lv.min, lv.reason) for lv in spec.levels)
    return Comparison(spec.field, spec.kind, levels, spec.tf, spec.null_weight, spec.tf_only_weakens,
                      tuple(spec.implied_by), spec.numbers_must_match)
