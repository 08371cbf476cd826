"""Account pairs a real benchmark held that were missed: Fodors–Zagat, restaurants listed by two guides
(the restaurants data set py_entitymatching ships; `bench/dedupe_bench.py --restaurants`). A name cut
short, a place in brackets that is the record's own city, a street with a cross street or suite after it."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import Ruleset
from app.scoring.matching.comparisons import _abbreviates
from app.scoring.matching.dedupe import find_duplicates
from app.scoring.matching.normalize import account_keys, company_key


def _pair(a: dict[str, Any], b: dict[str, Any], rules: Ruleset) -> dict[str, Any] | None:
    """The pair of two accounts, whatever its score (threshold 0), None when they were never compared."""
    pairs = find_duplicates("account", [a, b], rules, threshold=0.0)["pairs"]
    return pairs[0] if pairs else None


def _review(pair: dict[str, Any], rules: Ruleset) -> bool:
    """A pair for review at the rules file's thresholds (`_pair` lists every pair: its band says nothing)."""
    return rules.file.duplicates.threshold <= pair["score"] <= rules.file.duplicates.auto_merge


def _account(rid: str, name: str, street: str, city: str, phone: str | None = None) -> dict[str, Any]:
    return {"id": rid, "name": name, "phone": phone, "billing_address": {"street": street, "city": city}}


@pytest.mark.parametrize(("a", "b"), [("arts delicatessen", "arts deli"), ("arts deli", "arts delicatessen"),
                                      ("acme constr", "acme construction group"),
                                      ("globex chem dist", "globex chemical distributors")])
def test_a_name_with_words_cut_short_abbreviates_the_other(a: str, b: str) -> None:
    assert _abbreviates(a, b)


@pytest.mark.parametrize(("a", "b"), [
    ("micro", "microsoft"), ("acme", "acme construction"), ("deli arts", "arts delicatessen"),
    ("acme co", "acme construction"), ("acme construction", "acme consulting"),
    ("delta motors", "delta air")])
def test_other_names_do_not_abbreviate_each_other(a: str, b: str) -> None:
    """One word alone ('Micro') or a first word cut is no abbreviation; a cut needs three letters; every word
    of the shorter name must begin a word of the longer, in order."""
    assert not _abbreviates(a, b)


def test_one_restaurant_with_its_name_cut_short_is_a_review_pair(rules: Ruleset) -> None:
    """'Arts Delicatessen' and 'Arts Deli' at 12224 Ventura Blvd., Studio City, on one phone were 0.0002: two
    names (token_sort 0.69), so the name veto held however much else agreed."""
    pair = _pair(_account("f535", "Arts Delicatessen", "12224 Ventura Blvd.", "Studio City", "818/762-1221"),
                 _account("z220", "Arts Deli", "12224 Ventura Blvd.", "Studio City", "818-762-1221"), rules)
    assert pair is not None and _review(pair, rules), pair
    assert "name: one name abbreviates the other" in pair["reasons"], pair


def test_a_name_with_its_last_letter_lost_is_still_a_similar_name(rules: Ruleset) -> None:
    """The abbreviation level comes after the similar ones: a typo keeps the weight of a typo."""
    pair = _pair(_account("a", "Northwind Construction", "1 Main St", "Boston", "+1 617-555-0100"),
                 _account("b", "Northwind Constructio", "1 Main St", "Boston", "+1 617-555-0100"), rules)
    assert pair is not None and any(r.startswith("similar name") for r in pair["reasons"]), pair


@pytest.mark.parametrize("written", ["Acme (Chicago)", "Acme - Chicago", "Acme [IL]"])
def test_a_place_after_a_name_that_is_the_records_own_is_no_part_of_it(written: str) -> None:
    chicago = {"city": "Chicago", "state": "IL"}
    assert account_keys({"name": written, "billing_address": chicago}, "US")["name"] == company_key("Acme")


def test_a_place_after_a_name_that_is_somewhere_else_stays_in_it() -> None:
    """'Acme (Chicago)' in Boston names its Chicago office (`without_notes` keeps other bracketed words)."""
    key = account_keys({"name": "Acme (Chicago)", "billing_address": {"city": "Boston"}}, "US")["name"]
    assert key == company_key("Acme Chicago") != company_key("Acme")


def test_a_restaurant_with_its_own_city_in_brackets_is_a_review_pair(rules: Ruleset) -> None:
    """'Ritz-Carlton Restaurant and Dining Room' and 'Ritz-Carlton Dining Room (San Francisco)' at 600
    Stockton St. on one phone were 0.0002: the city in brackets kept the shorter name from being within the
    longer."""
    street, city = "600 Stockton St.", "San Francisco"
    longer = _account("f", "Ritz-Carlton Restaurant and Dining Room", street, city, "415/296-7465")
    bracketed = _account("z", "Ritz-Carlton Dining Room (San Francisco)", street, city, "415-296-7465")
    pair = _pair(longer, bracketed, rules)
    assert pair is not None and _review(pair, rules), pair
    assert "name: one name within the other" in pair["reasons"], pair


def test_one_street_within_the_other_is_more_than_a_similar_street(rules: Ruleset) -> None:
    """'Uncle Nicks' at '747 9th Ave. between 50th and 51st Sts.' and at '747 Ninth Ave.', two phones, was
    0.77: the street was only 'similar' (token_set_ratio 1.0 weighed as 0.85)."""
    cross_street = "747 9th Ave. between 50th and 51st Sts."
    pair = _pair(_account("f", "Uncle Nicks", cross_street, "New York", "212/315-1726"),
                 _account("z", "Uncle Nicks", "747 Ninth Ave.", "New York City", "212-245-7992"), rules)
    assert pair is not None and pair["score"] >= rules.file.duplicates.threshold, pair
    assert "street: one street within the other" in pair["reasons"], pair


def test_another_house_number_is_not_one_street_within_the_other(rules: Ruleset) -> None:
    pair = _pair(_account("a", "Uncle Nicks", "747 Ninth Ave. Suite 2", "New York", "212/315-1726"),
                 _account("b", "Uncle Nicks", "749 Ninth Ave.", "New York", "212-245-7992"), rules)
    assert pair is None or "street: one street within the other" not in pair["reasons"], pair
