"""Account pairs a real benchmark held that were missed: Fodors–Zagat, restaurants listed by two guides
(the restaurants data set py_entitymatching ships; `bench/dedupe_bench.py --restaurants`). A name cut
short, a street with a cross street or suite after it."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import Ruleset
from app.scoring.matching.comparisons import _abbreviates
from app.scoring.matching.dedupe import find_duplicates
from app.scoring.matching.normalize import company_key
from app.scoring.ruleset import RulesError, load_rules


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


def test_two_branches_named_by_their_places_stay_two_names(rules: Ruleset) -> None:
    """'Marriott (Austin)' and 'Marriott (Dallas)' on one website are two branches: a version that took a
    name's own city off both made them one name, a review pair (0.99)."""
    pair = _pair({"id": "a", "name": "Marriott (Austin)", "website": "marriott.com",
                  "billing_address": {"city": "Austin"}},
                 {"id": "b", "name": "Marriott (Dallas)", "website": "marriott.com",
                  "billing_address": {"city": "Dallas"}}, rules)
    assert pair is None or pair["score"] < rules.file.duplicates.threshold, pair


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


@pytest.mark.parametrize(("written", "key"), [
    ("accenture.com", "accenture"), ("Salesforce.com, Inc.", "salesforce"), ("Amazon.COM", "amazon"),
    ("www.acme.co.uk", "acme"), ("Booking.com B.V.", "booking")])
def test_a_company_named_by_its_web_domain_is_the_name_without_the_suffix(written: str, key: str) -> None:
    """HubSpot names the companies it creates from email domains so; read as words, 'salesforce com' was only
    one name within 'Salesforce'."""
    assert company_key(written) == key


@pytest.mark.parametrize("written", ["I.B.M. Corp", "St.Louis Bread", "Acme.io Labs", "us.pg.com"])
def test_dots_that_are_no_whole_domain_stay_in_the_name(written: str) -> None:
    """Initials, a street-style abbreviation, a domain among other words, a subdomain: no name is lost."""
    assert company_key(written) == company_key(written.replace(".", " "))


def test_an_account_named_by_its_domain_merges_with_the_company_on_that_website(rules: Ruleset) -> None:
    """'accenture.com' (HubSpot's name for a company it made from an email domain) and 'Accenture' on
    accenture.com: one company, the same name once the suffix is off (it was one name within the other)."""
    pair = _pair({"id": "a", "name": "accenture.com", "website": "accenture.com"},
                 {"id": "b", "name": "Accenture", "website": "https://www.accenture.com/"}, rules)
    assert pair is not None and pair["fields"]["name"] == 1.0, pair
    assert pair["score"] > rules.file.duplicates.auto_merge, pair


def test_one_companys_sites_in_two_countries_weigh_for_a_pair(rules: Ruleset) -> None:
    """'Siemens Aktiengesellschaft' on siemens.de and 'SIEMENS' on siemens.com were 0.02: two websites weighed
    2.3 bits against; one organisation's two country sites now weigh for the pair (review or better)."""
    pair = _pair({"id": "a", "name": "Siemens Aktiengesellschaft", "website": "siemens.de",
                  "billing_address": {"city": "Munich", "country": "DE"}},
                 {"id": "b", "name": "SIEMENS", "website": "https://www.siemens.com/global/en.html"}, rules)
    assert pair is not None and pair["score"] >= rules.file.duplicates.threshold, pair
    assert "website: one organisation's sites in two countries" in pair["reasons"], pair


@pytest.mark.parametrize(("site_a", "site_b"), [("abc.com", "abc.de"), ("acme.com", "acmecorp.de")])
def test_short_or_different_site_names_are_no_one_organisation(rules: Ruleset, site_a: str, site_b: str) -> None:
    """A site name under four letters says too little ('abc'), and two names are two sites."""
    pair = _pair({"id": "a", "name": "Acme", "website": site_a}, {"id": "b", "name": "Acme", "website": site_b},
                 rules)
    assert pair is not None and not any("two countries" in r for r in pair["reasons"]), pair
    assert pair["score"] < rules.file.duplicates.threshold, pair


def test_sibling_sites_do_not_excuse_two_names(rules: Ruleset) -> None:
    """The name veto asks for the very same website: Delta Air Lines and Delta Faucet on delta.com and
    delta.de, in one city, stay no pair."""
    pair = _pair({"id": "a", "name": "Delta Air Lines", "website": "delta.com", "billing_address": {"city": "Atlanta"}},
                 {"id": "b", "name": "Delta Faucet", "website": "delta.de", "billing_address": {"city": "Atlanta"}},
                 rules)
    assert pair is None or pair["score"] < 0.01, pair


@pytest.mark.parametrize("written", ["M.Video", "S.Group", "Just.Eat", "Design.Studio", "X.AI", "Joe.Pizza"])
def test_stylised_brand_names_keep_their_words(written: str) -> None:
    """A brand's suffix ('.video', '.group') is a word of the name, and 'X.AI' leaves too short a name: two
    companies at one address, 'Joe.Pizza' and 'Joe.Coffee', were both 'joe' (helper-80)."""
    assert company_key(written) == company_key(written.replace(".", " "))


