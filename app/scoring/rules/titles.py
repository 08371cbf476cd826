"""Job titles (seeds 000, 002): titles too vague to route, placeholders where no title is known, and titles
written in ALL CAPS, all lower case or with stray spaces, suggested in their standard form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from app.scoring.registry import Hit, rule
from app.scoring.rules.standardize import _capitalized
from app.scoring.ruleset import TITLE_CHARS, TitleWords

# a word's letters, an apostrophe's inside them kept ('Women's'): each is capitalised on its own, so
# 'vice-president' is 'Vice-President' and 'vp/gm' 'VP/GM'
_LETTERS = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_EDGE_PUNCTUATION = ",.;:()[]"


def folded_title(title: str) -> str:
    """A title as the word lists are compared with it: lower case, dots as spaces, spaces collapsed."""
    return " ".join(title.lower().replace(".", " ").split())


def title_placeholder(title: str, words: TitleWords) -> str | None:
    """What the title is instead of a job title ('a salutation', 'a placeholder', 'no words'), else None."""
    if len(title) > TITLE_CHARS:
        return None
    folded = folded_title(title)
    if not folded:
        return None
    if folded in words.salutations:
        return "a salutation"
    letters = folded.replace(" ", "")
    if not any(c.isalpha() for c in letters):
        return "only digits or symbols"  # '123', '#'
    if folded in words.placeholders or (len(letters) > 1 and len(set(letters)) == 1):  # 'xxxx'
        return "a placeholder"
    return None


def vague_title(title: str, words: TitleWords) -> bool:
    """The title is one of the vague words ('Staff'), or one after a word saying no more ('Team Member')."""
    if len(title) > TITLE_CHARS:
        return False
    folded = folded_title(title)
    if folded in words.vague:
        return True
    parts = folded.replace("-", " ").split()
    return any(" ".join(parts[:i]) in words.qualifiers and " ".join(parts[i:]) in words.vague
               for i in range(1, len(parts)))


def standard_title(title: str, words: TitleWords) -> str | None:
    """The title in its standard form where it differs: stripped, single-spaced, and in title case when it
    was written all upper or all lower case, acronyms upper case ('VP', 'CFO', 'IT') and small words lower
    ('of', 'and') after the first; None when the title is standard already or too long to be one."""
    if len(title) > TITLE_CHARS:
        return None
    fixed = _standard_title(title, words.acronyms, words.small_words)
    return fixed if fixed != title else None


@lru_cache(maxsize=8192)
def _standard_title(title: str, acronyms: frozenset[str], small_words: frozenset[str]) -> str:
    """Cached: titles repeat ('VP SALES' on every row of one export), and several words are looked up each."""
    parts = title.split()
    if not (title.isupper() or title.islower()):  # mixed case is as its writer meant it ('VP of Sales')
        return " ".join(parts)
    if any(_maybe_acronym(part, acronyms, small_words) for part in parts):
        return " ".join(parts)  # 'CPA', 'RN, BSN', 'DIRECTOR, CX': an acronym not listed would be 'Cpa'
    return " ".join(_title_word(part, i == 0, acronyms, small_words) for i, part in enumerate(parts))


def _maybe_acronym(word: str, acronyms: frozenset[str], small_words: frozenset[str]) -> bool:
    """A short word of a title ('CPA', 'RN', 'AP/AR', 'EH&S', 'GTM') that is neither a listed acronym nor a
    small word: it may be an acronym the lists do not hold, so the title is not recased at all."""
    bare = word.lower().strip(_EDGE_PUNCTUATION)
    if bare in acronyms or bare in small_words:
        return False
    parts = (p.strip(_EDGE_PUNCTUATION) for p in _ACRONYM_JOINS.split(bare))  # 'ap/ar', 'eh&s'; not hyphens
    return any(p.isalpha() and len(p) <= _ACRONYM_LENGTH and p not in acronyms and p not in small_words
               for p in parts)


_ACRONYM_JOINS = re.compile(r"[/&]")
_ACRONYM_LENGTH = 3  # letters: a word this short may be an acronym ('KEY' too: such a title is left as it is)


def _title_word(word: str, first: bool, acronyms: frozenset[str], small_words: frozenset[str]) -> str:
    lower = word.lower()
    bare = lower.strip(_EDGE_PUNCTUATION)
    if bare in acronyms:  # 'ceo,' is 'CEO,'; 'r&d' 'R&D'
        return lower.replace(bare, bare.upper(), 1)
    if bare in small_words and not first:
        return lower
    return _LETTERS.sub(lambda m: m.group(0).upper() if m.group(0) in acronyms else _capitalized(m.group(0)),
                        lower)


@lru_cache(maxsize=8192)
def title_verdict(title: str, words: TitleWords) -> tuple[str | None, bool, str | None]:
    """(what the title is instead of a job title, whether it is vague, its standard form where it differs),
    as `title_placeholder`, `vague_title` and `standard_title` say, worked out once per title: three rules
    read them on every contact and lead, and titles repeat across a CRM's records."""
    placeholder = title_placeholder(title, words)
    vague = placeholder is None and vague_title(title, words)
    return placeholder, vague, None if placeholder or vague else standard_title(title, words)


def _vague(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: contact titles and roles must be specific and accurate ('Staff', 'Team Member')."""
    title = record.get("title")
    # a placeholder ('n/a', 'unknown') is no title at all: required.missing says so, once (helper-46); one
    # the field holds ('Mr.', 'asdf') is title.placeholder's
    if "title" in ctx.present and isinstance(title, str) and title_verdict(title, ctx.rules.title_words)[1]:
        yield Hit("title", title)


def _placeholder(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: contact titles must be specific and accurate; a salutation alone ('Mr.', 'Dr.'), keyboard
    mash ('asdf', 'xxx'), digits ('123') or a word standing for a title ('Job Title', 'Misc') names no job,
    though it fills the field completeness counts."""
    title = record.get("title")
    if "title" in ctx.present and isinstance(title, str):
        reason = title_verdict(title, ctx.rules.title_words)[0]
        if reason is not None:
            yield Hit("title", title, details={"reason": reason})


def _casing(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: standardize job title formats: a title in ALL CAPS or all lower case, or with stray spaces,
    in title case ('VICE PRESIDENT OF SALES' is 'Vice President of Sales', 'vp sales' 'VP Sales')."""
    title = record.get("title")
    if "title" not in ctx.present or not isinstance(title, str):
        return
    fixed = title_verdict(title, ctx.rules.title_words)[2]
    if fixed is not None:
        yield Hit("title", title, suggestion=fixed)


for _t in ("contact", "lead"):
    rule(f"{_t}.title.vague", fields=("title",), severity="warning", category="standardization", seed="000",
         config="standardize.vague_titles",
         message="Title {value!r} is too vague to route or qualify.")(_vague)
    rule(f"{_t}.title.placeholder", fields=("title",), severity="warning", category="completeness",
         when_present=True, seed="000", config="standardize.title_placeholders",
         message="Title {value!r} is {reason}, not a job title.")(_placeholder)
    rule(f"{_t}.title.nonstandard", fields=("title",), severity="info", category="standardization",
         when_present=True, seed="002", config="standardize.title_case",
         message="Title {value!r} is better written {suggestion!r}.")(_casing)