@pytest.mark.parametrize(("site_a", "site_b"), [
    ("https://facebook.com/joespizzaatx", "https://facebook.com/joespizzanyc"),
    ("https://sites.google.com/view/greenleaf", "https://sites.google.com/view/greenleafnyc"),
    ("candleco.myshopify.com", "candleco-eu.myshopify.com")])
def test_pages_on_one_platform_are_no_one_organisation(rules: Ruleset, site_a: str, site_b: str) -> None:
    """Two Facebook pages were 'facebook' both: Joe's Pizza in Austin and in New York scored 0.91 as "one
    organisation's sites in two countries" (helper-80)."""
    pair = _pair({"id": "a", "name": "Joes Pizza", "website": site_a, "phone": "+1 512 555 0100"},
                 {"id": "b", "name": "Joe's Pizza", "website": site_b, "phone": "+1 212 555 0100"}, rules)
    assert pair is None or not any("two countries" in r for r in pair["reasons"]), pair
    assert pair is None or pair["score"] < rules.file.duplicates.threshold, pair


def _named(rid: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"id": rid, "name": name, **fields}


def _without_lift(rules: Ruleset) -> Ruleset:
    return load_rules(override={"duplicates": {"account": {"lift": []}}})


@pytest.mark.parametrize(("a", "b"), [("Stripe, Inc.", "Stripe"), ("Acme Corp", "ACME, Inc."),
                                      ("The Coca Cola Co", "Coca-Cola")])
def test_one_company_name_with_nothing_else_known_is_a_review_pair(rules: Ruleset, a: str, b: str) -> None:
    """Many CRM accounts hold a name alone. 'Stripe, Inc.' and 'Stripe' scored 0.09 in a small batch (the
    name's frequency counts the pair's other side), so a team never saw them (`[duplicates.account] lift`)."""
    pair = _pair(_named("a1", a), _named("a2", b), rules)
    assert pair is not None and pair["score"] == 0.85 and _review(pair, rules), pair
    assert pair["reasons"] == ["same name"], pair
    unlifted = _pair(_named("a1", a), _named("a2", b), _without_lift(rules))
    assert unlifted is not None and unlifted["score"] < rules.file.duplicates.threshold, unlifted


def test_the_lift_holds_where_the_other_fields_agree_or_one_side_lacks_them(rules: Ruleset) -> None:
    """'Home Depot, Inc.' and 'Home Depot' in one city were 0.77, below the threshold."""
    atlanta = {"city": "Atlanta"}
    pair = _pair(_named("a1", "Home Depot, Inc.", billing_address=atlanta),
                 _named("a2", "Home Depot", billing_address=atlanta, phone="+1 770 433 8211"), rules)
    assert pair is not None and _review(pair, rules) and pair["score"] >= 0.85, pair


@pytest.mark.parametrize("other", [{"billing_address": {"city": "Denver"}},
                                   {"website": "https://initech.com"}, {"phone": "+1 212 555 0188"}])
def test_a_company_name_shared_with_anything_against_it_is_not_lifted(rules: Ruleset,
                                                                      other: dict[str, Any]) -> None:
    """Two offices, or two companies of one name: another city, website or phone weighs against the pair."""
    first = _named("a1", "Globex Logistics", billing_address={"city": "Austin"}, website="https://globex.com",
                   phone="+1 512 555 0100")
    pair = _pair(first, _named("a2", "Globex Logistics LLC", **other), rules)
    assert pair is not None and pair["score"] < rules.file.duplicates.threshold, pair


def test_a_name_many_accounts_share_is_not_lifted(rules: Ruleset) -> None:
    """'Individual' as the name of person accounts: more records than `common_value_after` besides a pair hold
    it, so the name says nothing of who they are; four holders (the pair and two more) are still lifted."""
    cfg = rules.file.duplicates
    crowd = [_named(f"i{n}", "Individual") for n in range(cfg.common_value_after + 3)]
    scores = [p["score"] for p in find_duplicates("account", crowd, rules, threshold=0.0)["pairs"]]
    assert scores and max(scores) < cfg.threshold, scores
    few = [_named(f"i{n}", "Zentrix Robotics") for n in range(4)]
    scores = [p["score"] for p in find_duplicates("account", few, rules, threshold=0.0)["pairs"]]
    assert len(scores) == 6 and min(scores) == 0.85, scores


def test_a_lift_must_name_compared_fields_and_stay_below_auto_merge() -> None:
    with pytest.raises(RulesError, match="lift names fields or levels that are not compared"):
        load_rules(override={"duplicates": {"account": {"lift": [{"agree": ["shoe_size"], "to": 0.85}]}}})
    with pytest.raises(RulesError, match="lift names fields or levels that are not compared"):
        load_rules(override={"duplicates": {"account": {"lift": [{"agree": ["name.identical"],
                                                                  "to": 0.85}]}}})
    with pytest.raises(RulesError, match="above auto_merge"):
        load_rules(override={"duplicates": {"account": {"lift": [{"agree": ["name"], "to": 0.9999}]}}})
